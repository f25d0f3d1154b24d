"""Every GIAS establishment is kept with its status: a school that closes is updated in place,
keeps its name on the bids it took part in, and cannot be named on a new bid."""

from __future__ import annotations

import io

import flask_migrate
import pytest
from sqlalchemy import select, text

from fundflow.extensions import db
from fundflow.models import Application, Event, School
from fundflow.services import applications, gias
from fundflow.services.errors import NotPermitted, ValidationFailed
from tests.api.conftest import Api, bid_body, error_of
from tests.conftest import make_app

HEADER = "URN,EstablishmentName,LA (code),EstablishmentStatus (name)\r\n"


def import_rows(*rows: str) -> gias.ImportResult:
    """Run the real import on a small GIAS file."""
    return gias.import_schools(None, io.BytesIO((HEADER + "".join(r + "\r\n" for r in rows)).encode()))


def close(school: School) -> None:
    """The school closes in GIAS, and the next import says so."""
    import_rows(f"{school.urn},{school.name},{school.la_code},Closed")
    db.session.refresh(school)
    assert school.status == "closed"


@pytest.fixture
def api(client) -> Api:
    return Api(client)


# --------------------------------------------------------------------------------- import


@pytest.mark.parametrize(
    ("gias_status", "stored"),
    [
        ("Open", "open"),
        ("Closed", "closed"),
        ('"Open, but proposed to close"', "proposed_to_close"),
        ("Proposed to open", "proposed_to_open"),
        ("", "open"),
    ],
)
def test_import_keeps_every_establishment_with_its_status(app, gias_status, stored):
    result = import_rows(f"140001,Any School,871,{gias_status}")
    assert result.created == 1 and result.errors == []
    assert db.session.execute(select(School.status).where(School.urn == "140001")).scalar_one() == stored


def test_a_school_that_closes_is_updated_in_place(app, make):
    school = make.school(urn="140002", name="Upton Lea Primary")
    result = import_rows("140002,Upton Lea Primary,871,Closed")
    assert (result.created, result.updated, result.closed, result.newly_closed) == (0, 1, 1, ["140002"])
    rows = db.session.execute(select(School).where(School.urn == "140002")).scalars().all()
    assert [(s.id, s.status) for s in rows] == [(school.id, "closed")]
    event = db.session.execute(select(Event).where(Event.action == "import_schools")).scalar_one()
    assert event.payload["newly_closed"] == ["140002"]


def test_importing_a_closed_school_again_is_unchanged_and_not_newly_closed(app):
    import_rows("140003,Old Town Infants,871,Closed")
    again = import_rows("140003,Old Town Infants,871,Closed")
    assert (again.unchanged, again.closed, again.newly_closed) == (1, 1, [])


def test_a_school_that_reopens_in_gias_is_open_again(app):
    import_rows("140004,Phoenix Academy,871,Closed")
    result = import_rows("140004,Phoenix Academy,871,Open")
    assert result.updated == 1
    assert db.session.execute(select(School.status).where(School.urn == "140004")).scalar_one() == "open"


def test_an_unknown_status_is_reported_with_its_line_and_that_row_is_not_imported(app):
    result = import_rows("140005,Good School,871,Open", "140006,Odd School,871,Mothballed")
    assert result.created == 1
    assert len(result.errors) == 1
    line, message = result.errors[0]
    assert line == 3
    assert "status" in message and "Mothballed" in message and "Proposed to open" in message
    assert db.session.execute(select(School).where(School.urn == "140006")).first() is None


def test_cli_import_reports_closed_and_newly_closed_schools(app, runner, make, tmp_path):
    make.school(urn="140007", name="Chalvey Grove")
    path = tmp_path / "edubasealldata.csv"
    path.write_bytes(
        (HEADER + "140007,Chalvey Grove,871,Closed\r\n140008,New Free School,871,Open\r\n").encode()
    )
    result = runner.invoke(args=["fundflow", "import-schools", str(path)])
    assert result.exit_code == 0, result.output
    assert "1 new, 1 updated, 0 unchanged; 1 closed (1 newly closed); 0 rows with errors" in result.stdout


# -------------------------------------------------------------------------- new bids refuse


def test_a_closed_school_cannot_be_named_as_a_partner_on_a_new_bid(app, make):
    fund, head, partner = make.fund(), make.headteacher(), make.school()
    close(partner)
    with pytest.raises(ValidationFailed) as refused:
        applications.create_draft(head, make.details(fund, partner))
    assert "has closed" in refused.value.fields["partners.0.urn"][0]
    assert db.session.execute(select(Application)).first() is None


def test_the_headteacher_of_a_closed_school_cannot_start_a_bid(app, make):
    fund, head, partner = make.fund(), make.headteacher(), make.school()
    close(head.school)
    with pytest.raises(NotPermitted) as refused:
        applications.create_draft(head, make.details(fund, partner))
    assert "has closed" in refused.value.message
    assert db.session.execute(select(Application)).first() is None


def test_api_refuses_a_closed_partner_with_422_on_its_urn_and_writes_nothing(api, make):
    fund, head, partner = make.fund(), make.headteacher(), make.school()
    close(partner)
    response = api.post("/applications", head, json=bid_body(fund, partner))
    assert response.status_code == 422
    error = error_of(response)
    assert error["code"] == "validation_failed"
    assert "has closed" in error["fields"]["partners.0.urn"][0]
    assert Application.query.count() == 0


def test_api_refuses_a_bid_from_a_closed_lead_school_with_403(api, make):
    fund, head, partner = make.fund(), make.headteacher(), make.school()
    close(head.school)
    response = api.post("/applications", head, json=bid_body(fund, partner))
    assert response.status_code == 403
    assert "has closed" in error_of(response)["message"]
    assert Application.query.count() == 0


def test_adding_a_closed_school_to_a_draft_shows_the_error_on_its_urn(client, auth, make):
    head = make.headteacher()
    application = make.application("draft", lead=head)
    closed = make.school(name="Old Town Infants")
    close(closed)
    auth.login(head)
    response = client.post(
        f"/headteacher/bids/{application.reference}/partners",
        data={"partners-0-identifier": closed.urn, "partners-0-role": "supported"},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'href="#partners-0-identifier"' in page
    assert "Old Town Infants" in page and "has closed" in page


def test_the_start_page_of_a_closed_schools_headteacher_says_why_and_starts_nothing(client, auth, make):
    fund, head = make.fund(), make.headteacher()
    close(head.school)
    auth.login(head)
    response = client.post("/headteacher/bids/new", data={"fund": str(fund.id), "title": "Reading"})
    assert response.status_code == 403
    assert "has closed" in response.get_data(as_text=True)
    assert Application.query.count() == 0


# ------------------------------------------------------------------------- history keeps them


def test_a_bid_keeps_a_partner_that_closed_after_it_was_named(app, make):
    application = make.application("draft")
    partner = application.partners[0].school
    close(partner)
    lead = make.lead_of(application)
    kept = [applications.PartnerInput(urn=partner.urn, role=application.partners[0].role)]
    applications.update_draft(
        lead, application, applications.BidDetails(title="Still together", partners=kept)
    )
    assert [p.school.urn for p in db.session.get(Application, application.id).partners] == [partner.urn]


def test_existing_bids_still_show_a_closed_schools_name(api, make):
    application = make.application("approved")
    lead_school, partner = application.lead_school, application.partners[0].school
    close(lead_school)
    close(partner)
    body = api.get(f"/applications/{application.reference}", make.user("auditor")).get_json()
    assert body["lead_school_urn"] == lead_school.urn
    assert [(p["urn"], p["name"]) for p in body["partners"]] == [(partner.urn, partner.name)]


def test_api_schools_show_their_status(api, make):
    open_school = make.school(urn="140010")
    closed = make.school(urn="140011")
    close(closed)
    items = api.get("/schools?per_page=100", make.user("auditor")).get_json()["items"]
    statuses = {s["urn"]: s["status"] for s in items}
    assert statuses[open_school.urn] == "open"
    assert statuses[closed.urn] == "closed"


# ------------------------------------------------------------------------------- migration


def test_migration_marks_every_existing_school_open(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fundflow.sqlite3'}")
    with app.app_context():
        flask_migrate.upgrade(revision="a10b0c0d0003")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO schools (urn, name, phase, la_code, la_name, trust, establishment_type,"
                    " postcode, causing_concern, created_at, updated_at) VALUES ('140020', 'Before',"
                    " '', '', '', '', '', '', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
                )
            )
        flask_migrate.upgrade()
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT status FROM schools")).scalars().all() == ["open"]
            with pytest.raises(Exception, match="(?i)check constraint"):
                connection.execute(text("UPDATE schools SET status = 'mothballed'"))
        flask_migrate.downgrade(revision="a10b0c0d0003")
        with db.engine.connect() as connection:
            columns = [row[1] for row in connection.execute(text("PRAGMA table_info(schools)"))]
            assert "status" not in columns
        db.engine.dispose()
