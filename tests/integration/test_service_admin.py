"""The service administrator's pages (issue 15): the organisations on the service, a new
one, and its first administrator with a one-time set-password link. A service administrator
sees no bids and no money; nobody else may use these pages."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Organisation, User
from fundflow.services import admin, auth, organisations
from fundflow.services.errors import NotPermitted

WEST = ["S12000049", "S12000045", "S12000011"]
LINK = re.compile(r"http://localhost/set-password/([A-Za-z0-9_-]{40,})")


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def error_summary(page: str) -> str:
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "no error summary on the page"
    return html.unescape(match.group(0))


def partnership(slug: str = "west", prefix: str = "WPSIF", **overrides) -> Organisation:
    values = {
        "slug": slug,
        "name": "The West Partnership",
        "funder_id": "GB-LAS-GLG",
        "reference_prefix": prefix,
        "local_authorities": WEST,
    }
    values.update(overrides)
    return organisations.create_organisation(None, **values)


def staff_member(organisation: Organisation, role: str = "liaison_officer", email: str = "") -> User:
    return admin.create_user(
        None,
        admin.UserInput(
            email=email or f"{role}@{organisation.slug}.test",
            name=f"{role} of {organisation.slug}",
            roles=[role],
            password="long-enough-password",
            organisation_slug=organisation.slug,
        ),
    )


def new_organisation(**changes) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "The Clyde Partnership",
        "slug": "clyde",
        "funder_id": "GB-LAS-GLG",
        "reference_prefix": "CLYDE",
        "councils": ["S12000049", "S12000038"],
        "other_councils": "",
        "term_calendar": "from_councils",
    }
    data.update(changes)
    return data


@pytest.fixture
def service_admin(make):
    return make.user("service_admin")


@pytest.fixture
def signed_in(client, auth, service_admin):
    auth.login(service_admin)
    return client


# ------------------------------------------------------------------------------- access


def test_service_administrator_lands_on_the_organisations_after_signing_in(signed_in):
    response = signed_in.get("/")
    assert response.status_code == 302 and response.headers["Location"].endswith("/service/organisations")
    page = signed_in.get("/service/organisations").text
    assert 'href="/service/organisations"' in page and "Organisations" in page


@pytest.mark.parametrize("role", ["admin", "liaison_officer", "finance", "auditor", "headteacher"])
def test_people_other_than_service_administrators_cannot_open_or_post_the_service_pages(
    client, auth, make, role
):
    west = partnership()
    auth.login(make.user(role))
    for url in (
        "/service/organisations",
        "/service/organisations/new",
        f"/service/organisations/{west.slug}",
    ):
        assert client.get(url).status_code == 403, url
    before = count(Organisation), count(User)
    assert client.post("/service/organisations/new", data=new_organisation()).status_code == 403
    assert (
        client.post(
            f"/service/organisations/{west.slug}", data={"email": "x@y.test", "name": "X"}
        ).status_code
        == 403
    )
    assert (count(Organisation), count(User)) == before


def test_signed_out_visitors_are_sent_to_sign_in_from_the_service_pages(client):
    for url in ("/service/organisations", "/service/organisations/new", "/service/organisations/slough"):
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"], url


def test_a_service_administrator_cannot_open_an_organisations_administration_pages(signed_in):
    for url in ("/admin/", "/admin/users/new", "/liaison/", "/finance/", "/auditor/"):
        assert signed_in.get(url).status_code == 403, url


def test_only_a_service_administrator_makes_organisations_and_first_administrators(make):
    organisation_admin = make.user("admin")
    with pytest.raises(NotPermitted):
        partnership_by = organisations.create_organisation
        partnership_by(
            organisation_admin,
            slug="clyde",
            name="Clyde",
            funder_id="GB-LAS-GLG",
            reference_prefix="CLYDE",
            local_authorities=WEST,
        )
    west = partnership()
    service_admin = make.user("service_admin")
    for roles in (["liaison_officer"], ["finance"], ["admin", "auditor"], ["service_admin"]):
        with pytest.raises(NotPermitted):
            admin.create_user_with_link(
                service_admin,
                admin.UserInput(email="new@west.test", name="New", roles=roles, organisation_slug=west.slug),
            )
    assert count(Organisation) == 2  # the first organisation and the West Partnership


# -------------------------------------------------------------------------------- list


def test_the_list_shows_each_organisations_identity_councils_and_staff_and_no_bids(signed_in, make):
    west = partnership()
    staff_member(west, "liaison_officer")
    staff_member(west, "finance")
    make.fund(name="Secret Fund Of The First Council")
    page = html.unescape(signed_in.get("/service/organisations").text)
    row = re.search(r"<tr[^>]*>\s*<th[^>]*><a[^>]*>The West Partnership</a>.*?</tr>", page, re.S)
    assert row, "no row for the West Partnership"
    cells = re.sub(r"<[^>]+>", " ", row.group(0))
    for shown in ("west", "GB-LAS-GLG", "WPSIF", "East Dunbartonshire", "East Renfrewshire", "Glasgow City"):
        assert shown in cells
    assert cells.split()[-1] == "2"  # staff
    assert "Secret Fund" not in page and "£" not in page


def test_the_list_is_paged(app, signed_in):
    app.config["PER_PAGE"] = 2
    for n in range(4):
        partnership(slug=f"org-{n}", prefix=f"ORG{n}", name=f"Organisation {n}")
    first = signed_in.get("/service/organisations").text
    second = signed_in.get("/service/organisations?page=2").text
    assert "Showing 1 to 2 of 4 organisations" in first and 'href="/service/organisations?page=2"' in first
    assert "Showing 3 to 4 of 4 organisations" in second
    assert "Organisation 2" in second and "Organisation 2" not in first


# ------------------------------------------------------------------------------ create


def test_an_empty_new_organisation_shows_every_missing_answer_and_creates_nothing(signed_in):
    before = count(Organisation)
    response = signed_in.post(
        "/service/organisations/new",
        data=new_organisation(name="", slug="", funder_id="", reference_prefix="", councils=[]),
    )
    assert response.status_code == 422
    summary = error_summary(response.text)
    for field, message in (
        ("name", "Enter the organisation's name"),
        ("slug", "Enter a short name"),
        ("funder_id", "Enter the organisation's 360Giving funder identifier"),
        ("reference_prefix", "Enter the prefix of the organisation's bid references"),
        ("other_councils", "Choose or type at least one member council"),
    ):
        assert message in summary and f'href="#{field}"' in summary, field
    assert count(Organisation) == before


def test_a_missing_name_and_wrong_identifiers_are_shown_at_once(signed_in):
    response = signed_in.post(
        "/service/organisations/new",
        data=new_organisation(
            name="", slug="Clyde!", funder_id="GB-COH-1", reference_prefix="1X", other_councils="Paisley"
        ),
    )
    assert response.status_code == 422
    summary = error_summary(response.text)
    for field, message in (
        ("name", "Enter the organisation's name"),
        ("slug", "Use 2 to 40 lower-case letters"),
        ("funder_id", "Give the 360Giving identifier of a council"),
        ("reference_prefix", "Use 2 to 12 capital letters"),
        ("other_councils", "'Paisley' is not a GSS code"),
    ):
        assert message in summary and f'href="#{field}"' in summary, field
    assert count(Organisation) == 0


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"slug": "West Partnership"}, "slug", "Use 2 to 40 lower-case letters"),
        ({"slug": "new"}, "slug", "kept for the service's own pages"),
        ({"funder_id": "GB-COH-123"}, "funder_id", "Give the 360Giving identifier of a council"),
        ({"reference_prefix": "1X"}, "reference_prefix", "Use 2 to 12 capital letters"),
        ({"councils": [], "other_councils": "S99999999"}, "other_councils", "give S99999999=Name"),
        ({"councils": [], "other_councils": "Glasgow"}, "other_councils", "is not a GSS code"),
        ({"councils": ["S99999999"]}, "councils", "Choose councils from the list"),
        ({"slug": "west"}, "slug", "There is already an organisation 'west'"),
        ({"reference_prefix": "WPSIF"}, "reference_prefix", "The reference prefix WPSIF is west's"),
    ],
)
def test_a_wrong_new_organisation_shows_the_error_on_its_field_and_creates_nothing(
    signed_in, changes, field, message
):
    partnership()
    before = count(Organisation)
    response = signed_in.post("/service/organisations/new", data=new_organisation(**changes))
    assert response.status_code in (409, 422)
    summary = error_summary(response.text)
    assert message in summary and f'href="#{field}"' in summary
    assert count(Organisation) == before


def test_a_new_organisation_takes_the_councils_chosen_and_typed_and_its_calendar_from_them(signed_in):
    response = signed_in.post(
        "/service/organisations/new",
        data=new_organisation(other_councils="S12000045\n\n  S12000999=Nowhere Council  \n"),
    )
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/service/organisations/clyde")
    clyde = organisations.by_slug("clyde")
    assert {a.gss_code for a in clyde.local_authorities} == {
        "S12000049",
        "S12000038",
        "S12000045",
        "S12000999",
    }
    assert clyde.term_calendar == "four_terms"  # every member council is Scottish
    page = html.unescape(signed_in.get(response.headers["Location"]).text)
    assert "The Clyde Partnership created" in page and "Nowhere Council (S12000999)" in page


def test_a_new_organisation_keeps_the_calendar_chosen(signed_in):
    signed_in.post("/service/organisations/new", data=new_organisation(term_calendar="three_terms"))
    assert organisations.by_slug("clyde").term_calendar == "three_terms"


# ----------------------------------------------------------------- first administrator


def test_the_first_administrator_gets_a_set_password_link_shown_once_that_works(signed_in, client):
    west = partnership()
    response = signed_in.post(
        f"/service/organisations/{west.slug}", data={"email": "Boss@West.test", "name": "Bo Boss"}
    )
    assert response.status_code == 303
    page = signed_in.get(f"/service/organisations/{west.slug}")
    assert page.headers["Cache-Control"] == "no-store"
    assert "Administrator account created" in page.text and "Bo Boss" in page.text
    token = LINK.search(page.text).group(1)
    user = auth.user_by_email("boss@west.test")
    assert user.roles == ["admin"] and user.organisation_id == west.id and not user.has_password
    assert LINK.search(signed_in.get(f"/service/organisations/{west.slug}").text) is None  # once
    assert client.get(f"/set-password/{token}").status_code == 200


def test_a_wrong_first_administrator_shows_the_error_summary_and_creates_nothing(signed_in):
    west = partnership()
    before = count(User)
    response = signed_in.post(
        f"/service/organisations/{west.slug}", data={"email": "not-an-email", "name": ""}
    )
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert 'href="#name"' in summary and "Enter the administrator's name" in summary
    response = signed_in.post(
        f"/service/organisations/{west.slug}", data={"email": "not-an-email", "name": "X"}
    )
    assert response.status_code == 422
    assert "Enter an email address like" in error_summary(response.text)
    assert count(User) == before


def test_no_first_administrator_once_an_administrator_has_set_their_password(signed_in):
    west = partnership()
    first = staff_member(west, "admin", email="first@west.test")  # with a password
    before = count(User)
    response = signed_in.post(
        f"/service/organisations/{west.slug}", data={"email": "second@west.test", "name": "Second"}
    )
    assert response.status_code == 409
    assert "already has an administrator" in error_summary(response.text)
    assert count(User) == before
    page = signed_in.get(f"/service/organisations/{west.slug}").text
    assert 'name="email"' not in page and first.email in page


def test_until_an_administrator_sets_a_password_another_can_be_added(signed_in):
    west = partnership()
    for email in ("boss@wst.test", "boss@west.test"):  # the first address was mistyped
        response = signed_in.post(f"/service/organisations/{west.slug}", data={"email": email, "name": "Bo"})
        assert response.status_code == 303
    page = signed_in.get(f"/service/organisations/{west.slug}").text
    assert "boss@wst.test" in page and "boss@west.test" in page and 'name="email"' in page


def test_an_unknown_organisation_is_not_found(signed_in):
    assert signed_in.get("/service/organisations/no-such-place").status_code == 404
    assert (
        signed_in.post(
            "/service/organisations/no-such-place", data={"email": "a@b.test", "name": "A"}
        ).status_code
        == 404
    )


def test_a_service_administrator_finds_no_bid_and_no_fund_through_the_api(client, make, service_admin):
    bid = make.application("submitted")
    token = auth.issue_token(service_admin, "test")
    headers = {"Authorization": f"Bearer {token}"}
    for url in ("/api/v1/applications", "/api/v1/funds"):
        response = client.get(url, headers=headers)
        assert response.status_code == 200 and response.json["items"] == [], url
    assert client.get(f"/api/v1/applications/{bid.reference}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/funds/{bid.fund_id}", headers=headers).status_code == 404


def test_seed_demo_makes_and_prints_a_service_administrator_of_no_organisation(runner, client):
    result = runner.invoke(args=["fundflow", "seed-demo"])
    assert result.exit_code == 0, result.output
    assert "service-admin@demo.test" in result.output
    db.session.remove()
    user = auth.user_by_email("service-admin@demo.test")
    assert user.roles == ["service_admin"] and user.organisation_id is None
    response = client.post("/sign-in", data={"email": user.email, "password": "demo-password-123"})
    assert response.status_code == 302
    page = client.get("/service/organisations").text
    assert "Slough" in page
