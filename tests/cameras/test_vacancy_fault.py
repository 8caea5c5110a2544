"""Fault (issue 13, "Bad input and faults"): an ingest worker killed (SIGKILL) in the middle of a vacancy event
loses no event: the next lease holder reads the same camera, the event keeps its id and real start, and it
closes when the person is back."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time as clock
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.demo import DemoCameras, long_absence, register_demo_cameras
from cameras.ingest import FrameRegistry
from cameras.models import IngestLease, VideoEvent, Zone, ZoneKind, ZoneThresholdChange
from cameras.review import set_zone_threshold
from cameras.vacancy import evaluate_vacancies
from cameras.worker import IngestService
from supervision.access import SYSTEM
from supervision.db import session_scope, utcnow
from tests.cameras.conftest import fast_settings
from tests.cameras.test_vacancy_demo import _open_all_day

ROOT = Path(__file__).resolve().parents[2]
CLIP_SECONDS = 120  # the staff member of window A01 is away from 36 s to 108 s of each loop
WORKER = "import cameras.worker as w; w._child_main(0)"


def _events(engine: Engine, zone_id: int, since: object) -> list[VideoEvent]:
    evaluate_vacancies(engine)  # the scheduler's job
    with Session(engine) as s:
        return list(s.exec(select(VideoEvent).where(col(VideoEvent.zone_id) == zone_id,
                                                    col(VideoEvent.started_at) >= since)
                           .order_by(col(VideoEvent.id))).all())


def _until(predicate: object, seconds: float) -> None:
    ends = clock.monotonic() + seconds
    while clock.monotonic() < ends and not predicate():  # type: ignore[operator]
        clock.sleep(1)


@pytest.mark.slow
def test_a_worker_killed_mid_event_loses_no_event(engine: Engine, org_data: SimpleNamespace, tmp_path: Path,
                                                  clips: dict[str, Path]) -> None:
    _open_all_day(engine, org_data)
    demo = DemoCameras(tmp_path, clip_seconds=CLIP_SECONDS, transport="rtsp")
    cams = demo.start(1)
    started = utcnow()
    worker: subprocess.Popen[bytes] | None = None
    try:
        [camera_id] = register_demo_cameras(engine, cams)
        with Session(engine) as s:
            zones = s.exec(select(Zone).where(col(Zone.camera_id) == camera_id, col(Zone.kind) == ZoneKind.POST)
                           .order_by(col(Zone.id))).all()
        zone_id = int(zones[long_absence(1, CLIP_SECONDS)[0]].id or 0)
        with session_scope(engine, write=True) as s:
            set_zone_threshold(s, SYSTEM, zone_id, ZoneThresholdChange(minutes=0.25))
        env = {**os.environ, "SUPERVISION_DATABASE_URL": engine.url.render_as_string(hide_password=False),
               "SUPERVISION_CAMERA_LEASE_SECONDS": "4", "SUPERVISION_CAMERA_HEALTH_FLUSH_SECONDS": "0.5",
               "SUPERVISION_CAMERA_INGEST_ENGINE": "native"}
        worker = subprocess.Popen([sys.executable, "-c", WORKER], env=env, cwd=ROOT)
        _until(lambda: bool(_events(engine, zone_id, started)), 3 * CLIP_SECONDS)
        [event] = _events(engine, zone_id, started)
        assert event.ended_at is None
        with Session(engine) as s:
            lease = s.get(IngestLease, camera_id)
            assert lease is not None
            first_holder = lease.worker_id
        worker.send_signal(signal.SIGKILL)  # mid-event: no clean-up, its lease simply runs out
        worker.wait(timeout=30)
        worker = None
        svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
        svc.start()
        try:
            def taken_over() -> bool:
                with Session(engine) as s:
                    row = s.get(IngestLease, camera_id)
                    return row is not None and row.worker_id != first_holder

            _until(taken_over, 60)
            assert taken_over()
            _until(lambda: all(e.ended_at is not None for e in _events(engine, zone_id, started)), 2 * CLIP_SECONDS)
        finally:
            svc.stop()
        after = _events(engine, zone_id, started)
        assert len(after) == 1, after  # not closed and opened anew by the next holder
        assert after[0].id == event.id and after[0].started_at == event.started_at  # the same event, continued
        assert after[0].ended_at is not None and after[0].ended_at > event.started_at
    finally:
        if worker is not None and worker.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                worker.kill()  # the worker this test started, by its handle
            worker.wait(timeout=30)
        demo.stop()
