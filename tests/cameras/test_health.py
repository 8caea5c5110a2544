"""Health: statistics, frozen detection, the status hysteresis, and a worker that stopped writing."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.config import get_camera_settings
from cameras.health import FreezeDetector, StatusTracker, StreamStats
from cameras.ingest import FrameRegistry, backoff_delay
from cameras.models import AlertKind, CameraHealth, CameraStatus, IngestLease
from cameras.worker import IngestService
from supervision.db import session_scope, utcnow
from tests.cameras.conftest import RtspServer, fast_settings, wait_for
from tests.cameras.test_ingest import add_cameras, open_alerts, status


def test_stats_count_every_packet() -> None:
    stats = StreamStats(window_seconds=2.0)
    for i in range(50):
        stats.on_packet(i * 0.04, 1000, keyframe=i % 25 == 0)
    fps, kbps, interval, analysed = stats.figures(2.0)
    assert 24 <= fps <= 25.5
    assert 190 <= kbps <= 205  # 25 packets/s × 8 kbit
    assert interval == 1.0
    assert analysed == 0


def test_freeze_detector_ignores_noise_but_not_change() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (36, 64), dtype=np.uint8)
    det = FreezeDetector()
    det.update(base, 0.0)
    det.update(base.copy(), 5.0)
    assert det.unchanged_for(5.0) == 5.0
    moved = np.roll(base, 3, axis=1)
    det.update(moved, 6.0)
    assert det.unchanged_for(6.0) == 0.0


def test_status_offline_then_recovers_with_hysteresis() -> None:
    t = StatusTracker(offline_after=10, frozen_after=10, recover_after=2, started_at=0)
    assert t.evaluate(1, 1, 0) == CameraStatus.ONLINE
    assert t.evaluate(10, 1, 0) is None
    assert t.evaluate(11, 1, 0) == CameraStatus.OFFLINE
    assert t.evaluate(12, 12, 0) is None  # back, but not for long enough yet
    assert t.evaluate(14.5, 14.4, 0) == CameraStatus.ONLINE
    assert t.evaluate(30, 29.9, 12) == CameraStatus.FROZEN


def test_never_connected_camera_goes_offline() -> None:
    t = StatusTracker(offline_after=3, frozen_after=3, recover_after=1, started_at=100)
    assert t.evaluate(101, None, 0) is None
    assert t.evaluate(103, None, 0) == CameraStatus.OFFLINE


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(a, 1, 30, rng) for a in range(10)]
    assert all(1 <= d <= 30 for d in delays)
    assert max(delays[5:]) > max(delays[:2])


# --- a worker that stops writing (kill -9): the web and the scheduler, which outlive it, call it offline ------


def _crash(svc: IngestService) -> None:
    """What kill -9 leaves behind: the readers and the lease loop gone, the leases and health rows kept."""
    svc._own_stop.set()
    assert svc._thread is not None
    svc._thread.join(10)
    svc._stop_readers(list(svc.held))


@pytest.mark.slow
def test_dead_worker_turns_offline_with_one_alert_and_recovers(engine: Engine, org_data: SimpleNamespace,
                                                               rtsp: RtspServer) -> None:
    from cameras import camera_status, list_alerts, list_cameras, mark_silent_cameras
    from cameras.staleness import CHECK_SECONDS, SILENT, stale_after_seconds
    from supervision.access import SYSTEM
    from web.composition import scheduled_jobs

    defaults = get_camera_settings()
    # The scheduler looks often enough to stay within the 15 s of a dropped stream.
    assert stale_after_seconds(defaults) + CHECK_SECONDS <= 15
    assert any(j.id == "cameras.silent_workers" and j.trigger_args == {"seconds": CHECK_SECONDS}
               for j in scheduled_jobs())

    [cid] = add_cameras(engine, org_data.city, [rtsp.url("cam1")])
    settings = fast_settings(lease_seconds=30.0)  # no takeover by lease expiry during the test
    a = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-a")
    a.start()
    try:
        assert wait_for(lambda: status(engine, cid) == CameraStatus.ONLINE, 15)
        _crash(a)
        crashed = time.monotonic()

        def shown() -> CameraStatus:
            with Session(engine) as s:
                return camera_status(s, SYSTEM, cid).status

        assert shown() == CameraStatus.ONLINE  # the last row is fresh
        assert mark_silent_cameras(engine, cs=settings) == []  # not stale yet: nothing written
        # The read path: the web shows it offline once the row is older than the stale limit (9 s by default).
        assert wait_for(shown, 1) and wait_for(lambda: shown() == CameraStatus.OFFLINE, 20)
        assert time.monotonic() - crashed < 15
        with Session(engine) as s:
            listed = list_cameras(s, SYSTEM, status=CameraStatus.OFFLINE)
            assert [c.id for c in listed] == [cid] and listed[0].health.fps == 0
            assert list_cameras(s, SYSTEM, status=CameraStatus.ONLINE) == []
        # The scheduler's job writes it offline and opens one alert, even run twice.
        assert mark_silent_cameras(engine, cs=settings) == [cid]
        assert mark_silent_cameras(engine, cs=settings) == []
        assert status(engine, cid) == CameraStatus.OFFLINE
        [alert] = open_alerts(engine, cid)
        assert alert.kind == AlertKind.OFFLINE and alert.detail == SILENT
        with Session(engine) as s:
            assert [x.camera_id for x in list_alerts(s, SYSTEM)] == [cid]
        # Another worker takes the camera over (a lease released here, as expiry would) and clears the alert.
        with session_scope(engine, write=True) as s:
            s.execute(delete(IngestLease))
        b = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-b")
        b.start()
        try:
            assert wait_for(lambda: open_alerts(engine, cid) == [] and status(engine, cid) == CameraStatus.ONLINE,
                            20), (status(engine, cid), open_alerts(engine, cid))
            with Session(engine) as s:
                alerts = list_alerts(s, SYSTEM, open_only=False)
            assert len(alerts) == 1  # the takeover opened no second one
        finally:
            b.stop()
    finally:
        a.stop()


@pytest.mark.slow
def test_slow_worker_marked_silent_clears_the_alert_itself(engine: Engine, org_data: SimpleNamespace,
                                                           rtsp: RtspServer) -> None:
    """A worker that only stalled (its flushes late) adopts the row the scheduler marked, and clears the alert."""
    from cameras import mark_silent_cameras

    [cid] = add_cameras(engine, org_data.city, [rtsp.url("cam1")])
    settings = fast_settings(lease_seconds=30.0)
    a = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-a")
    a.start()
    try:
        assert wait_for(lambda: status(engine, cid) == CameraStatus.ONLINE, 15)
        # The stall: the worker writes nothing for a while, and its row ages past the stale limit.
        flush = a._flush
        a._flush = lambda changes: None  # type: ignore[method-assign]
        with session_scope(engine, write=True) as s:
            s.execute(update(CameraHealth).where(col(CameraHealth.camera_id) == cid)
                      .values(updated_at=utcnow() - timedelta(minutes=5)))
        assert mark_silent_cameras(engine, cs=settings) == [cid]
        assert status(engine, cid) == CameraStatus.OFFLINE and len(open_alerts(engine, cid)) == 1
        a._flush = flush  # type: ignore[method-assign]
        assert wait_for(lambda: open_alerts(engine, cid) == [] and status(engine, cid) == CameraStatus.ONLINE,
                        10), (status(engine, cid), open_alerts(engine, cid))
    finally:
        a.stop()


@pytest.mark.slow
def test_kill_9_of_the_worker_shows_its_cameras_offline_with_an_alert_within_15_s(
        engine: Engine, org_data: SimpleNamespace, rtsp: RtspServer, tmp_path: Path) -> None:
    """A real `supervision worker` killed with -9: the read path and the scheduler's check call it offline."""
    from cameras import camera_status, mark_silent_cameras
    from cameras.staleness import CHECK_SECONDS
    from supervision.access import SYSTEM

    cids = add_cameras(engine, org_data.city, [rtsp.url("cam1"), rtsp.url("cam2")])
    env = {**os.environ, "SUPERVISION_DATABASE_URL": engine.url.render_as_string(hide_password=False),
           "SUPERVISION_VAR_DIR": str(tmp_path / "var")}
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "web", "worker", "--processes", "1"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        assert wait_for(lambda: all(status(engine, c) == CameraStatus.ONLINE for c in cids), 60), \
            log.read_text(errors="replace")[-3000:]
        worker.send_signal(signal.SIGKILL)  # its ingest child follows it (PR_SET_PDEATHSIG)
        worker.wait(timeout=10)
        killed = time.monotonic()

        def shown() -> list[CameraStatus]:
            with Session(engine) as s:
                return [camera_status(s, SYSTEM, c).status for c in cids]

        # The scheduler's job, run as often as the scheduler runs it, until both cameras have their alert.
        while time.monotonic() - killed < 30 and not all(open_alerts(engine, c) for c in cids):
            mark_silent_cameras(engine)
            time.sleep(CHECK_SECONDS)
        assert shown() == [CameraStatus.OFFLINE] * 2
        assert all(len(open_alerts(engine, c)) == 1 for c in cids)
        assert time.monotonic() - killed <= 15 + 2  # a scheduler period of slack for the loaded machine
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait(timeout=10)


def test_silent_worker_alert_of_a_watched_window_reaches_the_risk_register(engine: Engine,
                                                                          org_data: SimpleNamespace) -> None:
    """The scheduler's offline alert of a camera over a window is an incident, as a worker's own alert is."""
    from cameras import mark_silent_cameras
    from cameras.models import Camera
    from cameras.staleness import stale_after_seconds
    from supervision.models import Incident

    settings = fast_settings(lease_seconds=30.0)
    long_ago = utcnow() - timedelta(seconds=stale_after_seconds(settings) + 60)
    with session_scope(engine, write=True) as s:
        watched = Camera(site_id=org_data.city, name="窗口摄像机", host="127.0.0.1", port=554,
                         window_id=org_data.window, post_id=org_data.post)
        hall = Camera(site_id=org_data.city, name="大厅摄像机", host="127.0.0.1", port=555)
        s.add_all([watched, hall])
        s.flush()
        ids = [int(watched.id or 0), int(hall.id or 0)]
        for cid in ids:
            s.add(CameraHealth(camera_id=cid, status=CameraStatus.ONLINE, worker_id="gone-worker",
                               updated_at=long_ago, status_since=long_ago))
    assert sorted(mark_silent_cameras(engine, cs=settings)) == sorted(ids)
    assert mark_silent_cameras(engine, cs=settings) == []  # twice: nothing more
    with Session(engine) as s:
        found = s.exec(select(Incident).where(col(Incident.source_kind) == "camera_alert")).all()
        [alert] = open_alerts(engine, ids[0])
    # One incident, for the camera over the window and its post; the hall camera watches no one's post.
    assert [(i.kind, i.source_id, i.window_id, i.post_id) for i in found] == [
        ("video_alert", str(alert.id), org_data.window, org_data.post)]
