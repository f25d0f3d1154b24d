"""Settings for fundflow, read from environment variables.

Every setting has a safe development default except ``SECRET_KEY``, which must be given
in production: the app refuses to start without it.
"""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent
INSTANCE_DIR = BASE_DIR / "instance"

DEVELOPMENT_SECRET = "development-only-secret-key-do-not-use-in-production"


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    """Base settings shared by every mode."""

    ENV_NAME = "production"
    TESTING = False
    DEBUG = False
    SECRET_KEY = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'fundflow.sqlite3'}")
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    WTF_CSRF_ENABLED = True
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    REMEMBER_COOKIE_HTTPONLY = True
    MAX_CONTENT_LENGTH = _int("MAX_UPLOAD_BYTES", 5 * 1024 * 1024) + 64 * 1024
    EVIDENCE_MAX_BYTES = _int("EVIDENCE_MAX_BYTES", 5 * 1024 * 1024)
    # A signed-in user's evidence form (claim, impact report) may be this large: the server
    # reads it all (keeping at most EVIDENCE_MAX_BYTES + 1 bytes of each file) so it can answer
    # "too large" on the form. Every other request is refused unread over MAX_CONTENT_LENGTH.
    UPLOAD_REQUEST_MAX_BYTES = _int("UPLOAD_REQUEST_MAX_BYTES", 50 * 1024 * 1024)
    GIAS_MAX_UPLOAD_BYTES = _int("GIAS_MAX_UPLOAD_BYTES", 128 * 1024 * 1024)
    REFERENCE_PREFIX = os.environ.get("FUNDFLOW_REFERENCE_PREFIX", "LSIF")
    # Sign-in throttling: failures allowed per account and per address within the window.
    LOGIN_WINDOW_SECONDS = _int("LOGIN_WINDOW_SECONDS", 15 * 60)
    LOGIN_MAX_FAILURES_PER_ACCOUNT = _int("LOGIN_MAX_FAILURES_PER_ACCOUNT", 5)
    LOGIN_MAX_FAILURES_PER_ADDRESS = _int("LOGIN_MAX_FAILURES_PER_ADDRESS", 50)
    # A browser that has signed in to an account before carries a signed device cookie for it;
    # its failures count against that browser only, so strangers' guesses never lock it out.
    LOGIN_MAX_FAILURES_PER_DEVICE = _int("LOGIN_MAX_FAILURES_PER_DEVICE", 5)
    DEVICE_COOKIE_DAYS = _int("DEVICE_COOKIE_DAYS", 90)
    # A signed-in session ends on sign-out, on a password change elsewhere, or after this long.
    SESSION_LIFETIME_HOURS = _int("SESSION_LIFETIME_HOURS", 12)
    # How long an account's one-time set-password link works.
    SET_PASSWORD_LINK_HOURS = _int("SET_PASSWORD_LINK_HOURS", 72)
    # Publishing: 360Giving and the Local Government Transparency Code.
    GRANTNAV_PREFIX = os.environ.get("FUNDFLOW_360G_PREFIX", "360G-fundflow-")
    FUNDER_ORG_ID = os.environ.get("FUNDFLOW_FUNDER_ORG_ID", "GB-LAE-SLG")
    FUNDER_ORG_NAME = os.environ.get("FUNDFLOW_FUNDER_ORG_NAME", "Slough Borough Council")
    #: The short name of the first organisation (made from the two settings above and
    #: REFERENCE_PREFIX by the migration that introduced organisations, or on first use).
    FUNDER_ORG_SLUG = os.environ.get("FUNDFLOW_FUNDER_ORG_SLUG", "slough")
    TRANSPARENCY_THRESHOLD_PENCE = _int("FUNDFLOW_TRANSPARENCY_THRESHOLD_PENCE", 50_000)
    # Who runs the fund, named on the contact page, the privacy notice and the accessibility
    # statement (the council itself is FUNDER_ORG_NAME).
    CONTACT_TEAM = os.environ.get("FUNDFLOW_CONTACT_TEAM", "School Improvement Fund team")
    CONTACT_EMAIL = os.environ.get("FUNDFLOW_CONTACT_EMAIL", "fund-team@example.gov.uk")
    CONTACT_PHONE = os.environ.get("FUNDFLOW_CONTACT_PHONE", "")  # empty: no telephone shown
    DATA_PROTECTION_EMAIL = os.environ.get("FUNDFLOW_DATA_PROTECTION_EMAIL", "data-protection@example.gov.uk")
    PER_PAGE = 20
    # The service's own address, for links in emails (a request's address when unset).
    SERVICE_URL = os.environ.get("FUNDFLOW_SERVICE_URL", "")
    # Email. GOV.UK Notify when NOTIFY_API_KEY and NOTIFY_TEMPLATE_ID are set (it wins);
    # else SMTP when SMTP_HOST is set; else (development) messages are written to the log.
    SMTP_HOST = os.environ.get("SMTP_HOST", "")
    SMTP_PORT = _int("SMTP_PORT", 587)
    SMTP_USERNAME = os.environ.get("SMTP_USERNAME", "")
    SMTP_PASSWORD = os.environ.get("SMTP_PASSWORD", "")
    SMTP_STARTTLS = _bool("SMTP_STARTTLS", True)
    SMTP_TIMEOUT_SECONDS = _int("SMTP_TIMEOUT_SECONDS", 30)
    MAIL_FROM = os.environ.get("MAIL_FROM", "fundflow@localhost")
    NOTIFY_API_KEY = os.environ.get("NOTIFY_API_KEY", "")
    NOTIFY_TEMPLATE_ID = os.environ.get("NOTIFY_TEMPLATE_ID", "")
    NOTIFY_BASE_URL = os.environ.get("NOTIFY_BASE_URL", "https://api.notifications.service.gov.uk")
    # The sender: how many emails one run leases at a time, for how long, and how often a
    # failing one is tried before it is marked failed.
    OUTBOX_BATCH_SIZE = _int("OUTBOX_BATCH_SIZE", 50)
    OUTBOX_LEASE_SECONDS = _int("OUTBOX_LEASE_SECONDS", 300)
    OUTBOX_MAX_ATTEMPTS = _int("OUTBOX_MAX_ATTEMPTS", 8)
    # The daily digest goes out from this hour, UK time.
    DIGEST_HOUR = _int("DIGEST_HOUR", 7)
    # "Forgotten your password?": how long its link works, and how many requests are taken
    # per address typed and per network address within the window.
    RESET_PASSWORD_LINK_MINUTES = _int("RESET_PASSWORD_LINK_MINUTES", 60)
    PASSWORD_RESET_WINDOW_SECONDS = _int("PASSWORD_RESET_WINDOW_SECONDS", 60 * 60)
    PASSWORD_RESET_MAX_PER_ACCOUNT = _int("PASSWORD_RESET_MAX_PER_ACCOUNT", 3)
    PASSWORD_RESET_MAX_PER_ADDRESS = _int("PASSWORD_RESET_MAX_PER_ADDRESS", 20)


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    DEBUG = False
    SECRET_KEY = os.environ.get("SECRET_KEY") or DEVELOPMENT_SECRET
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", False)


class TestConfig(Config):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-secret-key"
    SQLALCHEMY_DATABASE_URI = os.environ.get("TEST_DATABASE_URL", "sqlite://")
    WTF_CSRF_ENABLED = False
    SESSION_COOKIE_SECURE = False
    PASSWORD_HASH_METHOD = "pbkdf2:sha256:1000"  # fast for tests only


class ProductionConfig(Config):
    ENV_NAME = "production"


CONFIGS = {
    "development": DevelopmentConfig,
    "test": TestConfig,
    "testing": TestConfig,
    "production": ProductionConfig,
}


def config_from_environment() -> type[Config]:
    """The settings class named by ``FUNDFLOW_ENV``.

    The default is development so that a fresh checkout's commands work as the README says;
    a deployment sets ``FUNDFLOW_ENV=production``, which refuses to start without
    ``SECRET_KEY``.
    """
    name = os.environ.get("FUNDFLOW_ENV", "development").strip().lower()
    try:
        return CONFIGS[name]
    except KeyError as exc:
        raise RuntimeError(f"FUNDFLOW_ENV={name!r} is not one of {', '.join(sorted(CONFIGS))}") from exc
