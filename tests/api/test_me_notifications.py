"""``GET /api/v1/me/notifications`` and ``POST /api/v1/me/notifications/<id>/read``: the
caller's own messages, newest first, and marking one read. Nobody reaches another's."""

from __future__ import annotations

import pytest

from fundflow.extensions import db
from fundflow.models import Notification
from fundflow.services.notifications import Message, notify

from .conftest import PREFIX, error_of

FIELDS = {"id", "kind", "subject", "body", "link", "application_reference", "created_at", "read"}


def send(user, subject: str, application=None) -> Notification:
    message = Message(
        "bid_submitted", subject, "Line one\n\nLine two", "/liaison/", application.id if application else None
    )
    [row] = notify([user], message)
    db.session.commit()
    return row


@pytest.fixture
def officer(make):
    return make.liaison()


def test_the_caller_gets_their_own_messages_newest_first_with_the_unread_count(api, make, officer):
    application = make.application("draft")
    first = send(officer, "First", application)
    second = send(officer, "Second")
    send(make.liaison(), "Someone else's")
    response = api.get("/me/notifications", officer)
    assert response.status_code == 200
    body = response.get_json()
    assert {k: body[k] for k in ("page", "per_page", "total", "unread")} == {
        "page": 1,
        "per_page": 20,
        "total": 2,
        "unread": 2,
    }
    assert [item["id"] for item in body["items"]] == [second.id, first.id]
    item = body["items"][1]
    assert set(item) == FIELDS
    assert item == {
        **item,
        "kind": "bid_submitted",
        "subject": "First",
        "body": "Line one\n\nLine two",
        "link": "http://localhost/liaison/",
        "application_reference": application.reference,
        "read": False,
    }
    assert item["created_at"].endswith("+00:00")
    assert body["items"][0]["application_reference"] is None


def test_the_link_is_absolute_on_the_configured_service_address(api, app, officer):
    app.config["SERVICE_URL"] = "https://fundflow.example.gov.uk"
    send(officer, "Hello")
    item = api.get("/me/notifications", officer).get_json()["items"][0]
    assert item["link"] == "https://fundflow.example.gov.uk/liaison/"


def test_messages_are_paged(api, officer):
    for n in range(5):
        send(officer, f"Message {n}")
    body = api.get("/me/notifications?page=2&per_page=2", officer).get_json()
    assert [item["subject"] for item in body["items"]] == ["Message 2", "Message 1"]
    assert (body["total"], body["unread"]) == (5, 5)


def test_marking_a_message_read_answers_with_it_and_counts_down(api, officer):
    message = send(officer, "Read me")
    response = api.post(f"/me/notifications/{message.id}/read", officer)
    assert response.status_code == 200
    assert response.get_json()["read"] is True
    assert response.get_json()["id"] == message.id
    assert api.get("/me/notifications", officer).get_json()["unread"] == 0
    again = api.post(f"/me/notifications/{message.id}/read", officer)
    assert again.status_code == 200 and again.get_json()["read"] is True


def test_another_persons_message_is_not_found(api, make, officer):
    theirs = send(make.liaison(), "Private")
    response = api.post(f"/me/notifications/{theirs.id}/read", officer)
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_a_token_is_needed(client, officer):
    message = send(officer, "Hello")
    assert client.get(PREFIX + "/me/notifications").status_code == 401
    assert client.post(PREFIX + f"/me/notifications/{message.id}/read").status_code == 401


def test_the_openapi_document_describes_both_operations(client):
    document = client.get(PREFIX + "/openapi.json").get_json()
    listing = document["paths"][PREFIX + "/me/notifications"]["get"]
    assert listing["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/NotificationPage"
    }
    read = document["paths"][PREFIX + "/me/notifications/{notification_id}/read"]["post"]
    assert {"200", "401", "404"} <= set(read["responses"])
    schema = document["components"]["schemas"]["Notification"]
    assert set(schema["required"]) == FIELDS
    assert schema["properties"]["application_reference"]["type"] == ["string", "null"]
    assert "unread" in document["components"]["schemas"]["NotificationPage"]["required"]
