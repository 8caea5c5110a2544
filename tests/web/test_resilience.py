"""Faults the service must survive: the database dropping its connections (as in a restart)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from tests.web.conftest import bearer


def test_requests_succeed_after_the_database_drops_every_connection(
    app_client: TestClient, engine: Engine, org_data: SimpleNamespace
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("connection loss is a PostgreSQL server matter; SQLite is a file")
    headers = bearer(app_client, "officer")
    assert app_client.get("/api/v1/windows", headers=headers).status_code == 200
    # What a restart does to the pool: every server-side connection of this database is killed.
    killer = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with killer.connect() as conn:
        killed = conn.execute(sa.text(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()")).scalar()
    killer.dispose()
    assert killed and killed > 0
    after = app_client.get("/api/v1/windows", headers=headers)
    assert after.status_code == 200 and after.json()["count"] == 3
    assert app_client.get("/healthz").status_code == 200
