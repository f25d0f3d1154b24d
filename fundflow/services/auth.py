"""Signing in, sessions, passwords, set-password links and API tokens.

Failed attempts are throttled per account (email) with a looser ceiling per address, as
DESIGN.md asks: colleagues share an office address. Attempts are counted in the database
so the limit holds across every worker.

A browser that has signed in to an account before carries a signed *device cookie* for it
(OWASP, "Slow Down Online Guessing Attacks with Device Cookies"). Attempts that come with a
valid device cookie for the account are counted for that browser only, and the password is
always checked: the right one signs in, however many wrong guesses came before from anyone,
that browser included; past LOGIN_MAX_FAILURES_PER_DEVICE its wrong guesses are answered
"too many failed attempts". So a stranger's five wrong guesses slow the stranger down but
cannot lock a colleague out of their own account, nor can the colleague's own typos.

Each signed-in browser has a server-side session (:class:`UserSession`): the signed session
cookie carries its random secret, the database keeps only the secret's hash. Signing out
deletes it, so a copy of the cookie stops working; changing or setting a password ends every
other session and revokes the API tokens; deactivating an account ends them all.

"Forgotten your password?" (:func:`request_password_reset`) emails a one-time reset link
through the outbox. Its answer never says whether an address has an account, and requests
are throttled per address typed and per network address, whether or not an account exists.
"""

from __future__ import annotations

import hashlib
import math
import secrets
import time
from datetime import timedelta
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import delete, func, select, text
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import (
    ApiToken,
    LoginAttempt,
    PasswordResetRequest,
    SetPasswordLink,
    User,
    UserSession,
    utcnow,
)
from . import access, audit, notifications
from .admin import check_password, hash_password, normalise_email
from .errors import AuthenticationFailed, NotFound, Problems, Throttled
from .sessions import end_access, hash_token
from .unit_of_work import retrying, transaction

# Compared against when the account does not exist, so timing does not reveal accounts.
_DUMMY_HASH = generate_password_hash("not-a-real-password-fundflow")


def _failures_since(*conditions: Any) -> int:
    window = timedelta(seconds=current_app.config["LOGIN_WINDOW_SECONDS"])
    return db.session.execute(
        select(func.count(LoginAttempt.id)).where(*conditions, LoginAttempt.at >= utcnow() - window)
    ).scalar_one()


def _wait() -> str:
    minutes = math.ceil(current_app.config["LOGIN_WINDOW_SECONDS"] / 60)
    return f"Wait {minutes} minute{'' if minutes == 1 else 's'} and try again"


def check_throttle(email: str, address: str) -> None:
    """Attempts without a trusted device cookie: per account, then (looser) per address."""
    config = current_app.config
    untrusted = LoginAttempt.device.is_(None)
    if _failures_since(untrusted, LoginAttempt.email == email) >= config["LOGIN_MAX_FAILURES_PER_ACCOUNT"]:
        raise Throttled(
            f"Too many failed attempts for this account. {_wait()}, "
            "or sign in from a browser you have signed in with before."
        )
    if (
        _failures_since(untrusted, LoginAttempt.address == address)
        >= config["LOGIN_MAX_FAILURES_PER_ADDRESS"]
    ):
        raise Throttled(f"Too many failed attempts from this address. {_wait()}.")


def check_device_throttle(device: str) -> None:
    """A wrong password from a trusted browser: only that browser's own failures count, and
    past the limit its wrong guesses are answered "too many" (the right password still works)."""
    if _failures_since(LoginAttempt.device == device) > current_app.config["LOGIN_MAX_FAILURES_PER_DEVICE"]:
        raise Throttled(f"Too many failed attempts from this browser. {_wait()}.")


@retrying
def authenticate(email: str, password: str, address: str, device_cookie: str | None = None) -> User:
    """The active user with these credentials, or AuthenticationFailed / Throttled.

    ``device_cookie`` is the browser's device cookie, if any (the API has none). When it is
    valid for this account the password is always checked: the right one signs in however
    many wrong guesses came before, and wrong ones are counted and throttled for that
    browser alone. Without it, the account's and the address's failures are checked first.
    """
    email = normalise_email(email)[:254]  # the column holds 254; a longer "email" counts by its start
    address = (address or "unknown")[:64]
    user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
    device = trusted_device(user, device_cookie)
    if not device:
        check_throttle(email, address)
    hashed = user.password_hash if user else _DUMMY_HASH
    valid = check_password_hash(hashed, password or "")
    if user is None or not valid or not user.active:
        with transaction():
            db.session.add(LoginAttempt(email=email, address=address, device=device))
        if device:
            check_device_throttle(device)
        raise AuthenticationFailed("Enter a correct email address and password")
    with transaction():
        # Success clears the failures of the way it came in: a trusted browser's own, or the
        # account's untrusted ones (a trusted browser signing in does not reset a stranger).
        if device:
            db.session.execute(delete(LoginAttempt).where(LoginAttempt.device == device))
        else:
            db.session.execute(
                delete(LoginAttempt).where(LoginAttempt.email == email, LoginAttempt.device.is_(None))
            )
    return user


# ------------------------------------------------------------------------ device cookies

#: How many accounts one browser's device cookie remembers (shared or seconded staff).
MAX_DEVICE_ENTRIES = 10


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="fundflow-device-cookie")


def _device_entries(cookie: str | None) -> list[tuple[int, str, int]]:
    """The (user id, nonce, issued at) entries of a genuine, signed device cookie."""
    if not cookie or len(cookie) > 4000:
        return []
    try:
        data = _device_serializer().loads(cookie)
    except BadSignature:
        return []
    oldest = time.time() - current_app.config["DEVICE_COOKIE_DAYS"] * 86400
    entries = []
    for entry in data if isinstance(data, list) else []:
        if (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], int)
            and isinstance(entry[1], str)
            and isinstance(entry[2], int)
            and entry[2] >= oldest
        ):
            entries.append((entry[0], entry[1], entry[2]))
    return entries


def trusted_device(user: User | None, cookie: str | None) -> str | None:
    """The device id (hash of the nonce) when ``cookie`` says this browser has signed in to
    ``user``'s account before and is still in date; None otherwise."""
    if user is None:
        return None
    for user_id, nonce, _issued in _device_entries(cookie):
        if user_id == user.id:
            return hash_token(nonce)
    return None


def device_cookie_after_sign_in(user: User, cookie: str | None) -> str:
    """The browser's new device cookie after ``user`` signed in: a fresh nonce for this
    account (OWASP: a new cookie on every success), the other accounts kept."""
    entries = [entry for entry in _device_entries(cookie) if entry[0] != user.id]
    entries.append((user.id, secrets.token_urlsafe(16), int(time.time())))
    return _device_serializer().dumps([list(entry) for entry in entries[-MAX_DEVICE_ENTRIES:]])


# ------------------------------------------------------------------------------ sessions


@retrying
def start_session(user: User) -> str:
    """A new server-side session for ``user``; returns the secret for the signed cookie.
    Sessions of ``user`` past their lifetime are cleared out at the same time."""
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with transaction():
        db.session.execute(
            delete(UserSession).where(UserSession.user_id == user.id, UserSession.expires_at <= now)
        )
        db.session.add(
            UserSession(
                user_id=user.id,
                token_hash=hash_token(token),
                expires_at=now + timedelta(hours=current_app.config["SESSION_LIFETIME_HOURS"]),
            )
        )
    user.session_token = token
    return token


def user_for_session(user_id: int, token: str) -> User | None:
    """The active user whose live session has this secret, or None."""
    if not token or len(token) > 200:
        return None
    live = db.session.execute(
        select(UserSession.id).where(
            UserSession.token_hash == hash_token(token),
            UserSession.user_id == user_id,
            UserSession.expires_at > utcnow(),
        )
    ).first()
    if live is None:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active:
        return None
    user.session_token = token
    return user


@retrying
def end_session(token: str | None) -> None:
    """Sign-out: the session is deleted, so no copy of its cookie works any more."""
    if not token:
        return
    with transaction():
        db.session.execute(delete(UserSession).where(UserSession.token_hash == hash_token(token)))


@retrying
def sign_out_everywhere(actor: User | None, user: User, keep_session: str | None = None) -> dict[str, int]:
    """End every session of ``user`` (but ``keep_session``) and revoke their API tokens."""
    if actor is not None and actor.id != user.id and not access.manages_user(actor, user):
        raise NotFound("No such user")
    with transaction():
        ended = end_access(user, keep_session)
        audit.record(actor, "sign_out_everywhere", user, payload={"email": user.email, **ended})
    return ended


@retrying
def change_password(user: User, current: str, new: str, keep_session: str | None = None) -> None:
    """Set a new password; every other session ends and the API tokens are revoked (the
    browser whose session secret is ``keep_session`` stays signed in)."""
    problems = Problems()
    if not check_password_hash(user.password_hash, current or ""):
        problems.add("current_password", "Your current password is not right")
    check_password(problems, new, "new_password")
    problems.raise_if_any()
    with transaction():
        user.password_hash = hash_password(new)
        ended = end_access(user, keep_session)
        audit.record(user, "change_password", user, payload={"email": user.email, **ended})


# --------------------------------------------------------------------- set-password links


def link_for(token: str) -> SetPasswordLink | None:
    """The live set-password link with this secret, for an active account, or None."""
    if not token or len(token) > 200:
        return None
    link = db.session.execute(
        select(SetPasswordLink).where(
            SetPasswordLink.token_hash == hash_token(token), SetPasswordLink.expires_at > utcnow()
        )
    ).scalar_one_or_none()
    if link is None or not link.user.active:
        return None
    return link


@retrying
def set_password_with_link(token: str, new: str) -> User:
    """The link's owner chooses a password. The link works once; every session of the
    account ends and its API tokens are revoked."""
    link = link_for(token)
    if link is None:
        raise NotFound("This link has expired or has already been used")
    problems = Problems()
    check_password(problems, new, "new_password")
    problems.raise_if_any()
    user = link.user
    with transaction():
        # Deleting by hash and counting the rows makes a link work once even when two
        # requests race with it.
        used = db.session.execute(
            delete(SetPasswordLink).where(SetPasswordLink.token_hash == hash_token(token))
        ).rowcount
        if used != 1:
            raise NotFound("This link has expired or has already been used")
        user.password_hash = hash_password(new)
        ended = end_access(user)
        audit.record(user, "set_password", user, payload={"email": user.email, **ended})
    return user


# --------------------------------------------------------- emailed links, forgotten passwords

#: The ``purpose`` of a set-password link made by "Forgotten your password?" (an
#: administrator's link is "new", the column's default).
RESET_LINK = "reset"


def is_reset_link(link: SetPasswordLink) -> bool:
    return link.purpose == RESET_LINK


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}{'' if count == 1 else 's'}"


def _set_password_url(token: str) -> str:
    """The full address of a set-password link, for an email."""
    return notifications.service_url() + notifications.page_path("auth.set_password", token=token)


def send_set_password_email(user: User, token: str) -> None:
    """Inside a transaction: email ``user`` the set-password link an administrator made for
    them (a new account's, or a replacement). It goes through the outbox, and its body (which
    holds the link) is blanked once sent."""
    hours = current_app.config["SET_PASSWORD_LINK_HOURS"]
    body = (
        f"Hello {user.name},\n\n"
        "A fund administrator has made a link for you to set your password for fundflow, "
        f"the school improvement fund service. It is for the account {user.email}.\n\n"
        "To choose your password, open this link:\n\n"
        f"{_set_password_url(token)}\n\n"
        f"The link works once, for {_plural(hours, 'hour')}. Then sign in with your email address "
        "and the password you chose. Choosing a password signs you out of fundflow everywhere else.\n\n"
        "If you were not expecting this email, tell your fund administrator.\n"
    )
    _queue_link_email(user, "set_password", "Set your password for fundflow", body)


def _send_reset_email(user: User, token: str, minutes: int) -> None:
    body = (
        f"Someone asked to reset the password for {user.email} on fundflow, "
        "the school improvement fund service.\n\n"
        "To choose a new password, open this link:\n\n"
        f"{_set_password_url(token)}\n\n"
        f"The link works once, for {_plural(minutes, 'minute')}. Choosing a new password signs you "
        "out of fundflow everywhere else.\n\n"
        "If you did not ask to reset your password, ignore this email: your password has not changed.\n"
    )
    _queue_link_email(user, "reset_password", "Reset your fundflow password", body)


def _queue_link_email(user: User, kind: str, subject: str, body: str) -> None:
    """An email holding a one-time link: sent at once, and blanked once sent."""
    notifications.queue_email(
        to_address=user.email, kind=kind, subject=subject, body=body, user_id=user.id, sensitive=True
    )


def _reset_requests_since(condition: Any) -> int:
    window = timedelta(seconds=current_app.config["PASSWORD_RESET_WINDOW_SECONDS"])
    return db.session.execute(
        select(func.count(PasswordResetRequest.id)).where(
            condition, PasswordResetRequest.at >= utcnow() - window
        )
    ).scalar_one()


def _reset_throttled(email: str, address: str) -> bool:
    """Too many requests in the window for this address typed, or from this network address."""
    config = current_app.config
    return (
        _reset_requests_since(PasswordResetRequest.email == email) >= config["PASSWORD_RESET_MAX_PER_ACCOUNT"]
        or _reset_requests_since(PasswordResetRequest.address == address)
        >= config["PASSWORD_RESET_MAX_PER_ADDRESS"]
    )


def _serialise_requests_for(email: str) -> None:
    """On PostgreSQL, requests for one typed address take turns (a transaction-scoped
    advisory lock, taken before anything else), so simultaneous requests cannot all pass the
    per-account count and flood someone's inbox. SQLite runs writers one at a time anyway."""
    if db.session.get_bind().dialect.name == "postgresql":
        digest = hashlib.sha256(f"fundflow.password_reset:{email}".encode()).digest()
        key = int.from_bytes(digest[:8], "big", signed=True)
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


def _forget_old_reset_requests(email: str, address: str) -> None:
    """Requests older than the window count for nothing: drop this address's and this
    email's, so the table holds only what throttling still reads."""
    before = utcnow() - timedelta(seconds=current_app.config["PASSWORD_RESET_WINDOW_SECONDS"])
    for condition in (PasswordResetRequest.email == email, PasswordResetRequest.address == address):
        db.session.execute(delete(PasswordResetRequest).where(condition, PasswordResetRequest.at < before))


@retrying
def request_password_reset(email: str, address: str) -> None:
    """A "Forgotten your password?" request: when ``email`` is an active account's, replace its
    set-password link with a reset link (``RESET_PASSWORD_LINK_MINUTES``) and queue an email
    with it, in one transaction.

    The caller learns nothing: no account, an inactive one and a throttled request all
    return the same None. Every request that is not throttled is counted, account or not,
    per address typed (``PASSWORD_RESET_MAX_PER_ACCOUNT``) and per network address
    (``PASSWORD_RESET_MAX_PER_ADDRESS``) within ``PASSWORD_RESET_WINDOW_SECONDS``; a
    throttled one records nothing. The email is only queued, never sent here, so the answer
    takes about as long either way. Simultaneous requests for one address take turns; the
    per-network-address count is not serialised, so a burst may pass it by a few.
    """
    email = normalise_email(email)[:254]  # the column holds 254, as for sign-in attempts
    address = (address or "unknown")[:64]
    with transaction():
        _serialise_requests_for(email)
        if _reset_throttled(email, address):
            return
        _forget_old_reset_requests(email, address)
        db.session.add(PasswordResetRequest(email=email, address=address))
        user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
        if user is None or not user.active:
            return
        minutes = current_app.config["RESET_PASSWORD_LINK_MINUTES"]
        db.session.execute(delete(SetPasswordLink).where(SetPasswordLink.user_id == user.id))
        token = secrets.token_urlsafe(32)
        db.session.add(
            SetPasswordLink(
                user_id=user.id,
                token_hash=hash_token(token),
                expires_at=utcnow() + timedelta(minutes=minutes),
                purpose=RESET_LINK,
            )
        )
        _send_reset_email(user, token, minutes)
        audit.record(None, "request_password_reset", user, payload={"email": user.email})


@retrying
def issue_token(user: User, name: str = "") -> str:
    """A new bearer token for ``user``; only its hash is kept, so show it once."""
    token = secrets.token_urlsafe(32)
    with transaction():
        row = ApiToken(user_id=user.id, token_hash=hash_token(token), name=name[:100])
        db.session.add(row)
        db.session.flush()
        audit.record(user, "issue_token", row, payload={"email": user.email, "name": row.name})
    return token


def user_for_token(token: str) -> User | None:
    """The active user a live token belongs to, or None."""
    if not token or len(token) > 200:
        return None
    row = db.session.execute(
        select(ApiToken).where(ApiToken.token_hash == hash_token(token))
    ).scalar_one_or_none()
    if row is None or row.revoked_at is not None or not row.user.active:
        return None
    return row.user


@retrying
def revoke_token(actor: User, token_id: int) -> None:
    row = db.session.get(ApiToken, token_id)
    if row is None or (row.user_id != actor.id and not actor.has_role("admin")):
        raise NotFound("No such token")
    with transaction():
        row.revoked_at = utcnow()
        audit.record(actor, "revoke_token", row, payload={"email": row.user.email})


@retrying
def revoke_all_tokens(actor: User | None, user: User) -> int:
    """Revoke every live token of ``user`` (a lost laptop, a leaver); returns how many."""
    rows = (
        db.session.execute(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None)))
        .scalars()
        .all()
    )
    with transaction():
        for row in rows:
            row.revoked_at = utcnow()
        audit.record(actor, "revoke_tokens", user, payload={"email": user.email, "revoked": len(rows)})
    return len(rows)


def user_by_email(email: str) -> User:
    user = db.session.execute(select(User).where(User.email == normalise_email(email))).scalar_one_or_none()
    if user is None:
        raise NotFound(f"No user {email}")
    return user
