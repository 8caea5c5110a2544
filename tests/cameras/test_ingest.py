"""Ingest against the real GStreamer RTSP server: frames, drop/reconnect, freeze, resolution change, garbage."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cameras import latest_jpeg, list_alerts
from cameras.ingest import FrameRegistry
from cameras.models import AlertKind, Camera, CameraAlert, CameraHealth, CameraStatus
from cameras.worker import IngestService
from supervision.db import session_scope
from tests.cameras.conftest import RtspServer, fast_settings, wait_for


def add_cameras(engine: Engine, site_id: int, uris: list[str]) -> list[int]:
    with session_scope(engine, write=True) as s:
        cams = [Camera(site_id=site_id, name=f"cam{i}", host="127.0.0.1", port=554 + i, stream_uri_override=u)
                for i, u in enumerate(uris)]
        s.add_all(cams)
        s.flush()
        return [int(c.id or 0) for c in cams]


def health(engine: Engine, cid: int) -> CameraHealth | None:
    with Session(engine) as s:
        return s.get(CameraHealth, cid)


def status(engine: Engine, cid: int) -> CameraStatus | None:
    h = health(engine, cid)
    return h.status if h else None


def open_alerts(engine: Engine, cid: int) -> list[CameraAlert]:
    with Session(engine) as s:
        return list(s.exec(select(CameraAlert).where(CameraAlert.camera_id == cid,
                                                     CameraAlert.cleared_at.is_(None))).all())  # type: ignore[union-attr]


def test_reads_key_frames_publishes_jpeg_and_health(engine: Engine, org_data: SimpleNamespace,
                                                    rtsp: RtspServer) -> None:
    [cid] = add_cameras(engine, org_data.city, [rtsp.url("cam1")])
    registry = FrameRegistry()
    svc = IngestService(engine, camera_settings=fast_settings(), registry=registry)
    svc.start()
    try:
        assert wait_for(lambda: status(engine, cid) == CameraStatus.ONLINE, 15)
        assert wait_for(lambda: registry.jpeg(cid) is not None, 5)
        shot = latest_jpeg(engine, cid, registry=registry)
        assert shot is not None and shot.jpeg[:2] == b"\xff\xd8"
        # Another process (the web) reaches the frame through the worker's HTTP server.
        remote = latest_jpeg(engine, cid, registry=FrameRegistry())
        assert remote is not None and remote.jpeg[:2] == b"\xff\xd8"
        time.sleep(2.5)
        h = health(engine, cid)
        assert h is not None and h.width == 640 and h.codec == "h264"
        assert 15 < h.fps < 35 and 0.5 <= h.keyframe_interval_s <= 1.5
        assert 0.5 <= h.analysed_fps <= 1.6  # key frames only: one a second at GOP 25
    finally:
        svc.stop()
    assert not any(t.name.startswith("camera-") for t in threading.enumerate())


@pytest.mark.slow
def test_drop_raises_offline_alert_and_resume_clears_it(engine: Engine, org_data: SimpleNamespace,
                                                        rtsp: RtspServer) -> None:
    cids = add_cameras(engine, org_data.city, [rtsp.url("cam1"), rtsp.url("cam2")])
    svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: all(status(engine, c) == CameraStatus.ONLINE for c in cids), 15)
        dropped_at = time.monotonic()
        rtsp.command("drop cam1")
        assert wait_for(lambda: status(engine, cids[0]) == CameraStatus.OFFLINE, 15)
        assert time.monotonic() - dropped_at < 15
        assert [a.kind for a in open_alerts(engine, cids[0])] == [AlertKind.OFFLINE]
        assert status(engine, cids[1]) == CameraStatus.ONLINE  # the other camera is untouched
        officer = org_data.principals["officer"]
        with Session(engine) as s:
            assert [a.camera_id for a in list_alerts(s, officer)] == [cids[0]]
        rtsp.command("resume cam1")
        assert wait_for(lambda: status(engine, cids[0]) == CameraStatus.ONLINE, 20)
        assert open_alerts(engine, cids[0]) == []
        h = health(engine, cids[0])
        assert h is not None and h.reconnects >= 1
    finally:
        svc.stop()


def test_frozen_picture_and_resolution_change(engine: Engine, org_data: SimpleNamespace,
                                              rtsp: RtspServer) -> None:
    [cid] = add_cameras(engine, org_data.city, [rtsp.url("cam3")])
    svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: status(engine, cid) == CameraStatus.ONLINE, 15)
        rtsp.command("switch cam3 still")
        assert wait_for(lambda: status(engine, cid) == CameraStatus.FROZEN, 15)
        assert [a.kind for a in open_alerts(engine, cid)] == [AlertKind.FROZEN]
        rtsp.command("switch cam3 big")  # moving picture again, at another resolution mid-stream
        assert wait_for(lambda: (h := health(engine, cid)) is not None and h.width == 960
                        and h.status == CameraStatus.ONLINE, 20)
        assert open_alerts(engine, cid) == []
    finally:
        svc.stop()
    assert not any(t.name.startswith("camera-") for t in threading.enumerate())


def test_garbage_and_silent_sources_go_offline_without_leaking_threads(engine: Engine,
                                                                       org_data: SimpleNamespace) -> None:
    junk = socket.socket()
    junk.bind(("127.0.0.1", 0))
    junk.listen(16)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)
    stop = threading.Event()

    def serve_junk() -> None:
        junk.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = junk.accept()
            except OSError:
                continue
            with conn, contextlib.suppress(OSError):
                conn.sendall(b"RTSP/1.0 200 OK\r\nCSeq: 1\r\n\r\n" + bytes(range(256)) * 40)

    t = threading.Thread(target=serve_junk, daemon=True)
    t.start()
    cids = add_cameras(engine, org_data.city, [f"rtsp://127.0.0.1:{junk.getsockname()[1]}/x",
                                               f"rtsp://127.0.0.1:{silent.getsockname()[1]}/x"])
    before = threading.active_count()
    svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: all(status(engine, c) == CameraStatus.OFFLINE for c in cids), 15)
        assert all(open_alerts(engine, c) for c in cids)
    finally:
        svc.stop()
        stop.set()
        t.join(5)
        junk.close()
        silent.close()
    assert wait_for(lambda: threading.active_count() <= before, 5)


@pytest.mark.parametrize("unused", [None])
def test_camera_without_uri_is_offline(engine: Engine, org_data: SimpleNamespace, unused: None) -> None:
    with session_scope(engine, write=True) as s:
        cam = Camera(site_id=org_data.city, name="nouri", host="10.0.0.1", port=80)
        s.add(cam)
        s.flush()
        cid = int(cam.id or 0)
    svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: status(engine, cid) == CameraStatus.OFFLINE, 10)
        h = health(engine, cid)
        assert h is not None and h.last_error == "camera.stream.no_uri"
    finally:
        svc.stop()


@pytest.fixture
def two_streams(clips: dict[str, Path]) -> Iterator[RtspServer]:
    server = RtspServer(clips, {"small": "main", "wide": "big"})
    try:
        yield server
    finally:
        server.close()


@pytest.mark.slow
def test_edited_stream_is_read_within_a_lease_round(engine: Engine, org_data: SimpleNamespace,
                                                    two_streams: RtspServer) -> None:
    """An edit (here the stream address) reaches the running reader without disabling the camera."""
    from cameras import CameraUpdate, update_camera
    from supervision.access import SYSTEM

    [cid] = add_cameras(engine, org_data.city, [two_streams.url("small")])
    settings = fast_settings(lease_seconds=6.0)
    svc = IngestService(engine, camera_settings=settings, registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: (h := health(engine, cid)) is not None and h.width == 640, 15)
        first = svc.held[cid].reader
        with session_scope(engine, write=True) as s:
            update_camera(s, SYSTEM, cid, CameraUpdate(stream_uri_override=two_streams.url("wide")))
        edited = time.monotonic()
        assert wait_for(lambda: svc.held[cid].reader is not first and svc.held[cid].reader.state.width == 960,
                        20), svc.held[cid].reader.state
        # One renewal round (a third of the lease) plus opening the new stream, with room for a loaded machine.
        assert time.monotonic() - edited < settings.lease_seconds / 3 + settings.open_timeout_seconds + 4
        assert wait_for(lambda: not first.is_alive(), 10)
        assert wait_for(lambda: (h := health(engine, cid)) is not None and h.width == 960, 10)
        assert status(engine, cid) == CameraStatus.ONLINE
        assert open_alerts(engine, cid) == []
    finally:
        svc.stop()
