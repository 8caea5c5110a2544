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
    intake = bearer(app_client, "supervisor")
    order = {"channel": "walk_in", "type": "help", "anonymous": True, "content": "断线前的工单",
             "site_id": org_data.city}
    # The group commit's writer thread holds a pooled connection of its own: it must survive too.
    assert app_client.post("/api/v1/work-orders", json=order, headers=intake).status_code == 201
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
    written = app_client.post("/api/v1/work-orders", json={**order, "content": "断线后的工单"}, headers=intake)
    assert written.status_code == 201, written.text
    listed = app_client.get("/api/v1/work-orders?type=help", headers=intake).json()
    assert sorted(o["content"] for o in listed["data"]) == ["断线前的工单", "断线后的工单"]
    assert app_client.get("/healthz").status_code == 200
