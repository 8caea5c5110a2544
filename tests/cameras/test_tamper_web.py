"""Tamper and queues on the camera page and under /api/v1: the reference still re-taken (audited, by
jurisdiction), the open finding, the queue zones now, and tamper / queue events on the review pages."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import av
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras import CameraCreate, register_camera
from cameras.ingest import FRAMES
from cameras.models import (
    AlertKind,
    CameraAlert,
    CameraReference,
    VideoEvent,
    VideoEventKind,
    VideoEventStatus,
    Zone,
    ZoneCount,
    ZoneKind,
)
from supervision.db import session_scope, utcnow
from supervision.models import AuditEntry, LedgerEntry
from supervision.settings import get_settings
from tests.web.conftest import app_client, bearer, logged_in  # noqa: F401  (fixtures, used by name)

Login = Callable[[str], tuple[TestClient, str]]


@pytest.fixture
def camera_id(engine: Engine, org_data: SimpleNamespace) -> int:
    with session_scope(engine, write=True) as s:
        cam = register_camera(s, org_data.principals["admin"], CameraCreate(
            site_id=org_data.city, hall_id=org_data.hall, name="公共服务大厅 3 号机", host="127.0.0.1", port=9,
            skip_probe=True, stream_uri_override="rtsp://127.0.0.1:9/hall3"))
        return int(cam.id or 0)


def test_an_officer_retakes_the_reference_still_by_api(app_client: TestClient, engine: Engine,  # noqa: F811
                                                      org_data: SimpleNamespace, camera_id: int) -> None:
    headers = bearer(app_client, "officer")
    url = f"/api/v1/cameras/{camera_id}/tamper-reference"
    before = app_client.get(url, headers=headers).json()
    assert before == {"camera_id": camera_id, "sha256": None, "width": 0, "height": 0, "taken_at": None,
                      "taken_by": "", "tamper": None}
    assert app_client.post(url, headers=headers).status_code == 404  # no picture yet
    picture = np.zeros((360, 640, 3), np.uint8)
    picture[:, 320:] = 200
    FRAMES.publish(camera_id, av.VideoFrame.from_ndarray(picture, format="bgr24"))
    try:
        assert app_client.post(url, headers=bearer(app_client, "county_officer")).status_code == 404
        assert app_client.post(url, headers=bearer(app_client, "staff")).status_code == 403
        taken = app_client.post(url, headers=headers)
        assert taken.status_code == 200, taken.text
    finally:
        FRAMES.forget(camera_id)
    body = taken.json()
    assert (body["width"], body["height"], body["taken_by"]) == (640, 360, "officer")
    path = get_settings().media_dir / "zones" / f"{body['sha256']}.png"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == body["sha256"]
    assert app_client.get(url, headers=bearer(app_client, "county_officer")).status_code == 404
    with Session(engine) as s:
        row = s.get(CameraReference, camera_id)
        assert row is not None and row.sha256 == body["sha256"]
        [entry] = s.exec(select(AuditEntry).where(col(AuditEntry.action) == "camera.tamper_reference")).all()
        assert entry.object_id == str(camera_id) or entry.object_id == camera_id


def test_the_camera_page_shows_the_finding_the_still_and_the_queues_in_both_languages(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:  # noqa: F811
    with session_scope(engine, write=True) as s:
        s.add(CameraAlert(camera_id=camera_id, site_id=org_data.city, kind=AlertKind.TAMPER, started_at=utcnow(),
                          detail="camera.tamper.turned_away"))
        zone = Zone(camera_id=camera_id, site_id=org_data.city, name="东侧等候区", kind=ZoneKind.QUEUE,
                    hall_id=org_data.hall, queue_alert_count=4,
                    polygon_json="[[0.1, 0.5], [0.6, 0.5], [0.6, 0.9], [0.1, 0.9]]")
        s.add(zone)
        s.flush()
        s.add(ZoneCount(zone_id=int(zone.id or 0), count=6, counted_at=utcnow()))
    client, csrf = logged_in("officer")
    page = client.get(f"/cameras/{camera_id}")
    assert page.status_code == 200
    assert "摄像机被转向" in page.text and "东侧等候区" in page.text and "turned_away" not in page.text
    assert 'data-testid="take-tamper-reference"' in page.text
    picture = np.full((360, 640, 3), 90, np.uint8)
    picture[100:200, 100:300] = 220
    FRAMES.publish(camera_id, av.VideoFrame.from_ndarray(picture, format="bgr24"))
    try:
        saved = client.post(f"/cameras/{camera_id}/tamper-reference", data={"csrf_token": csrf},
                            follow_redirects=True)
    finally:
        FRAMES.forget(camera_id)
    assert saved.status_code == 200 and 'data-testid="tamper-reference-saved"' in saved.text
    client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
    english = client.get(f"/cameras/{camera_id}")
    assert "Tamper checks" in english.text and "Camera turned away" in english.text and "People now" in english.text
    viewer, _ = logged_in("supervisor")  # sees the camera, may not take the still
    assert 'data-testid="take-tamper-reference"' not in viewer.get(f"/cameras/{camera_id}").text


def test_queue_states_by_api(app_client: TestClient, engine: Engine, org_data: SimpleNamespace,  # noqa: F811
                             camera_id: int) -> None:
    with session_scope(engine, write=True) as s:
        zone = Zone(camera_id=camera_id, site_id=org_data.city, name="东侧等候区", kind=ZoneKind.QUEUE,
                    hall_id=org_data.hall, polygon_json="[[0.1, 0.5], [0.6, 0.5], [0.6, 0.9], [0.1, 0.9]]")
        s.add(zone)
        s.flush()
        s.add(ZoneCount(zone_id=int(zone.id or 0), count=2, counted_at=utcnow()))
        zone_id = int(zone.id or 0)
    headers = bearer(app_client, "officer")
    reply = app_client.get(f"/api/v1/cameras/{camera_id}/queues", headers=headers)
    assert reply.status_code == 200, reply.text
    [row] = reply.json()["data"]
    assert (row["zone_id"], row["count"], row["queue_alert_count"], row["vacant_windows"], row["alert_open"]) == (
        zone_id, 2, 3, [], False)
    # The alert count is the zone's own: set it like any of the zone's settings; bad values name the field.
    bad = app_client.patch(f"/api/v1/cameras/{camera_id}/zones/{zone_id}", headers=headers,
                           json={"queue_alert_count": 0})
    assert bad.status_code == 422 and "queue_alert_count" in bad.text
    assert app_client.patch(f"/api/v1/cameras/{camera_id}/zones/{zone_id}", headers=headers,
                            json={"queue_alert_count": 2}).status_code == 200
    assert app_client.get(f"/api/v1/cameras/{camera_id}/queues", headers=headers).json()["data"][0][
        "queue_alert_count"] == 2
    assert app_client.get(f"/api/v1/cameras/{camera_id}/queues",
                          headers=bearer(app_client, "county_officer")).status_code == 404


def test_tamper_and_queue_events_are_reviewed_without_touching_a_score(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:  # noqa: F811
    ended = utcnow() - timedelta(minutes=5)
    with session_scope(engine, write=True) as s:
        tamper = VideoEvent(kind=VideoEventKind.TAMPER, status=VideoEventStatus.PENDING_REVIEW, site_id=org_data.city,
                            camera_id=camera_id, started_at=ended - timedelta(minutes=3), ended_at=ended)
        queue = VideoEvent(kind=VideoEventKind.QUEUE_VACANT, site_id=org_data.city, camera_id=camera_id,
                           started_at=ended)
        s.add_all([tamper, queue])
        s.flush()
        tamper_id = int(tamper.id or 0)
    client, csrf = logged_in("officer")
    listing = client.get("/cameras/video-events")
    assert "摄像机遮挡/移动" in listing.text and "有人排队但窗口空岗" in listing.text
    assert "queue_vacant" not in re.sub(r"<[^>]+>", " ", listing.text)  # no internal code on the page (values aside)
    page = client.get(f"/cameras/video-events/{tamper_id}")
    assert page.status_code == 200 and "不计个人分" in page.text
    done = client.post(f"/cameras/video-events/{tamper_id}/review", data={
        "csrf_token": csrf, "outcome": "confirmed", "reason": "有人用纸遮挡镜头"}, follow_redirects=True)
    assert done.status_code == 200, done.text
    with Session(engine) as s:
        event = s.get(VideoEvent, tamper_id)
        assert event is not None and event.status == VideoEventStatus.CLOSED and event.ledger_entry_id is None
        assert s.exec(select(LedgerEntry)).all() == []
