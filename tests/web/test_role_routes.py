"""Walk every route of the app as every role: nothing outside a role or a jurisdiction is reachable.

Each route must declare what it needs (a `require(...)` dependency or the logged-in caller), unless it
is on the short public list. A route that is added without either fails this test.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from supervision import accounts, ledger
from supervision.access import ROLE_PERMISSIONS, Permission
from supervision.db import session_scope
from supervision.models import Role
from supervision.settings import get_settings
from tests.conftest import SYSTEM
from tests.web.conftest import bearer, login
from web.app import create_app
from web.composition import router_modules
from web.deps import current_principal

PUBLIC = {
    ("GET", "/healthz"), ("GET", "/login"), ("POST", "/login"), ("POST", "/api/v1/auth/token"),
    ("POST", "/locale"), ("GET", "/openapi.json"), ("GET", "/api/docs"), ("GET", "/api/docs/oauth2-redirect"),
    ("GET", "/org"), ("GET", "/admin"),
    # The citizens' complaint form and progress check: no login, rate-limited.
    ("GET", "/public/complaint"), ("POST", "/public/complaint"), ("GET", "/public/track"), ("POST", "/public/track"),
}
# Names that exist only at the city level: a county user must never see them.
CITY_ONLY = ("公安窗口", "张三", "户籍受理岗", "公共服务大厅", "市公安局")


def _requirement(route: APIRoute) -> tuple[bool, frozenset[Permission]]:
    """(needs a logged-in caller, permissions required) from the route's dependency tree."""
    needs_login = False
    perms: set[Permission] = set()
    stack = list(route.dependant.dependencies)
    while stack:
        dep = stack.pop()
        call = dep.call
        if call is current_principal:
            needs_login = True
        required = getattr(call, "required_permissions", None)
        if required:
            needs_login = True
            perms.update(required)
        stack.extend(dep.dependencies)
    return needs_login, frozenset(perms)


def _routes(app: Any) -> Iterator[tuple[str, str, APIRoute]]:
    """Every API route mounted from the route modules (FastAPI wraps included routers, so ask them)."""
    seen = 0
    for module in router_modules():
        for route in module.router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods - {"HEAD"}):
                    seen += 1
                    yield method, route.path, route
    assert seen > 50, "the route walk found too few routes"


def _domain_target_modules() -> list[Any]:
    """tests/web/role_targets_<domain>.py: each domain makes city-level objects to aim at from a county."""
    here = Path(__file__).parent
    return [importlib.import_module(f"tests.web.{p.stem}") for p in sorted(here.glob("role_targets_*.py"))]


@pytest.fixture
def world(engine: Engine, org_data: SimpleNamespace) -> SimpleNamespace:
    """The org plus a city-level ledger entry and machine token (and each domain's objects)."""
    with session_scope(engine, write=True) as s:
        entry = ledger.record_entry(s, actor=SYSTEM, day=date(2026, 11, 2), kind="late", points=-1,
                                    reason="迟到", source_kind="manual", source_id="t1", staff_id=org_data.staff)
        _, token = accounts.create_api_token(s, SYSTEM, {"name": "市级评价器", "scopes": ["ratings:push"],
                                                         "site_id": org_data.city})
        org_data.entry_id = entry.id
        org_data.token_id = token.id
    org_data.path_values = {}
    org_data.city_only = list(CITY_ONLY)
    for module in _domain_target_modules():
        # targets(engine, org) -> (path parameter values, names that only city objects carry)
        values, names = module.targets(engine, org_data)
        org_data.path_values.update(values)
        org_data.city_only.extend(names)
    return org_data


def _fill(path: str, world: SimpleNamespace) -> list[str]:
    """Concrete URLs for a route, aimed at city-level objects (outside a county user's jurisdiction)."""
    slug_targets = {"sites": world.city, "halls": world.hall, "departments": world.dept, "windows": world.window,
                    "posts": world.post, "staff": world.staff}
    values: dict[str, Any] = {
        "user_id": world.users["admin"], "token_id": world.token_id, "entry_id": world.entry_id,
        "day": "2026-10-01", **world.path_values,
    }
    if "{slug}" in path:
        urls = []
        for slug, target in slug_targets.items():
            url = path.replace("{slug}", slug).replace("{entity_id}", str(target))
            urls.append(url)
        return urls
    if "{entity_id}" in path:
        resource = path.split("/")[3] if path.startswith("/api/v1/") else path.split("/")[2]
        values["entity_id"] = slug_targets.get(resource, world.staff)
    url = path
    for name in re.findall(r"{(\w+)}", path):
        assert name in values, f"add a value for path parameter {name!r} of {path} (tests/web/role_targets_*.py)"
        url = url.replace("{" + name + "}", str(values[name]))
    return [url]


BODIES: dict[str, Any] = {
    "/api/v1/sites": {"code": "X-1", "name": "越权站点", "kind": "township", "parent_id": 1},
}


def _call(client: TestClient, method: str, url: str, *, headers: dict[str, str], csrf: str) -> Any:
    if url.startswith("/api/"):
        body: Any = BODIES.get(url, {"name": "越权修改", "reason": "越权", "site_id": 1})
        return client.request(method, url, headers=headers, json=body if method != "GET" else None)
    data = {"csrf_token": csrf, "name": "越权修改", "reason": "越权", "code": "X-2", "site_id": "1"}
    return client.request(method, url, data=data if method != "GET" else None, headers={"X-CSRF-Token": csrf})


def test_every_route_declares_who_may_use_it(engine: Engine) -> None:
    app = create_app(get_settings(), engine, migrate=False, services=[])
    undeclared = [f"{m} {p}" for m, p, r in _routes(app) if (m, p) not in PUBLIC and not _requirement(r)[0]]
    assert undeclared == []


@pytest.mark.parametrize("username", ["admin", "officer", "supervisor", "manager", "staff",
                                      "county_admin", "county_officer", "county_manager", "county_supervisor"])
def test_role_and_jurisdiction_on_every_route(engine: Engine, world: SimpleNamespace, username: str) -> None:
    app = create_app(get_settings(), engine, migrate=False, services=[])
    role = world.principals[username].role
    granted = ROLE_PERMISSIONS[Role(role)]
    county_user = username.startswith("county_")
    failures: list[str] = []
    with TestClient(app, follow_redirects=False) as client:
        csrf = login(client, username)
        headers = bearer(client, username)
        for method, path, route in _routes(app):
            if (method, path) in PUBLIC or path in ("/logout", "/locale"):
                continue
            _, perms = _requirement(route)
            allowed = perms <= granted
            for url in _fill(path, world):
                response = _call(client, method, url, headers=headers, csrf=csrf)
                status = response.status_code
                where = f"{username} {method} {url} -> {status}"
                if not allowed:
                    if status != 403:
                        lacking = sorted(p.value for p in perms - granted)
                        failures.append(f"{where}: expected 403 (role lacks {lacking})")
                    continue
                if county_user:
                    if method != "GET" and status < 400:
                        failures.append(f"{where}: a change outside the jurisdiction went through")
                    if method == "GET" and status == 200:
                        leaked = [n for n in world.city_only if n in response.text]
                        if leaked:
                            failures.append(f"{where}: shows city data {leaked}")
                if status >= 500:
                    failures.append(f"{where}: server error")
    assert failures == [], "\n".join(failures)
