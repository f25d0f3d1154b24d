"""Every blueprint, registered in one place. One blueprint per role, plus auth, the
shared pages and the JSON API."""

from __future__ import annotations

import importlib

from flask import Flask

#: (module, attribute) of each blueprint; a module missing here is not served.
BLUEPRINTS = [
    ("fundflow.main.routes", "bp"),
    ("fundflow.auth.routes", "bp"),
    ("fundflow.headteacher.routes", "bp"),
    ("fundflow.liaison.routes", "bp"),
    ("fundflow.finance.routes", "bp"),
    ("fundflow.auditor.routes", "bp"),
    ("fundflow.admin.routes", "bp"),
    ("fundflow.api", "bp"),
]

#: Where each role lands after signing in, first match wins.
HOME_FOR_ROLE = [
    ("liaison_officer", "liaison.queue"),
    ("headteacher", "headteacher.dashboard"),
    ("finance", "finance.claims"),
    ("auditor", "auditor.applications"),
    ("admin", "admin.users"),
]


def register(app: Flask) -> None:
    for module_name, attribute in BLUEPRINTS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name and not module_name.startswith(str(exc.name)):
                raise
            continue
        app.register_blueprint(getattr(module, attribute))
