from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from wtforms import SelectField, SubmitField


class ApplicationFilterForm(FlaskForm):
    """Filters for the list of applications: a GET form, so no CSRF token and nothing changes."""

    class Meta:
        csrf = False

    status = SelectField("Status", widget=GovSelect(), validate_choice=False)
    fund_id = SelectField("Fund", widget=GovSelect(), validate_choice=False)
    submit = SubmitField("Filter applications", widget=GovSubmitInput())
