"""The demo (issue 13 §9): a virtual hall camera over the real RTSP path, its staff member away for long, the
presence detector and the vacancy job → a vacancy event that opens and closes again when the person is back;
and the real-footage camera registers with its post zone on the footage's post."""

from __future__ import annotations

import time as clock
from datetime import datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.demo import (
    DEMO_FOOTAGE,
    DEMO_VACANCY_MINUTES,
    FOOTAGE_CAMERA,
    DemoCameras,
    footage_post_roi,
    long_absence,
    register_demo_cameras,
)
from cameras.ingest import FrameRegistry
from cameras.models import (
    Camera,
    PresenceState,
    VideoEvent,
    Zone,
    ZoneKind,
    ZonePresence,
    ZoneThresholdChange,
    ZoneVacancyThreshold,
)
from cameras.review import false_alarms, set_zone_threshold
from cameras.vacancy import evaluate_vacancies
from cameras.worker import IngestService
from supervision import officehours, workdays
from supervision.access import SYSTEM
from supervision.db import session_scope, utcnow
from supervision.settings import get_settings
from tests.cameras.conftest import fast_settings, wait_for

# The demo's clip is 240 s with a 2-minute threshold; the test runs the same scene at a quarter of the length, so
# the threshold is a quarter too (the long absence is 36 s of a 60-s loop).
CLIP_SECONDS = 60
THRESHOLD_MINUTES = DEMO_VACANCY_MINUTES / 4 / 2  # 15 s: room for the detector's hysteresis on a loaded machine


def _open_all_day(engine: Engine, org: SimpleNamespace) -> None:
    """Office hours now, whatever the hour and the weekday the test runs on (00:00–23:59, today a working day)."""
    periods = [officehours.PeriodSpec(season, day, time(0, 0), time(23, 59))
               for season in officehours.Season for day in range(7)]
    with session_scope(engine, write=True) as s:
        officehours.set_timetable(s, SYSTEM, site_id=org.city, summer=None, periods=periods, note="test: all day")
    today = datetime.now(get_settings().tz).date()
    with session_scope(engine, write=True) as s:
        workdays.set_override(s, SYSTEM, day=today, is_workday=True, name="test")


def test_the_demo_hall_shows_a_vacancy_event_within_its_threshold(
        engine: Engine, org_data: SimpleNamespace, tmp_path: Path, clips: dict[str, Path]) -> None:
    _open_all_day(engine, org_data)
    demo = DemoCameras(tmp_path, clip_seconds=CLIP_SECONDS, transport="rtsp")
    cams = demo.start(1)
    assert len(cams) == 1 and cams[0].rtsp_uri.startswith("rtsp://127.0.0.1:")
    started = utcnow()
    try:
        [camera_id] = register_demo_cameras(engine, cams)
        with Session(engine) as s:
            zones = s.exec(select(Zone).where(col(Zone.camera_id) == camera_id, col(Zone.kind) == ZoneKind.POST)
                           .order_by(col(Zone.id))).all()
            # the demo's threshold is data on its zones
            assert [s.get(ZoneVacancyThreshold, z.id).minutes for z in zones] == [DEMO_VACANCY_MINUTES] * len(zones)
        away = zones[long_absence(1, CLIP_SECONDS)[0]]  # window A01's post: the scene's long absence
        assert away.post_id == org_data.post
        with session_scope(engine, write=True) as s:
            set_zone_threshold(s, SYSTEM, int(away.id or 0), ZoneThresholdChange(minutes=THRESHOLD_MINUTES))
        svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
        svc.start()
        try:
            def live_events(closed: bool) -> list[VideoEvent]:
                evaluate_vacancies(engine)  # the scheduler's job, run more often than its 30 s
                with Session(engine) as s:
                    rows = s.exec(select(VideoEvent).where(col(VideoEvent.zone_id) == away.id,
                                                           col(VideoEvent.started_at) >= started)).all()
                return [e for e in rows if e.ended_at is not None or not closed]

            # bounded: one loop of the clip to reach the absence, then the threshold and the hysteresis
            ends = clock.monotonic() + 3 * CLIP_SECONDS
            while clock.monotonic() < ends and not live_events(False):
                clock.sleep(1)
            [event] = live_events(False)[:1]
            assert event.staff_id == org_data.staff and event.post_id == org_data.post
            assert event.started_at >= started - timedelta(seconds=1)
            ends = clock.monotonic() + 2 * CLIP_SECONDS  # the person comes back: the event closes
            while clock.monotonic() < ends and not live_events(True):
                clock.sleep(1)
            [done] = [e for e in live_events(True) if e.id == event.id]
            assert done.ended_at is not None
            length = (done.ended_at - done.started_at).total_seconds()
            _, gone_from, gone_to = long_absence(1, CLIP_SECONDS)
            assert gone_to - gone_from - 8 <= length <= gone_to - gone_from + 8  # the real span, give or take
        finally:
            svc.stop()
    finally:
        demo.stop()


@pytest.mark.skipif(not DEMO_FOOTAGE.exists(), reason="the footage is not in this checkout")
def test_the_real_footage_camera_registers_with_its_post_zone(
        engine: Engine, org_data: SimpleNamespace, tmp_path: Path, clips: dict[str, Path]) -> None:
    demo = DemoCameras(tmp_path, clip_seconds=6, transport="rtsp", footage=DEMO_FOOTAGE)
    cams = demo.start(1)
    try:
        assert [c.footage for c in cams] == [False, True]
        ids = register_demo_cameras(engine, cams)
        again = register_demo_cameras(engine, cams)  # a restart: the same cameras and zones
        assert again == ids
        with Session(engine) as s:
            camera = s.get(Camera, ids[1])
            assert camera is not None and camera.name == FOOTAGE_CAMERA and camera.hall_id == org_data.hall
            [zone] = s.exec(select(Zone).where(col(Zone.camera_id) == ids[1])).all()
            assert zone.polygon == footage_post_roi() and zone.reference_sha256
        with Session(engine) as s:  # the hall camera's demo false alarm, once though registered twice
            rows = {r.camera_id: r for r in false_alarms(s, SYSTEM) if r.dismissed}
            assert list(rows) == [ids[0]] and rows[ids[0]].dismissed == 1 and rows[ids[0]].pending >= 1
        svc = IngestService(engine, camera_settings=fast_settings(), registry=FrameRegistry())
        svc.start()
        try:  # the detector on a real person: the post reads occupied, then vacant again, within two loops
            def seen(state: PresenceState) -> bool:
                with Session(engine) as s:
                    return s.exec(select(ZonePresence.id).where(col(ZonePresence.zone_id) == zone.id,
                                                                col(ZonePresence.state) == state)).first() is not None

            assert wait_for(lambda: seen(PresenceState.OCCUPIED), 120, step=1)
            assert wait_for(lambda: seen(PresenceState.VACANT), 120, step=1)
        finally:
            svc.stop()
    finally:
        demo.stop()
