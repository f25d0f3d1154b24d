"""The termly report for the Schools Forum: a printable page and PDF.

The term is chosen in the query string (``?term=2026-autumn``) from the fund's terms
(:func:`fundflow.services.terms.fund_terms`); without one the page opens on today's term
(:func:`~fundflow.services.terms.default_term`). A term that is not right, or not one of
the fund's, is a GOV.UK error on the page (422) and a 422 for the PDF."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_login import current_user
from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField, ValidationError

from ..downloads import pdf_download
from ..fields import choices_of
from ..formatting import day
from ..models import Fund
from ..reports.termly import termly_context, termly_filename, termly_pdf
from ..services import access, terms
from ..services.clock import today
from ..services.errors import ValidationFailed
from .blueprint import bp


class TermForm(FlaskForm):
    """Which term the report covers (a GET form)."""

    class Meta:
        csrf = False

    term = SelectField("Term", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Show the report", widget=GovSubmitInput())

    def __init__(self, fund: Fund, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.term.choices = choices_of(
            (t.code, f"{t.label.capitalize()} ({day(t.starts_on)} to {day(t.ends_on)})")
            for t in terms.fund_terms(fund)
        )
        if not self.term.data:
            self.term.data = terms.default_term(fund, today()).code

    def validate_term(self, field: SelectField) -> None:
        try:
            field.data = terms.fund_term(self.fund, field.data).code
        except ValidationFailed as error:
            raise ValidationError(error.fields["term"][0]) from None

    @property
    def chosen(self) -> terms.Term:
        return terms.parse_term(self.term.data, terms.calendar_of(self.fund))


@bp.get("/funds/<int:fund_id>/termly", endpoint="termly")
def termly(fund_id: int):
    fund = access.get_fund(current_user, fund_id)
    form = TermForm(fund, request.args)
    if not form.validate():
        return render_template("oversight/termly.html", fund=fund, form=form, report=None), 422
    return render_template("oversight/termly.html", form=form, **termly_context(fund, form.chosen, today()))


@bp.get("/funds/<int:fund_id>/termly.pdf", endpoint="termly_pdf")
def termly_pdf_download(fund_id: int) -> Response:
    fund = access.get_fund(current_user, fund_id)
    term = terms.fund_term(fund, request.args.get("term") or terms.default_term(fund, today()).code)
    return pdf_download(termly_pdf(fund, term, today()), termly_filename(fund, term))
