"""Administration: funds and their rules, schools, users. Admins take no part in decisions."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Event
from fundflow.services import admin
from fundflow.services.clock import today
from fundflow.services.errors import Conflict, InvalidTransition, NotPermitted, ValidationFailed


def fund_input(**overrides) -> admin.FundInput:
    data = {
        "name": "Slough school improvement fund",
        "financial_year": "2026-27",
        "budget_pence": 50_000_00,
        "opens_on": today().isoformat(),
        "closes_on": (today() + timedelta(days=90)).isoformat(),
        "max_daily_rate_pence": 400_00,
        "max_award_pence": 5_000_00,
        "countersign_threshold_pence": 3_000_00,
        "requires_partner_endorsement": True,
    }
    data.update(overrides)
    return admin.FundInput(**data)


# -------------------------------------------------------------------------------- funds


def test_admin_creates_a_fund_with_its_rules(make):
    fund = admin.create_fund(make.user("admin"), fund_input())
    assert (fund.budget_pence, fund.max_award_pence, fund.countersign_threshold_pence) == (
        50_000_00,
        5_000_00,
        3_000_00,
    )
    assert fund.requires_partner_endorsement is True
    event = db.session.execute(select(Event).where(Event.action == "create_fund")).scalar_one()
    assert event.payload["budget_pence"] == 50_000_00


@pytest.mark.parametrize("role", ["headteacher", "liaison_officer", "finance", "auditor"])
def test_only_an_admin_manages_funds_schools_and_users(make, role):
    user = make.user(role)
    with pytest.raises(NotPermitted):
        admin.create_fund(user, fund_input())
    with pytest.raises(NotPermitted):
        admin.create_school(user, admin.SchoolInput(urn="654321", name="New School"))
    with pytest.raises(NotPermitted):
        admin.create_user(user, admin.UserInput("x@example.test", "X", ["auditor"], "long-enough-password"))


@pytest.mark.parametrize(
    ("field", "overrides"),
    [
        ("name", {"name": " "}),
        ("financial_year", {"financial_year": "2026"}),
        ("budget_pence", {"budget_pence": 0}),
        ("budget_pence", {"budget_pence": 12.5}),
        ("max_daily_rate_pence", {"max_daily_rate_pence": -1}),
        ("closes_on", {"closes_on": (today() - timedelta(days=1)).isoformat()}),
        ("opens_on", {"opens_on": "soon"}),
        ("max_award_pence", {"max_award_pence": 50_000_01}),
        ("requires_partner_endorsement", {"requires_partner_endorsement": "yes"}),
    ],
)
def test_fund_rules_are_validated(make, field, overrides):
    with pytest.raises(ValidationFailed) as failed:
        admin.create_fund(None, fund_input(**overrides))
    assert field in failed.value.fields


def test_fund_rules_change_only_until_someone_bids(make):
    fund = admin.create_fund(None, fund_input(requires_partner_endorsement=False))
    admin.update_fund(None, fund, fund_input(budget_pence=60_000_00, requires_partner_endorsement=False))
    assert fund.budget_pence == 60_000_00
    make.application("draft", fund=fund)
    assert admin.fund_has_bids(fund)
    with pytest.raises(InvalidTransition):
        admin.update_fund(None, fund, fund_input(budget_pence=1_00, max_award_pence=None))
    db.session.expire_all()
    assert fund.budget_pence == 60_000_00


# ------------------------------------------------------------------------------ schools


def test_school_urn_is_six_digits_and_unique(make):
    admin.create_school(None, admin.SchoolInput(urn="137101", name="Upton Lea Primary"))
    with pytest.raises(Conflict) as conflict:
        admin.create_school(None, admin.SchoolInput(urn="137101", name="Another"))
    assert conflict.value.code == "duplicate_urn"
    for urn in ("12345", "1234567", "12AB56"):
        with pytest.raises(ValidationFailed) as failed:
            admin.create_school(None, admin.SchoolInput(urn=urn, name="Bad"))
        assert "urn" in failed.value.fields


def test_admin_marks_a_school_as_causing_concern(make):
    school = make.school()
    admin.set_causing_concern(make.user("admin"), school, True)
    db.session.expire_all()
    assert school.causing_concern is True
    with pytest.raises(NotPermitted):
        admin.set_causing_concern(make.liaison(), school, False)


# -------------------------------------------------------------------------------- users


def test_admin_creates_a_headteacher_of_a_school(make):
    school = make.school()
    user = admin.create_user(
        None,
        admin.UserInput(
            " Head@School.Test ", "Hana Head", ["headteacher"], "long-enough-password", school.urn
        ),
    )
    assert user.email == "head@school.test"
    assert user.roles == ["headteacher"] and user.school_id == school.id
    assert user.password_hash != "long-enough-password"


@pytest.mark.parametrize(
    ("field", "data"),
    [
        ("email", {"email": "not-an-email"}),
        ("name", {"name": ""}),
        ("roles", {"roles": []}),
        ("roles", {"roles": ["superuser"]}),
        ("school_urn", {"roles": ["headteacher"], "school_urn": None}),
        ("school_urn", {"roles": ["auditor"], "school_urn": "999999"}),
        ("password", {"password": "short"}),
    ],
)
def test_user_details_are_validated(make, field, data):
    values = {
        "email": "new@example.test",
        "name": "New Person",
        "roles": ["auditor"],
        "password": "long-enough-password",
    }
    values.update(data)
    with pytest.raises(ValidationFailed) as failed:
        admin.create_user(None, admin.UserInput(**values))
    assert field in failed.value.fields


def test_one_account_per_email(make):
    make.user("auditor", email="audrey@example.test")
    with pytest.raises(Conflict) as conflict:
        admin.create_user(
            None, admin.UserInput("AUDREY@example.test", "A", ["auditor"], "long-enough-password")
        )
    assert conflict.value.code == "duplicate_email"


def test_deactivating_a_user_signs_them_out_revokes_their_tokens_and_keeps_the_row(make):
    from fundflow.services import auth

    officer = make.liaison()
    session = auth.start_session(officer)
    token = auth.issue_token(officer)
    admin.update_user(make.user("admin"), officer, roles=["liaison_officer"], school_urn=None, active=False)
    assert officer.active is False
    assert db.session.get(type(officer), officer.id) is officer
    admin.update_user(None, officer, roles=["liaison_officer"], school_urn=None, active=True)
    # reactivated, the account's old session and token stay dead
    assert auth.user_for_session(officer.id, session) is None
    assert auth.user_for_token(token) is None


def test_admin_cannot_remove_own_admin_access(make):
    me = make.user("admin")
    with pytest.raises(ValidationFailed) as failed:
        admin.update_user(me, me, roles=["auditor"], school_urn=None, active=True)
    assert "roles" in failed.value.fields
    with pytest.raises(ValidationFailed):
        admin.update_user(me, me, roles=["admin"], school_urn=None, active=False)


@pytest.mark.parametrize("other", ["liaison_officer", "finance"])
def test_administrator_cannot_also_decide_or_pay(make, other):
    admin_service = admin
    with pytest.raises(ValidationFailed) as refused:
        admin_service.create_user(
            None,
            admin_service.UserInput(
                email="both@example.test",
                name="Both",
                roles=["admin", other],
                password="long-enough-password",
            ),
        )
    assert "roles" in refused.value.fields
    admin_user = make.user("admin")
    with pytest.raises(ValidationFailed):
        admin_service.update_user(
            admin_user, admin_user, roles=["admin", other], school_urn=None, active=True
        )
