"""Leases: two workers share cameras, never read one twice, and take over a stopped worker's cameras."""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cameras.ingest import FrameRegistry
from cameras.models import CameraHealth, CameraStatus, IngestLease
from cameras.worker import IngestService
from tests.cameras.conftest import RtspServer, fast_settings, wait_for
from tests.cameras.test_ingest import add_cameras


def leases(engine: Engine) -> dict[int, str]:
    with Session(engine) as s:
        return {lease.camera_id: lease.worker_id for lease in s.exec(select(IngestLease)).all()}


@pytest.mark.slow
def test_two_workers_share_and_fail_over(engine: Engine, org_data: SimpleNamespace, rtsp: RtspServer) -> None:
    cids = add_cameras(engine, org_data.city, [rtsp.url(f"cam{i}") for i in range(1, 5)])
    settings = fast_settings(lease_seconds=3.0, max_cameras_per_process=4)
    a = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-a")
    b = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-b")
    overlap: list[set[int]] = []
    watching = threading.Event()

    def watch() -> None:
        # No camera may ever be read by both workers at once.
        while not watching.is_set():
            reading_a = {c for c, h in list(a.held.items()) if h.reader.state.opened}
            reading_b = {c for c, h in list(b.held.items()) if h.reader.state.opened}
            if reading_a & reading_b:
                overlap.append(reading_a & reading_b)
            time.sleep(0.02)

    a.start()
    b.start()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert wait_for(lambda: len(leases(engine)) == 4, 10)
        # A fair share: each takes about half once both are alive.
        assert wait_for(lambda: sorted(leases(engine).values()).count("worker-b") >= 1, 10)
        def statuses() -> list[CameraStatus | None]:
            with Session(engine) as s:
                return [(h.status if (h := s.get(CameraHealth, c)) else None) for c in cids]

        assert wait_for(lambda: statuses() == [CameraStatus.ONLINE] * 4, 15), (statuses(), leases(engine))
        stopped_at = time.monotonic()
        a.stop()  # a graceful stop releases at once; a crash is covered by expiry below
        assert wait_for(lambda: set(leases(engine).values()) == {"worker-b"} and len(leases(engine)) == 4, 10)
        assert time.monotonic() - stopped_at < settings.lease_seconds + 3
        # Now kill b without releasing (a crash): a new worker takes over after expiry.
        b._own_stop.set()
        assert b._thread is not None
        b._thread.join(5)
        b._stop_readers(list(b.held))  # the readers die with the process; the leases stay behind
        c = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-c")
        crashed_at = time.monotonic()
        c.start()
        try:
            assert wait_for(lambda: set(leases(engine).values()) == {"worker-c"}, settings.lease_seconds + 8)
            assert time.monotonic() - crashed_at >= settings.lease_seconds - 1.5  # not before expiry
        finally:
            c.stop()
    finally:
        watching.set()
        watcher.join(2)
        a.stop() if a.held else None
        b.stop()
    assert overlap == []
