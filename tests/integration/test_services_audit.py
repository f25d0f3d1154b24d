"""The audit trail: one event per change, in the same transaction, in a hash chain that
shows any edit or deletion."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text

from fundflow.extensions import db
from fundflow.models import Application, BackfillClaim, Event, ImpactReport, Review, ScheduleItem
from fundflow.services import audit, organisations
from fundflow.services.errors import ValidationFailed
from fundflow.services.unit_of_work import transaction


def all_events() -> list[Event]:
    """Every event, chain by chain (the service's first), each chain in order."""
    return list(
        db.session.execute(
            select(Event).order_by(Event.organisation_id.is_not(None), Event.organisation_id, Event.seq)
        ).scalars()
    )


def bid_chain() -> list[Event]:
    """The chain the bids' events are in: their fund's organisation's (the first one)."""
    home = organisations.home_organisation().id
    return list(
        db.session.execute(select(Event).where(Event.organisation_id == home).order_by(Event.seq)).scalars()
    )


def test_chain_links_every_event_to_the_one_before(make):
    make.application("closed")
    events = all_events()
    chains = {e.organisation_id for e in events}
    # the bid's events are in its council's chain; its headteachers' accounts in the service's
    assert chains == {None, organisations.home_organisation().id}
    for chain in chains:
        links = [e for e in events if e.organisation_id == chain]
        assert [e.seq for e in links] == list(range(1, len(links) + 1))
        assert links[0].prev_hash == audit.chain_genesis(chain)
        for before, after in zip(links, links[1:], strict=False):
            assert after.prev_hash == before.hash
    assert audit.chain_genesis(organisations.home_organisation().id) == audit.GENESIS_HASH
    report = audit.verify_chain()
    assert (report.ok, report.events_checked, report.first_bad_event_id) == (True, len(events), None)


def test_empty_trail_verifies(app):
    assert audit.verify_chain().ok


def test_every_status_change_of_a_bid_has_exactly_one_event(make):
    bid = make.application("closed")
    changes = db.session.execute(
        select(Event.from_status, Event.to_status)
        .where(
            Event.subject_type == "application",
            Event.subject_id == bid.id,
            Event.from_status != Event.to_status,
        )
        .order_by(Event.seq)
    ).all()
    assert [tuple(c) for c in changes] == [
        ("draft", "submitted"),
        ("submitted", "under_review"),
        ("under_review", "approved"),
        ("approved", "monitoring"),
        ("monitoring", "closed"),
    ]


@pytest.mark.parametrize(
    "tamper",
    [
        "UPDATE events SET payload = '{\"awarded_pence\": 1}' WHERE id = :id",
        "UPDATE events SET actor_email = 'someone@else.test' WHERE id = :id",
        "UPDATE events SET to_status = 'approved' WHERE id = :id",
    ],
)
def test_editing_an_event_breaks_the_chain_at_that_event(make, tamper):
    make.application("approved")
    target = bid_chain()[2]  # the bid's creation
    db.session.execute(text(tamper), {"id": target.id})
    db.session.commit()
    db.session.expire_all()
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_bad_event_id == target.id


def test_deleting_an_event_is_detected(make):
    make.application("approved")
    events = bid_chain()
    victim, follower = events[4], events[5]
    db.session.execute(text("DELETE FROM events WHERE id = :id"), {"id": victim.id})
    db.session.commit()
    db.session.expire_all()
    report = audit.verify_chain()
    assert not report.ok
    assert report.first_bad_event_id == follower.id


def test_deleting_the_last_events_and_rehashing_is_still_not_a_forgery_of_the_middle(make):
    make.application("approved")
    events = bid_chain()
    # swapping two events' order numbers breaks the chain as well
    a, b = events[2], events[3]
    db.session.execute(text("UPDATE events SET seq = -1 WHERE id = :id"), {"id": a.id})
    db.session.execute(text("UPDATE events SET seq = :s WHERE id = :id"), {"s": a.seq, "id": b.id})
    db.session.execute(text("UPDATE events SET seq = :s WHERE id = :id"), {"s": b.seq, "id": a.id})
    db.session.commit()
    db.session.expire_all()
    assert not audit.verify_chain().ok


def test_event_is_written_in_the_callers_transaction_and_rolled_back_with_it(make):
    bid = make.application("draft")
    count = db.session.execute(select(func.count(Event.id))).scalar_one()
    with pytest.raises(ValidationFailed), transaction():
        db.session.get(Application, bid.id).title = "Changed"
        audit.record_event(actor=None, action="edit", subject_type="application", subject_id=bid.id)
        raise ValidationFailed({"title": ["nope"]})
    assert db.session.execute(select(func.count(Event.id))).scalar_one() == count
    assert db.session.get(Application, bid.id).title == "Phonics partnership"
    assert audit.verify_chain().ok


def test_shell_actions_are_recorded_as_the_system(make):
    make.school()
    event = all_events()[0]
    assert (event.actor_id, event.actor_email, event.action) == (None, "system", "create_school")


def test_every_event_about_a_bids_record_files_under_that_bid_and_its_fund(make):
    """Events about a bid, its claims, reviews and impact reports carry the bid and its
    fund; a fund's carry the fund alone; a person's, a school's or a token's neither."""
    make.application("closed")
    make.claim(make.application("approved"), state="paid")
    liaison = make.liaison()
    make.review(liaison, make.application("under_review", liaison=liaison))
    of_a_bid = {
        "claim": BackfillClaim,
        "review": Review,
        "impact_report": ImpactReport,
        "schedule_item": ScheduleItem,
    }
    kinds = set()
    for event in all_events():
        kinds.add(event.subject_type)
        if event.subject_type == "application":
            bid = db.session.get(Application, event.subject_id)
        elif event.subject_type in of_a_bid:
            record = db.session.get(of_a_bid[event.subject_type], event.subject_id)
            bid = db.session.get(Application, record.application_id)
        else:
            expected_fund = event.subject_id if event.subject_type == "fund" else None
            assert (event.application_id, event.fund_id) == (None, expected_fund), event.action
            continue
        assert (event.application_id, event.fund_id) == (bid.id, bid.fund_id), event.action
    assert {"application", "claim", "review", "impact_report", "fund", "user", "school"} <= kinds
