"""``flask fundflow …``: creating users, issuing tokens, checking the audit trail, the demo,
and importing the GIAS establishments file."""

from __future__ import annotations

import codecs

import pytest
from sqlalchemy import func, select, text

from fundflow.extensions import db
from fundflow.models import Event, School, User
from fundflow.services import admin, auth
from tests.conftest import make_app

PASSWORD = "long-enough-password"


def cli(runner, *args: str):
    return runner.invoke(args=["fundflow", *args])


# ---------------------------------------------------------------------------- create-user


def test_create_user_with_roles_and_school(runner, make):
    school = make.school()
    result = cli(
        runner,
        "create-user",
        "Sam@Council.test",
        "--name",
        "Sam Second",
        "--role",
        "liaison_officer",
        "--role",
        "headteacher",
        "--school",
        school.urn,
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 0, result.output
    assert "Created sam@council.test (headteacher, liaison_officer)" in result.output
    user = db.session.execute(select(User).where(User.email == "sam@council.test")).scalar_one()
    assert sorted(user.roles) == ["headteacher", "liaison_officer"]
    assert user.school_id == school.id


def test_create_user_refuses_a_role_that_does_not_exist(runner):
    result = cli(
        runner, "create-user", "x@example.test", "--name", "X", "--role", "superuser", "--password", PASSWORD
    )
    assert result.exit_code != 0
    assert "superuser" in result.output
    assert db.session.execute(select(func.count(User.id))).scalar_one() == 0


def test_create_user_refuses_a_headteacher_without_a_school(runner):
    result = cli(
        runner,
        "create-user",
        "h@example.test",
        "--name",
        "H",
        "--role",
        "headteacher",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 1
    assert "school_urn" in result.stderr


def test_create_user_refuses_a_school_that_is_not_there(runner):
    result = cli(
        runner,
        "create-user",
        "h@example.test",
        "--name",
        "H",
        "--role",
        "headteacher",
        "--school",
        "999999",
        "--password",
        PASSWORD,
    )
    assert result.exit_code == 1
    assert "No school with URN 999999" in result.stderr


def test_create_user_refuses_a_duplicate_email(runner):
    args = ("create-user", "a@example.test", "--name", "A", "--role", "auditor", "--password", PASSWORD)
    assert cli(runner, *args).exit_code == 0
    result = cli(runner, *args)
    assert result.exit_code == 1
    assert "already an account" in result.stderr


def test_create_user_refuses_a_short_password(runner):
    result = cli(
        runner, "create-user", "a@example.test", "--name", "A", "--role", "auditor", "--password", "short"
    )
    assert result.exit_code == 1
    assert "password" in result.stderr


# ---------------------------------------------------------------------------- issue-token


def test_issue_token_prints_a_working_token_as_the_last_line(runner, make):
    user = make.user("finance", email="fran@council.test")
    result = cli(runner, "issue-token", "fran@council.test", "--name", "finance system")
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[-1]
    db.session.remove()
    assert auth.user_for_token(token).id == user.id


def test_issue_token_for_an_unknown_email_fails(runner):
    result = cli(runner, "issue-token", "nobody@example.test")
    assert result.exit_code == 1
    assert "No user" in result.stderr


def test_issue_token_refuses_a_deactivated_user(runner, make):
    user = make.user("auditor")
    admin.update_user(None, user, roles=["auditor"], school_urn=None, active=False)
    result = cli(runner, "issue-token", user.email)
    assert result.exit_code == 1
    assert "deactivated" in result.stderr


# --------------------------------------------------------------------- seed-demo, verify-audit


def seeded(runner):
    result = cli(runner, "seed-demo")
    assert result.exit_code == 0, result.output
    db.session.remove()
    return result


def event_ids() -> list[int]:
    return list(db.session.execute(select(Event.id).order_by(Event.seq)).scalars())


def test_seed_demo_then_verify_audit_passes_with_a_count(runner):
    seeded(runner)
    count = db.session.execute(select(func.count(Event.id))).scalar_one()
    result = cli(runner, "verify-audit")
    assert result.exit_code == 0, result.output
    assert f"OK: {count} events" in result.output
    assert count > 20


def test_seed_demo_twice_is_harmless(runner):
    first = seeded(runner)
    users = db.session.execute(select(func.count(User.id))).scalar_one()
    second = seeded(runner)
    assert "already there" in second.output
    assert "Seeded" in first.output
    assert db.session.execute(select(func.count(User.id))).scalar_one() == users
    assert cli(runner, "verify-audit").exit_code == 0


def test_seed_demo_refuses_in_production_mode():
    app = make_app(ENV_NAME="production")
    with app.app_context():
        db.create_all()
        result = app.test_cli_runner().invoke(args=["fundflow", "seed-demo"])
        assert result.exit_code == 1
        assert "production" in result.stderr
        assert db.session.execute(select(func.count(User.id))).scalar_one() == 0
        db.session.remove()
        db.drop_all()


def test_editing_an_event_by_hand_makes_verify_audit_fail_naming_it(runner):
    seeded(runner)
    target = event_ids()[10]
    db.session.execute(
        text("UPDATE events SET payload = :payload WHERE id = :id"),
        {"payload": '{"awarded_pence": 99999999}', "id": target},
    )
    db.session.commit()
    db.session.remove()
    result = cli(runner, "verify-audit")
    assert result.exit_code != 0
    assert f"event {target} " in result.stderr


def test_deleting_a_middle_event_is_detected(runner):
    seeded(runner)
    ids = event_ids()
    victim, follower = ids[len(ids) // 2], ids[len(ids) // 2 + 1]
    db.session.execute(text("DELETE FROM events WHERE id = :id"), {"id": victim})
    db.session.commit()
    db.session.remove()
    result = cli(runner, "verify-audit")
    assert result.exit_code != 0
    assert f"event {follower} " in result.stderr
    assert "missing" in result.stderr


# -------------------------------------------------------------------------- import-schools

HEADER = [
    "URN",
    "LA (code)",
    "LA (name)",
    "EstablishmentNumber",
    "EstablishmentName",
    "TypeOfEstablishment (name)",
    "EstablishmentStatus (name)",
    "PhaseOfEducation (name)",
    "NumberOfPupils",
    "Trusts (name)",
    "Postcode",
    "HeadLastName",
]


def gias_csv(rows: list[list[str]]) -> str:
    lines = [",".join(f'"{c}"' for c in HEADER)]
    lines += [",".join(f'"{c}"' for c in row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


GIAS_ROWS = [
    [
        "137101",
        "871",
        "Slough",
        "2001",
        "St Mary’s Catholic Primary School",
        "Voluntary aided school",
        "Open",
        "Primary",
        "412",
        "",
        "SL1 2AA",
        "Smith",
    ],
    [
        "137102",
        "871",
        "Slough",
        "2002",
        "Chalvey Grove Primary",
        "Academy converter",
        "Open",
        "Primary",
        "",
        "Slough Learning Trust",
        "SL1 3BB",
        "Jones",
    ],
    [
        "137103",
        "871",
        "Slough",
        "2003",
        "Old Town Infants",
        "Community school",
        "Closed",
        "Primary",
        "",
        "",
        "SL1 4CC",
        "",
    ],
    [
        "12AB",
        "871",
        "Slough",
        "2004",
        "Typo Academy",
        "Academy converter",
        "Open",
        "Secondary",
        "900",
        "",
        "SL1 5DD",
        "",
    ],
    ["137105", "871", "Slough", "2005", "", "Community school", "Open", "Nursery", "60", "", "SL1 6EE", ""],
    [
        "137106",
        "871",
        "Slough",
        "4001",
        "Wexham Court Secondary School",
        "Foundation school",
        "Open, but proposed to close",
        "Secondary",
        "1100",
        "",
        "SL2 5QS",
        "",
    ],
]


def write_gias(tmp_path, encoding: str, bom: bool = False):
    path = tmp_path / f"edubasealldata-{encoding}.csv"
    data = gias_csv(GIAS_ROWS).encode(encoding)
    path.write_bytes((codecs.BOM_UTF8 if bom else b"") + data)
    return path


def schools() -> dict[str, School]:
    db.session.remove()
    return {s.urn: s for s in db.session.execute(select(School)).scalars()}


def test_import_schools_reads_windows_1252_keeps_closed_ones_and_reports_bad_lines(runner, tmp_path):
    path = write_gias(tmp_path, "cp1252")
    assert b"St Mary\x92s" in path.read_bytes()
    result = cli(runner, "import-schools", str(path))
    assert result.exit_code == 0, result.output
    imported = schools()
    assert sorted(imported) == ["137101", "137102", "137103", "137106"]
    assert {urn: s.status for urn, s in imported.items()} == {
        "137101": "open",
        "137102": "open",
        "137103": "closed",
        "137106": "proposed_to_close",
    }
    st_marys = imported["137101"]
    assert st_marys.name == "St Mary’s Catholic Primary School"
    assert (st_marys.la_code, st_marys.la_name, st_marys.phase, st_marys.postcode) == (
        "871",
        "Slough",
        "Primary",
        "SL1 2AA",
    )
    assert imported["137102"].trust == "Slough Learning Trust"
    # line 1 is the header: the bad rows are lines 5 (URN 12AB) and 6 (no name)
    assert "Line 5: urn:" in result.stderr
    assert "Line 6: name:" in result.stderr
    assert (
        "Imported 4 schools: 4 new, 0 updated, 0 unchanged; 1 closed (0 newly closed); 2 rows with errors"
        in result.stdout
    )


def test_importing_the_same_file_again_changes_nothing(runner, tmp_path):
    path = write_gias(tmp_path, "cp1252")
    assert cli(runner, "import-schools", str(path)).exit_code == 0
    before = {urn: (s.id, s.name, s.updated_at) for urn, s in schools().items()}
    result = cli(runner, "import-schools", str(path))
    assert result.exit_code == 0
    assert "0 new, 0 updated, 4 unchanged" in result.stdout
    assert {urn: (s.id, s.name, s.updated_at) for urn, s in schools().items()} == before


def test_import_schools_honours_a_utf8_byte_order_mark(runner, tmp_path):
    path = write_gias(tmp_path, "utf-8", bom=True)
    result = cli(runner, "import-schools", str(path))
    assert result.exit_code == 0, result.output
    assert schools()["137101"].name == "St Mary’s Catholic Primary School"


def test_import_updates_a_school_whose_details_changed(runner, tmp_path, make):
    make.school(urn="137102", name="Chalvey Grove (old name)", causing_concern=True)
    result = cli(runner, "import-schools", str(write_gias(tmp_path, "cp1252")))
    assert "3 new, 1 updated" in result.stdout
    chalvey = schools()["137102"]
    assert chalvey.name == "Chalvey Grove Primary"
    assert chalvey.causing_concern is True  # the import never touches the flag


def test_import_refuses_a_file_that_is_not_gias(runner, tmp_path):
    path = tmp_path / "other.csv"
    path.write_bytes(b"name,postcode\r\nA school,SL1 1AA\r\n")
    result = cli(runner, "import-schools", str(path))
    assert result.exit_code == 1
    assert "URN" in result.stderr
    assert schools() == {}


@pytest.mark.parametrize("encoding", ["cp1252", "utf-8"])
def test_import_records_one_audit_event(runner, tmp_path, encoding):
    cli(runner, "import-schools", str(write_gias(tmp_path, encoding, bom=encoding == "utf-8")))
    db.session.remove()
    event = db.session.execute(select(Event).where(Event.action == "import_schools")).scalar_one()
    assert event.payload == {
        "created": 4,
        "updated": 0,
        "unchanged": 0,
        "closed": 1,
        "newly_closed": [],
        "errors": 2,
    }


def test_import_schools_reads_utf8_without_a_byte_order_mark(app, runner, tmp_path):
    from fundflow.models import School

    path = tmp_path / "gias-utf8.csv"
    path.write_bytes("URN,EstablishmentName,LA (code)\n123456,St Mary’s Café School,871\n".encode())
    result = runner.invoke(args=["fundflow", "import-schools", str(path)])
    assert result.exit_code == 0, result.output
    school = School.query.filter_by(urn="123456").one()
    assert school.name == "St Mary’s Café School"
    assert school.status == "open"  # a file without the status column: every school open


def test_revoke_tokens_stops_every_token_of_that_user(app, runner, make):
    from fundflow.services import auth

    user = make.user("finance")
    token = auth.issue_token(user, "laptop")
    assert auth.user_for_token(token) is not None
    result = runner.invoke(args=["fundflow", "revoke-tokens", user.email])
    assert result.exit_code == 0, result.output
    assert "Revoked 1 token" in result.output
    assert auth.user_for_token(token) is None


def test_verify_audit_detects_the_newest_status_event_cut_off(app, runner):
    from sqlalchemy import text as sql

    from fundflow import demo
    from fundflow.extensions import db

    demo.seed()
    newest = db.session.execute(
        sql("SELECT max(seq) FROM events WHERE to_status IS NOT NULL AND subject_type = 'application'")
    ).scalar()
    db.session.execute(sql("DELETE FROM events WHERE seq >= :seq"), {"seq": newest})
    db.session.commit()
    result = runner.invoke(args=["fundflow", "verify-audit"])
    assert result.exit_code != 0
    assert "last event says" in result.output
