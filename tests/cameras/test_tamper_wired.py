"""Tamper wired into ingest (issue 13 §5): hysteresis, the reader-side checks on real frames, the alert and event
rows, and the whole path through the real RTSP server (the labelled footage made dark, blurred, turned).

The footage: the first seconds of one-by-one-person-detection.mp4, intel-iot-devkit/sample-videos,
© Intel Corporation, CC BY 4.0.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.camera_reference import record_tamper, store_camera_reference
from cameras.ingest import FrameRegistry
from cameras.models import AlertKind, Camera, CameraAlert, VideoEvent, VideoEventKind, VideoEventStatus
from cameras.tamper import CameraTamper, Tamper, TamperChange, TamperHysteresis, TamperReading, TamperSettings
from cameras.worker import IngestService
from supervision.db import session_scope
from supervision.settings import get_settings
from tests.cameras.conftest import RtspServer, fast_settings, gstreamer_missing, wait_for
from tests.cameras.test_presence import FOOTAGE, key_frames

T0 = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # in the past: a change is never dated after now


@pytest.fixture(scope="module")
def frames() -> list[Any]:
    return [g for _, g in key_frames()]


# --- hysteresis (pure) -------------------------------------------------------------------------------------------


def test_a_finding_must_hold_its_seconds_and_is_dated_from_its_first_frame() -> None:
    h = TamperHysteresis(after_seconds=3, clear_seconds=2)
    assert h.update((), 0) is None and h.update((), 1) is None
    assert h.update((), 2) == ("", 0)  # judged clean once the clean picture held 2 s
    assert h.update((Tamper.COVERED,), 3) is None  # a hand over the lens for a moment...
    assert h.update((), 4) is None  # ...gone again: nothing
    for t in (5, 6, 7):
        assert h.update((Tamper.COVERED,), t) is None
    assert h.update((Tamper.COVERED,), 8) == ("covered", 5)  # held 3 s: confirmed, dated from 5
    assert h.update((Tamper.BLURRED,), 9) is None  # another finding needs its own seconds
    assert h.update((Tamper.BLURRED,), 12) == ("blurred", 9)
    assert h.update((), 13) is None
    assert h.update((), 15) == ("", 13)


# --- the reader's checks on real frames ---------------------------------------------------------------------------


def feed(tamper: CameraTamper, pictures: list[Any], start: float) -> float:
    t = start
    for grey in pictures:
        tamper.analyse(grey, t, T0 + timedelta(seconds=t))
        t += 1.0
    return t


def test_camera_tamper_reports_covered_blurred_and_turned_with_the_picture_time(frames: list[Any]) -> None:
    settings = TamperSettings(after_seconds=3, clear_seconds=3)
    tamper = CameraTamper()
    tamper.configure(frames[0], "ref", settings)
    t = feed(tamper, frames[:6], 0)
    assert [c.state for c in tamper.drain()] == [""]  # clean: judged, nothing wrong
    dark = [(g * 0.05).astype(np.uint8) for g in frames[6:12]]
    covered_from = t
    t = feed(tamper, dark, t)
    [covered] = tamper.drain()
    assert covered.state == "covered" and covered.at == T0 + timedelta(seconds=covered_from)
    assert covered.reading.mean < 25
    t = feed(tamper, [cv2.GaussianBlur(g, (0, 0), 4) for g in frames[12:18]], t)
    assert [c.state for c in tamper.drain()] == ["blurred"]
    t = feed(tamper, [np.ascontiguousarray(g[::-1, ::-1]) for g in frames[18:24]], t)
    assert [c.state for c in tamper.drain()] == ["turned_away"]
    feed(tamper, frames[24:30], t)
    assert [c.state for c in tamper.drain()] == [""]


def test_people_lights_and_noise_raise_nothing_over_the_whole_clip(frames: list[Any]) -> None:
    tamper = CameraTamper()
    tamper.configure(frames[0], "ref", TamperSettings(after_seconds=2, clear_seconds=2))
    rng = np.random.default_rng(3)
    varied = [np.clip(g.astype(np.float32) * (0.6 + 0.05 * (i % 9)) + rng.normal(0, 6, g.shape), 0, 255)
              .astype(np.uint8) for i, g in enumerate(frames)]
    feed(tamper, varied, 0)
    assert [c.state for c in tamper.drain()] == [""]


def test_without_a_reference_only_a_covered_lens_is_found(frames: list[Any]) -> None:
    tamper = CameraTamper()
    tamper.configure(None, None, TamperSettings(after_seconds=2, clear_seconds=2))
    t = feed(tamper, [cv2.GaussianBlur(g, (0, 0), 6) for g in frames[:5]], 0)
    t = feed(tamper, [np.ascontiguousarray(g[::-1, ::-1]) for g in frames[5:10]], t)
    assert [c.state for c in tamper.drain()] == [""]
    feed(tamper, [np.full_like(g, 170) for g in frames[10:15]], t)  # tape over the lens: uniform
    assert [c.state for c in tamper.drain()] == ["covered"]


def test_a_new_reference_keeps_the_confirmed_state(frames: list[Any]) -> None:
    tamper = CameraTamper()
    tamper.configure(frames[0], "a", TamperSettings(after_seconds=2, clear_seconds=2))
    shifted = [np.ascontiguousarray(g[::-1, ::-1]) for g in frames[:8]]
    feed(tamper, shifted, 0)
    assert [c.state for c in tamper.drain()][-1] == "turned_away"
    # The camera was turned on purpose: the officer takes the still again; the alert clears once judged.
    tamper.configure(shifted[0], "b", TamperSettings(after_seconds=2, clear_seconds=2))
    assert tamper.state == "turned_away"
    feed(tamper, shifted, 10)
    assert [c.state for c in tamper.drain()] == [""]


# --- the rows ------------------------------------------------------------------------------------------------------


def _camera(engine: Engine, site_id: int, uri: str = "rtsp://127.0.0.1:9/x") -> int:
    with session_scope(engine, write=True) as s:
        cam = Camera(site_id=site_id, name="公安窗口摄像机", host="127.0.0.1", port=554, stream_uri_override=uri)
        s.add(cam)
        s.flush()
        return int(cam.id or 0)


READING = TamperReading(10.0, 2.0, 1.0, 1.0, (Tamper.COVERED,))


def _record(engine: Engine, cid: int, site_id: int, state: str, at: datetime) -> None:
    with session_scope(engine, write=True) as s:
        record_tamper(s, cid, site_id=site_id, name="cam", window_id=None, post_id=None,
                      change=TamperChange(state, at, READING))


def _rows(engine: Engine, cid: int) -> tuple[list[CameraAlert], list[VideoEvent]]:
    with Session(engine) as s:
        alerts = list(s.exec(select(CameraAlert).where(col(CameraAlert.camera_id) == cid)
                             .order_by(col(CameraAlert.id))).all())
        events = list(s.exec(select(VideoEvent).where(col(VideoEvent.camera_id) == cid)
                             .order_by(col(VideoEvent.id))).all())
        return alerts, events


def test_a_finding_opens_an_alert_and_an_event_and_clearing_closes_both(engine: Engine,
                                                                         org_data: SimpleNamespace) -> None:
    cid = _camera(engine, org_data.city)
    _record(engine, cid, org_data.city, "", T0)  # a clean first judgement writes nothing
    assert _rows(engine, cid) == ([], [])
    _record(engine, cid, org_data.city, "covered", T0)
    _record(engine, cid, org_data.city, "covered", T0 + timedelta(seconds=5))  # a new reader, same finding
    alerts, events = _rows(engine, cid)
    assert [(a.kind, a.detail, a.started_at, a.cleared_at) for a in alerts] == [
        (AlertKind.TAMPER, "camera.tamper.covered", T0, None)]
    assert [(e.kind, e.status, e.started_at) for e in events] == [(VideoEventKind.TAMPER, VideoEventStatus.OPEN, T0)]
    _record(engine, cid, org_data.city, "turned_away", T0 + timedelta(minutes=1))
    alerts, events = _rows(engine, cid)
    assert [(a.detail, a.cleared_at) for a in alerts] == [
        ("camera.tamper.covered", T0 + timedelta(minutes=1)), ("camera.tamper.turned_away", None)]
    assert [e.status for e in events] == [VideoEventStatus.PENDING_REVIEW, VideoEventStatus.OPEN]
    _record(engine, cid, org_data.city, "", T0 + timedelta(minutes=3))
    alerts, events = _rows(engine, cid)
    assert all(a.cleared_at is not None for a in alerts)
    assert events[-1].ended_at == T0 + timedelta(minutes=3) and events[-1].status == VideoEventStatus.PENDING_REVIEW


# --- through ingest and the real RTSP server ---------------------------------------------------------------------


def _variant(src: Path, out: Path, vf: str) -> Path:
    if not out.exists():
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(src), "-t", "12", "-vf", vf, "-an",
                        "-c:v", "libx264", "-preset", "ultrafast", "-g", "10", "-bf", "0", "-pix_fmt", "yuv420p",
                        str(out)], check=True, timeout=180)
    return out


@pytest.fixture(scope="module")
def footage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RtspServer]:
    why = gstreamer_missing()
    if why:
        pytest.skip(why)
    if not FOOTAGE.exists():
        pytest.skip(f"the labelled footage is not at {FOOTAGE}")
    d = tmp_path_factory.mktemp("tamper-clips")
    clips = {"real": _variant(FOOTAGE, d / "real.mp4", "null"),
             "dark": _variant(FOOTAGE, d / "dark.mp4", "lutyuv=y=val*0.06"),
             "blurred": _variant(FOOTAGE, d / "blurred.mp4", "gblur=sigma=8"),
             "turned": _variant(FOOTAGE, d / "turned.mp4", "hflip,vflip")}
    server = RtspServer(clips, {"hall": "real"})
    try:
        yield server
    finally:
        server.close()


def _open_tamper(engine: Engine, cid: int) -> list[str]:
    with Session(engine) as s:
        return [a.detail for a in s.exec(select(CameraAlert).where(
            col(CameraAlert.camera_id) == cid, col(CameraAlert.kind) == AlertKind.TAMPER,
            col(CameraAlert.cleared_at).is_(None))).all()]


@pytest.mark.slow
def test_ingest_raises_and_clears_tamper_alerts_on_a_real_stream(engine: Engine, org_data: SimpleNamespace,
                                                                 footage_server: RtspServer,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPERVISION_CAMERA_TAMPER_AFTER_SECONDS", "2")
    monkeypatch.setenv("SUPERVISION_CAMERA_TAMPER_CLEAR_SECONDS", "2")
    footage_server.command("switch hall real")
    cid = _camera(engine, org_data.city, footage_server.url("hall"))
    ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(key_frames()[0][1], cv2.COLOR_GRAY2BGR))
    assert ok
    with session_scope(engine, write=True) as s:
        store_camera_reference(s, cid, jpeg.tobytes(), get_settings().media_dir, taken_by="test")
    svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: svc.held.get(cid) is not None and svc.held[cid].reader.tamper.state == "", 30)
        assert _open_tamper(engine, cid) == []
        for clip, detail in (("dark", "camera.tamper.covered"), ("blurred", "camera.tamper.blurred"),
                             ("turned", "camera.tamper.turned_away")):
            footage_server.command(f"switch hall {clip}")
            assert wait_for(lambda d=detail: _open_tamper(engine, cid) == [d], 30), (clip, _open_tamper(engine, cid))
        footage_server.command("switch hall real")
        assert wait_for(lambda: _open_tamper(engine, cid) == [], 30)
    finally:
        svc.stop()
    alerts, events = _rows(engine, cid)
    tamper_alerts = [a.detail for a in alerts if a.kind == AlertKind.TAMPER]
    assert tamper_alerts == ["camera.tamper.covered", "camera.tamper.blurred", "camera.tamper.turned_away"]
    assert [e.kind for e in events] == [VideoEventKind.TAMPER] * 3
    assert all(e.ended_at is not None and e.status == VideoEventStatus.PENDING_REVIEW for e in events)
