"""Who hears what: a bid taken from its creation to its close sends exactly these messages,
each once, to these people; a digest preference holds the email back; an action that fails
sends nothing; a person whose account is off hears nothing."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import BackfillClaim, Notification, OutboundEmail, ScheduleItem
from fundflow.services import admin, applications, claims, impact, lifecycle, schedule
from fundflow.services.applications import BidDetails, PartnerInput
from fundflow.services.clock import as_of
from fundflow.services.errors import ValidationFailed

#: Bids are decided four weeks ago and claimed for today: a claim is paid on a real day, as
#: its verification is stamped with the real time.
START = date.today() - timedelta(days=28)


@pytest.fixture(autouse=True)
def fixed_today(app):
    app.config["FUNDFLOW_TODAY"] = START.isoformat()


def claiming_today(app) -> None:
    app.config["FUNDFLOW_TODAY"] = ""


class People:
    """Everyone around one bid. Lead school: the author, a colleague and one whose account is
    off. Partner school: two headteachers, and a liaison officer seconded there. Liaison
    officers: the reviewer (who approves), a second (who countersigns), a third, and one
    whose account is off. Finance."""

    def __init__(self, make):
        self.make = make
        self.fund = make.fund(countersign_threshold_pence=1_000_00, delivery_ends_on=date(2027, 7, 31))
        self.lead = make.headteacher()
        self.colleague = make.headteacher(school=self.lead.school)
        self.lead_gone = make.headteacher(school=self.lead.school)
        self.partner_school = make.school()
        self.partner_head = make.headteacher(school=self.partner_school)
        self.partner_head2 = make.headteacher(school=self.partner_school)
        self.seconded = make.liaison(school=self.partner_school)
        self.reviewer = make.liaison()
        self.countersigner = make.liaison()
        self.third = make.liaison()
        self.officer_gone = make.liaison()
        self.finance = make.user("finance")
        for user, urn in ((self.lead_gone, self.lead.school.urn), (self.officer_gone, None)):
            admin.update_user(None, user, roles=user.roles, school_urn=urn, active=False)

    @property
    def lead_heads(self) -> list[int]:
        return [self.lead.id, self.colleague.id]

    @property
    def partner_heads(self) -> list[int]:
        """The partner school's headteachers, the seconded liaison officer among them."""
        return [self.partner_head.id, self.partner_head2.id, self.seconded.id]

    @property
    def free_officers(self) -> list[int]:
        return [self.reviewer.id, self.countersigner.id, self.third.id]

    def act(self, bid, user, action: str, **kwargs):
        return lifecycle.perform(bid, user, lifecycle.ActionInput(action=action, **kwargs))

    def draft(self):
        return applications.create_draft(self.lead, self.make.details(self.fund, self.partner_school))

    def approved(self):
        """A bid approved (and countersigned) on :data:`START`."""
        bid = self.draft()
        self.act(bid, self.lead, "submit")
        self.act(bid, self.reviewer, "start_review")
        self.act(bid, self.reviewer, "approve")
        self.act(bid, self.countersigner, "countersign")
        return bid


@pytest.fixture
def people(make) -> People:
    return People(make)


def sent() -> list[tuple[str, int]]:
    return [
        (kind, user_id)
        for kind, user_id in db.session.execute(
            select(Notification.kind, Notification.user_id).order_by(Notification.id)
        )
    ]


class Watch:
    """What was sent since it was last asked."""

    def __init__(self):
        self.seen = 0

    def new(self) -> Counter:
        rows = sent()
        fresh, self.seen = rows[self.seen :], len(rows)
        return Counter(fresh)


def to(kind: str, users: list[int]) -> Counter:
    return Counter((kind, user) for user in users)


def notes(kind: str) -> list[Notification]:
    return list(
        db.session.execute(
            select(Notification).where(Notification.kind == kind).order_by(Notification.id)
        ).scalars()
    )


# ----------------------------------------------------------------------- the whole journey


def test_a_bid_from_creation_to_close_sends_each_message_once_to_the_right_people(people, app):
    p = people
    watch = Watch()

    bid = p.draft()
    assert watch.new() == to("endorsement_requested", p.partner_heads)

    p.act(bid, p.partner_head, "decline_endorsement", comment="We cannot release staff this year.")
    assert watch.new() == to("endorsement_declined", p.lead_heads)

    p.act(bid, p.partner_head2, "endorse")
    assert watch.new() == Counter()

    p.act(bid, p.lead, "submit")
    assert watch.new() == to("bid_submitted", p.free_officers)

    p.act(bid, p.reviewer, "start_review")
    assert watch.new() == Counter()

    p.act(bid, p.reviewer, "request_changes", comment="Say how you will measure reading.")
    assert watch.new() == to("changes_requested", p.lead_heads + p.partner_heads)

    applications.update_draft(p.lead, bid, BidDetails(need="Reading is well below the local average."))
    assert watch.new() == Counter()  # the partner was asked once already

    p.act(bid, p.lead, "resubmit")
    assert watch.new() == to("bid_submitted", p.free_officers)

    p.act(bid, p.reviewer, "start_review")
    p.act(bid, p.reviewer, "approve")
    assert bid.status == "awaiting_countersign"
    assert watch.new() == to("countersign_needed", [p.countersigner.id, p.third.id])

    p.act(bid, p.countersigner, "countersign")
    assert watch.new() == to("bid_approved", p.lead_heads + p.partner_heads)

    claiming_today(app)
    good = p.make.claim(bid, p.lead)
    bad = p.make.claim(bid, p.lead)
    assert watch.new() == Counter()
    claims.decide_claim(p.reviewer, good, "verify")
    assert watch.new() == to("claim_verified", p.lead_heads) + to("claim_to_pay", [p.finance.id])
    claims.decide_claim(p.reviewer, bad, "reject", "These dates are in the holidays.")
    assert watch.new() == to("claim_rejected", p.lead_heads)
    p.make.pay(db.session.get(BackfillClaim, good.id), p.finance, amount_pence=100_00)  # part payment
    assert watch.new() == Counter()
    p.make.pay(db.session.get(BackfillClaim, good.id), p.finance, amount_pence=200_00)
    assert watch.new() == to("claim_paid", p.lead_heads)

    results = [impact.ResultInput(measure_id=m.id, actual="70") for m in bid.measures]
    interim = impact.submit_report(p.lead, bid, impact.ReportInput("interim", "Halfway.", results))
    impact.evaluate_report(p.reviewer, interim, impact.EvaluationInput("achieved", ["collaboration"]))
    p.act(bid, p.lead, "finish_delivery")
    final = impact.submit_report(p.lead, bid, impact.ReportInput("final", "Done.", results))
    impact.evaluate_report(p.reviewer, final, impact.EvaluationInput("achieved", ["collaboration"]))
    p.act(bid, p.reviewer, "close")
    assert bid.status == "closed"
    assert watch.new() == Counter()

    everyone = Counter(sent())
    assert max(everyone.values()) == 2  # bid_submitted, once per submission
    heard = {user for _, user in everyone}
    assert not heard & {p.lead_gone.id, p.officer_gone.id}
    assert {kind for kind, user in everyone if user == p.finance.id} == {"claim_to_pay"}
    assert not {kind for kind, user in everyone if user == p.seconded.id} & {
        "bid_submitted",
        "countersign_needed",
    }


def test_turning_a_bid_down_tells_the_lead_and_partner_schools(people):
    p = people
    bid = p.draft()
    p.act(bid, p.lead, "submit")
    p.act(bid, p.reviewer, "start_review")
    watch = Watch()
    watch.new()
    p.act(bid, p.reviewer, "reject", comment="Outside the fund's priorities.")
    assert watch.new() == to("bid_rejected", p.lead_heads + p.partner_heads)
    for note in notes("bid_rejected"):
        assert "Outside the fund's priorities." in note.body


def test_a_countersignature_turned_down_tells_the_schools_the_bid_was_rejected(people):
    p = people
    bid = p.draft()
    p.act(bid, p.lead, "submit")
    p.act(bid, p.reviewer, "start_review")
    p.act(bid, p.reviewer, "approve")
    watch = Watch()
    watch.new()
    p.act(bid, p.countersigner, "reject", comment="Too large for one bid.")
    assert watch.new() == to("bid_rejected", p.lead_heads + p.partner_heads)


def test_cancelling_an_award_tells_the_schools_and_the_lead_of_each_claim_rejected(people, app):
    p = people
    bid = p.approved()
    claiming_today(app)
    p.make.claim(bid, p.lead)
    watch = Watch()
    watch.new()
    p.act(bid, p.third, "cancel", comment="The lead school is closing.")
    assert watch.new() == to("award_cancelled", p.lead_heads + p.partner_heads) + to(
        "claim_rejected", p.lead_heads
    )


def test_a_small_award_approved_at_once_asks_nobody_to_countersign(people):
    p = people
    p.fund.countersign_threshold_pence = None
    db.session.commit()
    bid = p.draft()
    p.act(bid, p.lead, "submit")
    p.act(bid, p.reviewer, "start_review")
    watch = Watch()
    watch.new()
    p.act(bid, p.reviewer, "approve")
    assert watch.new() == to("bid_approved", p.lead_heads + p.partner_heads)


def test_a_partner_named_later_is_asked_to_endorse_then(people, make):
    p = people
    bid = p.draft()
    watch = Watch()
    watch.new()
    newcomer_school = make.school()
    newcomer = make.headteacher(school=newcomer_school)
    applications.update_draft(
        p.lead,
        bid,
        BidDetails(
            partners=[
                PartnerInput(urn=p.partner_school.urn, role="supporting"),
                PartnerInput(urn=newcomer_school.urn, role="supporting"),
            ]
        ),
    )
    assert watch.new() == to("endorsement_requested", [newcomer.id])


# ----------------------------------------------------------------------- what they say


def test_each_message_names_the_bid_and_links_to_where_the_person_acts(people, app):
    p = people
    bid = p.draft()
    p.act(bid, p.partner_head, "decline_endorsement", comment="No staff to spare.")
    p.act(bid, p.lead, "submit")
    p.act(bid, p.reviewer, "start_review")
    p.act(bid, p.reviewer, "request_changes", comment="More detail.")
    p.act(bid, p.lead, "resubmit")
    p.act(bid, p.reviewer, "start_review")
    p.act(bid, p.reviewer, "approve")
    p.act(bid, p.countersigner, "countersign")
    claiming_today(app)
    claim = p.make.claim(bid, p.lead, state="paid", liaison=p.reviewer)
    assert claim.status == "paid"

    ref = bid.reference
    links = {
        "endorsement_requested": f"/headteacher/bids/{ref}/view",
        "endorsement_declined": f"/headteacher/bids/{ref}",
        "bid_submitted": f"/liaison/bids/{ref}",
        "changes_requested": f"/headteacher/bids/{ref}",
        "countersign_needed": f"/liaison/bids/{ref}/countersign",
        "bid_approved": f"/headteacher/bids/{ref}/view",
        "claim_verified": f"/headteacher/bids/{ref}/claims",
        "claim_to_pay": f"/finance/claims/{claim.id}/pay",
        "claim_paid": f"/headteacher/bids/{ref}/claims",
    }
    assert {kind for kind, _ in sent()} == set(links)
    for note in db.session.execute(select(Notification)).scalars():
        assert ref in note.subject, note.kind
        assert ref in note.body and bid.title in note.body, note.kind
        assert note.link == links[note.kind], note.kind
        assert note.application_id == bid.id
    [declined] = {n.body for n in notes("endorsement_declined")}
    assert "No staff to spare." in declined
    assert "More detail." in notes("changes_requested")[0].body


def test_the_email_carries_the_message_and_the_full_address_of_the_page(people, app):
    app.config["SERVICE_URL"] = "https://fundflow.example.gov.uk/"
    p = people
    bid = p.draft()
    p.act(bid, p.lead, "submit")
    [note] = [n for n in notes("bid_submitted") if n.user_id == p.third.id]
    email = db.session.get(OutboundEmail, note.email_id)
    assert (email.to_address, email.kind, email.subject, email.status) == (
        p.third.email,
        "bid_submitted",
        note.subject,
        "queued",
    )
    assert note.body in email.body
    assert f"https://fundflow.example.gov.uk/liaison/bids/{bid.reference}" in email.body


# ----------------------------------------------------------------------- how they hear it


def test_a_kind_taken_in_the_digest_is_written_without_an_email(people):
    p = people
    p.third.notification_preferences = {"bid_submitted": "digest"}
    p.reviewer.notification_preferences = {"bid_approved": "digest"}  # another kind: no effect here
    db.session.commit()
    bid = p.draft()
    p.act(bid, p.lead, "submit")
    by_user = {n.user_id: n for n in notes("bid_submitted")}
    assert (by_user[p.third.id].delivery, by_user[p.third.id].email_id) == ("digest", None)
    assert by_user[p.reviewer.id].delivery == "immediate"
    addressed = [e.to_address for e in db.session.execute(select(OutboundEmail)).scalars()]
    assert p.third.email not in addressed
    assert addressed.count(p.reviewer.email) == 1


def test_every_message_sent_at_once_has_exactly_one_email(people, app):
    p = people
    p.colleague.notification_preferences = {kind: "digest" for kind in ("bid_approved", "claim_verified")}
    db.session.commit()
    bid = p.approved()
    claiming_today(app)
    p.make.claim(bid, p.lead, state="paid", liaison=p.reviewer)
    rows = list(db.session.execute(select(Notification)).scalars())
    emails = {e.id: e for e in db.session.execute(select(OutboundEmail)).scalars()}
    immediate = [n for n in rows if n.delivery == "immediate"]
    assert len(immediate) == len(emails) == len({n.email_id for n in immediate})
    for note in immediate:
        email = emails[note.email_id]
        assert (email.user_id, email.kind, email.subject) == (note.user_id, note.kind, note.subject)
    digest = [n for n in rows if n.delivery == "digest"]
    assert sorted((n.kind, n.user_id) for n in digest) == [
        ("bid_approved", p.colleague.id),
        ("claim_verified", p.colleague.id),
    ]
    assert all(n.email_id is None for n in digest)


# ----------------------------------------------------------------------- nothing on failure


def test_an_action_that_fails_sends_nothing(people):
    p = people
    p.fund.budget_pence = 500_00
    p.fund.countersign_threshold_pence = None
    db.session.commit()
    bid = p.draft()
    p.act(bid, p.lead, "submit")
    p.act(bid, p.reviewer, "start_review")
    before = (len(sent()), len(db.session.execute(select(OutboundEmail.id)).all()))
    with pytest.raises(ValidationFailed):
        p.act(bid, p.reviewer, "approve")  # over the fund's budget
    assert (len(sent()), len(db.session.execute(select(OutboundEmail.id)).all())) == before


def test_messages_written_before_a_later_step_fails_are_rolled_back_with_the_action(people, monkeypatch):
    p = people
    bid = p.approved()
    before = (len(sent()), len(db.session.execute(select(OutboundEmail.id)).all()))

    def fail(*args, **kwargs):
        raise ValidationFailed({"comment": ["Something went wrong after the event was written"]})

    monkeypatch.setattr(schedule, "waive_all", fail)
    with pytest.raises(ValidationFailed):
        p.act(bid, p.third, "cancel", comment="Stop")
    assert (len(sent()), len(db.session.execute(select(OutboundEmail.id)).all())) == before
    assert not notes("award_cancelled")


def test_people_whose_accounts_are_off_hear_nothing(people, app):
    p = people
    bid = p.approved()
    claiming_today(app)
    p.make.claim(bid, p.lead, state="paid", liaison=p.reviewer)
    first = min(i.due_on for i in db.session.execute(select(ScheduleItem)).scalars())
    for day in (first, first + timedelta(days=14)):
        with as_of(day):
            schedule.run_schedule()
    heard = {user for _, user in sent()}
    assert p.lead.id in heard and p.reviewer.id in heard
    assert p.lead_gone.id not in heard and p.officer_gone.id not in heard
    gone_addresses = {p.lead_gone.email, p.officer_gone.email}
    assert not [
        e for e in db.session.execute(select(OutboundEmail)).scalars() if e.to_address in gone_addresses
    ]
