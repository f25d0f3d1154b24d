"""fundflow: a local school improvement fund, from bid to impact."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def register_upload_limits(app: Flask) -> None:
    """Requests are capped at MAX_CONTENT_LENGTH (evidence is 5 MB), but the national GIAS
    file is about 60 MB. Registered before CSRF, which reads the form first."""
    from flask import request

    @app.before_request
    def _allow_large_school_imports() -> None:
        if request.endpoint == "admin.import_schools":
            request.max_content_length = app.config["GIAS_MAX_UPLOAD_BYTES"]


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
