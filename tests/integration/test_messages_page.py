"""Every person's messages on the site: the list (newest first, paginated, unread tagged),
marking one or all read, the count in the menu and the messages panel on the home pages.
Each person only ever sees and marks their own."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import select

from fundflow.extensions import db
from fundflow.models import Notification
from fundflow.services.notifications import Message, notify


def send(
    user, subject: str = "Bid submitted", body: str = "Please look.", link: str = "/liaison/"
) -> Notification:
    [row] = notify([user], Message("bid_submitted", subject, body, link))
    db.session.commit()
    return row


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


@pytest.fixture
def liaison(make):
    return make.liaison()


def test_a_person_sees_their_messages_newest_first_with_an_unread_tag(client, auth, liaison):
    send(liaison, "First message")
    send(liaison, "Second message")
    auth.login(liaison)
    page = text(client.get("/messages"))
    assert page.index("Second message") < page.index("First message")
    assert page.count(">Unread</strong>") == 2
    assert "You have 2 unread messages." in page
    assert "Messages (2)" in page


def test_a_message_body_keeps_its_line_breaks_as_plain_text(client, auth, liaison):
    send(liaison, body="Changes asked:\n\n<b>Say more</b>\nabout the need.")
    auth.login(liaison)
    page = client.get("/messages").get_data(as_text=True)
    assert "&lt;b&gt;Say more&lt;/b&gt;<br>about the need." in page
    assert "<b>Say more" not in page


def test_each_message_links_to_the_page_to_act_on(client, auth, liaison):
    send(liaison, "Review LSIF-1", link="/liaison/bids/LSIF-1")
    auth.login(liaison)
    page = client.get("/messages").get_data(as_text=True)
    assert re.search(
        r'href="/liaison/bids/LSIF-1">Go to the page<span class="govuk-visually-hidden"> for: Review LSIF-1',
        page,
    )


def test_marking_a_message_read_removes_its_tag_and_its_button(client, auth, liaison):
    message = send(liaison, "Read me")
    auth.login(liaison)
    response = client.post(f"/messages/{message.id}/read")
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(Notification, message.id).read_at is not None
    page = text(client.get("/messages"))
    assert "Marked as read: Read me" in page
    assert ">Unread</strong>" not in page
    assert "Mark as read" not in page
    assert "You have no unread messages." in page


def test_mark_all_as_read_marks_only_the_persons_own_messages(client, auth, make, liaison):
    other = make.liaison()
    for n in range(3):
        send(liaison, f"Mine {n}")
    theirs = send(other, "Theirs")
    auth.login(liaison)
    assert client.post("/messages/read").status_code == 303
    db.session.expire_all()
    unread = db.session.execute(select(Notification).where(Notification.read_at.is_(None))).scalars().all()
    assert [n.id for n in unread] == [theirs.id]
    assert "3 messages marked as read" in text(client.get("/messages"))


def test_nobody_sees_or_marks_another_persons_message(client, auth, make, liaison):
    other = make.liaison()
    theirs = send(other, "Private to them")
    auth.login(liaison)
    assert "Private to them" not in client.get("/messages").get_data(as_text=True)
    assert client.post(f"/messages/{theirs.id}/read").status_code == 404
    assert client.post("/messages/2147483647/read").status_code == 404
    db.session.expire_all()
    assert db.session.get(Notification, theirs.id).read_at is None


def test_messages_are_paginated(client, auth, app, liaison):
    app.config["PER_PAGE"] = 2
    for n in range(5):
        send(liaison, f"Message number {n}")
    auth.login(liaison)
    first = text(client.get("/messages"))
    assert "Message number 4" in first and "Message number 3" in first
    assert "Message number 2" not in first
    last = text(client.get("/messages?page=3"))
    assert "Message number 0" in last and "Message number 1" not in last


def test_signed_out_people_are_sent_to_sign_in(client, liaison):
    message = send(liaison)
    assert client.get("/messages").status_code == 302
    assert client.post(f"/messages/{message.id}/read").status_code == 302
    assert client.post("/messages/read").status_code == 302


def test_a_submitted_bid_reaches_the_liaison_officers_messages(client, auth, make, liaison):
    application = make.application("submitted")
    auth.login(liaison)
    page = text(client.get("/messages"))
    assert f"Bid {application.reference} submitted" in page
    assert f'href="/liaison/bids/{application.reference}"' in client.get("/messages").get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "home"), [("finance", "/finance/"), ("auditor", "/auditor/"), ("admin", "/admin/")]
)
def test_the_home_pages_of_finance_auditors_and_admins_show_the_messages_panel(
    client, auth, make, role, home
):
    user = make.user(role)
    for n in range(5):
        send(user, f"Panel message {n}", link=f"/somewhere/{n}")
    auth.login(user)
    page = text(client.get(home))
    assert '<h2 class="govuk-heading-m" id="messages-panel-heading">Messages</h2>' in page
    assert "You have 5 unread messages." in page
    for n in (4, 3, 2):  # the latest three
        assert f'<a class="govuk-link" href="/somewhere/{n}">Panel message {n}</a>' in page
    assert "Panel message 1" not in page
    assert 'href="/messages">See all your messages</a>' in page


def test_the_menu_shows_messages_to_everyone_signed_in(client, auth, make):
    user = make.user("auditor")
    auth.login(user)
    page = text(client.get("/auditor/"))
    assert '<a class="govuk-service-navigation__link" href="/messages"' in page
    assert "Messages (" not in page  # nothing unread: no count


def test_the_menu_and_panel_read_the_inbox_once_per_page(client, auth, make, count_queries):
    user = make.user("finance")
    for n in range(4):
        send(user, f"Counted {n}")
    auth.login(user)
    db.session.commit()
    with count_queries() as statements:
        assert client.get("/finance/").status_code == 200
    inbox_reads = [s for s in statements if "FROM notifications" in s]
    assert len(inbox_reads) == 1


def test_an_admin_has_email_delivery_in_the_menu_marked_current_on_its_own_page(client, auth, make):
    auth.login(make.user("admin"))
    page = client.get("/admin/email-delivery").get_data(as_text=True)
    current = re.findall(r'<a class="govuk-service-navigation__link" href="([^"]+)" aria-current', page)
    assert current == ["/admin/email-delivery"]
    users = client.get("/admin/").get_data(as_text=True)
    assert re.findall(r'href="([^"]+)" aria-current="page"', users)[:1] == ["/admin/"]
