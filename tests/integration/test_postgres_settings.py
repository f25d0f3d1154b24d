"""How fundflow's PostgreSQL connections are set up."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from fundflow.extensions import db

pytestmark = pytest.mark.postgres


def test_postgresql_connections_run_without_jit_compilation(pg_app):
    """Compiling the reports' dear-looking statements took longer than running them."""
    assert db.session.execute(text("SHOW jit")).scalar_one() == "off"
