"""The bid page and the headteacher's lifecycle actions: endorse, withdraw, finish delivery."""

from __future__ import annotations

import pytest

from fundflow.extensions import db
from fundflow.models import Application


@pytest.fixture
def head(make):
    return make.headteacher()


def _reload(application: Application) -> Application:
    db.session.expire_all()
    return db.session.get(Application, application.id)


# ------------------------------------------------------------------------- bid page


def test_bid_page_shows_the_whole_bid_and_allowed_actions(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/view").get_data(as_text=True)
    assert "Reading is below the local average." in page
    assert "Phonics pass rate" in page
    assert "£1,200.00" in page
    assert "Submit bid" in page
    assert "Withdraw bid" in page
    assert "Change the bid" in page
    assert "Endorse bid" not in page


def test_bid_page_of_approved_bid_offers_claims_and_reports(client, auth, make, head):
    application = make.application("approved", lead=head)
    make.claim(application, head, state="paid")
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/view").get_data(as_text=True)
    assert "Finish delivery" in page
    assert "Claim backfill" in page
    assert "Report impact" in page
    assert "Amount awarded" in page
    assert ">Paid</strong>" in page
    assert "Withdraw bid" not in page


def test_partner_sees_bid_but_only_the_endorse_action(client, auth, make, head):
    application = make.application("submitted", partner=head.school)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/view").get_data(as_text=True)
    assert "Endorse bid" in page
    assert "Supporting" in page
    for other in ("Withdraw bid", "Change the bid", "Submit bid", "Claim backfill"):
        assert other not in page


def test_closed_bid_page_shows_no_actions(client, auth, make, head):
    application = make.application("closed", lead=head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{application.reference}/view").get_data(as_text=True)
    assert "What you can do" not in page
    assert "Achieved" in page  # the evaluation of the final report


# -------------------------------------------------------------------------- endorse


def test_partner_endorses_bid_after_confirming(client, auth, make, head):
    application = make.application(
        "draft", partner=head.school, fund=make.fund(requires_partner_endorsement=True)
    )
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/actions/endorse"
    page = client.get(url).get_data(as_text=True)
    assert "Endorse this bid" in page
    assert "Your school’s part" in page
    response = client.post(url)
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/headteacher/bids/{application.reference}/view")
    partner = _reload(application).partners[0]
    assert partner.endorsed_at is not None
    assert f"You have endorsed bid {application.reference}" in client.get(
        response.headers["Location"]
    ).get_data(as_text=True)


def test_partner_cannot_endorse_twice(client, auth, make, head):
    application = make.application("submitted", partner=head.school)
    make.act(application, head, "endorse")
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/actions/endorse"
    assert client.get(url).status_code == 302
    response = client.post(url)
    assert response.status_code == 409
    assert "already endorsed" in response.get_data(as_text=True)


def test_lead_headteacher_cannot_endorse_own_bid(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.post(f"/headteacher/bids/{application.reference}/actions/endorse")
    assert response.status_code == 403
    assert "There is a problem" in response.get_data(as_text=True)
    assert all(p.endorsed_at is None for p in _reload(application).partners)


# ------------------------------------------------------------------------- withdraw


def test_withdraw_asks_are_you_sure_then_withdraws(client, auth, make, head):
    application = make.application("submitted", lead=head)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/actions/withdraw"
    page = client.get(url).get_data(as_text=True)
    assert "Are you sure you want to withdraw this bid?" in page
    assert "Yes, withdraw the bid" in page
    assert _reload(application).status == "submitted"
    response = client.post(url)
    assert response.status_code == 302
    assert _reload(application).status == "withdrawn"
    assert "has been withdrawn" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_partner_cannot_withdraw(client, auth, make, head):
    application = make.application("submitted", partner=head.school)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/actions/withdraw"
    assert client.get(url).status_code == 302
    response = client.post(url)
    assert response.status_code == 403
    assert "There is a problem" in response.get_data(as_text=True)
    assert _reload(application).status == "submitted"


def test_approved_bid_cannot_be_withdrawn(client, auth, make, head):
    application = make.application("approved", lead=head)
    auth.login(head)
    response = client.post(f"/headteacher/bids/{application.reference}/actions/withdraw")
    assert response.status_code == 409
    assert _reload(application).status == "approved"


def test_unknown_action_is_not_found(client, auth, make, head):
    application = make.application("approved", lead=head)
    auth.login(head)
    assert client.get(f"/headteacher/bids/{application.reference}/actions/approve").status_code == 404
    assert client.post(f"/headteacher/bids/{application.reference}/actions/approve").status_code == 404
    assert _reload(application).status == "approved"


def test_submit_action_goes_to_check_answers(client, auth, make, head):
    application = make.application("draft", lead=head)
    auth.login(head)
    response = client.get(f"/headteacher/bids/{application.reference}/actions/submit")
    assert response.headers["Location"].endswith(f"/headteacher/bids/{application.reference}/check")


def test_actions_on_another_schools_bid_are_not_found(client, auth, make, head):
    application = make.application("submitted")
    auth.login(head)
    assert client.post(f"/headteacher/bids/{application.reference}/actions/withdraw").status_code == 404
    assert _reload(application).status == "submitted"


# ------------------------------------------------------------------ finish delivery


def test_finish_delivery_after_confirming(client, auth, make, head):
    application = make.application("approved", lead=head)
    make.claim(application, head, state="paid", amount_pence=300_00)
    auth.login(head)
    url = f"/headteacher/bids/{application.reference}/actions/finish_delivery"
    page = client.get(url).get_data(as_text=True)
    assert "Goes back to the fund" in page
    assert "£900.00" in page
    response = client.post(url)
    assert response.status_code == 302
    assert _reload(application).status == "monitoring"


def test_finish_delivery_with_pending_claim_is_refused_with_the_reason(client, auth, make, head):
    application = make.application("approved", lead=head)
    make.claim(application, head)
    auth.login(head)
    response = client.post(f"/headteacher/bids/{application.reference}/actions/finish_delivery")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    assert "every backfill claim first" in page
    assert _reload(application).status == "approved"


def test_bid_page_links_versions_only_when_there_is_something_to_compare(client, auth, make, head):
    once = make.application("submitted", lead=head)
    answering = make.application("changes_requested", lead=head)
    auth.login(head)
    assert "See what changed" not in client.get(f"/headteacher/bids/{once.reference}/view").get_data(
        as_text=True
    )
    page = client.get(f"/headteacher/bids/{answering.reference}/view").get_data(as_text=True)
    assert "See what changed between versions" in page
    assert "Say more about the need." in page
