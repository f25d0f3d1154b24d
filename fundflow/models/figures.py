"""Each bid's running figures: what its claims, payments, reviews, impact reports, partners,
activities and measures add up to, kept with every change to the bid."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import BigInteger, ForeignKey, Integer, Numeric, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class BidFigures(db.Model):
    """One bid's figures, rewritten from its own rows in the transaction of each change to
    it (:mod:`fundflow.services.bid_figures`), so that a report over a whole fund reads one
    row per bid instead of summing nine tables. ``verify-audit`` checks them against a fresh
    working-out."""

    __tablename__ = "bid_figures"

    application_id: Mapped[int] = mapped_column(
        ForeignKey("applications.id"), primary_key=True, autoincrement=False
    )
    #: Its verified and paid claims: money and days of release.
    claimed_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    claimed_days: Mapped[Decimal] = mapped_column(Numeric(12, 1), nullable=False)
    #: Paid on its claims, net of reversals.
    paid_pence: Mapped[int] = mapped_column(BigInteger, nullable=False)
    #: The latest review's value-for-money score (1–4), and the latest evaluation's rating.
    value_for_money_score: Mapped[int | None] = mapped_column(Integer)
    impact_rating: Mapped[str | None] = mapped_column(String(20))
    supported_partners: Mapped[int] = mapped_column(Integer, nullable=False)
    #: Days of release its activities plan (None: no activities).
    planned_days: Mapped[Decimal | None] = mapped_column(Numeric(12, 1))
    #: Its measures, and how many have each result (by their latest actual).
    measures: Mapped[int] = mapped_column(Integer, nullable=False)
    achieved: Mapped[int] = mapped_column(Integer, nullable=False)
    part_way: Mapped[int] = mapped_column(Integer, nullable=False)
    not_achieved: Mapped[int] = mapped_column(Integer, nullable=False)
    no_result_yet: Mapped[int] = mapped_column(Integer, nullable=False)
