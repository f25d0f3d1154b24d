"""File downloads shared by the finance and auditor pages (and the transparency file's
form): the same files the JSON API's ``/api/v1/exports/*`` serve, built by
:mod:`fundflow.reports`. Neither role's blueprint imports the other's; both import this."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import Flask, Response, current_app, has_app_context, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField
from wtforms.validators import DataRequired, ValidationError

from . import reports
from .fields import GovDateField, fund_choices
from .services.queries.funds import all_funds


class TransparencyForm(FlaskForm):
    """Which payments go into a Local Government Transparency Code file (a GET form)."""

    class Meta:
        csrf = False

    fund_id = SelectField("Fund", widget=GovSelect(), validators=[DataRequired("Choose the fund")])
    date_from = GovDateField("Payments made from", required_message="Enter the first date to include")
    date_to = GovDateField("Up to and including", required_message="Enter the last date to include")
    submit = SubmitField("Download transparency CSV", widget=GovSubmitInput())

    def validate_date_to(self, field: GovDateField) -> None:
        if field.data and self.date_from.data and field.data < self.date_from.data:
            raise ValidationError("The last date must be the same as or after the first date")


def streamed(chunks: Iterator[str], mimetype: str, filename: str) -> Response:
    """A download sent as it is written: the first chunk at once and memory bounded, however
    large the file. Anything that must refuse the file (a 404, a 409) has been checked before
    ``chunks`` was made; the rest is read while the body is sent, in an application context
    (and so a database session) of its own, opened at the first chunk and closed with the last
    one, or when the server closes the response early (unless one is still open then).
    Flask's ``stream_with_context`` would enter the request's context at once, and a body
    never read would leave it open."""
    return Response(
        _in_app_context(current_app._get_current_object(), chunks),
        mimetype=mimetype,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def _in_app_context(app: Flask, chunks: Iterator[str]) -> Iterator[str]:
    if has_app_context():  # one still open around the request (a test's, or a CLI's)
        yield from chunks
        return
    with app.app_context():
        yield from chunks


def csv_download(chunks: Iterator[str], filename: str) -> Response:
    return streamed(chunks, "text/csv", filename)


def json_download(chunks: Iterator[str], filename: str) -> Response:
    return streamed(chunks, "application/json", filename)


def pdf_download(data: bytes, filename: str) -> Response:
    """A PDF built in memory (a dossier, a termly report) as a download, for the pages and the
    API alike (``nosniff`` is added to every response by :mod:`fundflow.security`)."""
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


def transparency_download(template: str, **context: Any) -> Response | tuple[str, int]:
    """The transparency-file page: a GET form (fund, first and last date) that downloads
    the CSV once it is filled in correctly. Until then the dates default to the fund's year."""
    reports.require_report_access(current_user)
    funds = all_funds(current_user)
    submitted = "date_from" in request.args
    form = TransparencyForm(request.args if submitted else None)
    form.fund_id.choices = fund_choices(funds)
    if not submitted:
        wanted = request.args.get("fund_id", type=int)
        fund = next((f for f in funds if f.id == wanted), funds[0] if funds else None)
        if fund is not None:
            form.fund_id.data = str(fund.id)
            form.date_from.data = fund.opens_on
            form.date_to.data = fund.closes_on
        return render_template(template, form=form, funds=funds, **context), 200
    if form.validate():
        fund_id, first, last = int(form.fund_id.data), form.date_from.data, form.date_to.data
        return csv_download(
            reports.transparency_chunks(fund_id, first, last, viewer=current_user._get_current_object()),
            f"transparency-fund-{fund_id}-{first.isoformat()}-to-{last.isoformat()}.csv",
        )
    return render_template(template, form=form, funds=funds, **context), 422
