"""Email choices: for each kind of message that can reach a person's roles, email it at once
or put it in the daily email. Messages always appear on the site either way."""

from __future__ import annotations

import html
import re

import pytest

from fundflow.extensions import db
from fundflow.models import Notification, OutboundEmail, User
from fundflow.services import inbox
from fundflow.services.errors import ValidationFailed
from fundflow.services.notifications import MESSAGE_KINDS, Message, notify

HEADTEACHER_KINDS = [
    "endorsement_requested",
    "endorsement_declined",
    "changes_requested",
    "bid_approved",
    "bid_rejected",
    "award_cancelled",
    "claim_verified",
    "claim_rejected",
    "claim_paid",
    "payment_reversed",
    "due_soon",
    "due_today",
    "overdue",
]
LIAISON_KINDS = ["bid_submitted", "countersign_needed", "overdue_escalated"]


def page_text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def all_at_once(kinds: list[str]) -> dict[str, str]:
    return {kind: "immediate" for kind in kinds}


def test_each_role_is_offered_the_kinds_of_message_it_can_be_sent(make):
    assert inbox.kinds_for(make.headteacher()) == HEADTEACHER_KINDS
    assert inbox.kinds_for(make.liaison()) == LIAISON_KINDS
    seconded = make.liaison(school=make.school())  # a headteacher who is also a liaison officer
    assert set(inbox.kinds_for(seconded)) == set(HEADTEACHER_KINDS + LIAISON_KINDS)
    assert inbox.kinds_for(make.user("finance")) == ["claim_to_pay"]
    assert inbox.kinds_for(make.user("auditor")) == ["payment_reversed"]
    assert inbox.kinds_for(make.user("admin")) == []  # failed emails are shown on the site only


def test_the_page_shows_radios_for_each_kind_labelled_as_in_the_message_list(client, auth, make):
    liaison = make.liaison()
    auth.login(liaison)
    page = page_text(client.get("/account/notifications"))
    for kind in LIAISON_KINDS:
        assert MESSAGE_KINDS[kind] in page
        assert f'name="{kind}" type="radio" value="digest"' in page
    assert MESSAGE_KINDS["bid_approved"] not in page
    assert page.count("Email me at once") == 3
    assert page.count("Put it in my daily email at 7am") == 3
    assert "on this site, whatever you choose here" in page


def test_a_headteacher_chooses_the_daily_email_for_some_kinds(client, auth, make):
    head = make.headteacher()
    auth.login(head)
    choices = all_at_once(HEADTEACHER_KINDS) | {"due_soon": "digest", "claim_paid": "digest"}
    response = client.post("/account/notifications", data=choices)
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, head.id).notification_preferences == {
        "claim_paid": "digest",
        "due_soon": "digest",
    }
    page = client.get("/account/notifications").get_data(as_text=True)
    assert "Your email choices are saved" in page
    assert re.search(r'name="due_soon" type="radio" value="digest" checked', page)
    assert re.search(r'name="bid_approved" type="radio" value="immediate" checked', page)


def test_choosing_email_at_once_again_clears_the_daily_choice(client, auth, make):
    liaison = make.liaison()
    inbox.save_preferences(liaison, all_at_once(LIAISON_KINDS) | {"bid_submitted": "digest"})
    auth.login(liaison)
    client.post("/account/notifications", data=all_at_once(LIAISON_KINDS))
    db.session.expire_all()
    assert db.session.get(User, liaison.id).notification_preferences == {}


def test_a_missing_or_unknown_choice_is_shown_on_its_field_and_nothing_is_saved(client, auth, make):
    liaison = make.liaison()
    auth.login(liaison)
    choices = all_at_once(LIAISON_KINDS) | {"countersign_needed": "weekly"}
    del choices["overdue_escalated"]
    response = client.post("/account/notifications", data=choices | {"bid_submitted": "digest"})
    assert response.status_code == 422
    page = page_text(response)
    assert "There is a problem" in page
    assert "Choose how to be told: a large award waits for a countersignature" in page
    assert "Choose how to be told: a report is more than 14 days late (liaison officers)" in page
    db.session.expire_all()
    assert db.session.get(User, liaison.id).notification_preferences == {}


def test_the_service_refuses_kinds_not_offered_to_the_person(make):
    liaison = make.liaison()
    with pytest.raises(ValidationFailed) as refused:
        inbox.save_preferences(liaison, all_at_once(LIAISON_KINDS) | {"claim_paid": "digest"})
    assert set(refused.value.fields) == {"claim_paid"}


def test_roles_sent_no_messages_are_told_there_is_nothing_to_choose(client, auth, make):
    auth.login(make.user("admin"))
    page = page_text(client.get("/account/notifications"))
    assert "Your role is not sent messages about bids, so there is nothing to choose." in page
    assert 'type="radio"' not in page


def test_a_kind_put_in_the_daily_email_still_appears_on_the_site_but_is_not_emailed_at_once(make):
    liaison = make.liaison()
    inbox.save_preferences(liaison, all_at_once(LIAISON_KINDS) | {"bid_submitted": "digest"})
    notify([liaison], Message("bid_submitted", "Bid in", "Look", "/liaison/"))
    notify([liaison], Message("countersign_needed", "Countersign", "Look", "/liaison/"))
    db.session.commit()
    rows = {n.kind: n for n in Notification.query.filter_by(user_id=liaison.id)}
    assert rows["bid_submitted"].delivery == "digest" and rows["bid_submitted"].email_id is None
    assert rows["countersign_needed"].email_id is not None
    assert [e.kind for e in OutboundEmail.query.filter_by(user_id=liaison.id)] == ["countersign_needed"]
