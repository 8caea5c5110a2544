"""The ONVIF client and registration against the virtual device with fault flags (HA-style builders)."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cameras import CameraCreate, describe_device, list_cameras, probe_camera, register_camera
from cameras.models import Camera
from cameras.virtual import VirtualDeviceSpec, VirtualOnvifDevice, VirtualProfile
from supervision import audit, crypto
from supervision.db import session_scope
from supervision.errors import Conflict, DeviceError, Forbidden
from supervision.models import AuditEntry

PASSWORD = "s3cret-Pass"


def make_spec(*, with_h264: bool = True, **flags: Any) -> VirtualDeviceSpec:
    codec = "H264" if with_h264 else "JPEG"
    return VirtualDeviceSpec(password=PASSWORD, profiles=[
        VirtualProfile("main", 1280, 720, codec=codec, rtsp_uri="rtsp://127.0.0.1:8554/cam1"),
        VirtualProfile("sub", 640, 360, codec=codec, rtsp_uri="rtsp://127.0.0.1:8554/cam1sub"),
    ], **flags)


@contextmanager
def device(**flags: Any) -> Iterator[VirtualOnvifDevice]:
    with VirtualOnvifDevice(make_spec(**flags)) as dev:
        yield dev


def describe(dev: VirtualOnvifDevice, password: str = PASSWORD, timeout: float = 3.0) -> Any:
    return describe_device(dev.host, dev.port, "admin", password, timeout=timeout)


def test_describe_reads_info_profiles_and_uris() -> None:
    with device() as dev:
        info = describe(dev)
    assert (info.manufacturer, info.model, info.firmware, info.serial) == ("Supervision", "VirtualCam", "1.0",
                                                                          "VC-0001")
    assert [(p.token, p.width, p.codec) for p in info.profiles] == [("main", 1280, "H264"), ("sub", 640, "H264")]
    assert info.profiles[0].rtsp_uri == "rtsp://127.0.0.1:8554/cam1"
    assert info.snapshot_uri.endswith("/snapshot.jpg")
    assert info.snapshot_basic_auth is False


WRONG = "Wr0ng-Pass-77"


@pytest.mark.parametrize(("flags", "password", "key"), [
    ({}, WRONG, "camera.error.auth_failed"),
    ({"time_needs_auth": True}, WRONG, "camera.error.auth_failed"),
    ({"soap_fault": True}, PASSWORD, "camera.error.soap_fault"),
    ({"malformed_xml": True}, PASSWORD, "camera.error.malformed"),
    ({"not_onvif": True}, PASSWORD, "camera.error.not_onvif"),
    ({"html_page": True}, PASSWORD, "camera.error.not_onvif"),
    ({"with_h264": False}, PASSWORD, "camera.error.no_h264"),
])
def test_faults_map_to_clear_errors(flags: dict[str, Any], password: str, key: str) -> None:
    with device(**flags) as dev, pytest.raises(DeviceError) as err:
        describe(dev, password)
    assert err.value.key == key
    for shown in (err.value.message("en"), err.value.message("zh-CN"), repr(err.value), str(err.value.params)):
        assert shown.strip() and password not in shown and PASSWORD not in shown


def test_camera_clock_hours_off_is_compensated() -> None:
    # Real cameras refuse WS-Security digests created far from their own clock; we sign with theirs.
    with device(clock_offset_seconds=3 * 3600) as dev:
        info = describe(dev)
    assert abs(info.clock_offset_seconds - 3 * 3600) < 5


@pytest.mark.parametrize("offset", [600, 3600, -600])
def test_clock_off_and_time_only_after_login_is_read_from_the_http_date(offset: int) -> None:
    # Many cameras answer GetSystemDateAndTime only after a login, and refuse a login signed with our time
    # when theirs is off: their HTTP Date header gives the offset to sign the first login with.
    with device(clock_offset_seconds=offset, time_needs_auth=True) as dev:
        info = describe(dev)
        assert "GetProfiles" in dev.spec.requests
    assert abs(info.clock_offset_seconds - offset) < 3
    assert info.model == "VirtualCam"


def test_clock_off_without_any_time_told_is_reported_as_the_clock_not_the_password() -> None:
    with device(clock_offset_seconds=600, time_needs_auth=True, date_header=False) as dev, \
            pytest.raises(DeviceError) as err:
        describe(dev)
    assert err.value.key == "camera.error.clock"
    assert "clock" in err.value.message("en") and "时钟" in err.value.message("zh-CN")
    assert PASSWORD not in err.value.message("en") + err.value.message("zh-CN")


def test_a_web_page_on_the_onvif_port_is_not_an_onvif_device() -> None:
    class WebPage(http.server.BaseHTTPRequestHandler):
        def _page(self) -> None:
            body = "<!DOCTYPE html><html><body><h1>路由器管理</h1></body></html>".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = _page  # noqa: N815 - http.server's names

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), WebPage)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        with pytest.raises(DeviceError) as err:
            describe_device("127.0.0.1", server.server_address[1], "admin", PASSWORD, timeout=3)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    assert err.value.key == "camera.error.not_onvif"
    assert "not an ONVIF device" in err.value.message("en") and "不是 ONVIF 设备" in err.value.message("zh-CN")


def test_time_needs_auth_quirk_and_zulu_timestamps() -> None:
    with device(time_needs_auth=True, reject_offset_timestamps=True) as dev:
        info = describe(dev)
    assert info.model == "VirtualCam"


def test_snapshot_basic_only_quirk_is_detected() -> None:
    with device(snapshot_basic_only=True) as dev:
        info = describe(dev)
    assert info.snapshot_basic_auth is True


def test_unreachable_port() -> None:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()  # nothing listens there now
    with pytest.raises(DeviceError) as err:
        describe_device("127.0.0.1", port, "admin", PASSWORD, timeout=2)
    assert err.value.key == "camera.error.unreachable"


def test_host_that_accepts_tcp_and_never_answers_times_out() -> None:
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)  # the kernel completes the handshake; nobody ever reads or answers
    try:
        started = time.monotonic()
        with pytest.raises(DeviceError) as err:
            describe_device("127.0.0.1", silent.getsockname()[1], "admin", PASSWORD, timeout=1.0)
        assert err.value.key == "camera.error.timeout"
        assert time.monotonic() - started < 6
    finally:
        silent.close()


def test_register_stores_device_encrypts_password_and_audits(engine: Engine, org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    with device() as dev, session_scope(engine, write=True) as s:
        cam = register_camera(s, admin, CameraCreate(site_id=org_data.city, hall_id=org_data.hall, name="大厅1",
                                                     host=dev.host, port=dev.port, username="admin",
                                                     password=PASSWORD))
        cam_id = cam.id
    with Session(engine) as s:
        row = s.get(Camera, cam_id)
        assert row is not None
        assert row.password_enc and PASSWORD not in row.password_enc
        assert crypto.decrypt(row.password_enc) == PASSWORD
        assert (row.main_profile, row.analysis_profile) == ("main", "sub")
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "camera.create")).one()
        assert PASSWORD not in entry.detail
        assert audit.verify(s) is None
        listed = list_cameras(s, org_data.principals["officer"])
        assert [c.name for c in listed] == ["大厅1"]
        assert listed[0].has_password and PASSWORD not in listed[0].model_dump_json()
        # A county officer does not see the city's camera.
        assert list_cameras(s, org_data.principals["county_officer"]) == []


def test_register_failure_writes_nothing_and_duplicates_conflict(engine: Engine, org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    with device() as dev:
        data = CameraCreate(site_id=org_data.city, name="c", host=dev.host, port=dev.port, username="admin",
                            password="wrong")
        with pytest.raises(DeviceError), session_scope(engine, write=True) as s:
            register_camera(s, admin, data)
        with Session(engine) as s:
            assert s.exec(select(Camera)).all() == []
        data.password = PASSWORD
        with session_scope(engine, write=True) as s:
            register_camera(s, admin, data)
        with pytest.raises(Conflict), session_scope(engine, write=True) as s:
            register_camera(s, admin, data)
    with pytest.raises(Forbidden), session_scope(engine, write=True) as s:
        register_camera(s, org_data.principals["officer"], data)


def test_probe_again_refreshes(engine: Engine, org_data: SimpleNamespace) -> None:
    admin = org_data.principals["admin"]
    with device() as dev:
        with session_scope(engine, write=True) as s:
            cam_id = register_camera(s, admin, CameraCreate(site_id=org_data.city, name="c", host=dev.host,
                                                            port=dev.port, username="admin",
                                                            password=PASSWORD)).id
        dev.spec.firmware = "2.0"
        with session_scope(engine, write=True) as s:
            assert probe_camera(s, admin, int(cam_id or 0)).firmware == "2.0"
