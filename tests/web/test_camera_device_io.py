"""A camera that never answers must not stall the service's other writes (SQLite: one global write lock).

Registration and "probe again" talk to the device for up to the probe timeout; the write lock (taken by a
write session's first statement) must not be held meanwhile. Each test points a request at a TCP socket on
127.0.0.1 that accepts and never answers, waits until the device is being talked to, then records a ledger
entry through the API: it must complete long before the probe gives up.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cameras import CameraCreate, register_camera
from cameras.config import get_camera_settings
from cameras.models import Camera
from supervision.db import session_scope
from tests.web.conftest import bearer, csrf_of

PROBE_TIMEOUT = 8.0
# A write that does not wait for the device: on this loaded machine a ledger entry takes well under 1 s.
PROMPT = 3.0

Login = Callable[[str], tuple[TestClient, str]]


@pytest.fixture
def silent() -> Iterator[socket.socket]:
    """A "device" whose port is open (the kernel completes the handshake) but that never says a word."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(60)
    try:
        yield sock
    finally:
        sock.close()


@pytest.fixture(autouse=True)
def _probe_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SUPERVISION_CAMERA_PROBE_TIMEOUT_SECONDS", str(PROBE_TIMEOUT))
    get_camera_settings.cache_clear()
    yield
    get_camera_settings.cache_clear()


def _while_device_is_asked(silent: socket.socket, request: Callable[[], httpx.Response],
                           write: Callable[[], httpx.Response]) -> tuple[httpx.Response, httpx.Response, float]:
    """Start `request` (which talks to the silent device); once it has connected, time `write`."""
    answer: list[httpx.Response] = []
    caller = threading.Thread(target=lambda: answer.append(request()), daemon=True)
    caller.start()
    conn, _ = silent.accept()  # the request is now waiting on the device
    try:
        started = time.monotonic()
        written = write()
        took = time.monotonic() - started
        caller.join(PROBE_TIMEOUT * 4)
    finally:
        conn.close()
    assert answer, "the request talking to the device never ended"
    return answer[0], written, took


def _ledger_entry(client: TestClient, org: SimpleNamespace, headers: dict[str, str]) -> Callable[[], httpx.Response]:
    body: dict[str, Any] = {"staff_id": org.staff, "day": "2026-11-20", "kind": "late", "points": -1,
                            "reason": "迟到"}
    return lambda: client.post("/api/v1/ledger", json=body, headers=headers)


def test_api_registration_against_a_silent_device_does_not_hold_the_write_lock(
        app_client: TestClient, org_data: SimpleNamespace, silent: socket.socket) -> None:
    admin, manager = bearer(app_client, "admin"), bearer(app_client, "manager")
    body = {"site_id": org_data.city, "name": "不应答", "host": "127.0.0.1", "port": silent.getsockname()[1],
            "username": "admin", "password": "cam-Pass-9"}
    registered, written, took = _while_device_is_asked(
        silent, lambda: app_client.post("/api/v1/cameras", json=body, headers=admin),
        _ledger_entry(app_client, org_data, manager))
    assert written.status_code == 201, written.text
    assert took < PROMPT, f"the ledger entry waited {took:.1f} s behind the camera registration"
    assert registered.status_code == 502 and registered.json()["error"]["code"]
    assert "cam-Pass-9" not in registered.text


def test_api_probe_again_of_a_silent_device_does_not_hold_the_write_lock(
        app_client: TestClient, engine: Engine, org_data: SimpleNamespace, silent: socket.socket) -> None:
    with session_scope(engine, write=True) as s:
        cam = register_camera(s, org_data.principals["admin"], CameraCreate(
            site_id=org_data.city, name="不应答", host="127.0.0.1", port=silent.getsockname()[1],
            username="admin", password="cam-Pass-9", skip_probe=True))
        cam_id = cam.id
    admin, manager = bearer(app_client, "admin"), bearer(app_client, "manager")
    probed, written, took = _while_device_is_asked(
        silent, lambda: app_client.post(f"/api/v1/cameras/{cam_id}/probe", headers=admin),
        _ledger_entry(app_client, org_data, manager))
    assert written.status_code == 201, written.text
    assert took < PROMPT, f"the ledger entry waited {took:.1f} s behind the probe"
    assert probed.status_code == 502


def test_form_registration_against_a_silent_device_does_not_hold_the_write_lock(
        logged_in: Login, app_client: TestClient, org_data: SimpleNamespace, silent: socket.socket) -> None:
    client, _ = logged_in("admin")
    csrf = csrf_of(client.get("/cameras/new").text)
    form = {"csrf_token": csrf, "site_id": str(org_data.city), "name": "不应答", "host": "127.0.0.1",
            "port": str(silent.getsockname()[1]), "username": "admin", "password": "cam-Pass-9",
            "action": "save"}
    manager = bearer(app_client, "manager")
    shown, written, took = _while_device_is_asked(
        silent, lambda: client.post("/cameras/new", data=form), _ledger_entry(app_client, org_data, manager))
    assert written.status_code == 201, written.text
    assert took < PROMPT, f"the ledger entry waited {took:.1f} s behind the form's registration"
    assert shown.status_code == 422 and "cam-Pass-9" not in shown.text


def test_device_io_inside_an_open_transaction_is_refused(engine: Engine, org_data: SimpleNamespace,
                                                         silent: socket.socket) -> None:
    # The rule made structural: a caller that already holds a transaction (on SQLite: maybe the write
    # lock) cannot make the service talk to a device; nothing is sent to it.
    data = CameraCreate(site_id=org_data.city, name="x", host="127.0.0.1", port=silent.getsockname()[1],
                        username="admin", password="cam-Pass-9")
    with pytest.raises(RuntimeError, match="talks to the device"), session_scope(engine, write=True) as s:
        s.exec(select(Camera.id)).all()
        register_camera(s, org_data.principals["admin"], data)
    silent.settimeout(0.5)
    with pytest.raises(TimeoutError):
        silent.accept()


def test_form_registers_a_plain_rtsp_stream_and_refuses_a_file(logged_in: Login, engine: Engine,
                                                              org_data: SimpleNamespace) -> None:
    client, _ = logged_in("admin")
    csrf = csrf_of(client.get("/cameras/new").text)
    form = {"csrf_token": csrf, "site_id": str(org_data.city), "hall_id": str(org_data.hall), "name": "编码器 3",
            "host": "127.0.0.1", "port": "554", "action": "save",
            "stream_uri_override": "file:///etc/passwd"}
    refused = client.post("/cameras/new", data=form)
    assert refused.status_code == 422
    assert 'data-testid="error-stream_uri_override"' in refused.text and "rtsp://" in refused.text
    with Session(engine) as s:
        assert s.exec(select(Camera)).all() == []
    form["stream_uri_override"] = "rtsp://viewer:Enc-Pass-3@127.0.0.1:554/ch3"
    saved = client.post("/cameras/new", data=form)
    assert saved.status_code == 303, saved.text
    with Session(engine) as s:
        row = s.exec(select(Camera)).one()
    assert row.stream_uri_override == "rtsp://viewer:Enc-Pass-3@127.0.0.1:554/ch3" and not row.probed_at
    page = client.get(saved.headers["location"])
    assert page.status_code == 200 and "Enc-Pass-3" not in page.text
