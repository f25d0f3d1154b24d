"""A signed-in person's own pages, whatever their role: their messages (newest first, marked
read one at a time or all at once), how each kind of message reaches them by email, and
the private link to their calendar feed. The feed itself is read with the link alone,
without signing in (a calendar program has no session), so it is the one page here open
to anyone holding a live link.

Each person sees and changes only their own: the services answer "not found" for anyone
else's message.
"""

from __future__ import annotations

from flask import Blueprint, Response, flash, g, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user

from ..extensions import login_manager
from ..forms import page_number, per_page, submit_form
from ..main.nav import INBOX_SUMMARY_KEY, inbox_summary
from ..services import calendar_feed as feeds
from ..services import inbox
from ..services.notifications import service_url
from ..services.queries import inbox as queries
from .forms import CalendarForm, notification_settings_form

bp = Blueprint("account", __name__)
bp.add_app_template_global(inbox_summary, "inbox_summary")


@bp.teardown_app_request
def _forget_inbox_summary(_exc: BaseException | None = None) -> None:
    """The summary is read once per request: never carried into the next one (a test client
    keeps one app context, and so one ``g``, across requests)."""
    g.pop(INBOX_SUMMARY_KEY, None)


#: The page anyone holding a live calendar link may read, signed in or not.
PUBLIC_ENDPOINTS = {"account.calendar_feed"}
#: Where a new calendar link waits, in the signed session cookie, between the POST that
#: made it and the page that shows it: popped when shown, so it is shown once.
_NEW_CALENDAR_LINK = "fundflow.new_calendar_link"
ICALENDAR = "text/calendar; charset=utf-8"


@bp.before_request
def _signed_in() -> ResponseReturnValue | None:
    """Every page but the feed needs someone signed in (a route added later can't forget it)."""
    if request.endpoint in PUBLIC_ENDPOINTS or current_user.is_authenticated:
        return None
    return login_manager.unauthorized()


# ----------------------------------------------------------------------------- messages


@bp.get("/messages")
def messages() -> ResponseReturnValue:
    pagination = queries.messages_page(current_user, page_number(), per_page())
    return render_template(
        "account/messages.html",
        pagination=pagination,
        references=queries.references(m.application_id for m in pagination.items),
    )


@bp.post("/messages/<int(min=1, max=2147483647):message_id>/read")
def mark_read(message_id: int) -> Response:
    message = inbox.mark_read(current_user, message_id)
    flash(f"Marked as read: {message.subject}", "success")
    return redirect(url_for("account.messages", page=page_number()), 303)


@bp.post("/messages/read")
def mark_all_read() -> Response:
    count = inbox.mark_all_read(current_user)
    flash(f"{count} message{'' if count == 1 else 's'} marked as read", "success")
    return redirect(url_for("account.messages"), 303)


# ------------------------------------------------------------------------- email choices


@bp.route("/account/notifications", methods=["GET", "POST"])
def notification_settings() -> ResponseReturnValue:
    current = {kind: inbox.delivery_of(current_user, kind) for kind in inbox.kinds_for(current_user)}
    form = notification_settings_form(current)
    outcome = submit_form(
        form,
        lambda choices: inbox.save_preferences(current_user, choices),
        form.choices_made,
        lambda choices: inbox.check_preferences(current_user, choices),
    )
    if outcome.done:
        flash("Your email choices are saved", "success")
        return redirect(url_for("account.notification_settings"), 303)
    return render_template("account/notification_settings.html", form=form), outcome.status


# ------------------------------------------------------------------------- calendar feed


def _change_calendar_link(choice: str | None) -> None:
    if choice == "make":
        token = inbox.make_calendar_link(current_user)
        session[_NEW_CALENDAR_LINK] = {"user_id": current_user.id, "token": token}
        flash("Your new calendar link is ready. Any link you made before has stopped working.", "success")
    else:
        inbox.turn_off_calendar_link(current_user)
        flash("Your calendar link is turned off. Calendars using it get no more updates.", "success")


def _new_link_address() -> str | None:
    """The feed's full address, once, right after it was made (only its hash is kept)."""
    waiting = session.pop(_NEW_CALENDAR_LINK, None) if request.method == "GET" else None
    if not isinstance(waiting, dict) or waiting.get("user_id") != current_user.id:
        return None
    return service_url() + url_for("account.calendar_feed", token=waiting["token"])


@bp.route("/account/calendar", methods=["GET", "POST"])
def calendar() -> ResponseReturnValue:
    form = CalendarForm()
    outcome = submit_form(form, _change_calendar_link, form.choice)
    if outcome.done:
        return redirect(url_for("account.calendar"), 303)
    page = render_template(
        "account/calendar.html",
        form=form,
        address=_new_link_address(),
        has_link=current_user.calendar_token_hash is not None,
    )
    return page, outcome.status, {"Cache-Control": "no-store"}


@bp.get("/calendar/<token>.ics")
def calendar_feed(token: str) -> Response:
    """The iCalendar feed behind a live link; any other link is "not found"."""
    return Response(
        feeds.feed_for_link(token),
        headers={
            "Content-Type": ICALENDAR,
            "Content-Disposition": 'inline; filename="fundflow.ics"',
            "X-Robots-Tag": "noindex, nofollow",
        },
    )
