"""Every blueprint, registered in one place. One blueprint per role, plus auth, the
shared pages, each person's own pages (account), the oversight pages liaison
officers, finance and auditors share, and the JSON API."""

from __future__ import annotations

from flask import Flask

from .account.routes import bp as account
from .admin.routes import bp as admin
from .api import bp as api
from .auditor.routes import bp as auditor
from .auth.routes import bp as auth
from .finance.routes import bp as finance
from .headteacher.routes import bp as headteacher
from .liaison.routes import bp as liaison
from .main.routes import bp as main
from .oversight.routes import bp as oversight
from .service_admin.routes import bp as service_admin

BLUEPRINTS = (
    main,
    auth,
    account,
    headteacher,
    liaison,
    finance,
    auditor,
    oversight,
    admin,
    service_admin,
    api,
)


def register(app: Flask) -> None:
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
