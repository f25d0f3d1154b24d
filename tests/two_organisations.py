"""Two organisations on one deployment, for the isolation tests (issue 15).

``build_world`` makes the first organisation (``organisations.home_organisation()``, an
English council) and a second, an English partnership of two councils, each with staff of
every role, an open fund and bids across states with claims, payments (one reversed),
impact reports and schedule items, all made through the services; and a third, "charlie",
sharing the first's council, whose fund the first's lead school has also bid into (one
headteacher, bids with two organisations). Every record carries a
marker of its side that no record of the other side has (the fund's name, the people
released by claims, payment references, report narratives, staff emails, and bid
references, which start with each organisation's prefix), so a page, export or API answer
shown to one side can be searched for the other's."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import (
    Application,
    BackfillClaim,
    Disbursement,
    Event,
    Fund,
    ImpactEvaluation,
    ImpactReport,
    Organisation,
    Review,
    ScheduleItem,
    School,
    User,
)
from fundflow.services import claims, impact, inbox, organisations, payments
from fundflow.services.clock import today
from fundflow.services.evidence import Upload
from fundflow.services.queries.schedule import schedule_for
from fundflow.services.terms import default_term

from .factories import Factory

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"

#: Council staff roles, each the column of the access matrix that holds its expectations.
STAFF_ROLES = {"liaison_officer": "liaison", "finance": "finance", "auditor": "auditor", "admin": "admin"}

#: The bid states each side holds.
STATES = (
    "draft",
    "submitted",
    "under_review",
    "awaiting_countersign",
    "approved",
    "monitoring",
    "rejected",
    "closed",
)

#: URL arguments that name a record of one organisation (a school is nobody's: not here).
ORGANISATION_ARGS = (
    "reference",
    "claim_id",
    "report_id",
    "fund_id",
    "user_id",
    "disbursement_id",
    "evidence_id",
    "item_id",
)
#: API operations naming a fund in the query string (``?fund_id=``).
FUND_QUERY_ENDPOINTS = (
    "api.export_360_csv",
    "api.export_360_json",
    "api.export_audit_trail",
    "api.export_transparency",
    "api.termly_report_pdf",
    "api.value_for_money",
    "api.control_exceptions",
)


@dataclass
class Side:
    """One organisation and everything it holds."""

    key: str  # "alpha" (the first organisation) or "bravo" (the partnership)
    organisation: Organisation
    staff: dict[str, User]
    second_liaison: User
    lead: User
    partner_school: School
    fund: Fund
    bids: dict[str, Application] = field(default_factory=dict)
    claims: dict[str, BackfillClaim] = field(default_factory=dict)
    paid: Disbursement | None = None
    reversed: Disbursement | None = None
    report: ImpactReport | None = None
    item: ScheduleItem | None = None
    evidence_id: int | None = None

    @property
    def tag(self) -> str:
        return self.key.upper()

    def markers(self, *, staff: bool = True) -> list[str]:
        """Text that appears only in this side's records (and, with ``staff``, its staff's
        emails: a service administrator sees an organisation's admins, not its records)."""
        db.session.rollback()
        found = [self.fund.name, f"{self.key}-interim narrative"]
        found += list(
            db.session.execute(
                select(Application.reference).join(Fund).where(Fund.organisation_id == self.organisation.id)
            ).scalars()
        )
        found += [c.staff_name for c in self.claims.values()]
        found += list(
            db.session.execute(
                select(Disbursement.reference).where(Disbursement.reference.like(f"{self.tag}-PAY-%"))
            ).scalars()
        )
        if staff:
            found += [u.email for u in (*self.staff.values(), self.second_liaison)]
        return found

    def samples(self) -> dict[str, dict[str, Any]]:
        """URL arguments per endpoint pointing at this side's records, picked so that the
        role a page is for can open it (as the access matrix's ``_samples``)."""
        bids = {state: app.reference for state, app in self.bids.items()}
        base = {
            "reference": bids["approved"],
            "claim_id": self.claims["pending"].id,
            "report_id": self.report.id,
            "fund_id": self.fund.id,
            "user_id": self.staff["liaison_officer"].id,
            "disbursement_id": self.paid.id,
            "evidence_id": self.evidence_id,
            "item_id": self.item.id,
            "term": default_term(self.fund, today()).code,
            # not any organisation's records
            "urn": self.partner_school.urn,
            "school_id": self.partner_school.id,
            "slug": self.organisation.slug,  # the service administrator's pages
            "filename": "govuk-frontend.min.js",
            "token": "no-such-link",
            "email_id": 1,
            "message_id": 1,
            "notification_id": 1,
        }
        per_endpoint = {
            "headteacher.edit_need": {"reference": bids["draft"]},
            "headteacher.edit_partners": {"reference": bids["draft"]},
            "headteacher.edit_activities": {"reference": bids["draft"]},
            "headteacher.edit_measures": {"reference": bids["draft"]},
            "headteacher.check_answers": {"reference": bids["draft"]},
            "headteacher.task_list": {"reference": bids["draft"]},
            "headteacher.submitted": {"reference": bids["submitted"]},
            "headteacher.versions": {"reference": bids["submitted"]},
            "headteacher.action": {"reference": bids["draft"], "action": "withdraw"},
            "liaison.review": {"reference": bids["under_review"]},
            "liaison.decide": {"reference": bids["under_review"], "action": "approve"},
            "liaison.countersign": {"reference": bids["awaiting_countersign"]},
            "liaison.cancel": {"reference": bids["approved"]},
            "finance.pay": {"claim_id": self.claims["verified"].id},
            "oversight.value_for_money_chart": {"chart": "spend-over-time"},
            "oversight.value_for_money_csv": {"table": "bids"},
        }
        return {"base": base, **per_endpoint}


def _staff(make: Factory, key: str, organisation: Organisation) -> tuple[dict[str, User], User]:
    staff = {
        role: make.user(role, email=f"{key}-{role.replace('_', '-')}@example.test", organisation=organisation)
        for role in STAFF_ROLES
    }
    second = make.user(
        "liaison_officer", email=f"{key}-second-liaison@example.test", organisation=organisation
    )
    return staff, second


def build_side(
    make: Factory, key: str, organisation: Organisation, gss_codes: tuple[str, str], fund_name: str
) -> Side:
    """Staff, a fund and bids in every state of :data:`STATES` for ``organisation``; the
    lead school is in the first council of ``gss_codes``, the partner in the second."""
    tag = key.upper()
    staff, second = _staff(make, key, organisation)
    liaison, finance = staff["liaison_officer"], staff["finance"]
    lead_school = make.school(name=f"{key.title()} Lead School", gss_code=gss_codes[0])
    partner_school = make.school(name=f"{key.title()} Partner School", gss_code=gss_codes[1])
    lead = make.headteacher(school=lead_school)
    make.headteacher(school=partner_school)
    # awards over £1,000 need a countersignature: a 4-day bid at £300 a day does
    fund = make.fund(organisation, name=fund_name, countersign_threshold_pence=1_000_00)
    side = Side(key, organisation, staff, second, lead, partner_school, fund)
    for state in STATES:
        side.bids[state] = make.application(
            state, fund=fund, lead=lead, partner=partner_school, liaison=liaison, second_liaison=second
        )
    approved = side.bids["approved"]
    pending = claims.create_claim(
        lead,
        approved,
        claims.ClaimInput(
            period_start=(today() - timedelta(days=7)).isoformat(),
            period_end=(today() - timedelta(days=1)).isoformat(),
            staff_released="Deputy head",
            staff_name=f"{tag}-STAFF-PENDING",
            days="1",
            amount_pence=100_00,
            evidence=Upload("evidence.pdf", PDF),
        ),
    )
    side.claims["pending"] = pending
    side.evidence_id = pending.evidence_id
    side.claims["verified"] = make.claim(
        approved,
        lead,
        amount_pence=100_00,
        state="verified",
        liaison=liaison,
        staff_name=f"{tag}-STAFF-VERIFIED",
    )
    paid = make.claim(
        approved, lead, amount_pence=100_00, state="verified", liaison=liaison, staff_name=f"{tag}-STAFF-PAID"
    )
    side.paid = make.pay(paid, finance, reference=f"{tag}-PAY-1")
    side.claims["paid"] = paid
    twice = make.claim(
        approved,
        lead,
        amount_pence=100_00,
        state="verified",
        liaison=liaison,
        staff_name=f"{tag}-STAFF-REVERSED",
    )
    side.reversed = make.pay(twice, finance, reference=f"{tag}-PAY-WRONG")
    payments.reverse_disbursement(finance, side.reversed, "Paid to the wrong account")
    make.pay(twice, finance, reference=f"{tag}-PAY-2")
    side.claims["reversed"] = twice
    side.report = impact.submit_report(
        lead,
        approved,
        impact.ReportInput(
            kind="interim",
            narrative=f"{key}-interim narrative",
            results=[impact.ResultInput(measure_id=m.id, actual="65") for m in approved.measures],
        ),
    )
    side.item = next(i for i in schedule_for(approved.id) if i.status != "done")
    db.session.commit()
    return side


def build_alpha(make: Factory) -> Side:
    """The first organisation (the deployment's council, Slough: E06000039)."""
    home = organisations.home_organisation()
    db.session.commit()
    return build_side(make, "alpha", home, ("E06000039", "E06000039"), "Alpha Council Fund")


def build_bravo(make: Factory) -> Side:
    """A partnership of two English councils; its bids' partners are in the other council."""
    partnership = make.organisation(
        "bravo",
        name="Bravo Partnership",
        funder_id="GB-LAE-BRV",
        reference_prefix="BRAVO",
        local_authorities=["E06000040=Windsor and Maidenhead", "E06000041=Wokingham"],
    )
    return build_side(make, "bravo", partnership, ("E06000040", "E06000041"), "Bravo Partnership Fund")


@dataclass
class Charlie:
    """A third organisation sharing the first's council (Slough): the first's lead school
    also leads a bid into its fund, so one headteacher has bids with two organisations."""

    organisation: Organisation
    liaison: User
    fund: Fund
    bid: Application

    def markers(self, *, staff: bool = True) -> list[str]:
        return [self.fund.name, self.bid.reference] + ([self.liaison.email] if staff else [])


def build_charlie(make: Factory, alpha: Side) -> Charlie:
    charlie = make.organisation(
        "charlie",
        name="Charlie Council",
        funder_id="GB-LAE-CHA",
        reference_prefix="CHARLIE",
        local_authorities=["E06000039"],
    )
    liaison = make.user("liaison_officer", email="charlie-liaison-officer@example.test", organisation=charlie)
    fund = make.fund(charlie, name="Charlie Council Fund")
    bid = make.application(
        "submitted", fund=fund, lead=alpha.lead, partner=alpha.partner_school, liaison=liaison
    )
    db.session.commit()
    return Charlie(charlie, liaison, fund, bid)


@dataclass
class World:
    alpha: Side
    bravo: Side
    charlie: Charlie

    def sides(self, viewer: str) -> tuple[Side, Side]:
        """(the viewer's side, the other side)."""
        return (self.alpha, self.bravo) if viewer == "alpha" else (self.bravo, self.alpha)

    def markers_outside(self, viewer: str, *, staff: bool = True) -> list[str]:
        """The markers of every organisation but the viewer's (all three for None)."""
        sides: list[Side | Charlie] = [self.alpha, self.bravo, self.charlie]
        return [
            m
            for side in sides
            if getattr(side, "key", "charlie") != viewer
            for m in side.markers(staff=staff)
        ]


def build_world(make: Factory, before_bravo: Callable[[Side], None] | None = None) -> World:
    """The three organisations; ``before_bravo`` sees the first alone (to measure it before
    the others exist)."""
    alpha = build_alpha(make)
    # one more bid on the first side (a draft: in no queue), so the two chains never hold the
    # same number of events
    make.application("draft", fund=alpha.fund, lead=alpha.lead, partner=alpha.partner_school)
    db.session.commit()
    if before_bravo is not None:
        before_bravo(alpha)
    bravo = build_bravo(make)
    return World(alpha, bravo, build_charlie(make, alpha))


# ------------------------------------------------------------------------------- reading


def text_of(response) -> str:
    """A response's text as a person or program would read it: PDFs by their text, calendar
    lines unfolded (RFC 5545 folds at 75 octets, which could split a reference)."""
    data = response.get_data()
    if data.startswith(b"%PDF"):
        from pypdf import PdfReader
        from pypdf.errors import PdfReadError

        try:
            reader = PdfReader(io.BytesIO(data))
            return "\n".join(page.extract_text() or "" for page in reader.pages)
        except (PdfReadError, ValueError):  # an uploaded evidence file need not be a whole PDF
            pass
    text = data.decode("utf-8", errors="replace")
    return text.replace("\r\n ", "").replace("\r\n\t", "")


def leaked(text: str, markers: list[str]) -> list[str]:
    return [m for m in markers if m in text]


def calendar_token(user: User) -> str:
    token = inbox.make_calendar_link(user)
    db.session.commit()
    return token


def events_of(organisation_id: int | None) -> int:
    condition = (
        Event.organisation_id.is_(None)
        if organisation_id is None
        else Event.organisation_id == organisation_id
    )
    return db.session.execute(select(func.count(Event.id)).where(condition)).scalar_one()


def snapshot() -> dict[str, Any]:
    """Every row an action could change, as plain values: compare before and after."""
    db.session.rollback()

    def rows(*columns: Any) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in db.session.execute(select(*columns).order_by(columns[0])).all()]

    return {
        "events": rows(Event.id, Event.organisation_id, Event.hash),
        "applications": rows(Application.id, Application.status, Application.awarded_pence),
        "claims": rows(BackfillClaim.id, BackfillClaim.status, BackfillClaim.amount_pence),
        "disbursements": rows(Disbursement.id, Disbursement.amount_pence, Disbursement.reference),
        "reports": rows(ImpactReport.id, ImpactReport.status),
        "schedule": rows(ScheduleItem.id, ScheduleItem.status, ScheduleItem.due_on),
        "funds": rows(Fund.id, Fund.name, Fund.budget_pence, Fund.closes_on),
        "reviews": rows(Review.id),
        "evaluations": rows(ImpactEvaluation.id),
        "users": rows(User.id, User.active, User.email, User.name, User.password_hash),
    }
