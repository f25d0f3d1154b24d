"""Admin pages: users and roles, schools (one by one, causing concern, GIAS import) and funds
with their rules. Administrators never delete anyone and never touch bids or payments."""

from __future__ import annotations

import html
import io
import re
from datetime import date

import pytest
from sqlalchemy import func, select

from fundflow.extensions import db
from fundflow.models import Event, Fund, School, User


def count(model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def error_summary(page: str) -> str:
    match = re.search(r'<div class="govuk-error-summary".*?</ul>', page, re.S)
    assert match, "no error summary on the page"
    return html.unescape(match.group(0))


def dates(name: str, day: date) -> dict[str, list[str]]:
    return {name: [str(day.day), str(day.month), str(day.year)]}


@pytest.fixture
def admin_user(make):
    return make.user("admin")


@pytest.fixture
def signed_in(client, auth, admin_user):
    auth.login(admin_user)
    return client


def queries_for(client, count_queries, url: str) -> int:
    db.session.commit()  # ends the open transaction and expires what earlier requests loaded
    with count_queries() as statements:
        response = client.get(url)
    assert response.status_code == 200
    return len(statements)


# ------------------------------------------------------------------------------- access


def test_admin_pages_are_for_administrators_only(client, auth, make):
    assert client.get("/admin/").status_code == 302
    auth.login(make.user("auditor"))
    for url in ("/admin/", "/admin/users/new", "/admin/schools", "/admin/schools/import", "/admin/funds"):
        assert client.get(url).status_code == 403


def test_administrator_lands_on_users(signed_in):
    assert signed_in.get("/").headers["Location"].endswith("/admin/")


# -------------------------------------------------------------------------------- users


def test_users_list_shows_roles_school_and_status(signed_in, make):
    head = make.headteacher()
    page = signed_in.get("/admin/").text
    assert head.email in page and head.school.name in page and "Headteacher" in page
    assert f"/admin/users/{head.id}" in page and "Active" in page


def test_users_list_runs_the_same_queries_for_2_or_10_users(signed_in, make, count_queries):
    make.headteacher()
    few = queries_for(signed_in, count_queries, "/admin/")
    for _ in range(4):
        make.headteacher()
        make.user("finance", "auditor")
    assert queries_for(signed_in, count_queries, "/admin/") == few


def test_admin_creates_an_account_with_roles_and_a_school_and_gets_a_set_password_link(signed_in, make):
    school = make.school()
    response = signed_in.post(
        "/admin/users/new",
        data={
            "email": "New.Head@School.test",
            "name": "New Head",
            "roles": ["headteacher", "liaison_officer"],
            "school": school.urn,
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "Account created" in response.text
    assert re.search(r"http://localhost/set-password/[A-Za-z0-9_-]{40,}", response.text)
    user = db.session.execute(select(User).where(User.email == "new.head@school.test")).scalar_one()
    assert user.roles == ["headteacher", "liaison_officer"] and user.school_id == school.id
    assert not user.has_password


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"roles": []}, "roles", "Choose at least one role"),
        ({"roles": ["emperor"]}, "roles", "Choose roles from the list"),
        ({"email": ""}, "email", "Enter the person's email address"),
        ({"email": "not-an-email"}, "email", "Enter an email address like"),
        ({"school": "12"}, "school", "Enter the school's URN (6 digits)"),
        ({"school": "999999"}, "school", "No school with URN 999999"),
        ({"roles": ["headteacher"], "school": ""}, "school", "A headteacher belongs to a school"),
    ],
)
def test_invalid_new_account_shows_the_error_summary_and_creates_nothing(signed_in, changes, field, message):
    data = {
        "email": "someone@council.test",
        "name": "Some One",
        "roles": ["finance"],
        "school": "",
    }
    data.update(changes)
    before = count(User)
    response = signed_in.post("/admin/users/new", data=data)
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert message in summary and f'href="#{field}"' in summary
    assert count(User) == before


def test_duplicate_email_is_shown_on_the_email_field(signed_in, admin_user):
    response = signed_in.post(
        "/admin/users/new",
        data={
            "email": admin_user.email,
            "name": "Twin",
            "roles": ["auditor"],
        },
    )
    assert response.status_code == 409
    summary = error_summary(response.text)
    assert 'href="#email"' in summary and "There is already an account" in summary


def test_edit_account_form_starts_with_the_current_roles(signed_in, make):
    head = make.headteacher()
    page = signed_in.get(f"/admin/users/{head.id}").text
    assert re.search(r'value="headteacher"\s+checked', page)
    assert f'value="{head.school.urn}"' in page
    assert re.search(r'value="yes"\s+checked', page)


def test_admin_changes_roles_and_deactivates_an_account_without_deleting_it(signed_in, client, auth, make):
    person = make.user("finance")
    response = signed_in.post(
        f"/admin/users/{person.id}", data={"roles": ["auditor"], "school": "", "active": "no"}
    )
    assert response.status_code == 302
    person = db.session.get(User, person.id)
    assert person.roles == ["auditor"] and person.active is False
    assert "deactivated" in signed_in.get("/admin/").text
    auth.logout()
    auth.login(person)
    assert client.get("/auditor/").status_code == 302  # cannot sign in


def test_admin_cannot_remove_their_own_admin_access(signed_in, admin_user):
    response = signed_in.post(
        f"/admin/users/{admin_user.id}", data={"roles": ["auditor"], "school": "", "active": "yes"}
    )
    assert response.status_code == 422
    assert "You cannot remove your own administrator access" in error_summary(response.text)
    assert db.session.get(User, admin_user.id).roles == ["admin"]


def test_there_is_no_way_to_delete_an_account(signed_in, make):
    person = make.user("finance")
    page = signed_in.get(f"/admin/users/{person.id}").text
    assert not re.search(r">\s*Delete", page)
    assert signed_in.delete(f"/admin/users/{person.id}").status_code == 405


def test_unknown_user_is_not_found(signed_in):
    assert signed_in.get("/admin/users/999").status_code == 404


# ------------------------------------------------------------------------------ schools


def test_schools_list_searches_by_name_or_urn_and_paginates(signed_in, make, app):
    app.config["PER_PAGE"] = 2
    oak = make.school(name="Oak Tree Primary", urn="137001")
    make.school(name="Ash Grove School", urn="137002")
    make.school(name="Birch Academy", urn="137003")
    page = signed_in.get("/admin/schools").text
    assert "Showing 1 to 2 of 3 schools" in page
    page = signed_in.get("/admin/schools", query_string={"q": "oak"}).text
    assert "Oak Tree Primary" in page and "Ash Grove" not in page
    page = signed_in.get("/admin/schools", query_string={"q": "137002"}).text
    assert "Ash Grove School" in page and oak.name not in page
    page = signed_in.get("/admin/schools", query_string={"q": "%"}).text
    assert "No schools match" in page


def test_schools_list_runs_the_same_queries_for_2_or_10_schools(signed_in, make, count_queries):
    make.school()
    make.school()
    few = queries_for(signed_in, count_queries, "/admin/schools")
    for _ in range(8):
        make.school()
    assert queries_for(signed_in, count_queries, "/admin/schools") == few


SCHOOL = {
    "nation": "england",
    "identifier": "140001",
    "name": "Willow Park Primary",
    "phase": "Primary",
    "establishment_type": "Academy converter",
    "la_code": "871",
    "la_name": "Slough",
    "trust": "",
    "postcode": "SL1 1AA",
    "causing_concern": "no",
}


def test_admin_adds_a_school(signed_in):
    response = signed_in.post("/admin/schools/new", data=SCHOOL)
    assert response.status_code == 302
    school = db.session.execute(select(School).where(School.urn == "140001")).scalar_one()
    assert school.name == "Willow Park Primary" and school.la_code == "871" and not school.causing_concern
    page = signed_in.get(response.headers["Location"]).text
    assert "Willow Park Primary (URN 140001, England) added" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"identifier": "12345"}, "identifier", "Enter the school's 6-digit URN"),
        ({"name": ""}, "name", "Enter the school's name"),
        ({"causing_concern": "maybe"}, "causing_concern", "Not a valid choice"),
    ],
)
def test_invalid_school_shows_the_error_summary_and_adds_nothing(signed_in, changes, field, message):
    before = count(School)
    response = signed_in.post("/admin/schools/new", data={**SCHOOL, **changes})
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert message in summary and f'href="#{field}"' in summary
    assert count(School) == before


def test_duplicate_urn_is_shown_on_the_urn_field(signed_in, make):
    make.school(urn="140001")
    response = signed_in.post("/admin/schools/new", data=SCHOOL)
    assert response.status_code == 409
    assert 'href="#identifier"' in error_summary(response.text)


def test_admin_marks_a_school_as_causing_concern_and_back(signed_in, make):
    school = make.school()
    assert "Is " + school.name + " causing concern?" in signed_in.get(f"/admin/schools/{school.id}/edit").text
    response = signed_in.post(f"/admin/schools/{school.id}/edit", data={"causing_concern": "yes"})
    assert response.status_code == 302
    assert db.session.get(School, school.id).causing_concern is True
    assert "is now marked as causing concern" in signed_in.get(response.headers["Location"]).text
    signed_in.post(f"/admin/schools/{school.id}/edit", data={"causing_concern": "no"})
    assert db.session.get(School, school.id).causing_concern is False
    actions = db.session.execute(select(Event.action).where(Event.subject_id == school.id)).scalars().all()
    assert actions.count("update_school") == 2


def test_concern_form_needs_an_answer(signed_in, make):
    school = make.school()
    response = signed_in.post(f"/admin/schools/{school.id}/edit", data={})
    assert response.status_code == 422
    assert "Say whether the school is causing concern" in error_summary(response.text)


def test_unknown_school_is_not_found(signed_in):
    assert signed_in.get("/admin/schools/999999").status_code == 404  # an old URN address
    assert signed_in.get("/admin/schools/999999/edit").status_code == 404


GIAS = (
    "URN,EstablishmentName,LA (code),LA (name),PhaseOfEducation (name),TypeOfEstablishment (name),"
    "EstablishmentStatus (name),Trusts (name),Postcode\r\n"
    "150001,St Mary’s Primary,871,Slough,Primary,Voluntary aided school,Open,,SL1 2AA\r\n"
    "150002,Closed Old School,871,Slough,Primary,Community school,Closed,,SL1 3AA\r\n"
    "12AB,Bad Urn School,871,Slough,Primary,Community school,Open,,SL1 4AA\r\n"
    "150003,,871,Slough,Secondary,Academy,Open,,SL1 5AA\r\n"
    "150004,Langley Grammar,871,Slough,Secondary,Academy,Open,Some Trust,SL3 6AA\r\n"
).encode("cp1252")


def upload(client, content: bytes, name: str = "edubase.csv"):
    return client.post(
        "/admin/schools/import",
        data={"file": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def test_gias_import_shows_the_counts_and_each_bad_row_with_its_line(signed_in):
    response = upload(signed_in, GIAS)
    assert response.status_code == 200
    page = response.text
    assert (
        "Import finished: 3 new, 0 updated, 0 unchanged, 1 closed (0 newly closed); rows with errors: 2"
        in page
    )
    assert re.search(r">4</th>\s*<td[^>]*>urn: Enter the school&#39;s 6-digit URN", page)
    assert re.search(r">5</th>\s*<td[^>]*>name: Enter name", page)
    assert (
        db.session.execute(select(School.name).where(School.urn == "150001")).scalar_one()
        == "St Mary’s Primary"
    )
    assert count(School) == 3
    closed = db.session.execute(select(School).where(School.urn == "150002")).scalar_one()
    assert closed.status == "closed"


def test_gias_import_again_leaves_schools_unchanged(signed_in):
    upload(signed_in, GIAS)
    page = upload(signed_in, GIAS).text
    assert "0 new, 0 updated, 3 unchanged" in page


def test_gias_import_names_the_schools_that_closed_since_the_last_import(signed_in, make):
    make.school(urn="150002", name="Closed Old School", phase="Primary")
    page = upload(signed_in, GIAS).text
    assert "2 new, 1 updated, 0 unchanged, 1 closed (1 newly closed)" in page
    assert re.search(r"Newly closed since the last import\s*</dt>\s*<dd[^>]*>\s*150002", page)


def test_schools_list_and_school_page_show_each_schools_status(signed_in, make):
    make.school(urn="160001", name="Alpha Open Primary")
    upload(
        signed_in,
        (
            b"URN,EstablishmentName,EstablishmentStatus (name)\r\n"
            b"160002,Beta Closed Primary,Closed\r\n"
            b'160003,Gamma Primary,"Open, but proposed to close"\r\n'
            b"160004,Delta Free School,Proposed to open\r\n"
        ),
    )
    page = signed_in.get("/admin/schools").text
    rows = {name: row for name, row in re.findall(r"<th scope=\"row\"[^>]*>([^<]+)(.*?)</tr>", page, re.S)}
    assert re.search(r"<td[^>]*>\s*Open\s*</td>", rows["Alpha Open Primary"])
    assert 'govuk-tag--grey">Closed<' in rows["Beta Closed Primary"]
    assert 'govuk-tag--yellow">Open, but proposed to close<' in rows["Gamma Primary"]
    assert 'govuk-tag--blue">Proposed to open<' in rows["Delta Free School"]
    school_page = signed_in.get("/admin/schools/160002", follow_redirects=True).text  # by URN
    assert re.search(
        r"Status\s*</dt>\s*<dd[^>]*>\s*<strong class=\"govuk-tag govuk-tag--grey\">Closed<", school_page
    )
    assert "cannot be named on a new bid" in school_page


def test_import_refuses_a_file_that_is_not_a_gias_csv(signed_in):
    response = upload(signed_in, b"name,email\r\nA,b@c.d\r\n", "people.csv")
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert 'href="#file"' in summary and "not a GIAS establishments CSV" in summary
    assert count(School) == 0


def test_import_needs_a_file(signed_in):
    response = signed_in.post("/admin/schools/import", data={}, content_type="multipart/form-data")
    assert response.status_code == 422
    assert "Choose a CSV file to upload" in error_summary(response.text)


# -------------------------------------------------------------------------------- funds


FUND = {
    "name": "Slough School Improvement Fund 2027-28",
    "financial_year": "2027-28",
    "budget": "£150,000.50",
    "max_daily_rate": "550",
    "max_award": "25000",
    "countersign_threshold": "",
    "requires_partner_endorsement": "yes",
    **dates("opens_on", date(2027, 4, 1)),
    **dates("closes_on", date(2028, 3, 31)),
    **dates("delivery_ends_on", date(2028, 8, 31)),
}


def test_admin_creates_a_fund_with_money_in_pounds(signed_in):
    response = signed_in.post("/admin/funds/new", data=FUND)
    assert response.status_code == 302
    fund = db.session.execute(select(Fund).where(Fund.financial_year == "2027-28")).scalar_one()
    assert fund.budget_pence == 15_000_050
    assert fund.max_daily_rate_pence == 55_000 and fund.max_award_pence == 2_500_000
    assert fund.countersign_threshold_pence is None and fund.requires_partner_endorsement is True
    assert fund.opens_on == date(2027, 4, 1) and fund.closes_on == date(2028, 3, 31)
    assert "Slough School Improvement Fund 2027-28 created" in signed_in.get("/admin/funds").text


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"budget": "lots"}, "budget", "Enter an amount in pounds"),
        ({"budget": ""}, "budget", "Enter the fund's budget"),
        ({"max_daily_rate": "0"}, "max_daily_rate", "more than £0"),
        ({"financial_year": "2027"}, "financial_year", "like 2026-27"),
        ({"max_award": "200000"}, "max_award", "cannot be more than the budget"),
        (dates("closes_on", date(2027, 3, 1)), "closes_on", "close on or after it opens"),
        ({"opens_on": ["1", "", "2027"]}, "opens_on", "must include a day, month and year"),
    ],
)
def test_invalid_fund_shows_the_error_summary_and_creates_nothing(signed_in, changes, field, message):
    response = signed_in.post("/admin/funds/new", data={**FUND, **changes})
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert message in summary and f'href="#{field}"' in summary
    assert count(Fund) == 0


def test_funds_list_shows_each_ledger_and_the_edit_link_only_before_bids(signed_in, make):
    empty = make.fund(name="Empty fund")
    busy = make.fund(name="Busy fund")
    make.application("approved", fund=busy, awarded_pence=1_000_00)
    page = signed_in.get("/admin/funds").text
    assert f"/admin/funds/{empty.id}/edit" in page
    assert f"/admin/funds/{busy.id}/edit" not in page
    assert "Fixed: schools have bid" in page
    assert "£99,000.00" in page  # the busy fund's £100,000 less the £1,000 award


def test_funds_list_runs_the_same_queries_for_2_or_10_funds(signed_in, make, count_queries):
    for _ in range(2):
        make.application("draft", fund=make.fund())
    few = queries_for(signed_in, count_queries, "/admin/funds")
    for _ in range(8):
        make.fund()
    assert queries_for(signed_in, count_queries, "/admin/funds") == few


def test_fund_rules_can_be_edited_while_nobody_has_bid(signed_in, make):
    fund = make.fund(budget_pence=100_000_00)
    page = signed_in.get(f"/admin/funds/{fund.id}/edit").text
    assert 'value="100000.00"' in page and f'value="{fund.name}"' in page
    response = signed_in.post(
        f"/admin/funds/{fund.id}/edit",
        data={**FUND, "name": fund.name, "budget": "120000", "requires_partner_endorsement": "no"},
    )
    assert response.status_code == 302
    fund = db.session.get(Fund, fund.id)
    assert fund.budget_pence == 120_000_00 and fund.requires_partner_endorsement is False
    assert f"The rules of {fund.name} have been saved" in signed_in.get("/admin/funds").text


def test_fund_rules_cannot_be_edited_once_bids_exist(signed_in, make):
    fund = make.fund(budget_pence=100_000_00)
    make.application("draft", fund=fund)
    page = signed_in.get(f"/admin/funds/{fund.id}/edit").text
    assert "its rules can no longer change" in page and 'name="budget"' not in page
    response = signed_in.post(f"/admin/funds/{fund.id}/edit", data={**FUND, "budget": "200000"})
    assert response.status_code == 409
    assert "cannot change once schools have bid" in error_summary(response.text)
    assert db.session.get(Fund, fund.id).budget_pence == 100_000_00


def test_admin_pages_offer_no_decisions_or_payments(signed_in, make):
    make.claim(make.application("approved"), state="verified")
    for url in ("/admin/", "/admin/schools", "/admin/funds"):
        page = signed_in.get(url).text
        assert "/finance/" not in page and "/liaison/" not in page
    assert signed_in.get("/finance/").status_code == 403


def test_import_of_an_unreadable_csv_is_an_error_on_the_form_not_a_crash(signed_in):
    """Pins a fix in services/gias.py: csv.Error (a field over the size limit) was a 500."""
    content = b'URN,EstablishmentName\r\n"' + b"a" * 200_000 + b'"\r\n'
    response = upload(signed_in, content)
    assert response.status_code == 422
    summary = error_summary(response.text)
    assert 'href="#file"' in summary and "could not be read as CSV" in summary
