"""The control exceptions an auditor follows up, each linking to its record.

The page shows every kind's count (each a link that filters the list), one page of the
exceptions newest first, and downloads the whole list as CSV. Each row links to the bid
page the viewer's own role opens (:func:`bid_page_endpoint`), never one they would be
refused."""

from __future__ import annotations

from collections.abc import Iterator

from flask import Response, render_template, request
from flask_login import current_user

from ..downloads import csv_download
from ..formatting import moment
from ..forms import page_number, per_page
from ..reports import csvfile
from ..services import access
from ..services.clock import today
from ..services.queries import exceptions as queries
from ..services.queries.auditor import RowsPage
from .blueprint import bp

CSV_COLUMNS = ("When (UTC)", "Kind of exception", "Bid reference", "What happened")


def bid_page_endpoint() -> str:
    """The bid page the signed-in person's role opens: a liaison officer's own page with
    its actions, otherwise the read-only record every reporting role may open."""
    return "liaison.application" if current_user.has_role("liaison_officer") else "auditor.application"


def chosen_kind() -> str | None:
    """The ``kind`` filter of the query string; anything unknown means every kind."""
    kind = request.args.get("kind", "")
    return kind if kind in queries.EXCEPTION_KINDS else None


@bp.get("/funds/<int:fund_id>/exceptions", endpoint="exceptions")
def exceptions(fund_id: int) -> str:
    fund, kind = access.get_fund(current_user, fund_id), chosen_kind()
    found = queries.exceptions_page(fund.id, kind, page_number(), per_page(), today(), current_user)
    return render_template(
        "oversight/exceptions.html",
        fund=fund,
        kind=kind,
        kinds=queries.EXCEPTION_KINDS,
        counts=found.counts,
        pagination=RowsPage(found.items, found.total, found.page, found.per_page),
        bid_endpoint=bid_page_endpoint(),
    )


@bp.get("/funds/<int:fund_id>/exceptions.csv", endpoint="exceptions_csv")
def exceptions_csv(fund_id: int) -> Response:
    fund, kind = access.get_fund(current_user, fund_id), chosen_kind()
    return csv_download(_csv_chunks(fund.id, kind), f"control-exceptions-fund-{fund.id}.csv")


def _csv_chunks(fund_id: int, kind: str | None) -> Iterator[str]:
    rows = (
        (moment(e.at), queries.EXCEPTION_KINDS[e.kind], e.reference, csvfile.text(e.detail))
        for e in queries.all_exceptions(fund_id, kind, today(), viewer=current_user._get_current_object())
    )
    return csvfile.chunks(CSV_COLUMNS, rows)
