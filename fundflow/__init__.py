"""fundflow: a local school improvement fund, from bid to impact."""

from __future__ import annotations

import io
from pathlib import Path
from typing import IO, Any

from flask import Flask
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy import event

from config import Config, config_from_environment

from .extensions import csrf, db, login_manager, migrate

ROOT = Path(__file__).resolve().parent.parent


def create_app(config: type[Config] | dict[str, Any] | str | None = None) -> Flask:
    """Build the app. ``config`` is a settings class, a mode name, or a dict of overrides
    applied on top of the mode named by ``FUNDFLOW_ENV``."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=None,  # assets are served by the main blueprint (fundflow/main/routes.py)
        instance_path=str(ROOT / "instance"),
    )
    load_config(app, config)
    register_templates(app)
    register_upload_limits(app)
    register_request_guard(app)
    register_double_submit_guard(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_security_headers(app)
    return app


def load_config(app: Flask, config: type[Config] | dict[str, Any] | str | None) -> None:
    from config import CONFIGS

    if isinstance(config, str):
        app.config.from_object(CONFIGS[config])
    elif isinstance(config, type):
        app.config.from_object(config)
    else:
        app.config.from_object(config_from_environment())
        if isinstance(config, dict):
            app.config.update(config)
    if not app.config.get("SECRET_KEY"):
        raise RuntimeError(
            "SECRET_KEY is not set. In production set SECRET_KEY to a long random value "
            "(for example: python -c 'import secrets; print(secrets.token_hex(32))')."
        )
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    if uri.startswith("postgres://"):
        uri = "postgresql+psycopg://" + uri[len("postgres://") :]
    elif uri.startswith("postgresql://"):
        uri = "postgresql+psycopg://" + uri[len("postgresql://") :]
    app.config["SQLALCHEMY_DATABASE_URI"] = uri
    if uri.startswith("postgresql"):
        # No JIT compilation: the reports' statements are estimated dear (a JSON list's items
        # are guessed at 100 rows each), and compiling them took 0.3 to 1.5 s each, far
        # longer than running them (tens of milliseconds at 100,000 bids).
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        connect_args = dict(options.get("connect_args") or {})
        connect_args.setdefault("options", "-c jit=off")
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = {**options, "connect_args": connect_args}
    if uri.startswith("sqlite"):
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options.pop("pool_pre_ping", None)
        options.setdefault("connect_args", {"timeout": 30, "check_same_thread": False})
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def register_templates(app: Flask) -> None:
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(ROOT / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    from govuk_frontend_wtf.main import WTFormsHelpers

    from . import formatting

    WTFormsHelpers(app)
    formatting.init_app(app)


def _serialise_sqlite_writes(engine) -> None:
    """SQLite: take the write lock at BEGIN so read-then-write checks can't interleave.

    PostgreSQL gets the same guarantee from row locks (``SELECT … FOR UPDATE``).
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA foreign_keys=ON")

    @event.listens_for(engine, "begin")
    def _begin(connection):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def register_extensions(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            _serialise_sqlite_writes(db.engine)
    from .auth.session import init_login

    init_login(app)


#: The site forms that take an evidence file (the API takes evidence as base64 in JSON).
EVIDENCE_UPLOAD_ENDPOINTS = frozenset({"headteacher.new_claim", "headteacher.new_report"})


class _CappedFile(io.BytesIO):
    """Where an uploaded file is written while its form is read: keeps the first ``cap``
    bytes and drops the rest, so a file over the limit costs no more memory than one at it."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def write(self, data: bytes | bytearray | memoryview) -> int:  # type: ignore[override]
        room = self.cap - self.tell()
        if room > 0:
            super().write(bytes(data[:room]))
        return len(data)


def register_upload_limits(app: Flask) -> None:
    """Requests are capped at MAX_CONTENT_LENGTH, but two kinds of form are larger.

    - The national GIAS file is about 60 MB (``GIAS_MAX_UPLOAD_BYTES``).
    - The forms with an evidence file (:data:`EVIDENCE_UPLOAD_ENDPOINTS`: a headteacher's
      claim and impact report) are read whole up to ``UPLOAD_REQUEST_MAX_BYTES``,
      keeping only ``EVIDENCE_MAX_BYTES + 1`` bytes of each file: the evidence check then
      says "must be smaller than 5 MB" on the file field and the form keeps its other answers.
      Refusing before reading the body instead makes the server close the connection while
      the browser is still sending, and the browser shows "This site can't be reached".

    Both only for a signed-in user; every other request keeps MAX_CONTENT_LENGTH.
    Registered before CSRF, which reads the form first.
    """
    from flask import request, session

    class UploadRequest(app.request_class):  # type: ignore[name-defined,misc]
        #: Bytes kept of each uploaded file; None keeps everything (werkzeug's default).
        file_cap: int | None = None

        def _get_file_stream(
            self,
            total_content_length: int | None,
            content_type: str | None,
            filename: str | None = None,
            content_length: int | None = None,
        ) -> IO[bytes]:
            if self.file_cap is not None:
                return _CappedFile(self.file_cap)
            return super()._get_file_stream(total_content_length, content_type, filename, content_length)

    app.request_class = UploadRequest

    @app.before_request
    def _upload_limits() -> None:
        # Only someone signed in (the signed session cookie names a user: no database
        # query here) gets a larger limit; anyone else's request over MAX_CONTENT_LENGTH is
        # refused before it is read. The views still check the session is live and the role.
        if request.method != "POST" or "_user_id" not in session:
            return
        if request.endpoint == "admin.import_schools":
            request.max_content_length = app.config["GIAS_MAX_UPLOAD_BYTES"]
        elif request.endpoint in EVIDENCE_UPLOAD_ENDPOINTS and request.mimetype == "multipart/form-data":
            request.max_content_length = app.config["UPLOAD_REQUEST_MAX_BYTES"]
            request.file_cap = app.config["EVIDENCE_MAX_BYTES"] + 1  # type: ignore[attr-defined]


def register_request_guard(app: Flask) -> None:
    """Control characters are refused before anything reads the request (after the upload
    limit is set, before CSRF reads the form)."""
    from .request_guard import init_app

    init_app(app)


def register_double_submit_guard(app: Flask) -> None:
    """A form sent twice is recorded once. Its request hooks come after the upload limit
    and the control-character guard (the form is read; neither touches the database) and
    before all others (the signed-in user is loaded in the guarded transaction)."""
    from .forms import init_app

    init_app(app)


def register_blueprints(app: Flask) -> None:
    from .blueprints import register

    register(app)


def register_errorhandlers(app: Flask) -> None:
    from .errors import init_app

    init_app(app)


def register_commands(app: Flask) -> None:
    from .cli import fundflow_cli

    app.cli.add_command(fundflow_cli)


def register_security_headers(app: Flask) -> None:
    from .security import init_app

    init_app(app)
