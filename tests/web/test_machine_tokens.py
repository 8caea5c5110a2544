"""A machine token (`svt_…`) answers 403 everywhere outside its scopes: on pages always, on the API unless the
route is declared for one of its scopes."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision import accounts
from supervision.access import MACHINE_SCOPES, Permission, machine_may_use
from supervision.db import session_scope
from supervision.settings import get_settings
from tests.conftest import SYSTEM
from tests.web.test_role_routes import PUBLIC, _fill, _requirement, _routes, world
from web.app import create_app

__all__ = ["world"]  # the fixture, imported for pytest


def _expected_allowed(scope: Permission, path: str, required: frozenset[Permission]) -> bool:
    """Written out independently of the code: an /api/ route whose declared permissions the scope covers."""
    return path.startswith("/api/") and required == {scope}


@pytest.mark.parametrize("scope", MACHINE_SCOPES, ids=[s.value for s in MACHINE_SCOPES])
def test_a_machine_token_is_refused_everywhere_outside_its_scope(
        engine: Engine, world: SimpleNamespace, scope: Permission) -> None:
    with session_scope(engine, write=True) as s:
        secret, _ = accounts.create_api_token(s, SYSTEM, {"name": f"machine-{scope.value}", "scopes": [scope.value],
                                                          "site_id": world.city})
    headers = {"Authorization": f"Bearer {secret}"}
    app = create_app(get_settings(), engine, migrate=False, services=[])
    wrong: list[str] = []
    allowed_seen = 0
    with TestClient(app, follow_redirects=False) as client:
        for method, path, route in _routes(app):
            if (method, path) in PUBLIC:
                continue
            allowed = _expected_allowed(scope, path, _requirement(route)[1])
            assert allowed == machine_may_use(frozenset({scope}), path, _requirement(route)[1]), path
            for url in _fill(path, world):
                response = client.request(method, url, headers=headers, json={} if method != "GET" else None)
                if allowed:
                    allowed_seen += 1
                    if response.status_code in (401, 403):
                        wrong.append(f"{method} {url}: {response.status_code}, but the route is for {scope}")
                elif response.status_code != 403:
                    wrong.append(f"{method} {url}: {response.status_code}")
    assert wrong == []
    if scope != Permission.CAMERAS_INGEST:  # ingest workers reach the database, not the API: no route is theirs
        assert allowed_seen > 0, f"no route is declared for {scope}: the walk proves nothing"


def test_a_machine_token_on_the_work_order_list_and_a_page(engine: Engine, world: SimpleNamespace) -> None:
    """The case found by probing: a ratings:push token read an empty work-order list and HTML pages with 200."""
    with session_scope(engine, write=True) as s:
        secret, _ = accounts.create_api_token(s, SYSTEM, {"name": "评价器", "scopes": ["ratings:push"],
                                                          "site_id": world.city})
    headers = {"Authorization": f"Bearer {secret}"}
    with TestClient(create_app(get_settings(), engine, migrate=False, services=[]), follow_redirects=False) as c:
        assert c.get("/api/v1/work-orders", headers=headers).status_code == 403
        assert c.get("/complaints", headers=headers).status_code == 403
        assert c.get("/", headers=headers).status_code == 403
