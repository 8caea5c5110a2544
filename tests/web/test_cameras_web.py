"""Camera pages and API: register over ONVIF through the form, health list, wall, snapshot, audited live view."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras import FRAMES, CameraCreate, register_camera
from cameras.models import AlertKind, Camera, CameraAlert, CameraHealth, CameraStatus
from cameras.virtual import VirtualDeviceSpec, VirtualOnvifDevice, VirtualProfile
from supervision import crypto
from supervision.db import session_scope, utcnow
from supervision.models import AuditEntry
from tests.web.conftest import bearer

PASSWORD = "cam-Pass-123"
Login = Callable[[str], tuple[TestClient, str]]


@pytest.fixture
def device() -> Iterator[VirtualOnvifDevice]:
    spec = VirtualDeviceSpec(password=PASSWORD, model="WebTestCam", profiles=[
        VirtualProfile("main", 1280, 720, rtsp_uri="rtsp://127.0.0.1:9/main"),
        VirtualProfile("sub", 640, 360, rtsp_uri="rtsp://127.0.0.1:9/sub"),
    ])
    with VirtualOnvifDevice(spec) as dev:
        yield dev


@pytest.fixture
def camera_id(engine: Engine, org_data: SimpleNamespace) -> int:
    """A city camera registered without asking a device (the role walk aims at it from a county)."""
    with session_scope(engine, write=True) as s:
        cam = register_camera(s, org_data.principals["admin"], CameraCreate(
            site_id=org_data.city, hall_id=org_data.hall, name="公共服务大厅 1 号机", host="127.0.0.1", port=9,
            username="admin", password=PASSWORD, skip_probe=True))
        return int(cam.id or 0)


def _frame(value: int) -> av.VideoFrame:
    image = np.full((90, 160, 3), value, np.uint8)
    return av.VideoFrame.from_ndarray(image, format="bgr24")


def test_register_through_the_form_probe_then_save(logged_in: Login, engine: Engine, org_data: SimpleNamespace,
                                                   device: VirtualOnvifDevice) -> None:
    client, csrf = logged_in("admin")
    page = client.get("/cameras/new")
    assert page.status_code == 200 and page.template.name == "cameras/register.html"
    form = {"csrf_token": csrf, "site_id": str(org_data.city), "hall_id": str(org_data.hall), "name": "大厅东",
            "host": device.host, "port": str(device.port), "username": "admin", "password": PASSWORD}
    probed = client.post("/cameras/new", data={**form, "action": "probe"})
    assert probed.status_code == 200, probed.text
    assert "WebTestCam" in probed.text and "1280×720" in probed.text
    assert PASSWORD not in probed.text  # carried sealed, never in clear
    sealed = probed.context["sealed"]
    assert crypto.decrypt(sealed) == PASSWORD
    # Second step: the password field is empty now; the sealed copy is used. The admin picks the profiles.
    saved = client.post("/cameras/new", data={**form, "password": "", "password_sealed": sealed, "action": "save",
                                              "main_profile": "main", "analysis_profile": "sub"})
    assert saved.status_code == 303, saved.text
    with Session(engine) as s:
        cam = s.exec(select(Camera).where(col(Camera.name) == "大厅东")).one()
        assert (cam.model, cam.main_profile, cam.analysis_profile) == ("WebTestCam", "main", "sub")
        assert crypto.decrypt(cam.password_enc) == PASSWORD
    detail = client.get(saved.headers["location"])
    assert detail.status_code == 200 and "WebTestCam" in detail.text
    again = client.post(f"/cameras/{cam.id}/probe", data={"csrf_token": csrf})
    assert again.status_code == 303 and again.headers["location"].endswith("probed=1")


@pytest.mark.parametrize(("change", "fields", "text"), [
    ({"password": "wrong"}, {"username", "password"}, "用户名或密码错误"),
    ({"port": "1"}, {"host", "port"}, "无法连接"),
    ({"host": ""}, {"host"}, "必填"),
])
def test_register_errors_are_shown_at_their_fields(logged_in: Login, org_data: SimpleNamespace,
                                                   device: VirtualOnvifDevice, change: dict[str, str],
                                                   fields: set[str], text: str) -> None:
    client, csrf = logged_in("admin")
    form = {"csrf_token": csrf, "site_id": str(org_data.city), "name": "大厅西", "host": device.host,
            "port": str(device.port), "username": "admin", "password": PASSWORD, "action": "probe", **change}
    response = client.post("/cameras/new", data=form)
    assert response.status_code == 422
    problems = response.context["problems"]
    assert {p["field"] for p in problems} == fields
    assert text in response.text
    for name in fields:
        assert f'data-testid="error-{name}"' in response.text


def test_duplicate_registration_is_a_conflict_at_the_address(logged_in: Login, org_data: SimpleNamespace,
                                                             camera_id: int) -> None:
    client, csrf = logged_in("admin")
    response = client.post("/cameras/new", data={
        "csrf_token": csrf, "site_id": str(org_data.city), "name": "重复", "host": "127.0.0.1", "port": "9",
        "action": "save"})
    assert response.status_code == 409
    assert "已登记" in response.text


def test_list_wall_and_detail_show_health(logged_in: Login, engine: Engine, camera_id: int) -> None:
    with session_scope(engine, write=True) as s:
        health = s.get(CameraHealth, camera_id)
        assert health is not None
        health.status, health.fps, health.width, health.height = CameraStatus.FROZEN, 25.0, 1280, 720
        health.codec, health.keyframe_interval_s, health.reconnects = "h264", 4.0, 3
        health.last_frame_at = utcnow()
        s.add(health)
    client, _ = logged_in("officer")
    listing = client.get("/cameras")
    assert listing.status_code == 200
    assert "画面冻结" in listing.text and "1280×720" in listing.text and 'data-testid="slow-keyframes"' in listing.text
    wall = client.get("/cameras/wall")
    assert wall.status_code == 200
    assert f"/api/v1/cameras/{camera_id}/snapshot.jpg" in wall.text
    assert "data-refresh" not in wall.text or "data-snapshot" in wall.text
    detail = client.get(f"/cameras/{camera_id}")
    assert detail.status_code == 200 and "关键帧间隔 4.0 秒" in detail.text
    assert 'data-testid="camera-edit"' not in detail.text  # officers watch, admins manage
    english = client.get("/cameras/wall", cookies={"sv_locale": "en"})
    assert english.status_code == 200


def test_api_register_list_get_and_status(app_client: TestClient, org_data: SimpleNamespace,
                                          device: VirtualOnvifDevice) -> None:
    headers = bearer(app_client, "admin")
    body = {"site_id": org_data.city, "hall_id": org_data.hall, "name": "API 摄像机", "host": device.host,
            "port": device.port, "username": "admin", "password": PASSWORD}
    created = app_client.post("/api/v1/cameras", json=body, headers=headers)
    assert created.status_code == 201, created.text
    cam = created.json()
    assert cam["model"] == "WebTestCam" and cam["has_password"] and "password" not in cam
    assert cam["analysis_profile"] == "sub"
    listed = app_client.get("/api/v1/cameras", headers=headers).json()
    assert listed["count"] == 1 and listed["data"][0]["health"]["status"] == "unknown"
    assert app_client.get(f"/api/v1/cameras/{cam['id']}", headers=headers).status_code == 200
    assert app_client.post(f"/api/v1/cameras/{cam['id']}/probe", headers=headers).status_code == 200
    wrong = app_client.post("/api/v1/cameras", json={**body, "name": "x", "port": 1}, headers=headers)
    assert wrong.status_code == 502 and wrong.json()["error"]["code"]


def test_snapshot_jurisdiction_and_roles(app_client: TestClient, camera_id: int) -> None:
    officer = bearer(app_client, "officer")
    url = f"/api/v1/cameras/{camera_id}/snapshot.jpg"
    assert app_client.get(url, headers=officer).status_code == 404  # no frame yet
    FRAMES.publish(camera_id, _frame(120))
    try:
        shot = app_client.get(url, headers=officer)
        assert shot.status_code == 200 and shot.headers["content-type"] == "image/jpeg"
        assert shot.content[:2] == b"\xff\xd8"
        assert app_client.get(url, headers=bearer(app_client, "county_officer")).status_code == 404
        assert app_client.get(url, headers=bearer(app_client, "staff")).status_code == 403
        assert app_client.get(url, headers=bearer(app_client, "supervisor")).status_code == 403
    finally:
        FRAMES.forget(camera_id)


def test_live_view_streams_mjpeg_and_is_audited(logged_in: Login, engine: Engine, camera_id: int) -> None:
    client, _ = logged_in("officer")
    stop = threading.Event()

    def feed() -> None:
        for i in range(200):  # bounded: at most ~10 s of frames
            if stop.wait(0.05):
                return
            FRAMES.publish(camera_id, _frame(i % 250))

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    try:
        # The reader has a first frame before anyone watches (as a running camera has).
        deadline = time.monotonic() + 5
        while not FRAMES.has(camera_id) and time.monotonic() < deadline:
            time.sleep(0.01)
        page = client.get(f"/cameras/{camera_id}/live")
        assert page.status_code == 200 and f"/cameras/{camera_id}/live.mjpeg" in page.text
        with client.stream("GET", f"/cameras/{camera_id}/live.mjpeg") as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("multipart/x-mixed-replace")
            got = b""
            for chunk in response.iter_bytes():
                got += chunk
                if got.count(b"\xff\xd8") >= 3:
                    break
        assert got.count(b"Content-Type: image/jpeg") >= 3
    finally:
        stop.set()
        feeder.join(5)
        FRAMES.forget(camera_id)

    def audited() -> list[AuditEntry]:
        with Session(engine) as s:
            return list(s.exec(select(AuditEntry).where(col(AuditEntry.action) == "camera.live_view")).all())

    for _ in range(50):  # the view is written when the stream closes, from the server's side
        if audited():
            break
        threading.Event().wait(0.1)
    rows = audited()
    assert len(rows) == 1
    assert rows[0].actor_name and rows[0].object_id == str(camera_id)
    assert '"from"' in rows[0].detail and '"to"' in rows[0].detail


def test_alerts_on_the_officer_home_page_and_alerts_page(logged_in: Login, engine: Engine,
                                                         org_data: SimpleNamespace, camera_id: int) -> None:
    with session_scope(engine, write=True) as s:
        s.add(CameraAlert(camera_id=camera_id, site_id=org_data.city, kind=AlertKind.OFFLINE, started_at=utcnow(),
                          detail="camera.stream.no_packets"))
    client, _ = logged_in("officer")
    home = client.get("/")
    assert home.status_code == 200
    assert 'data-panel="camera_alerts"' in home.text and "摄像机离线" in home.text and "视频流中断" in home.text
    alerts = client.get("/cameras/alerts")
    assert alerts.status_code == 200 and "公共服务大厅 1 号机" in alerts.text
    api = client.get("/api/v1/camera-alerts").json()
    assert api["count"] == 1 and api["data"][0]["kind"] == "offline"
    county, _ = logged_in("county_officer")
    assert "公共服务大厅 1 号机" not in county.get("/").text
    assert county.get("/api/v1/camera-alerts").json()["count"] == 0
    manager, _ = logged_in("manager")
    assert 'data-panel="camera_alerts"' not in manager.get("/").text


def test_discovery_needs_an_explicit_target(logged_in: Login) -> None:
    client, csrf = logged_in("admin")
    assert client.get("/cameras/discover").status_code == 200
    assert client.post("/cameras/discover", data={"csrf_token": csrf}).status_code == 422
    bad = client.post("/cameras/discover", data={"csrf_token": csrf, "target": "not an address"})
    assert bad.status_code == 422 and "IP" in bad.text


def test_edit_changes_only_what_the_form_sent(logged_in: Login, engine: Engine, camera_id: int) -> None:
    client, csrf = logged_in("admin")
    with session_scope(engine, write=True) as s:
        cam = s.get(Camera, camera_id)
        assert cam is not None
        cam.main_profile, cam.analysis_profile = "main", "sub"
        s.add(cam)
    renamed = client.post(f"/cameras/{camera_id}", data={"csrf_token": csrf, "name": "大厅北"})
    assert renamed.status_code == 303
    with Session(engine) as s:
        cam = s.get(Camera, camera_id)
        assert cam is not None and (cam.name, cam.main_profile, cam.enabled) == ("大厅北", "main", True)
    off = client.post(f"/cameras/{camera_id}", data={"csrf_token": csrf, "name": "大厅北", "enabled_shown": "1"})
    assert off.status_code == 303
    with Session(engine) as s:
        cam = s.get(Camera, camera_id)
        assert cam is not None and not cam.enabled
    empty = client.post(f"/cameras/{camera_id}", data={"csrf_token": csrf, "name": ""})
    assert empty.status_code == 422 and 'data-testid="problems"' in empty.text
    county, county_csrf = logged_in("county_admin")
    assert county.post(f"/cameras/{camera_id}", data={"csrf_token": county_csrf, "name": "x"}).status_code == 404


def test_snapshot_of_an_offline_camera_is_503_with_the_time_of_its_last_frame(
        app_client: TestClient, engine: Engine, camera_id: int) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    officer = bearer(app_client, "officer")
    url = f"/api/v1/cameras/{camera_id}/snapshot.jpg"

    def set_health(status: CameraStatus) -> None:
        with session_scope(engine, write=True) as s:
            s.execute(update(CameraHealth).where(col(CameraHealth.camera_id) == camera_id).values(
                status=status, worker_id="worker-x", updated_at=utcnow(), keyframe_interval_s=1.0))

    set_health(CameraStatus.ONLINE)
    FRAMES.publish(camera_id, _frame(90))
    try:
        live = app_client.get(url, headers=officer)
        assert live.status_code == 200 and float(live.headers["X-Frame-Age"]) < 5
        # The reader keeps its last frame while it reconnects: an offline camera's still is not its picture now.
        set_health(CameraStatus.OFFLINE)
        stale = app_client.get(url, headers=officer)
        assert stale.status_code == 503, stale.text
        error = stale.json()["error"]
        assert error["code"] == "frame_stale"
        taken = FRAMES.latest(camera_id)
        assert taken is not None and taken.at.isoformat(timespec="seconds") in error["message"]
        # Online by its (fresh) health, but the frame stopped a minute ago: stale too.
        set_health(CameraStatus.ONLINE)
        taken.at = utcnow() - timedelta(seconds=60)
        old = app_client.get(url, headers=officer)
        assert old.status_code == 503 and old.json()["error"]["code"] == "frame_stale"
    finally:
        FRAMES.forget(camera_id)
