"""Form fields and widgets shared by the role areas.

People type money in pounds and dates as GOV.UK day/month/year boxes; the services take
integer pence and ``date`` objects. The conversion happens here, in the form layer, so no
view or template does arithmetic on money. The radio and checkbox widgets mend two gaps in
govuk-frontend-wtf's own.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovDateInput,
    GovRadioInput,
    GovTextInput,
)
from wtforms import Field, SelectChoice, StringField
from wtforms.validators import StopValidation

from .models import Fund
from .services.parsing import (
    DAYS,
    MEASURE_VALUE,
    POUNDS,
    ROW_ID,
    Bounds,
    NumberRefused,
    parse_number,
    parse_whole,
    pounds,
)

MONEY_EXAMPLE = "Enter an amount in pounds, like 1250.00"
PENCE_EXAMPLE = "Enter an amount in pounds and pence, like 1250.50"

__all__ = ["DAYS", "MEASURE_VALUE", "POUNDS", "Bounds", "NumberRefused", "parse_pounds", "row_id"]


def parse_pounds(text: str | None, bounds: Bounds = POUNDS) -> int | None:
    """Pounds as typed (``£1,250.50``, ``1250``) → integer pence (125050), read by the one
    bounded number parser; ``None`` when nothing was typed. Raises :class:`NumberRefused`
    (a ``ValueError``) with a message for the person when it is not an amount ``bounds``
    holds: ``1e30``, ``12.345``, ``NaN``."""
    cleaned = (text or "").strip().replace(",", "").replace(" ", "").removeprefix("£")
    if not cleaned:
        return None
    try:
        amount = parse_number(cleaned, bounds, what="an amount")
    except NumberRefused as exc:
        message = str(exc)
        if "as a number" in message:
            message = MONEY_EXAMPLE
        elif "decimal place" in message:
            message = PENCE_EXAMPLE
        elif "or more" in message or cleaned.startswith("-"):
            message = f"Enter an amount of £{bounds.smallest:,f} or more"
        else:
            message = f"Enter an amount of £{bounds.largest:,f} or less"
        raise NumberRefused(message) from None
    return int(amount * 100)


def pounds_to_pence(text: str | None) -> int | None:
    """Lenient :func:`parse_pounds`: ``None`` when nothing was typed or it is not an amount."""
    try:
        return parse_pounds(text)
    except NumberRefused:
        return None


def pence_to_pounds(pence: int | None) -> str:
    """12345 → '123.45' (no £ sign, no thousands separator: what goes back into an input);
    the ONE way pence become pounds text for a form. Amounts shown to read use the
    ``money`` filter (:func:`fundflow.formatting.money`)."""
    return "" if pence is None else str(pounds(pence))


def row_id(value: str | None) -> int | None:
    """A filter's value (``?fund=12``) as a row id; ``None`` for empty, or anything no row
    can have (``99999999999999999999``, ``²``, ``-1``)."""
    if not value:
        return None
    try:
        return parse_whole(value, ROW_ID)
    except NumberRefused:
        return None


class PoundsField(StringField):
    """THE field for an amount typed in pounds (``1,250.50``, ``£1250``) on every form: a
    fund's budget, a daily rate, an award, a claim, a payment. ``data`` is integer pence
    (``pence`` says the same), read by :func:`parse_pounds`, so every amount has the same
    limits (:data:`POUNDS`, more than £0) and the same messages. What the services then
    decide (caps, what is left) they say themselves.

    ``required_message`` is shown when nothing was typed; leave it out for an optional
    amount (``data`` is then ``None``). A form is filled with pence too (``data=25050``).
    """

    widget = GovTextInput()

    def __init__(self, label: str | None = None, validators=None, required_message: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required_message = required_message

    @property
    def pence(self) -> int | None:
        """The amount in pence (the name the services' fields use): the same as ``data``."""
        return self.data

    @property
    def text(self) -> str:
        """What the box holds: as typed, or the amount in pounds."""
        return self._value()

    def process_formdata(self, valuelist: list[str]) -> None:
        self.data = None
        pence = parse_pounds(valuelist[0] if valuelist else "")  # NumberRefused is a ValueError
        if pence is not None and pence <= 0:
            raise ValueError("Enter an amount more than £0")
        self.data = pence

    def pre_validate(self, form: Any) -> None:
        if self.data is None and not self.process_errors and self.required_message:
            raise StopValidation(self.required_message)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return pence_to_pounds(self.data)


class GovDateField(Field):
    """A GOV.UK date input (day, month and year boxes sharing one name) read as a ``date``."""

    widget = GovDateInput()

    def __init__(self, label: str | None = None, validators=None, required_message: str = "", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.required_message = required_message

    def process_formdata(self, valuelist: list[str]) -> None:
        if not valuelist:  # the boxes were not sent at all: keep the default
            self.raw_data = None
            return
        parts = [v.strip() for v in (list(valuelist) + ["", "", ""])[:3]]
        self.raw_data = parts  # the widget always wants exactly day, month and year
        self.data = None
        if not any(parts):
            return
        if len(parts) != 3 or not all(parts):
            raise ValueError(f"{self.label.text} must include a day, month and year")
        try:
            self.data = datetime.strptime(" ".join(parts), "%d %m %Y").date()
        except (ValueError, OverflowError):
            raise ValueError(f"{self.label.text} must be a real date, like 27 3 2026") from None

    def pre_validate(self, form: Any) -> None:
        if self.data is None and not self.process_errors and self.required_message:
            raise StopValidation(self.required_message)

    def _value(self) -> str:
        return self.data.isoformat() if isinstance(self.data, date) else ""


def choices_of(pairs: Iterable[tuple[str, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


def fund_choices(funds: Iterable[Fund], *, blank: str | None = None) -> list[SelectChoice]:
    """A fund select's choices (the finance and auditor filters and the transparency file),
    after an optional ``blank`` choice such as "All funds"."""
    pairs = [("", blank)] if blank else []
    return choices_of(pairs + [(str(f.id), fund_label(f)) for f in funds])


def fund_label(fund: Fund) -> str:
    """The fund's name, with its financial year unless the name already says it."""
    return fund.name if fund.financial_year in fund.name else f"{fund.name} ({fund.financial_year})"


def chosen_id(value: str | None) -> int | None:
    """A select's value as a row id, or None for "all" and anything unreadable."""
    if not value or not value.isdigit() or len(value) > 9:  # row ids fit a database integer
        return None
    return int(value)


class _NoEmptyHint:
    """govuk-frontend-wtf gives radios and checkboxes a hint even when the field has no
    description, leaving the inputs described by an empty element: drop it."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        hint = params.get("hint") or {}
        if not (hint.get("text") or hint.get("html")):
            params.pop("hint", None)
        return params


class _LabelLegend(_NoEmptyHint):
    """Keep the field's label as the legend when a template only styles the legend
    (govuk-frontend-wtf drops the label once a template passes a ``fieldset``)."""

    def map_gov_params(self, field: Field, **kwargs: Any) -> dict[str, Any]:
        params = super().map_gov_params(field, **kwargs)
        fieldset = params["fieldset"] = copy.deepcopy(params.get("fieldset") or {})
        fieldset.setdefault("legend", {}).setdefault("text", field.label.text)
        return params


class Radios(_LabelLegend, GovRadioInput):
    pass


class Checkboxes(_LabelLegend, GovCheckboxesInput):
    """Several checkboxes for a ``SelectMultipleField``."""


class Checkbox(_NoEmptyHint, GovCheckboxInput):
    """One checkbox for a ``BooleanField``: no fieldset, so no legend."""
