"""Schools of every nation on the site: a partner school named by its URN, school number,
SEED code or DE reference (with its nation when two nations share the number), the admin's
school form and user form for any nation, school pages keyed by id (the old URN addresses
redirect), and identifiers shown with their nation's name."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Application, School, User
from fundflow.services import applications
from fundflow.services.applications import BidDetails, PartnerInput
from fundflow.services.errors import ValidationFailed


def error_summary(page: str) -> str:
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "no error summary on the page"
    return html.unescape(match.group(0))


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def scottish(make) -> School:
    return make.school(urn=None, nation="scotland", identifier="8412345", name="Hillhead Primary")


@pytest.fixture
def welsh_twin(make) -> School:
    """A Welsh school whose school number is the Scottish school's SEED code."""
    return make.school(urn=None, nation="wales", identifier="8412345", name="Ysgol y Twyn")


def _partners_of(application: Application) -> list[tuple[int, str]]:
    db.session.expire_all()
    return [(p.school_id, p.role) for p in db.session.get(Application, application.id).partners]


# ----------------------------------------------------------------- the service


def test_a_partner_is_named_by_its_seed_code_alone_when_no_other_nation_has_it(make, scottish):
    bid = make.application("draft")
    applications.update_draft(
        make.lead_of(bid), bid, BidDetails(partners=[PartnerInput(identifier="8412345", role="supported")])
    )
    assert _partners_of(bid) == [(scottish.id, "supported")]


def test_a_partner_is_named_by_its_school_id(make, scottish):
    bid = make.application("draft")
    applications.update_draft(
        make.lead_of(bid), bid, BidDetails(partners=[PartnerInput(school_id=scottish.id, role="supporting")])
    )
    assert _partners_of(bid) == [(scottish.id, "supporting")]


def test_a_number_two_nations_share_asks_for_the_nation_and_the_nation_settles_it(make, scottish, welsh_twin):
    bid = make.application("draft")
    lead = make.lead_of(bid)
    with pytest.raises(ValidationFailed) as refused:
        applications.update_draft(
            lead, bid, BidDetails(partners=[PartnerInput(identifier="8412345", role="supported")])
        )
    message = refused.value.fields["partners.0.nation"][0]
    assert "Wales" in message and "Scotland" in message and "choose the school's nation" in message
    applications.update_draft(
        lead,
        bid,
        BidDetails(partners=[PartnerInput(identifier="8412345", nation="wales", role="supported")]),
    )
    assert _partners_of(bid) == [(welsh_twin.id, "supported")]


@pytest.mark.parametrize(
    ("partner", "field", "words", "not_words"),
    [
        (PartnerInput(identifier="8499999", role="supported"), "identifier", "SEED code", "URN"),
        (
            PartnerInput(identifier="12", nation="scotland", role="supported"),
            "identifier",
            "SEED code",
            "URN",
        ),
        (
            PartnerInput(identifier="8499999", nation="scotland", role="supported"),
            "identifier",
            "Scotland",
            "URN",
        ),
        (PartnerInput(identifier="8412345", nation="narnia", role="supported"), "nation", "Scotland", "URN"),
        (PartnerInput(school_id=999_999, role="supported"), "school_id", "No school", "URN"),
        (PartnerInput(role="supported"), "identifier", "SEED code", ""),
        (PartnerInput(urn="999999", role="supported"), "urn", "No school with URN 999999", ""),
    ],
)
def test_a_partner_that_names_no_school_is_refused_in_its_nations_words(
    make, scottish, partner, field, words, not_words
):
    bid = make.application("draft")
    with pytest.raises(ValidationFailed) as refused:
        applications.check_details(bid, BidDetails(partners=[partner]))
    message = " ".join(refused.value.fields[f"partners.0.{field}"])
    assert words in message
    assert not not_words or not_words not in message


def test_a_closed_scottish_partner_is_refused_by_its_seed_code(make, scottish):
    scottish.status = "closed"
    db.session.commit()
    bid = make.application("draft")
    with pytest.raises(ValidationFailed) as refused:
        applications.check_details(
            bid, BidDetails(partners=[PartnerInput(identifier="8412345", role="supported")])
        )
    assert refused.value.fields["partners.0.identifier"] == [
        "Hillhead Primary (SEED code 8412345) has closed: a closed school cannot be named on a bid"
    ]


# -------------------------------------------------------- the headteacher's page


def test_headteacher_names_a_scottish_partner_on_the_partners_page(client, auth, make, scottish):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    page = client.get(f"/headteacher/bids/{bid.reference}/partners").text
    assert (
        "School&#39;s URN, school number or SEED code" in page
        or "School's URN, school number or SEED code" in page
    )
    response = client.post(
        f"/headteacher/bids/{bid.reference}/partners",
        data={"partners-0-identifier": " 8412345 ", "partners-0-nation": "", "partners-0-role": "supported"},
    )
    assert response.status_code == 302, error_summary(response.text)
    assert _partners_of(bid) == [(scottish.id, "supported")]
    page = client.get(f"/headteacher/bids/{bid.reference}/check").text
    assert "Hillhead Primary (SEED code 8412345)" in page
    again = client.get(f"/headteacher/bids/{bid.reference}/partners").text
    assert 'value="8412345"' in again
    assert re.search(r'<option value="scotland" selected', again)


def test_the_partners_page_asks_for_the_nation_of_a_shared_number(client, auth, make, scottish, welsh_twin):
    bid = make.application("draft")
    before = _partners_of(bid)
    auth.login(make.lead_of(bid))
    url = f"/headteacher/bids/{bid.reference}/partners"
    data = {"partners-0-identifier": "8412345", "partners-0-role": "supporting"}
    response = client.post(url, data=data)
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert 'href="#partners-0-nation"' in summary
    assert "Schools in Wales and Scotland have the number 8412345: choose the school's nation" in summary
    assert "URN" not in summary
    assert _partners_of(bid) == before
    response = client.post(url, data={**data, "partners-0-nation": "scotland"})
    assert response.status_code == 302
    assert _partners_of(bid) == [(scottish.id, "supporting")]


def test_a_seed_code_with_no_school_is_shown_without_mentioning_a_urn(client, auth, make):
    bid = make.application("draft")
    auth.login(make.lead_of(bid))
    response = client.post(
        f"/headteacher/bids/{bid.reference}/partners",
        data={"partners-0-identifier": "12", "partners-0-nation": "scotland", "partners-0-role": "supported"},
    )
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert 'href="#partners-0-identifier"' in summary and "7-digit SEED code" in summary
    assert "URN" not in summary


# ------------------------------------------------------------- admin: schools


@pytest.fixture
def signed_in(client, auth, make):
    auth.login(make.user("admin"))
    return client


SCOTTISH = {
    "nation": "scotland",
    "identifier": "8300011",
    "gss_code": "S12000049",
    "name": "Hillhead Primary School",
    "causing_concern": "no",
}


def test_admin_adds_a_scottish_school_by_its_seed_code(signed_in):
    page = signed_in.get("/admin/schools/new").text
    assert "SEED code: 7 digits" in page and "School number: 7 digits" in page
    response = signed_in.post("/admin/schools/new", data=SCOTTISH)
    assert response.status_code == 302
    school = db.session.execute(select(School).where(School.identifier == "8300011")).scalar_one()
    assert (school.nation, school.urn, school.gss_code) == ("scotland", None, "S12000049")
    assert response.headers["Location"].endswith(f"/admin/schools/{school.id}/edit")
    page = signed_in.get(response.headers["Location"]).text
    assert "Hillhead Primary School (SEED code 8300011, Scotland) added" in html.unescape(page)
    assert "SEED code 8300011, Scotland" in page


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"identifier": "83000"}, "identifier", "Enter the school's 7-digit SEED code"),
        (
            {"identifier": ""},
            "identifier",
            "Enter the school's URN, school number, SEED code or DE reference",
        ),
        ({"nation": "wales", "identifier": "12"}, "identifier", "7-digit school number"),
        ({"nation": "northern_ireland", "identifier": "12-34"}, "identifier", "123-4567"),
        ({"nation": "atlantis"}, "nation", "Choose England, Wales, Scotland or Northern Ireland"),
        ({"gss_code": "Glasgow"}, "gss_code", "GSS code"),
    ],
)
def test_a_school_form_with_a_wrong_identifier_re_renders_with_the_error_summary(
    signed_in, changes, field, words
):
    before = count(School)
    response = signed_in.post("/admin/schools/new", data={**SCOTTISH, **changes})
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert words in summary and f'href="#{field}"' in summary
    assert count(School) == before


def test_a_seed_code_already_added_is_refused_on_the_identifier(signed_in, make):
    make.school(urn=None, nation="scotland", identifier="8300011")
    response = signed_in.post("/admin/schools/new", data=SCOTTISH)
    assert response.status_code == 409
    summary = error_summary(response.text)
    assert 'href="#identifier"' in summary and "SEED code 8300011 already exists" in summary


def test_an_old_urn_address_redirects_to_the_schools_page_by_id(signed_in, make):
    school = make.school(urn="160009")
    response = signed_in.get("/admin/schools/160009")
    assert response.status_code == 301
    assert response.headers["Location"].endswith(f"/admin/schools/{school.id}/edit")
    assert school.name in signed_in.get(response.headers["Location"]).text


def test_a_scottish_schools_page_is_reached_from_the_list_and_shows_its_seed_code(signed_in, scottish):
    page = signed_in.get("/admin/schools", query_string={"q": "Hillhead"}).text
    assert f'href="/admin/schools/{scottish.id}/edit"' in page
    assert "SEED code 8412345" in page
    response = signed_in.post(f"/admin/schools/{scottish.id}/edit", data={"causing_concern": "yes"})
    assert response.status_code == 302
    assert db.session.get(School, scottish.id).causing_concern is True


# --------------------------------------------------------------- admin: users


def test_admin_gives_a_headteacher_a_scottish_school_by_its_seed_code(signed_in, scottish):
    response = signed_in.post(
        "/admin/users/new",
        data={"email": "head@hillhead.test", "name": "Head", "roles": ["headteacher"], "school": "8412345"},
    )
    assert response.status_code == 303, error_summary(response.text)
    user = db.session.execute(select(User).where(User.email == "head@hillhead.test")).scalar_one()
    assert user.school_id == scottish.id


def test_admin_gives_a_headteacher_a_school_by_its_name(signed_in, scottish):
    response = signed_in.post(
        "/admin/users/new",
        data={
            "email": "head2@hillhead.test",
            "name": "Head",
            "roles": ["headteacher"],
            "school": "hillhead primary",
        },
    )
    assert response.status_code == 303, error_summary(response.text)
    user = db.session.execute(select(User).where(User.email == "head2@hillhead.test")).scalar_one()
    assert user.school_id == scottish.id


def test_the_user_form_asks_for_the_nation_of_a_shared_number(signed_in, scottish, welsh_twin):
    data = {"email": "head3@twyn.test", "name": "Head", "roles": ["headteacher"], "school": "8412345"}
    response = signed_in.post("/admin/users/new", data=data)
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert 'href="#school_nation"' in summary and "choose the school's nation" in summary
    response = signed_in.post("/admin/users/new", data={**data, "school_nation": "wales"})
    assert response.status_code == 303
    user = db.session.execute(select(User).where(User.email == "head3@twyn.test")).scalar_one()
    assert user.school_id == welsh_twin.id


# ------------------------------------------------------------ shown by nation


@pytest.mark.parametrize(
    ("school", "start", "shown"),
    [
        ({"urn": "137101", "name": "Upton Lea"}, False, "URN 137101"),  # a version kept before nations
        ({"urn": None, "nation": "wales", "identifier": "6812345"}, True, "School number 6812345"),
        (
            {"urn": None, "nation": "northern_ireland", "identifier": "123-4567"},
            False,
            "DE reference number 123-4567",
        ),
    ],
)
def test_an_identifier_is_shown_with_its_nations_name(app, school, start, shown):
    assert app.jinja_env.filters["school_identifier"](school, start=start) == shown


def test_endorsing_for_a_scottish_partner_is_recorded_by_its_seed_code(make, scottish):
    from fundflow.formatting import event_sentences
    from fundflow.models import Event

    bid = make.application("draft")
    applications.update_draft(
        make.lead_of(bid), bid, BidDetails(partners=[PartnerInput(school_id=scottish.id, role="supported")])
    )
    make.act(bid, make.headteacher(school=scottish), "endorse")
    event = (
        db.session.execute(select(Event).where(Event.action == "endorse").order_by(Event.id.desc()))
        .scalars()
        .first()
    )
    assert "School: SEED code 8412345." in event_sentences(event)
