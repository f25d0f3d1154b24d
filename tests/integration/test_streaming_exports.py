"""Exports stream (first chunk at once, memory bounded whatever the size) and say the same as
before; the fund ledger page and the value-for-money API page their per-bid rows and run the
same statements however many bids there are."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc

import pytest

from fundflow import reports
from fundflow.reports import csvfile, exports, giving360
from fundflow.services.clock import today
from fundflow.services.errors import NotFound
from tests.api.conftest import Api
from tests.chain import append_events
from tests.factories import Factory


@pytest.fixture
def paid(make):
    """A fund with an approved award whose claim was paid (money, events, one grant)."""
    bid = make.application("approved")
    make.claim(bid, state="paid")
    return bid


def site_downloads(fund_id: int) -> list[tuple[str, str, dict]]:
    fund_dates = {"fund_id": fund_id, "date_from": ["1", "1", "2000"], "date_to": ["31", "12", "2099"]}
    return [
        ("auditor", f"/auditor/funds/{fund_id}/audit-trail.csv", {}),
        ("auditor", f"/auditor/funds/{fund_id}/360giving.csv", {}),
        ("auditor", f"/auditor/funds/{fund_id}/360giving.json", {}),
        ("auditor", "/auditor/transparency", fund_dates),
        ("finance", "/finance/payments.csv", {"fund_id": fund_id}),
        ("finance", "/finance/transparency", fund_dates),
    ]


def test_every_site_download_is_streamed(client, auth, make, paid):
    for role, path, query in site_downloads(paid.fund_id):
        auth.login(make.user(role))
        response = client.get(path, query_string=query)
        assert response.status_code == 200, path
        assert response.is_streamed, path
        assert "Content-Length" not in response.headers, path
        assert response.get_data(), path
        auth.logout()


def test_a_page_is_not_streamed(client, auth, make, paid):
    """The check above can fail: an ordinary page has its whole body at once, so its length.
    (The test client wraps every body in an iterator, so ``is_streamed`` alone cannot tell.)"""
    auth.login(make.user("auditor"))
    response = client.get("/auditor/funds")
    assert response.status_code == 200 and int(response.headers["Content-Length"]) > 0


def test_the_download_views_return_streamed_responses(app, make, paid):
    """The views' own responses (not the test client's wrapper) carry a generator."""
    from fundflow.api import routes as api_routes
    from fundflow.downloads import csv_download

    with app.test_request_context():
        assert csv_download(reports.audit_trail_chunks(paid.fund_id), "a.csv").is_streamed
        user = make.user("auditor")
        response = api_routes.export_audit_trail.__wrapped__(user=user, query={"fund_id": paid.fund_id})
        assert response.is_streamed


@pytest.mark.parametrize(
    "path",
    [
        "/exports/audit-trail.csv?fund_id={fund}",
        "/exports/audit-trail.csv",
        "/exports/transparency.csv",
        "/exports/360giving.csv?fund_id={fund}",
        "/exports/360giving.json?fund_id={fund}",
    ],
)
def test_every_api_export_is_streamed(client, make, paid, path):
    response = Api(client).get(path.format(fund=paid.fund_id), make.user("auditor"))
    assert response.status_code == 200
    assert response.is_streamed and "Content-Length" not in response.headers


def test_streamed_files_say_what_they_said_before(client, auth, make, paid):
    fund_id = paid.fund_id
    auth.login(make.user("auditor"))
    package = reports.grants_360_package(fund_id)
    assert len(package["grants"]) == 1
    response = client.get(f"/auditor/funds/{fund_id}/360giving.json")
    assert response.text == json.dumps(package, indent=2, ensure_ascii=False)
    assert client.get(f"/auditor/funds/{fund_id}/360giving.csv").text == reports.grants_360_csv(fund_id)
    assert client.get(f"/auditor/funds/{fund_id}/audit-trail.csv").text == reports.audit_trail_csv(fund_id)
    api = Api(client).get(f"/exports/360giving.json?fund_id={fund_id}", make.user("finance"))
    assert api.get_json() == package


def test_an_empty_360giving_package_is_still_json(make):
    fund = make.fund()
    text = "".join(reports.grants_360_json_chunks(fund.id))
    assert text == json.dumps({"grants": []}, indent=2)


def test_a_package_of_many_grants_is_the_same_text_as_one_dump(make):
    fund = make.fund(countersign_threshold_pence=None)
    for _ in range(3):
        make.application("approved", fund=fund)
    package = reports.grants_360_package(fund.id)
    assert len(package["grants"]) == 3
    assert "".join(reports.grants_360_json_chunks(fund.id)) == json.dumps(
        package, indent=2, ensure_ascii=False
    )


def test_csv_chunks_hold_a_bounded_number_of_rows():
    rows = [(i, f"row {i}") for i in range(1_234)]
    chunks = list(csvfile.chunks(("n", "text"), rows, rows_per_chunk=500))
    assert [chunk.count("\r\n") for chunk in chunks] == [1, 500, 500, 234]
    assert "".join(chunks) == csvfile.write(("n", "text"), rows)


def _download(client, path: str) -> tuple[int, int, int, bytes]:
    """(peak memory traced while reading it, bytes, chunks, the first chunk) of a download."""
    tracemalloc.start()
    try:
        response = client.get(path, buffered=False)
        chunks = iter(response.response)
        first = next(chunks)
        size, count = len(first), 1
        for chunk in chunks:
            size, count = size + len(chunk), count + 1
        _, peak = tracemalloc.get_traced_memory()
        response.close()
    finally:
        tracemalloc.stop()
    return peak, size, count, first


def test_a_large_audit_trail_streams_in_bounded_memory(client, auth, make, paid):
    """Memory is what one batch of rows takes, whatever the number of rows: five times the
    events, about the same peak (and far less than the file)."""
    path = f"/auditor/funds/{paid.fund_id}/audit-trail.csv"
    auth.login(make.user("auditor"))
    append_events(4_000, fund_id=paid.fund_id)
    small_peak, small_size, _, _ = _download(client, path)
    append_events(16_000, fund_id=paid.fund_id)
    peak, size, count, first = _download(client, path)
    assert first.startswith(b"Event number,Position in the chain,Time (UTC),")
    assert count > 20_000 // csvfile.ROWS_PER_CHUNK
    assert size > 4 * small_size
    assert peak < 1.5 * small_peak, (peak, small_peak)
    assert peak < size / 2, (peak, size)


def test_the_ledger_page_shows_totals_of_every_bid_and_one_page_of_rows(app, client, auth, make):
    fund = make.fund(countersign_threshold_pence=None)
    bids = [make.application("approved", fund=fund, awarded_pence=1_000_00) for _ in range(3)]
    app.config["PER_PAGE"] = 2
    auth.login(make.user("auditor"))
    first = client.get(f"/auditor/funds/{fund.id}").text
    second = client.get(f"/auditor/funds/{fund.id}?page=2").text
    references = sorted(b.reference for b in bids)
    assert references[0] in first and references[1] in first and references[2] not in first
    assert references[2] in second and references[0] not in second
    for page in (first, second):
        assert "Showing" in page and "of 3 bids" in page
        assert "£3,000.00" in page  # awarded over every bid, on every page
    assert f'href="/auditor/funds/{fund.id}?page=2"' in first


def test_value_for_money_api_pages_its_rows_and_totals_every_bid(client, make):
    fund = make.fund(countersign_threshold_pence=None)
    for _ in range(3):
        make.application("approved", fund=fund, awarded_pence=1_000_00)
    api, auditor = Api(client), make.user("auditor")
    whole = api.get(f"/reports/value-for-money?fund_id={fund.id}", auditor).get_json()
    page = api.get(f"/reports/value-for-money?fund_id={fund.id}&page=2&per_page=2", auditor).get_json()
    assert (page["page"], page["per_page"], page["total"]) == (2, 2, 3)
    assert [r["reference"] for r in page["rows"]] == [r["reference"] for r in whole["rows"]][2:]
    assert page["totals"] == whole["totals"] and whole["totals"]["awarded_pence"] == 3_000_00
    for bad in ("per_page=501", "per_page=0", "page=0"):
        response = api.get(f"/reports/value-for-money?fund_id={fund.id}&{bad}", auditor)
        assert response.status_code == 422, bad


def _bids(make, fund, n: int) -> None:
    states = ("approved", "submitted", "under_review")
    for i in range(n):
        bid = make.application(states[i % 3], fund=fund)
        if i % 5 == 0 and states[i % 3] == "approved":
            make.claim(bid, state="paid")


def test_the_ledger_page_runs_the_same_statements_for_5_and_50_bids(app, client, auth, make, count_queries):
    fund = make.fund(countersign_threshold_pence=None)
    auditor = make.user("auditor")

    def statements_with(n: int) -> int:
        _bids(make, fund, n - len(reports.value_for_money(fund.id)["rows"]))
        auth.login(auditor)
        with count_queries() as statements:
            assert client.get(f"/auditor/funds/{fund.id}").status_code == 200
        auth.logout()
        return len(statements)

    assert statements_with(5) == statements_with(50)


def test_the_value_for_money_api_runs_the_same_statements_for_5_and_50_bids(client, make, count_queries):
    fund = make.fund(countersign_threshold_pence=None)
    api, auditor = Api(client), make.user("auditor")
    api.token(auditor)  # issued before counting

    def statements_with(n: int) -> int:
        _bids(make, fund, n - len(reports.value_for_money(fund.id)["rows"]))
        with count_queries() as statements:
            report = api.get(f"/reports/value-for-money?fund_id={fund.id}&per_page=20", auditor).get_json()
        assert report["total"] == n and len(report["rows"]) == min(n, 20)
        return len(statements)

    assert statements_with(5) == statements_with(50)


def test_transparency_chunks_refuse_an_unknown_fund_before_the_file_starts(make):
    with pytest.raises(NotFound):
        reports.transparency_chunks(999, None, today())
    with pytest.raises(NotFound):
        reports.audit_trail_chunks(999)


@pytest.mark.parametrize("database", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_exports_read_in_batches_on_each_database(request, database, monkeypatch):
    """More rows than one batch, with the grants' payments queried while their cursor is open
    (a server-side cursor on PostgreSQL)."""
    request.getfixturevalue("app" if database == "sqlite" else "pg_app")
    monkeypatch.setattr(giving360, "BATCH", 2)
    monkeypatch.setattr(exports, "BATCH", 2)
    make = Factory()
    fund = make.fund(countersign_threshold_pence=None)
    for _ in range(5):
        make.claim(make.application("approved", fund=fund), state="paid")
    append_events(7, fund_id=fund.id)
    grants = json.loads("".join(reports.grants_360_json_chunks(fund.id)))["grants"]
    assert len(grants) == 5 and all(g["amountDisbursed"] == 300.0 for g in grants)
    assert len(list(csv.reader(io.StringIO(reports.grants_360_csv(fund.id))))) == 6
    events = list(csv.DictReader(io.StringIO(reports.audit_trail_csv(fund.id))))
    positions = [int(e["Position in the chain"]) for e in events]
    assert positions == sorted(positions)
    assert len(events) > 7 + 5 and len(list(csv.reader(io.StringIO(reports.payments_csv(fund.id))))) == 6


def test_csv_rows_of_a_streamed_payments_file_parse(client, auth, make, paid):
    auth.login(make.user("finance"))
    text = client.get("/finance/payments.csv", query_string={"fund_id": paid.fund_id}).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 1 and rows[0]["application_reference"] == paid.reference
