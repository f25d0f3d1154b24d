"""One place for how things look (issue 11, part 4): a status wears the same tag on every
page, every amount in pounds is read by the same field with the same limits and messages,
every page links to the accessibility statement, privacy notice and contact page, and every
table scrolls inside its own labelled region."""

from __future__ import annotations

import html
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from wtforms import Form
from wtforms.fields.core import UnboundField

import fundflow
from fundflow import fields, formatting
from fundflow.services.clock import today
from fundflow.workflow import APPLICATION_STATES, CLAIM_STATES

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
GOVUK_TAG_COLOURS = {
    "grey",
    "green",
    "turquoise",
    "blue",
    "light-blue",
    "purple",
    "pink",
    "red",
    "orange",
    "yellow",
}


def tag_in(page: str, label: str) -> str:
    """The colour class of the first tag on ``page`` that says ``label``."""
    match = re.search(rf'<strong class="govuk-tag (govuk-tag--[a-z-]+)">{re.escape(label)}</strong>', page)
    assert match, f"no tag saying {label!r}"
    return match.group(1)


def sign_in_as(auth, user) -> None:
    auth.logout()
    auth.login(user)


def field_error(page: str, field: str) -> str:
    match = re.search(rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert match, f"no error on {field}"
    return html.unescape(" ".join(re.sub(r"<[^>]+>", "", match.group(1)).split()))


# ------------------------------------------------------------------------ status tags


@pytest.mark.parametrize(
    ("kind", "states"),
    [("application", APPLICATION_STATES), ("claim", CLAIM_STATES), ("report", None), ("payment", None)],
)
def test_every_status_of_every_record_has_one_gov_uk_tag_colour(kind, states):
    colours = formatting.TAG_COLOURS[kind]
    if states is not None:
        assert set(colours) == set(states)
    assert set(colours.values()) <= GOVUK_TAG_COLOURS


def test_a_status_tag_says_its_status_in_words_and_escapes_an_unknown_one():
    assert str(formatting.status_tag("changes_requested")) == (
        '<strong class="govuk-tag govuk-tag--orange">Changes requested</strong>'
    )
    assert str(formatting.status_tag("verified", "claim")) == (
        '<strong class="govuk-tag govuk-tag--turquoise">Verified, to be paid</strong>'
    )
    assert str(formatting.status_tag("evaluated", "report")) == (
        '<strong class="govuk-tag govuk-tag--green">Evaluated</strong>'
    )
    assert str(formatting.status_tag("<b>odd</b>")) == (
        '<strong class="govuk-tag govuk-tag--grey">&lt;b&gt;odd&lt;/b&gt;</strong>'
    )


def test_no_template_chooses_a_status_colour_of_its_own():
    for path in TEMPLATES.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        assert "STATUS_COLOURS" not in text and "tag_classes" not in text, path
        for label in [*APPLICATION_STATES.values(), *CLAIM_STATES.values()]:
            assert not re.search(rf'govuk-tag--[a-z-]+">{re.escape(label)}<', text), (path, label)


@pytest.mark.parametrize("status", ["changes_requested", "awaiting_countersign", "monitoring"])
def test_a_bid_status_wears_the_same_tag_for_the_headteacher_the_liaison_officer_and_the_auditor(
    client, auth, make, status
):
    bid = make.application(status)
    label = APPLICATION_STATES[status]
    colours = {}
    sign_in_as(auth, make.lead_of(bid))
    colours["headteacher"] = tag_in(client.get("/headteacher/").text, label)
    sign_in_as(auth, make.liaison())
    colours["liaison"] = tag_in(client.get(f"/liaison/bids/{bid.reference}").text, label)
    sign_in_as(auth, make.user("auditor"))
    colours["auditor list"] = tag_in(client.get("/auditor/").text, label)
    colours["auditor record"] = tag_in(client.get(f"/auditor/bids/{bid.reference}").text, label)
    assert set(colours.values()) == {formatting.tag_class(status)}, colours


def test_a_claim_status_wears_the_same_tag_for_the_headteacher_liaison_officer_finance_and_auditor(
    client, auth, make
):
    bid = make.application("approved")
    claim = make.claim(bid, amount_pence=300_00, state="verified")
    label = CLAIM_STATES["verified"]
    colours = {}
    sign_in_as(auth, make.lead_of(bid))
    colours["headteacher"] = tag_in(client.get(f"/headteacher/bids/{bid.reference}/claims").text, label)
    sign_in_as(auth, make.liaison())
    colours["liaison"] = tag_in(client.get(f"/liaison/claims/{claim.id}").text, label)
    sign_in_as(auth, make.user("finance"))
    colours["finance"] = tag_in(client.get(f"/finance/claims/{claim.id}/pay").text, label)
    sign_in_as(auth, make.user("auditor"))
    colours["auditor"] = tag_in(client.get(f"/auditor/bids/{bid.reference}").text, label)
    assert set(colours.values()) == {"govuk-tag--turquoise"}, colours


# ---------------------------------------------------------------------- pounds fields


def test_every_amount_in_pounds_on_every_form_is_the_one_pounds_field():
    amounts = {}
    for module_info in pkgutil.walk_packages(fundflow.__path__, "fundflow."):
        if not module_info.name.endswith("forms"):
            continue
        module = importlib.import_module(module_info.name)
        for class_name, cls in inspect.getmembers(module, inspect.isclass):
            assert class_name != "PoundsField" or cls is fields.PoundsField, module.__name__
            if cls.__module__ != module.__name__ or not issubclass(cls, Form):
                continue
            for name, unbound in inspect.getmembers(cls, lambda v: isinstance(v, UnboundField)):
                if "Pounds" in unbound.field_class.__name__:
                    amounts[f"{cls.__name__}.{name}"] = unbound.field_class
    assert {"ActivityRow.daily_rate", "ClaimForm.amount", "ApproveForm.awarded", "PaymentForm.amount"} <= set(
        amounts
    )
    assert set(amounts.values()) == {fields.PoundsField}


def test_pence_become_the_pounds_a_person_would_type_and_back():
    for pence in (1, 99, 250_00, 250_50, 9_999_999_999_999):
        assert fields.pounds_to_pence(fields.pence_to_pounds(pence)) == pence
    assert fields.pence_to_pounds(250_00) == "250.00"
    assert fields.pence_to_pounds(None) == ""


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("12.345", "Enter an amount in pounds and pence, like 1250.50"),
        ("0", "Enter an amount more than £0"),
        ("-5", "Enter an amount more than £0"),
        ("1e30", "Enter an amount of £99,999,999,999.99 or less"),
        ("lots", "Enter an amount in pounds, like 1250.00"),
    ],
)
def test_an_amount_no_form_can_take_gets_the_same_message_on_every_role_s_form(
    client, auth, make, typed, message
):
    head = make.headteacher()
    draft = make.application("draft", lead=head)
    sign_in_as(auth, head)
    page = client.post(
        f"/headteacher/bids/{draft.reference}/activities",
        data={
            "activities-0-description": "Coaching",
            "activities-0-staff_role": "Deputy",
            "activities-0-days": "2",
            "activities-0-daily_rate": typed,
        },
    ).text
    assert field_error(page, "activities-0-daily_rate") == f"Error: {message}"

    bid = make.application("under_review")
    sign_in_as(auth, make.liaison())
    page = client.post(f"/liaison/bids/{bid.reference}/decide/approve", data={"awarded": typed}).text
    assert field_error(page, "awarded") == f"Error: {message}"

    claim = make.claim(make.application("approved"), amount_pence=300_00, state="verified")
    sign_in_as(auth, make.user("finance"))
    day = today()
    page = client.post(
        f"/finance/claims/{claim.id}/pay",
        data={
            "amount": typed,
            "reference": "BACS-1",
            "paid_on": [str(day.day), str(day.month), str(day.year)],
        },
    ).text
    assert field_error(page, "amount") == f"Error: {message}"


# ------------------------------------------------------------------ the shared layout


@pytest.mark.parametrize(
    "path", ["/sign-in", "/how-the-fund-works", "/accessibility", "/privacy", "/contact"]
)
def test_every_page_links_to_the_accessibility_statement_privacy_notice_and_contact(client, path):
    footer = client.get(path).text.split('<footer class="govuk-footer">')[1]
    for href, text in (
        ("/accessibility", "Accessibility statement"),
        ("/privacy", "Privacy"),
        ("/contact", "Contact"),
    ):
        assert f'href="{href}">{text}</a>' in footer


def test_a_signed_in_page_links_to_them_too(client, auth, make):
    sign_in_as(auth, make.liaison())
    footer = client.get("/liaison/").text.split('<footer class="govuk-footer">')[1]
    assert 'href="/accessibility"' in footer and 'href="/privacy"' in footer and 'href="/contact"' in footer


def test_the_accessibility_statement_has_the_model_statement_s_parts(client):
    page = client.get("/accessibility").text
    for heading in (
        "How accessible this service is",
        "What to do if you cannot access parts of this service",
        "Reporting accessibility problems with this service",
        "Enforcement procedure",
        "Technical information about this service’s accessibility",
        "Compliance status",
        "How we tested this service",
        "Preparation of this accessibility statement",
    ):
        assert f">{heading}</h" in page, heading
    assert (
        "Equality and Human Rights Commission (EHRC)" in page
        and "Equality Commission for Northern Ireland" in page
    )
    assert "Web Content Accessibility Guidelines version 2.2</a> AA" in page and "axe-core" in page
    assert "This statement was prepared on" in page


def test_the_privacy_notice_names_the_controller_the_lawful_basis_and_the_data(client):
    page = client.get("/privacy").text
    assert "Slough Borough Council is the data controller" in page
    assert "public task (UK GDPR article 6(1)(e))" in page
    for held in (
        "work email address",
        "sign-in records",
        "the audit trail",
        "How long we keep it",
        "Your rights",
    ):
        assert held in page


def test_the_contact_pages_use_the_configured_team_and_addresses(client, app):
    app.config.update(
        CONTACT_TEAM="Schools Fund desk",
        CONTACT_EMAIL="schools-fund@council.example",
        CONTACT_PHONE="01753 000000",
        DATA_PROTECTION_EMAIL="dpo@council.example",
    )
    contact = client.get("/contact").text
    assert '<h1 class="govuk-heading-xl">Contact the Schools Fund desk</h1>' in contact
    assert 'href="mailto:schools-fund@council.example"' in contact and "01753 000000" in contact
    assert 'href="mailto:dpo@council.example"' in client.get("/privacy").text
    assert 'href="mailto:schools-fund@council.example"' in client.get("/accessibility").text


def test_without_a_telephone_number_none_is_shown(client, app):
    app.config["CONTACT_PHONE"] = ""
    assert "Telephone" not in client.get("/contact").text


# ------------------------------------------------------------------------- tables


def test_every_table_in_every_template_scrolls_inside_its_own_labelled_region():
    tables = 0
    for path in TEMPLATES.rglob("*.html"):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            if re.match(r"\s*<table\b", line):
                tables += 1
                assert "{% call scrolling_table(" in lines[number - 1], f"{path}:{number + 1}"
    assert tables >= 24


def test_a_table_region_takes_the_keyboard_focus_and_is_named(client, auth, make):
    make.application("submitted")
    sign_in_as(auth, make.user("auditor"))
    page = client.get("/auditor/").text
    assert '<div class="app-table-container" role="region" aria-label="Applications" tabindex="0">' in page
