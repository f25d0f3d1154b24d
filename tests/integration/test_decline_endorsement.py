"""A partner school's headteacher declines to endorse a bid, saying why (issue 12): offered
beside "Endorse bid" exactly when the API allows it, a reason required, audited, shown to
the lead school with the reason and what to do, a message to the lead headteacher, and the
partner can still endorse afterwards."""

from __future__ import annotations

import pytest

from fundflow.extensions import db
from fundflow.models import Application, ApplicationPartner, Event, Notification
from tests.integration.test_page_api_action_agreement import api_actions, page_actions

REASON = "Our deputy head leaves at Easter, so we cannot release her in the summer term."


@pytest.fixture
def world(make):
    """A draft bid of a fund that needs endorsements, its lead and its partner's headteacher."""
    fund = make.fund(requires_partner_endorsement=True)
    partner_school = make.school(name="Chalvey Grove")
    bid = make.application("draft", fund=fund, partner=partner_school)
    return bid, make.lead_of(bid), make.headteacher(school=partner_school)


def _reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


def _partner(application: Application) -> ApplicationPartner:
    return _reload(application).partners[0]


def _decline(client, bid, reason: str = REASON):
    return client.post(
        f"/headteacher/bids/{bid.reference}/actions/decline_endorsement", data={"comment": reason}
    )


def test_partner_headteacher_is_offered_decline_beside_endorse(client, auth, world):
    bid, _lead, partner = world
    auth.login(partner)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert "Endorse bid" in page
    assert "Decline to endorse" in page
    assert f"/headteacher/bids/{bid.reference}/actions/decline_endorsement" in page


def test_the_decline_page_asks_for_the_reason(client, auth, world):
    bid, _lead, partner = world
    auth.login(partner)
    page = client.get(f"/headteacher/bids/{bid.reference}/actions/decline_endorsement").get_data(as_text=True)
    assert "Decline to endorse this bid" in page
    assert "Why is your school declining to endorse this bid?" in page
    assert 'name="comment"' in page


@pytest.mark.parametrize("reason", ["", "   "])
def test_declining_needs_a_reason(client, auth, world, reason):
    bid, _lead, partner = world
    auth.login(partner)
    events = db.session.query(Event).count()
    response = _decline(client, bid, reason)
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter the reason your school is declining to endorse the bid" in page
    assert 'href="#comment"' in page
    assert _partner(bid).declined_at is None
    assert db.session.query(Event).count() == events


def test_partner_headteacher_can_decline_endorsement_with_a_reason(client, auth, world):
    bid, lead, partner = world
    auth.login(partner)
    response = _decline(client, bid)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/headteacher/bids/{bid.reference}/view")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"You have declined to endorse bid {bid.reference}" in page

    declined = _partner(bid)
    assert declined.declined_at is not None and declined.declined_reason == REASON
    event = db.session.query(Event).filter_by(application_id=bid.id, action="decline_endorsement").one()
    assert event.actor_id == partner.id
    assert event.payload["comment"] == REASON
    assert event.payload["school_urn"] == declined.school.urn


def test_the_lead_headteacher_gets_a_message_with_the_reason(client, auth, world):
    bid, lead, partner = world
    auth.login(partner)
    _decline(client, bid)
    message = db.session.query(Notification).filter_by(user_id=lead.id, kind="endorsement_declined").one()
    assert message.application_id == bid.id
    assert REASON in message.body


def test_the_lead_sees_the_declined_partner_with_the_reason_on_the_bid_and_task_list(client, auth, world):
    bid, lead, partner = world
    auth.login(partner)
    _decline(client, bid)
    auth.logout()
    auth.login(lead)
    said = f"Chalvey Grove declined to endorse: {REASON}"
    tag = '<strong class="govuk-tag govuk-tag--red">Declined</strong>'

    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert tag in page and said in page

    tasks = client.get(f"/headteacher/bids/{bid.reference}").get_data(as_text=True)
    assert said in tasks
    assert tag in tasks  # on the partner schools task
    assert "change the partner schools: remove the school, or name another in its place" in tasks

    dashboard = client.get("/headteacher/").get_data(as_text=True)
    assert "A partner school declined to endorse: change the partners" in dashboard


def test_a_partner_that_declined_is_not_offered_decline_again_but_may_still_endorse(client, auth, world):
    bid, _lead, partner = world
    auth.login(partner)
    _decline(client, bid)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert "Decline to endorse" not in page
    assert "Endorse bid" in page
    again = client.get(f"/headteacher/bids/{bid.reference}/actions/decline_endorsement")
    assert again.status_code == 302
    dashboard = client.get("/headteacher/").get_data(as_text=True)
    assert "your school declined. Endorse it if you change your mind" in dashboard

    response = client.post(f"/headteacher/bids/{bid.reference}/actions/endorse")
    assert response.status_code == 302
    endorsed = _partner(bid)
    assert endorsed.endorsed and not endorsed.declined
    assert "Declined</strong>" not in client.get(f"/headteacher/bids/{bid.reference}/view").get_data(
        as_text=True
    )


def test_the_lead_headteacher_cannot_decline_their_own_bid(client, auth, world):
    bid, lead, _partner_head = world
    auth.login(lead)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert "Decline to endorse" not in page
    assert client.get(f"/headteacher/bids/{bid.reference}/actions/decline_endorsement").status_code == 302
    response = _decline(client, bid)
    assert response.status_code in (403, 409, 422)
    assert _partner(bid).declined_at is None


@pytest.mark.parametrize("declined", [False, True])
def test_the_partners_bid_page_offers_exactly_the_apis_allowed_actions(app, client, auth, world, declined):
    bid, _lead, partner = world
    if declined:
        auth.login(partner)
        _decline(client, bid)
        auth.logout()
    allowed = api_actions(client, partner, bid.reference)
    assert ("decline_endorsement" in allowed) is not declined
    auth.login(partner)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert page_actions(app, page) == allowed
