"""A liaison officer's review checklist for the version of a bid under review."""

from __future__ import annotations

from dataclasses import dataclass

from ..extensions import db
from ..models import RECOMMENDATIONS, Application, Review, User
from ..workflow import APPLICATION_OPERATIONS_LIFECYCLE
from . import audit
from .applications import rows_of_bid
from .errors import Problems
from .firing import operate_on_bid, require_role
from .parsing import clean_text
from .unit_of_work import retrying, transaction


@dataclass(frozen=True)
class ReviewInput:
    eligible: bool
    aligned_with_priorities: bool
    supporting_school_has_capacity: bool
    value_for_money: int
    comments: str
    recommendation: str


@retrying
def record_review(user: User, application: Application, data: ReviewInput) -> Review:
    """Save the checklist and value-for-money score (1 poor – 4 excellent)."""
    require_role(APPLICATION_OPERATIONS_LIFECYCLE, "review", user)
    problems = Problems()
    for name in ("eligible", "aligned_with_priorities", "supporting_school_has_capacity"):
        if not isinstance(getattr(data, name), bool):
            problems.add(name, "Answer yes or no")
    vfm = data.value_for_money
    if isinstance(vfm, bool) or not isinstance(vfm, int) or not 1 <= vfm <= 4:
        problems.add("value_for_money", "Score value for money from 1 to 4")
    if data.recommendation not in RECOMMENDATIONS:
        problems.add("recommendation", "Choose approve, request changes or reject")
    comments = clean_text(data.comments)
    if len(comments) > 10_000:
        problems.add("comments", "Use 10,000 characters or fewer")
    problems.raise_if_any()
    with transaction():
        application, _ = operate_on_bid(user, application, "review")
        review = Review(
            application_id=application.id,
            reviewer_id=user.id,
            version=application.version,
            eligible=data.eligible,
            aligned_with_priorities=data.aligned_with_priorities,
            supporting_school_has_capacity=data.supporting_school_has_capacity,
            value_for_money=vfm,
            comments=comments,
            recommendation=data.recommendation,
        )
        db.session.add(review)
        db.session.flush()
        audit.record(
            user,
            "review",
            review,
            payload={
                "version": review.version,
                "eligible": review.eligible,
                "aligned_with_priorities": review.aligned_with_priorities,
                "supporting_school_has_capacity": review.supporting_school_has_capacity,
                "value_for_money": review.value_for_money,
                "recommendation": review.recommendation,
            },
        )
    return review


def reviews_for(application: Application) -> list[Review]:
    return rows_of_bid(Review, application.id, Review.id)
