"""The headteacher's side of the monitoring schedule (issue 12): each bid's next due item on
the dashboard (a red "Late" tag once it is late), read for the whole page in a fixed number
of queries, and the schedule table on the bid page once the award is made."""

from __future__ import annotations

from datetime import timedelta

import pytest

from fundflow.dates import long_date
from fundflow.extensions import db
from fundflow.models import Application, ScheduleItem
from fundflow.services import schedule
from fundflow.services.queries.schedule import next_due, schedule_for

LATE_TAG = '<strong class="govuk-tag govuk-tag--red">Late</strong>'


@pytest.fixture
def head(make):
    return make.headteacher()


def _dashboard(client) -> str:
    return client.get("/headteacher/").get_data(as_text=True)


def _row(page: str, reference: str) -> str:
    """The dashboard table's row of one bid (the messages panel above may name it too)."""
    return page.split("<tbody", 1)[1].split(reference, 1)[1].split("</tr>", 1)[0]


def _said(item: ScheduleItem) -> str:
    return f"{item.kind_label} due {long_date(item.due_on)}"


# ----------------------------------------------------------------------------- dashboard


def test_dashboard_shows_each_awards_next_due_item_with_its_date(client, auth, make, head):
    approved = make.application("approved", lead=head)
    draft = make.application("draft", lead=head)
    item = next_due([approved.id])[approved.id]
    auth.login(head)
    page = _dashboard(client)
    assert '<th scope="col" class="govuk-table__header">Next due</th>' in page
    assert _said(item) in page
    assert LATE_TAG not in page
    draft_row = _row(page, draft.reference)
    assert "Nothing due" in draft_row


def test_partner_school_sees_the_next_due_item_of_a_bid_it_takes_part_in(client, auth, make, head):
    approved = make.application("approved", partner=head.school)
    auth.login(head)
    assert _said(next_due([approved.id])[approved.id]) in _dashboard(client)


def test_dashboard_marks_a_late_item_with_a_red_late_tag(client, auth, make, head):
    approved = make.application("approved", lead=head)
    first = next_due([approved.id])[approved.id]
    schedule.run_schedule(first.due_on + timedelta(days=1))
    db.session.expire_all()
    late = next_due([approved.id])[approved.id]
    assert late.id == first.id and late.status == "late"
    auth.login(head)
    page = _dashboard(client)
    row = _row(page, approved.reference)
    assert _said(late) in row
    assert LATE_TAG in row


def test_a_settled_schedule_shows_nothing_due(client, auth, make, head):
    closed = make.application("cancelled", lead=head)  # cancelling waives what the award owed
    auth.login(head)
    row = _row(_dashboard(client), closed.reference)
    assert "Nothing due" in row


def _dashboard_statements(client, auth, head, count_queries) -> int:
    db.session.expire_all()
    auth.login(head)
    with count_queries() as statements:
        page = _dashboard(client)
    auth.logout()
    assert "Next due" in page
    return len(statements)


def test_dashboard_reads_next_due_items_in_a_fixed_number_of_queries_for_5_or_50_bids(
    client, auth, make, head, count_queries
):
    fund = make.fund(budget_pence=10_000_000_00)

    def add_until(n: int) -> None:
        states = ("approved", "monitoring", "draft", "submitted", "changes_requested")
        while db.session.query(Application).count() < n:
            state = states[db.session.query(Application).count() % len(states)]
            make.application(state, lead=head, fund=fund)
        db.session.commit()

    add_until(5)
    with_five = _dashboard_statements(client, auth, head, count_queries)
    add_until(50)
    with_fifty = _dashboard_statements(client, auth, head, count_queries)
    assert with_fifty == with_five


# ------------------------------------------------------------------------------ bid page


@pytest.mark.parametrize("state", ["approved", "monitoring", "closed", "cancelled"])
def test_bid_page_shows_the_monitoring_schedule_of_an_award(client, auth, make, head, state):
    bid = make.application(state, lead=head)
    items = schedule_for(bid.id)
    assert items
    auth.login(head)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert (
        '<caption class="govuk-table__caption govuk-table__caption--m">Monitoring schedule</caption>' in page
    )
    for item in items:
        assert f'<th scope="row" class="govuk-table__header">{item.kind_label}</th>' in page
        assert long_date(item.due_on) in page
    table = page.split("Monitoring schedule</caption>", 1)[1].split("</table>", 1)[0]
    assert "<a " not in table  # the headteacher's table has no links
    assert '<span class="govuk-visually-hidden">Actions</span>' not in table


def test_cancelled_awards_schedule_says_what_was_waived_and_why(client, auth, make, head):
    bid = make.application("cancelled", lead=head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert ">Waived</strong>" in page
    assert "Award cancelled: No longer needed." in page


def test_partner_school_sees_the_schedule_too(client, auth, make, head):
    bid = make.application("approved", partner=head.school)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert "Monitoring schedule</caption>" in page


@pytest.mark.parametrize("state", ["draft", "submitted", "under_review", "rejected", "withdrawn"])
def test_bid_page_of_a_bid_without_an_award_shows_no_schedule(client, auth, make, head, state):
    bid = make.application(state, lead=head)
    auth.login(head)
    page = client.get(f"/headteacher/bids/{bid.reference}/view").get_data(as_text=True)
    assert "Monitoring schedule" not in page
