"""Forms for a person's own settings. They check the shape of what was sent (a known
choice for each kind of message, which button was pressed); the services keep the rules."""

from __future__ import annotations

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput
from wtforms import RadioField, SubmitField
from wtforms.validators import AnyOf, InputRequired

from ..fields import Radios, choices_of
from ..services.inbox import DELIVERY_LABELS
from ..services.notifications import MESSAGE_KINDS


class NotificationSettingsForm(FlaskForm):
    """One set of radios per kind of message the person can be sent (added by
    :func:`notification_settings_form`, named by the kind)."""

    submit = SubmitField("Save your choices", widget=GovSubmitInput())
    kinds: list[str] = []

    def choices_made(self) -> dict[str, str | None]:
        return {kind: self[kind].data for kind in self.kinds}


def notification_settings_form(current: dict[str, str]) -> NotificationSettingsForm:
    """The form for the kinds in ``current`` (``{kind: "immediate" | "digest"}``, in the
    order shown), each starting at the person's present choice."""

    class Form(NotificationSettingsForm):
        pass

    pairs = list(DELIVERY_LABELS.items())
    for kind, delivery in current.items():
        message = f"Choose how to be told: {MESSAGE_KINDS[kind].lower()}"
        field = RadioField(
            MESSAGE_KINDS[kind],
            choices=choices_of(pairs),
            default=delivery,
            widget=Radios(),
            validate_choice=False,
            validators=[InputRequired(message), AnyOf([value for value, _ in pairs], message=message)],
        )
        setattr(Form, kind, field)
    form = Form()
    form.kinds = list(current)
    return form


class CalendarForm(FlaskForm):
    """Two buttons: make a new calendar link (the old one stops working), or turn it off."""

    make = SubmitField("Make a new link", widget=GovSubmitInput())
    turn_off = SubmitField("Turn off the link", widget=GovSubmitInput())

    def validate(self, extra_validators: dict | None = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.choice() is None:
            self.form_errors.append("Choose to make a new link or to turn it off")
            return False
        return True

    def choice(self) -> str | None:
        """``"make"``, ``"turn_off"``, or None when neither button was pressed."""
        if self.make.data:
            return "make"
        if self.turn_off.data:
            return "turn_off"
        return None
