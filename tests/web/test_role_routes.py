"""Walk every route of the app as every role: nothing outside a role or a jurisdiction is reachable.

Each route must declare what it needs (a `require(...)` dependency or the logged-in caller), unless it
is on the short public list. A route that is added without either fails this test.
"""

from __future__ import annotations

import importlib
import random
import re
import socket
import threading
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
    # The hall's duty screen (today's pair: names and titles) and a person's duty feed (the URL's token is the secret).
    ("GET", "/hall/{site_id}/duty"), ("GET", "/duty/ical/{token}"),
    # The notice board's window ranking of a centre's published month: window names, scores and ranks only.
    ("GET", "/public/rankings/{site_code}"),
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
    org_data.bodies = _bodies(org_data)
    org_data.uploads = {}
    for module in _domain_target_modules():
        org_data.bodies.update(getattr(module, "bodies", lambda _org: {})(org_data))
        # uploads(org) -> {(method, path): (form fields, files)} for the routes that take a file
        org_data.uploads.update(getattr(module, "uploads", lambda _org: {})(org_data))
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


# Write routes that act on no object of a jurisdiction, or whose jurisdiction is tested elsewhere: they need
# only answer without a server error here.
UNBOUND = {
    # Finding cameras on the network touches no stored object; what it marks as registered is checked by
    # test_finding_cameras_from_a_county_names_no_city_camera below, with a WS-Discovery peer.
    ("POST", "/api/v1/camera-discovery"), ("POST", "/cameras/discover"),
    # Punches are matched to staff inside the sender's jurisdiction (others are kept apart as unknown), a
    # month is computed for the caller's own jurisdiction, and a 补卡 is asked for oneself:
    # tests/supervision/test_attendance.py.
    ("POST", "/api/v1/attendance/punches"), ("POST", "/api/v1/attendance/imports"), ("POST", "/attendance/import"),
    ("POST", "/attendance/compute"), ("POST", "/api/v1/attendance/corrections"), ("POST", "/attendance/corrections"),
    # The citizens' votes sheet names windows and people by code, each looked up inside the jurisdiction:
    # tests/supervision/test_awards.py (a county manager naming the city's).
    ("POST", "/api/v1/awards/citizen-votes"), ("POST", "/awards/citizen-votes"),
}
# The message of a reference outside the caller's jurisdiction (`error.unknown_ref`), and of a workbook row
# whose code belongs to a record outside it (`orgimport.error.code_outside`).
OUTSIDE = ("不在您的管辖范围内", "已被您管辖范围以外的记录使用")
REFERENCE_FIELDS = {"site_id", "parent_id", "hall_id", "department_id", "window_id", "post_id", "staff_id",
                    "owner_id", "point_ids", "measure_ids", "direct_responsible_id",
                    # a workbook's columns that name other records by code
                    "code", "site_code", "parent_code", "hall_code", "department_code", "window_code", "post_code",
                    "direct_responsible_code", "department_responsible_code", "leader_responsible_code",
                    "owner_code", "point_codes"}


def _bodies(world: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """A body per write route that would be accepted inside the jurisdiction, aimed at the city's objects.

    A junk body is refused by validation before the route looks at the object, so a 422 would hide a
    missing jurisdiction check; with a valid body the answer can only come from that check.
    """
    city = world.city
    org_bodies: dict[str, dict[str, Any]] = {
        "sites": {"code": "X-S", "name": "越权站点", "kind": "township", "parent_id": city},
        "halls": {"code": "X-H", "name": "越权大厅", "site_id": city},
        "departments": {"code": "X-D", "name": "越权部门", "site_id": city},
        "windows": {"code": "X-W", "name": "越权窗口", "site_id": city, "hall_id": world.hall,
                    "department_id": world.dept},
        "posts": {"code": "X-P", "name": "越权岗位", "site_id": city, "window_id": world.window,
                  "department_id": world.dept},
        "staff": {"code": "X-ST", "name": "越权人员", "rank": "general", "employment": "established",
                  "site_id": city, "department_id": world.dept},
    }
    user = {"username": "intruder", "display_name": "越权用户", "password": "test-pass-123", "role": "officer",
            "site_id": city}
    token = {"name": "越权令牌", "scopes": ["ratings:push"], "site_id": city}
    camera = {"site_id": city, "hall_id": world.hall, "name": "越权摄像机", "host": "127.0.0.1", "port": 9,
              "skip_probe": True, "stream_uri_override": "rtsp://127.0.0.1:9/none"}
    ledger_entry = {"day": "2026-11-02", "kind": "late", "points": -1, "reason": "越权记分", "staff_id": world.staff}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", "/api/v1/users"): user, ("POST", "/admin/users/new"): user,
        ("POST", "/api/v1/api-tokens"): token, ("POST", "/admin/tokens"): token,
        ("POST", "/api/v1/cameras"): camera,
        ("POST", "/cameras/new"): {**camera, "skip_probe": "on"},
        ("POST", "/api/v1/work-orders/{order_id}/transitions"): {"action": "progress", "reason": "越权跟进"},
        ("POST", "/complaints/notices/{notice_id}/step"): {"step": "approve"},
        ("POST", "/ledger"): ledger_entry, ("POST", "/api/v1/ledger"): ledger_entry,
    }
    for slug, body in org_bodies.items():
        bodies[("POST", f"/org/{slug}/new")] = body
        bodies[("POST", f"/api/v1/{slug}")] = body
    return bodies


def _body(world: SimpleNamespace, method: str, path: str, url: str) -> dict[str, Any]:
    found = world.bodies.get((method, path)) or world.bodies.get((method, url))
    return dict(found) if found is not None else {"name": "越权修改", "reason": "越权", "code": "X-2", "site_id": 1}


def _call(client: TestClient, method: str, url: str, body: dict[str, Any], *, headers: dict[str, str],
          csrf: str, upload: Any = None) -> Any:
    if upload is not None:
        fields, files = upload
        return client.request(method, url, data={"csrf_token": csrf, **fields}, files=files,
                              headers={"X-CSRF-Token": csrf})
    if url.startswith("/api/"):
        return client.request(method, url, headers=headers, json=body if method != "GET" else None)
    data = {k: str(v) if isinstance(v, int | bool) and not isinstance(v, bool) else v for k, v in body.items()}
    return client.request(method, url, data={"csrf_token": csrf, **data} if method != "GET" else None,
                          headers={"X-CSRF-Token": csrf})


def _refused_for_jurisdiction(response: Any) -> bool:
    """403/404, or a form refused only because what it names lies outside the caller's jurisdiction."""
    if response.status_code in (403, 404):
        return True
    if response.status_code != 422:
        return False
    context = getattr(response, "context", None)
    if context is not None and "problems" in context:
        problems = context["problems"]
    else:
        problems = response.json().get("error", {}).get("fields", [])
    return bool(problems) and all(p.get("field") in REFERENCE_FIELDS
                                  and any(text in p.get("message", "") for text in OUTSIDE) for p in problems)


def test_every_body_is_for_a_route_that_exists(engine: Engine, world: SimpleNamespace) -> None:
    app = create_app(get_settings(), engine, migrate=False, services=[])
    routes = {(m, p) for m, p, _ in _routes(app)} | {("POST", f"/org/{slug}/new") for slug in
                                                      ("sites", "halls", "departments", "windows", "posts", "staff")}
    assert sorted(set(world.bodies) - routes) == []
    assert sorted(set(world.uploads) - routes) == []


def test_every_route_declares_who_may_use_it(engine: Engine) -> None:
    app = create_app(get_settings(), engine, migrate=False, services=[])
    undeclared = [f"{m} {p}" for m, p, r in _routes(app) if (m, p) not in PUBLIC and not _requirement(r)[0]]
    assert undeclared == []


@pytest.mark.parametrize("username", ["admin", "officer", "supervisor", "manager", "handler", "staff",
                                      "county_admin", "county_officer", "county_manager", "county_supervisor",
                                      "county_handler"])
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
                response = _call(client, method, url, _body(world, method, path, url), headers=headers, csrf=csrf,
                                 upload=world.uploads.get((method, path)))
                status = response.status_code
                where = f"{username} {method} {url} -> {status}"
                if not allowed:
                    if status != 403:
                        lacking = sorted(p.value for p in perms - granted)
                        failures.append(f"{where}: expected 403 (role lacks {lacking})")
                    continue
                if county_user:
                    if method != "GET" and (method, path) not in UNBOUND and not _refused_for_jurisdiction(response):
                        failures.append(f"{where}: expected 404/403 for an object outside the jurisdiction "
                                        f"({response.text[:300]!r})")
                    if method == "GET" and status == 200:
                        leaked = [n for n in world.city_only if n in response.text]
                        if leaked:
                            failures.append(f"{where}: shows city data {leaked}")
                if status >= 500:
                    failures.append(f"{where}: server error")
    assert failures == [], "\n".join(failures)


# Who, inside the city, may use each route bound by a file or a city-wide body (the walk aims them from a county).
BOUND_IN_THE_CITY = {
    ("POST", "/org/import"): "admin", ("POST", "/risk/import"): "officer",
    ("POST", "/complaints/calls/import"): "supervisor",
    ("PUT", "/api/v1/calendar/overrides"): "admin", ("POST", "/api/v1/calendar/years"): "admin",
    ("POST", "/calendar/overrides"): "admin", ("POST", "/calendar/years"): "admin",
}


@pytest.mark.parametrize("route", sorted(BOUND_IN_THE_CITY))
def test_the_walks_files_and_calendar_bodies_are_accepted_in_the_city(
        engine: Engine, world: SimpleNamespace, route: tuple[str, str]) -> None:
    """A county user's refusal can only come from the jurisdiction: the same request passes in the city."""
    method, path = route
    app = create_app(get_settings(), engine, migrate=False, services=[])
    username = BOUND_IN_THE_CITY[route]
    for user in ("county_" + username, username):  # the county first: the city's import would make its rows
        with TestClient(app, follow_redirects=False) as client:
            csrf = login(client, user)
            response = _call(client, method, path, _body(world, method, path, path), headers=bearer(client, user),
                             csrf=csrf, upload=world.uploads.get(route))
            if user == username:
                assert response.status_code in (200, 201, 303), getattr(response, "context", {}).get("problems")
            else:
                assert _refused_for_jurisdiction(response), response.text[:600]
                if path == "/complaints/calls/import":  # by the code the file gave, not an id
                    assert [(p["field"], p["row"]) for p in response.context["problems"]] == [("window_code", 2)]
                    assert "W-GA" in response.context["problems"][0]["message"]


class _DiscoveryResponder(threading.Thread):
    """A WS-Discovery peer on a loopback address of its own that announces a device at `xaddr`."""

    def __init__(self, xaddr: str) -> None:
        super().__init__(daemon=True)
        self.xaddr = xaddr
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for _ in range(20):  # 127/8 is all loopback: pick an address no other test binds port 3702 on
            self.address = f"127.{random.randint(1, 254)}.{random.randint(1, 254)}.{random.randint(2, 254)}"
            try:
                self.sock.bind((self.address, 3702))
                break
            except OSError:
                continue
        else:
            pytest.skip("no loopback address free for a WS-Discovery peer")
        self.sock.settimeout(0.2)
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                data, sender = self.sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            if b"Probe" in data:
                self.sock.sendto((
                    '<?xml version="1.0" encoding="UTF-8"?><e:Envelope xmlns:e="http://www.w3.org/2003/05/soap-envelope"'
                    ' xmlns:w="http://schemas.xmlsoap.org/ws/2004/08/addressing"'
                    ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"><e:Body><d:ProbeMatches><d:ProbeMatch>'
                    '<w:EndpointReference><w:Address>urn:uuid:city-camera</w:Address></w:EndpointReference>'
                    '<d:Scopes>onvif://www.onvif.org/name/CityCam</d:Scopes>'
                    f'<d:XAddrs>{self.xaddr}</d:XAddrs></d:ProbeMatch></d:ProbeMatches></e:Body></e:Envelope>'
                ).encode(), sender)

    def close(self) -> None:
        self.stopping.set()
        self.join(timeout=5)
        self.sock.close()


def test_finding_cameras_from_a_county_names_no_city_camera(engine: Engine, world: SimpleNamespace,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """Discovery acts on no stored object, but marks what is registered: only cameras the caller may see."""
    monkeypatch.setenv("SUPERVISION_CAMERA_DISCOVERY_TIMEOUT_SECONDS", "1.5")
    city_camera = world.path_values["camera_id"]
    responder = _DiscoveryResponder("http://127.0.0.1:9/onvif/device_service")  # the city camera's address
    responder.start()
    try:
        app = create_app(get_settings(), engine, migrate=False, services=[])
        seen: dict[str, Any] = {}
        for username in ("admin", "county_admin"):
            with TestClient(app, follow_redirects=False) as client:
                found = client.post("/api/v1/camera-discovery", headers=bearer(client, username),
                                    json={"target": responder.address})
                assert found.status_code == 200, found.text
                assert [d["host"] for d in found.json()["data"]] == ["127.0.0.1"], found.text
                seen[username] = found.json()["data"][0]["registered_camera_id"]
                page = client.post("/cameras/discover", data={"csrf_token": login(client, username),
                                                              "target": responder.address})
                seen[username + " page"] = page.text
        # The peer answers and the city admin sees it registered (the check can fail); several city cameras of the
        # walk share the address, the first registered is named.
        assert seen["admin"] is not None and seen["admin"] <= city_camera
        assert f"/cameras/{seen['admin']}" in seen["admin page"]
        assert seen["county_admin"] is None
        assert not any(f"/cameras/{cid}\"" in seen["county_admin page"] for cid in range(1, city_camera + 5))
    finally:
        responder.close()
