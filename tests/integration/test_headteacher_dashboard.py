"""The headteacher's dashboard: their school's bids, what each needs next, paging, and a
fixed number of queries however many bids there are."""

from __future__ import annotations

import pytest

from fundflow.extensions import db
from fundflow.models import Application


@pytest.fixture
def head(make):
    return make.headteacher()


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get("/headteacher/")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_user_without_headteacher_role_is_refused(client, auth, make):
    auth.login(make.liaison())
    assert client.get("/headteacher/").status_code == 403


def test_dashboard_lists_bids_the_school_leads_or_partners_in(client, auth, make, head):
    led = make.application("draft", lead=head)
    partnered = make.application("submitted", partner=head.school)
    elsewhere = make.application("submitted")
    auth.login(head)
    page = client.get("/headteacher/").get_data(as_text=True)
    assert led.reference in page
    assert partnered.reference in page
    assert elsewhere.reference not in page
    assert "Start a new bid" in page
    assert "Lead" in page and "Supporting" in page


def test_dashboard_says_what_is_needed_next(client, auth, make, head):
    fund = make.fund(requires_partner_endorsement=True)
    draft = make.application("draft", lead=head, fund=fund)
    to_endorse = make.application("draft", partner=head.school, fund=fund)
    changes = make.application("changes_requested", lead=head)
    approved = make.application("approved", lead=head)
    monitoring = make.application("monitoring", lead=head)
    auth.login(head)
    page = client.get("/headteacher/").get_data(as_text=True)
    assert f'Complete the tasks and submit<span class="govuk-visually-hidden"> for {draft.reference}' in page
    assert f'Endorse this bid<span class="govuk-visually-hidden"> for {to_endorse.reference}' in page
    assert (
        f'Answer the reviewer’s comments<span class="govuk-visually-hidden"> for {changes.reference}' in page
    )
    assert f'Claim backfill<span class="govuk-visually-hidden"> for {approved.reference}' in page
    assert f'Report impact<span class="govuk-visually-hidden"> for {monitoring.reference}' in page


def test_dashboard_shows_each_status_as_a_tag(client, auth, make, head):
    make.application("under_review", lead=head)
    auth.login(head)
    page = client.get("/headteacher/").get_data(as_text=True)
    assert '<strong class="govuk-tag govuk-tag--light-blue">Under review</strong>' in page


def test_dashboard_paginates(client, auth, make, head):
    fund = make.fund()
    for _ in range(23):
        make.application("draft", lead=head, fund=fund)
    auth.login(head)
    first = client.get("/headteacher/").get_data(as_text=True)
    second = client.get("/headteacher/?page=2").get_data(as_text=True)
    assert first.count('<tr class="govuk-table__row">') == 21  # header row + 20
    assert second.count('<tr class="govuk-table__row">') == 4
    assert 'rel="next"' in first
    assert client.get("/headteacher/?page=99").status_code == 200


def test_empty_dashboard_explains_how_to_start(client, auth, head):
    auth.login(head)
    page = client.get("/headteacher/").get_data(as_text=True)
    assert "does not take part in any bids yet" in page


def _dashboard_queries(client, count_queries) -> int:
    db.session.expire_all()
    with count_queries() as statements:
        response = client.get("/headteacher/")
    assert response.status_code == 200
    return len(statements)


def test_dashboard_query_count_does_not_grow_with_bids(client, auth, make, head, count_queries):
    fund = make.fund()
    for i in range(2):
        make.application("approved" if i % 2 else "submitted", lead=head, fund=fund)
    auth.login(head)
    with_two = _dashboard_queries(client, count_queries)
    for i in range(8):
        if i % 2:
            make.application("draft", partner=head.school, fund=fund)
        else:
            make.application("changes_requested", lead=head, fund=fund)
    assert db.session.query(Application).count() == 10
    with_ten = _dashboard_queries(client, count_queries)
    assert with_ten == with_two
