"""Control exceptions: each kind made by a real action, listed newest first, counted by
kind, paged and filtered; the page and the API say the same; statements stay flat."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from markupsafe import escape

from fundflow.extensions import db
from fundflow.formatting import event_label, event_sentences
from fundflow.models import Event, ScheduleItem
from fundflow.services import payments, schedule
from fundflow.services.clock import today
from fundflow.services.queries import exceptions as queries
from fundflow.services.queries.auditor import REPORT_ITEM_KINDS
from fundflow.services.queries.schedule import schedule_for
from tests.api.conftest import Api


@pytest.fixture
def scene(make):
    """One fund with every kind of exception, each made through the services."""
    fund = make.fund(countersign_threshold_pence=None)
    liaison, finance = make.liaison(), make.user("finance")
    concerned = make.school(causing_concern=True)
    override = make.application("under_review", fund=fund, partner=concerned, liaison=liaison)
    make.act(
        override, liaison, "approve", awarded_pence=override.requested_pence, comment="A strong new head."
    )
    partial = make.application("approved", fund=fund, awarded_pence=800_00)  # of £1,200.00
    at_cap = make.application("approved", fund=fund, rate=500_00)
    claim = make.claim(partial, state="verified")
    wrong = make.pay(claim, finance=finance, reference="PAY-WRONG")
    payments.reverse_disbursement(finance, wrong, "Paid to the wrong account")
    lead = make.headteacher()
    first, second, third = (make.application("approved", fund=fund, lead=lead) for _ in range(3))
    make.claim(first, staff_name="Dan Brook")
    overlapping = make.claim(second, staff_name="Dan Brook", state="verified")
    flagged = make.claim(third, staff_name="Dan Brook")
    final = next(i for i in schedule_for(at_cap.id) if i.kind == "final_report")
    schedule.waive(liaison, final, "Reported at the cluster meeting.")
    return {
        "fund": fund,
        "override": override,
        "partial": partial,
        "at_cap": at_cap,
        "claim": claim,
        "overlapping": overlapping,
        "flagged": flagged,
        "second": second,
        "first": first,
        "third": third,
    }


def late_items(fund_id: int) -> list[ScheduleItem]:
    """The late reports worked out in Python, to check the SQL against."""
    items = ScheduleItem.query.all()
    return [
        i
        for i in items
        if i.application.fund_id == fund_id
        and i.kind in REPORT_ITEM_KINDS
        and (
            (i.status == "submitted" and i.completed_on > i.due_on)
            or i.status == "late"
            or (i.status in ("due", "late") and i.due_on < today())
        )
    ]


def test_every_kind_is_found_with_a_plain_sentence(scene):
    fund = scene["fund"]
    found = queries.exceptions_page(fund.id, None, 1, 100, today())
    by_kind: dict[str, list] = {}
    for e in found.items:
        by_kind.setdefault(e.kind, []).append(e)
    late = late_items(fund.id)
    assert found.counts == {
        "causing_concern_override": 1,
        "partial_award": 1,
        "reversal": 1,
        "flagged_claim": 2,
        "overlapping_claim": 1,
        "day_rate_at_cap": 1,
        "late_report": len(late),
        "waived_report": 1,
    }
    assert found.total == sum(found.counts.values()) == len(found.items)
    assert [e.reference for e in by_kind["partial_award"]] == [scene["partial"].reference]
    assert by_kind["partial_award"][0].detail == "Awarded £800.00 of £1,200.00 requested."
    assert by_kind["causing_concern_override"][0].reference == scene["override"].reference
    assert "Override note: “A strong new head.”" in by_kind["causing_concern_override"][0].detail
    reversal = by_kind["reversal"][0]
    assert reversal.reference == scene["partial"].reference
    assert reversal.detail.startswith("Payment PAY-WRONG of £300.00, made on ")
    assert "Reason: “Paid to the wrong account”" in reversal.detail
    assert {e.reference for e in by_kind["flagged_claim"]} == {
        scene["second"].reference,
        scene["third"].reference,
    }
    (overlapping,) = by_kind["overlapping_claim"]
    assert overlapping.reference == scene["second"].reference
    assert (
        f"overlaps claim {scene['overlapping'].overlaps_claim_id} on {scene['first'].reference}"
        in overlapping.detail
    )
    assert (
        by_kind["day_rate_at_cap"][0].detail
        == "Coaching (Deputy head) is paid at £500.00 a day, the fund's highest day rate."
    )
    waived = by_kind["waived_report"][0]
    assert waived.reference == scene["at_cap"].reference
    assert waived.detail.startswith("Final impact report due on ") and "was waived" in waived.detail
    for e in found.items:
        assert "_" not in e.detail and "{" not in e.detail and e.detail.endswith((".", "”"))
    stamps = [e.at for e in found.items]
    assert stamps == sorted(stamps, reverse=True)


def test_an_overdue_report_is_late_and_so_is_one_sent_after_its_date(make):
    fund = make.fund(countersign_threshold_pence=None)
    bid = make.application("approved", fund=fund)
    item = next(i for i in schedule_for(bid.id) if i.kind in REPORT_ITEM_KINDS)
    schedule.run_schedule(item.due_on + timedelta(days=1))
    db.session.refresh(item)
    assert item.status == "late"
    found = queries.exceptions_page(fund.id, "late_report", 1, 20, today())
    assert found.total >= 1 and found.counts["late_report"] == found.total
    assert any("has not been sent" in e.detail for e in found.items)


def test_filter_by_kind_and_pages(scene):
    fund = scene["fund"]
    every = queries.exceptions_page(fund.id, None, 1, 100, today())
    flagged = queries.exceptions_page(fund.id, "flagged_claim", 1, 1, today())
    assert flagged.total == 2 and len(flagged.items) == 1 and flagged.counts == every.counts
    second = queries.exceptions_page(fund.id, "flagged_claim", 2, 1, today())
    assert {flagged.items[0].record_id, second.items[0].record_id} == {
        scene["overlapping"].id,
        scene["flagged"].id,
    }
    pages = [queries.exceptions_page(fund.id, None, n, 3, today()).items for n in range(1, 5)]
    assert [e for page in pages for e in page] == every.items[:12]
    other = queries.exceptions_page(fund.id + 1000, None, 1, 20, today())
    assert other.total == 0 and not other.items


def test_the_page_counts_links_and_lists_what_the_api_returns(client, auth, make, scene):
    fund = scene["fund"]
    auditor = make.user("auditor")
    response = Api(client).get(f"/reports/exceptions?fund_id={fund.id}&per_page=100", auditor)
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"items", "page", "per_page", "total"}
    auth.login(auditor)
    page = client.get(f"/reports/funds/{fund.id}/exceptions?per_page=100")
    assert page.status_code == 200
    text = page.text
    for item in body["items"][:20]:
        assert str(escape(item["detail"])) in text
        assert f'href="/auditor/bids/{item["reference"]}"' in text
    assert f'href="/reports/funds/{fund.id}/exceptions?kind=reversal"' in text
    words = re.sub(r"<[^>]+>", " ", text.split("<main", 1)[1].split("</main>")[0])
    assert "_" not in words and "{" not in words
    filtered = client.get(f"/reports/funds/{fund.id}/exceptions?kind=reversal").text
    assert "PAY-WRONG" in filtered and "Dan Brook" not in filtered
    download = client.get(f"/reports/funds/{fund.id}/exceptions.csv")
    assert download.mimetype == "text/csv" and download.is_streamed
    rows = list(csv.DictReader(io.StringIO(download.text)))
    assert list(rows[0]) == ["When (UTC)", "Kind of exception", "Bid reference", "What happened"]
    assert [r["What happened"] for r in rows] == [i["detail"] for i in body["items"]]
    assert rows[0]["Kind of exception"] in queries.EXCEPTION_KINDS.values()


def test_a_liaison_officer_is_sent_to_their_own_bid_page(client, auth, make, scene):
    auth.login(make.liaison())
    text = client.get(f"/reports/funds/{scene['fund'].id}/exceptions").text
    assert f'href="/liaison/bids/{scene["partial"].reference}"' in text
    assert "/auditor/bids/" not in text


def test_the_ledger_and_funds_pages_link_to_the_exceptions(client, auth, make, scene):
    auth.login(make.user("auditor"))
    path = f'href="/reports/funds/{scene["fund"].id}/exceptions"'
    assert path in client.get(f"/auditor/funds/{scene['fund'].id}").text
    assert path in client.get("/auditor/funds").text


def test_every_event_of_the_scene_reads_in_words(scene):
    events = Event.query.all()
    assert len(events) > 30
    for event in events:
        label = event_label(event)
        assert "_" not in label and label[:1].isupper(), (event.subject_type, event.action, label)
        text = " ".join(event_sentences(event))
        assert "{" not in text and "_" not in text, (event.action, text)
        for key, value in (event.payload or {}).items():
            if key.endswith("_pence") and isinstance(value, int) and abs(value) >= 100:
                assert f"£{abs(value) / 100:,.2f}" in text, (event.action, key, text)


def test_statements_stay_flat_however_many_exceptions(client, auth, make, count_queries):
    """The page and its CSV run the same statements with 5 reversals as with 50."""
    fund = make.fund(countersign_threshold_pence=None, budget_pence=10_000_000_00)
    lead, finance = make.headteacher(), make.user("finance")
    bid = make.application("approved", fund=fund, lead=lead, days="300")

    def reverse(count: int) -> None:
        for _ in range(count):
            claim = make.claim(bid, lead, amount_pence=100_00, days="0.5", state="verified")
            payments.reverse_disbursement(finance, make.pay(claim, finance=finance), "Wrong account")

    def statements() -> tuple[int, int]:
        client.get(f"/reports/funds/{fund.id}/exceptions")  # warm up: the fund, the user, the menu
        with count_queries() as run:
            page = client.get(f"/reports/funds/{fund.id}/exceptions")
            download = client.get(f"/reports/funds/{fund.id}/exceptions.csv").text
        assert page.status_code == 200
        return len(run), download.count("Wrong account")

    auth.login(make.user("auditor"))
    reverse(5)
    few, listed = statements()
    assert listed == 5
    reverse(45)
    many, listed = statements()
    assert listed == 50
    assert few == many <= 10
