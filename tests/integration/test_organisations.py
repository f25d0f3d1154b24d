"""Organisations (issue 15): the migration that moves today's data into the first one, the
service that makes more (validated, audited), and the commands ``create-organisation`` and
``create-user --organisation``."""

from __future__ import annotations

from datetime import datetime

import flask_migrate
import pytest
from sqlalchemy import select, text

from fundflow.extensions import db
from fundflow.models import Event, LocalAuthority, Organisation, User
from fundflow.services import admin, audit, organisations
from fundflow.services.errors import Conflict, NotPermitted, ValidationFailed
from tests.conftest import make_app

PASSWORD = "long-enough-password"
NOW = "2026-01-01 00:00:00"
WEST = ["S12000049", "S12000045", "S12000011"]


def cli(runner, *args: str):
    return runner.invoke(args=["fundflow", *args])


def partnership(**overrides) -> Organisation:
    values = {
        "slug": "partnership",
        "name": "The West Partnership",
        "funder_id": "GB-LAS-GLG",
        "reference_prefix": "WPSIF",
        "local_authorities": WEST,
    }
    values.update(overrides)
    return organisations.create_organisation(None, **values)


# ------------------------------------------------------------------------------ migration


def _insert(connection, table: str, **values) -> None:
    columns = ", ".join(values)
    connection.execute(
        text(f"INSERT INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in values)})"), values
    )


def test_the_migration_moves_funds_and_council_staff_into_the_first_organisation(tmp_path):
    app = make_app(f"sqlite:///{tmp_path / 'fundflow.sqlite3'}", REFERENCE_PREFIX="OLDP")
    with app.app_context():
        flask_migrate.upgrade(revision="a10b0c0d0008")
        with db.engine.begin() as connection:
            for fund_id in (1, 2):
                _insert(
                    connection, "funds", id=fund_id, name=f"Fund {fund_id}", financial_year="2025-26",
                    budget_pence=100, opens_on="2025-04-01", closes_on="2026-03-31",
                    delivery_ends_on="2027-03-31", max_daily_rate_pence=10, requires_partner_endorsement=0,
                    created_at=NOW, updated_at=NOW,
                )  # fmt: skip
            for user_id, roles in (
                (1, ["headteacher"]),
                (2, ["liaison_officer", "headteacher"]),
                (3, ["admin"]),
            ):
                _insert(
                    connection, "users", id=user_id, email=f"u{user_id}@example.test", name="U",
                    password_hash="x", active=1, notification_preferences="{}",
                    created_at=NOW, updated_at=NOW,
                )  # fmt: skip
                for role in roles:
                    _insert(connection, "user_roles", user_id=user_id, role=role)
            # one event of the trail so far, hashed as the app hashes it
            event = {
                "seq": 1, "at": datetime(2026, 1, 1), "actor_id": None, "actor_email": "system",
                "action": "create_fund", "subject_type": "fund", "subject_id": 1, "application_id": None,
                "fund_id": 1, "from_status": None, "to_status": None, "payload": {}, "prev_hash": "0" * 64,
            }  # fmt: skip
            event["hash"] = audit.values_hash([event[name] for name in audit.HASHED_FIELDS])
            _insert(connection, "events", **(event | {"payload": "{}"}))
        flask_migrate.upgrade(revision="a10b0c0d0009")
        # the trail so far is the first organisation's chain, intact
        assert db.session.execute(text("SELECT organisation_id FROM events")).scalar_one() is not None
        report = audit.verify_chain()
        assert (report.ok, report.events_checked) == (True, 1)
        db.session.remove()
        with db.engine.connect() as connection:
            organisation = connection.execute(
                text("SELECT id, slug, name, funder_id, reference_prefix, term_calendar FROM organisations")
            ).one()
            funds = connection.execute(text("SELECT id, organisation_id FROM funds ORDER BY id")).all()
            users = connection.execute(text("SELECT id, organisation_id FROM users ORDER BY id")).all()
            members = connection.execute(
                text(
                    "SELECT la.gss_code, la.nation FROM organisation_local_authorities ola"
                    " JOIN local_authorities la ON la.id = ola.local_authority_id"
                )
            ).all()
            fund_councils = connection.execute(
                text("SELECT fund_id FROM fund_local_authorities ORDER BY fund_id")
            ).all()
        org_id = organisation.id
        assert tuple(organisation)[1:] == (
            "slough", "Slough Borough Council", "GB-LAE-SLG", "OLDP", "three_terms",
        )  # fmt: skip
        assert [tuple(f) for f in funds] == [(1, org_id), (2, org_id)]
        # the headteacher belongs to none; the seconded headteacher and the admin are staff
        assert [tuple(u) for u in users] == [(1, None), (2, org_id), (3, org_id)]
        assert [tuple(m) for m in members] == [("E06000039", "england")]
        assert [f.fund_id for f in fund_councils] == [1, 2]
        flask_migrate.downgrade(revision="a10b0c0d0008")
        with db.engine.connect() as connection:
            assert "organisation_id" not in {
                c[1] for c in connection.execute(text("PRAGMA table_info(funds)")).all()
            }
        db.engine.dispose()


# -------------------------------------------------------------------------------- service


def test_a_fund_made_without_an_organisation_belongs_to_the_first_one_from_the_settings(app, make):
    fund = make.fund()
    home = organisations.home_organisation()
    assert fund.organisation_id == home.id
    assert (home.slug, home.funder_id, home.name) == (
        app.config["FUNDER_ORG_SLUG"], app.config["FUNDER_ORG_ID"], app.config["FUNDER_ORG_NAME"],
    )  # fmt: skip
    assert home.reference_prefix == app.config["REFERENCE_PREFIX"]
    assert [a.gss_code for a in fund.local_authorities] == ["E06000039"]


def test_create_organisation_names_its_councils_and_is_audited(app):
    made = partnership()
    assert (made.slug, made.funder_id, made.term_calendar) == ("partnership", "GB-LAS-GLG", "four_terms")
    assert sorted(a.gss_code for a in made.local_authorities) == sorted(WEST)
    assert {a.nation for a in made.local_authorities} == {"scotland"}
    event = db.session.execute(select(Event).where(Event.action == "create_organisation")).scalar_one()
    assert (event.subject_type, event.subject_id) == ("organisation", made.id)
    assert event.payload["local_authorities"] == WEST
    assert audit.verify_chain().ok


def test_a_mixed_partnership_keeps_three_terms_and_a_new_council_can_be_named(app):
    made = partnership(
        slug="mixed", reference_prefix="MIX", local_authorities=["S12000049", "W99999999=Testshire"]
    )
    assert made.term_calendar == "three_terms"
    assert db.session.execute(
        select(LocalAuthority.name, LocalAuthority.nation).where(LocalAuthority.gss_code == "W99999999")
    ).one() == ("Testshire", "wales")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"slug": "Bad Slug"}, "slug"),
        ({"slug": "x"}, "slug"),
        ({"funder_id": "GB-COH-123456"}, "funder_id"),
        ({"funder_id": "GB-LAS-"}, "funder_id"),
        ({"reference_prefix": "a-b"}, "reference_prefix"),
        ({"local_authorities": []}, "local_authorities"),
        ({"local_authorities": ["Glasgow"]}, "local_authorities"),
        ({"local_authorities": ["S12999999"]}, "local_authorities"),
        ({"term_calendar": "two_terms"}, "term_calendar"),
    ],
)
def test_create_organisation_refuses_bad_values(app, overrides, field):
    with pytest.raises(ValidationFailed) as refused:
        partnership(**overrides)
    assert field in refused.value.fields
    assert (
        db.session.execute(select(Organisation.id).where(Organisation.slug == "partnership")).first() is None
    )


def test_slugs_and_reference_prefixes_are_unique(app, make):
    make.fund()  # the first organisation, with the settings' prefix
    partnership()
    with pytest.raises(Conflict, match="already an organisation"):
        partnership(reference_prefix="OTHER")
    with pytest.raises(Conflict, match="reference prefix"):
        partnership(slug="other")
    with pytest.raises(Conflict, match="reference prefix"):
        partnership(slug="other", reference_prefix=app.config["REFERENCE_PREFIX"])


def test_only_a_service_admin_creates_organisations(app, make):
    with pytest.raises(NotPermitted):
        organisations.create_organisation(
            make.user("admin"), slug="p", name="P", funder_id="GB-LAS-GLG", reference_prefix="P1",
            local_authorities=WEST,
        )  # fmt: skip
    boss = make.user("service_admin")
    assert boss.organisation_id is None
    made = organisations.create_organisation(
        boss, slug="by-boss", name="P", funder_id="GB-LAS-GLG", reference_prefix="P1", local_authorities=WEST
    )
    assert made.slug == "by-boss"


def test_staff_belong_to_an_organisation_and_headteachers_to_none(app, make):
    partnership()
    officer = admin.create_user(
        None,
        admin.UserInput(
            email="lo@p.test", name="L", roles=["liaison_officer"], password=PASSWORD,
            organisation_slug="partnership",
        ),
    )  # fmt: skip
    assert officer.organisation_id == organisations.by_slug("partnership").id
    assert make.user("finance").organisation_id == organisations.home_organisation().id
    assert make.headteacher().organisation_id is None
    with pytest.raises(ValidationFailed) as refused:
        admin.create_user(
            None,
            admin.UserInput(
                email="s@p.test", name="S", roles=["service_admin", "auditor"], password=PASSWORD
            ),
        )
    assert "roles" in refused.value.fields


def test_the_service_admin_role_opens_no_bid_page(app, client, auth, make):
    boss = make.user("service_admin")
    auth.login(boss)
    for path in ("/liaison/", "/finance/", "/auditor/", "/admin/", "/headteacher/"):
        assert client.get(path).status_code == 403, path


# ------------------------------------------------------------------------------------ CLI


def test_create_organisation_and_a_user_of_it_from_the_command_line(runner):
    result = cli(
        runner, "create-organisation", "partnership", "--name", "The West Partnership",
        "--funder-id", "GB-LAS-GLG", "--reference-prefix", "WPSIF",
        *(arg for code in WEST for arg in ("--local-authority", code)),
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Created organisation partnership (The West Partnership;" in result.output
    assert "Glasgow City" in result.output
    result = cli(
        runner, "create-user", "lo@partnership.test", "--name", "L", "--role", "liaison_officer",
        "--organisation", "partnership", "--password", PASSWORD,
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    user = db.session.execute(select(User).where(User.email == "lo@partnership.test")).scalar_one()
    assert user.organisation_id == organisations.by_slug("partnership").id


def test_the_command_line_refuses_an_unknown_organisation_and_a_bad_funder_id(runner):
    result = cli(
        runner, "create-user", "lo@x.test", "--name", "L", "--role", "finance",
        "--organisation", "nowhere", "--password", PASSWORD,
    )  # fmt: skip
    assert result.exit_code != 0
    assert "No organisation 'nowhere'" in result.output
    assert db.session.execute(select(User.id).where(User.email == "lo@x.test")).first() is None
    result = cli(
        runner, "create-organisation", "p", "--name", "P", "--funder-id", "GB-COH-1",
        "--reference-prefix", "PP", "--local-authority", "S12000049",
    )  # fmt: skip
    assert result.exit_code != 0
    assert "funder_id" in result.output


def test_a_service_admin_sees_no_bids(app, make):
    from fundflow.services import access

    bid = make.application()
    boss = make.user("service_admin")
    assert db.session.execute(access.visible_applications(boss)).all() == []
    assert not access.can_see(boss, bid)
    assert access.can_see(make.user("auditor"), bid)


# ---------------------------------------------------------------------- one chain each


def _two_councils_with_bids(make):
    """A bid in the first organisation's fund and one in the partnership's."""
    home_bid = make.application("approved")
    other = partnership()
    their_fund = admin.create_fund(None, admin.FundInput(**_fund_values()), organisation=other)
    their_bid = make.application("submitted", fund=their_fund)
    return home_bid, their_bid, other


def _fund_values() -> dict:
    from datetime import timedelta

    from fundflow.services.clock import today

    now = today()
    return {
        "name": "West Partnership Fund",
        "financial_year": "2026-27",
        "budget_pence": 100_000_00,
        "opens_on": now - timedelta(days=30),
        "closes_on": now + timedelta(days=180),
        "max_daily_rate_pence": 500_00,
        "max_award_pence": None,
        "countersign_threshold_pence": 50_000_00,
        "requires_partner_endorsement": False,
        "delivery_ends_on": now + timedelta(days=545),
    }


def _chain(organisation_id) -> list[Event]:
    return list(
        db.session.execute(
            select(Event).where(Event.organisation_id == organisation_id).order_by(Event.seq)
        ).scalars()
    )


def test_each_organisation_has_its_own_numbered_chain_from_its_own_genesis(app, make):
    home_bid, their_bid, other = _two_councils_with_bids(make)
    home = organisations.home_organisation()
    assert home.audit_genesis == audit.GENESIS_HASH and other.audit_genesis != home.audit_genesis
    for organisation in (home, other):
        chain = _chain(organisation.id)
        assert [e.seq for e in chain] == list(range(1, len(chain) + 1))
        assert chain[0].prev_hash == organisation.audit_genesis
    assert their_bid.reference.startswith("WPSIF-") and home_bid.reference.startswith(home.reference_prefix)
    # a bid's events are in its fund's organisation's chain, the new organisation's too
    assert {e.organisation_id for e in _chain(other.id)} == {other.id}
    assert db.session.execute(
        select(Event.organisation_id).where(Event.application_id == their_bid.id).distinct()
    ).scalars().all() == [other.id]
    assert (
        db.session.execute(
            select(Event.organisation_id).where(Event.action == "create_organisation")
        ).scalar_one()
        == other.id
    )
    everything = audit.verify_chain()
    assert everything.ok
    mine, theirs = audit.verify_chain(organisation_id=home.id), audit.verify_chain(organisation_id=other.id)
    assert mine.ok and theirs.ok
    assert mine.events_checked == len(_chain(home.id)) and theirs.events_checked == len(_chain(other.id))
    assert everything.events_checked >= mine.events_checked + theirs.events_checked


def test_a_tamper_in_one_chain_fails_that_chain_and_the_whole_check_but_not_the_other(app, make):
    _, _, other = _two_councils_with_bids(make)
    home = organisations.home_organisation()
    victim = _chain(other.id)[2]
    db.session.execute(
        text("UPDATE events SET actor_email = 'x@example.test' WHERE id = :id"), {"id": victim.id}
    )
    db.session.commit()
    assert audit.verify_chain(organisation_id=home.id).ok
    for report in (audit.verify_chain(organisation_id=other.id), audit.verify_chain()):
        assert (report.ok, report.first_bad_event_id) == (False, victim.id)


def test_a_deleted_event_in_the_middle_of_a_chain_is_a_gap_in_that_chain(app, make):
    _, _, other = _two_councils_with_bids(make)
    chain = _chain(other.id)
    db.session.execute(text("DELETE FROM events WHERE id = :id"), {"id": chain[1].id})
    db.session.commit()
    report = audit.verify_chain(organisation_id=other.id)
    assert (report.ok, report.first_bad_event_id, report.problem) == (
        False,
        chain[2].id,
        "sequence 2 is missing",
    )


def test_a_chain_moved_whole_into_another_organisation_does_not_verify(app, make):
    """Each chain starts from its own genesis, so relabelling events cannot pass them off as
    another organisation's (its chain being empty, numbering alone would not show it)."""
    _, _, other = _two_councils_with_bids(make)
    spare = partnership(slug="spare", reference_prefix="SPARE", local_authorities=["S12000018"])
    # the spare organisation's chain emptied, then the partnership's relabelled as its
    db.session.execute(text("DELETE FROM events WHERE organisation_id = :s"), {"s": spare.id})
    db.session.execute(
        text("UPDATE events SET organisation_id = :to WHERE organisation_id = :from_"),
        {"to": spare.id, "from_": other.id},
    )
    db.session.commit()
    report = audit.verify_chain()
    assert not report.ok
    assert report.problem in {"does not follow the event before it", "sequence 1 is missing"}


def test_a_status_without_its_event_is_found_in_that_organisations_check(app, make):
    _, their_bid, other = _two_councils_with_bids(make)
    db.session.execute(
        text("UPDATE applications SET status = 'approved' WHERE id = :id"), {"id": their_bid.id}
    )
    db.session.commit()
    assert not audit.verify_chain(organisation_id=other.id).ok
    assert audit.verify_chain(organisation_id=organisations.home_organisation().id).ok
    assert not audit.verify_chain().ok


def test_verify_audit_checks_one_organisation_from_the_command_line(runner, make):
    _, _, other = _two_councils_with_bids(make)
    result = cli(runner, "verify-audit", "--organisation", "partnership")
    assert result.exit_code == 0, result.output
    assert f"OK: {len(_chain(other.id))} events" in result.output
    assert cli(runner, "verify-audit", "--organisation", "nowhere").exit_code != 0
