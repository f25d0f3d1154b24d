"""Service administrator forms: a new organisation and its first administrator. They check
that something was typed; the rules (the shape of a slug, a funder identifier and a
reference prefix, known councils, unique slugs and prefixes) are the services' to enforce."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea, GovTextInput
from wtforms import RadioField, SelectMultipleField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, ValidationError

from ..fields import Checkboxes, Radios, choices_of
from ..models.school import NATION_LABELS
from ..services.admin import UserInput
from ..services.queries.organisations import Council

#: "Decide from the councils" is no calendar of its own: the service chooses one.
FROM_COUNCILS = "from_councils"
TERM_CALENDAR_CHOICES = choices_of(
    [
        (
            FROM_COUNCILS,
            "Decide from the member councils: four terms if every one is in Scotland, else three",
        ),
        ("three_terms", "Three terms a year (England, Wales and Northern Ireland)"),
        ("four_terms", "Four terms a year (Scotland)"),
    ]
)


def _text(label: str, missing: str, max_length: int, hint: str = "") -> StringField:
    return StringField(
        label,
        widget=GovTextInput(),
        description=hint,
        validators=[DataRequired(missing), Length(max=max_length)],
    )


class CouncilsField(SelectMultipleField):
    widget = Checkboxes()

    def pre_validate(self, form) -> None:
        known = {choice.value for choice in self.choices or []}
        if any(code not in known for code in self.data or []):
            raise ValidationError("Choose councils from the list")


class OrganisationForm(FlaskForm):
    name = _text("Name", "Enter the organisation's name", 200, "For example, The West Partnership")
    slug = _text(
        "Short name",
        "Enter a short name for the organisation",
        40,
        "2 to 40 lower-case letters, digits and hyphens, starting with a letter, like west-partnership. "
        "It names the organisation in addresses and on the command line, and cannot be changed.",
    )
    funder_id = _text(
        "360Giving funder identifier",
        "Enter the organisation's 360Giving funder identifier",
        60,
        "A council's identifier in the 360Giving register: GB-LAE- (England), GB-PLA- (Wales), "
        "GB-LAS- (Scotland) or GB-LANI- (Northern Ireland) and its code, like GB-LAS-GLG. "
        "A partnership often uses its lead council's.",
    )
    reference_prefix = _text(
        "Bid reference prefix",
        "Enter the prefix of the organisation's bid references",
        12,
        "2 to 12 capital letters and digits, starting with a letter, like WPSIF. Every bid reference "
        "the organisation issues starts with it; no other organisation may use it.",
    )
    councils = CouncilsField("Member councils fundflow knows", choices=[])
    other_councils = TextAreaField(
        "GSS codes of other member councils",
        widget=GovTextArea(),
        description="Their GSS codes, one a line, like S12000049. A council not in the list needs its "
        "name the first time: S12000049=Glasgow City.",
        validators=[Length(max=4000)],
    )
    term_calendar = RadioField(
        "School-term calendar",
        widget=Radios(),
        choices=TERM_CALENDAR_CHOICES,
        default=FROM_COUNCILS,
        description="The termly report follows it.",
        validate_choice=False,  # the service says what is wrong with an unknown one
        validators=[DataRequired("Choose the organisation's school-term calendar")],
    )
    submit = SubmitField("Create organisation", widget=GovSubmitInput())

    #: The service's member councils are typed here, or chosen (then never wrong).
    service_fields = {"other_councils": "local_authorities"}
    code_fields = {"duplicate_slug": "slug", "duplicate_reference_prefix": "reference_prefix"}

    def validate_other_councils(self, field: TextAreaField) -> None:
        """With nothing chosen or typed, say so with the other missing answers (the service
        checks the councils themselves)."""
        if not (field.data or "").strip() and not self.councils.data:
            raise ValidationError("Choose or type at least one member council")

    def offer(self, councils: list[Council]) -> OrganisationForm:
        """Offer ``councils`` to choose from (by nation, then name)."""
        self.councils.choices = choices_of(
            (c.gss_code, f"{c.name} ({NATION_LABELS.get(c.nation, c.nation)}, {c.gss_code})")
            for c in councils
        )
        return self

    def organisation_input(self) -> dict[str, Any]:
        """The keyword arguments of :func:`fundflow.services.organisations.create_organisation`:
        the councils chosen, then those typed."""
        typed = [line.strip() for line in (self.other_councils.data or "").splitlines() if line.strip()]
        calendar = self.term_calendar.data
        return {
            "slug": self.slug.data or "",
            "name": self.name.data or "",
            "funder_id": self.funder_id.data or "",
            "reference_prefix": self.reference_prefix.data or "",
            "local_authorities": [*(self.councils.data or []), *typed],
            "term_calendar": None if calendar == FROM_COUNCILS else calendar,
        }


class FirstAdministratorForm(FlaskForm):
    email = _text("Email address", "Enter the administrator's email address", 254)
    name = _text("Full name", "Enter the administrator's name", 200)
    submit = SubmitField("Create administrator account", widget=GovSubmitInput())

    def user_input(self, organisation_slug: str) -> UserInput:
        """The organisation's administrator as the service takes it (no password: they set
        their own with the one-time link)."""
        return UserInput(
            email=self.email.data or "",
            name=self.name.data or "",
            roles=["admin"],
            organisation_slug=organisation_slug,
        )
