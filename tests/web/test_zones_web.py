"""Zones through the API and the page: draw, refuse bad outlines by point, edit, delete, audit, jurisdiction,
per post, and zones surviving the camera's re-registration."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras import CameraCreate, register_camera
from cameras.models import PresenceState, Zone, ZonePresence
from cameras.zones import record_presence
from supervision.db import session_scope, utcnow
from supervision.models import AuditEntry
from tests.web.conftest import bearer

Login = Callable[[str], tuple[TestClient, str]]
ROI = [[0.44, 0.05], [0.74, 0.05], [0.74, 0.95], [0.44, 0.95]]


def _camera(engine: Engine, org: SimpleNamespace, *, site: str = "city", name: str = "公共服务大厅 2 号机",
            uri: str = "rtsp://127.0.0.1:9/hall2") -> int:
    with session_scope(engine, write=True) as s:
        cam = register_camera(s, org.principals["admin"], CameraCreate(
            site_id=getattr(org, site), hall_id=org.hall if site == "city" else org.county_hall, name=name,
            host="127.0.0.1", port=9, skip_probe=True, stream_uri_override=uri))
        return int(cam.id or 0)


@pytest.fixture
def camera_id(engine: Engine, org_data: SimpleNamespace) -> int:
    return _camera(engine, org_data)


def test_an_officer_draws_lists_edits_and_deletes_a_post_zone_by_api(
        app_client: TestClient, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:
    headers = bearer(app_client, "officer")
    made = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers,
                           json={"name": "户籍受理岗位", "kind": "post", "post_id": org_data.post, "polygon": ROI})
    assert made.status_code == 201, made.text
    zone = made.json()
    # The post's window is filled in from the post; the outline comes back as drawn.
    assert zone["window_id"] == org_data.window and zone["polygon"] == ROI
    assert zone["presence"]["state"] == "unknown"
    listed = app_client.get(f"/api/v1/cameras/{camera_id}/zones", headers=headers).json()
    assert [z["name"] for z in listed["data"]] == ["户籍受理岗位"]
    changed = app_client.patch(f"/api/v1/cameras/{camera_id}/zones/{zone['id']}", headers=headers,
                               json={"vacant_after_seconds": 5, "polygon": [[0.1, 0.1], [0.5, 0.1], [0.3, 0.6]]})
    assert changed.status_code == 200 and changed.json()["vacant_after_seconds"] == 5
    assert app_client.get(f"/api/v1/cameras/{camera_id}/zones/{zone['id']}", headers=headers
                          ).json()["polygon"] == [[0.1, 0.1], [0.5, 0.1], [0.3, 0.6]]
    assert app_client.delete(f"/api/v1/cameras/{camera_id}/zones/{zone['id']}", headers=headers
                             ).status_code == 204
    assert app_client.get(f"/api/v1/cameras/{camera_id}/zones", headers=headers).json()["count"] == 0
    with Session(engine) as s:
        actions = [a for a, in s.execute(select(AuditEntry.action).where(
            col(AuditEntry.object_kind) == "zone").order_by(col(AuditEntry.id))).all()]
    assert actions == ["zone.create", "zone.update", "zone.delete"]


@pytest.mark.parametrize(("polygon", "said"), [
    ([[0.1, 0.1], [0.5, 0.1], [1.3, 0.5]], "第 3 个点超出画面"),
    ([[0.1, 0.1], [0.5, 0.5], [0.5, 0.1], [0.1, 0.5]], "自相交"),
    ([[0.1, 0.1], [0.5, 0.1]], "polygon"),
])
def test_a_bad_outline_is_refused_with_the_point_named(app_client: TestClient, org_data: SimpleNamespace,
                                                        camera_id: int, polygon: list[list[float]],
                                                        said: str) -> None:
    headers = bearer(app_client, "officer")
    refused = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers,
                              json={"name": "坏区域", "kind": "post", "post_id": org_data.post, "polygon": polygon})
    assert refused.status_code == 422
    fields = refused.json()["error"]["fields"]
    assert fields[0]["field"].startswith("polygon")
    assert said in refused.text


def test_english_message_names_the_point(logged_in: Login, org_data: SimpleNamespace, camera_id: int) -> None:
    client, csrf = logged_in("officer")
    client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
    refused = client.post(f"/cameras/{camera_id}/zones", data={
        "csrf_token": csrf, "name": "x", "kind": "post", "post_id": str(org_data.post),
        "polygon": "0.1, 0.1\n0.5, 0.1\n0.5, -0.2"})
    assert refused.status_code == 422 and "Point 3 lies outside the picture" in refused.text


def test_a_post_zone_needs_its_post_and_a_foreign_post_is_refused(
        app_client: TestClient, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:
    headers = bearer(app_client, "officer")
    bare = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers,
                           json={"name": "无岗位", "kind": "post", "polygon": ROI})
    assert bare.status_code == 422 and bare.json()["error"]["fields"][0]["field"] == "post_id"
    foreign = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers,
                              json={"name": "他处岗位", "kind": "post", "post_id": org_data.county_post,
                                    "polygon": ROI})
    assert foreign.status_code == 422 and foreign.json()["error"]["fields"][0]["field"] == "post_id"
    queue = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers,
                            json={"name": "等候区", "kind": "queue", "polygon": ROI})
    assert queue.status_code == 201 and queue.json()["hall_id"] == org_data.hall  # the camera's hall
    with Session(engine) as s:
        assert len(s.exec(select(Zone)).all()) == 1


def test_county_users_do_not_see_city_zones_and_managers_cannot_draw(
        app_client: TestClient, org_data: SimpleNamespace, camera_id: int) -> None:
    admin = bearer(app_client, "admin")
    made = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=admin,
                           json={"name": "户籍受理岗位", "kind": "post", "post_id": org_data.post, "polygon": ROI})
    zone_id = made.json()["id"]
    county = bearer(app_client, "county_officer")
    assert app_client.get(f"/api/v1/cameras/{camera_id}/zones", headers=county).status_code == 404
    assert app_client.get(f"/api/v1/posts/{org_data.post}/zones", headers=county).status_code == 404
    assert app_client.patch(f"/api/v1/cameras/{camera_id}/zones/{zone_id}", headers=county,
                            json={"name": "改"}).status_code == 404
    # Another camera's zone id under this camera's path is not found either.
    other = app_client.get(f"/api/v1/cameras/{camera_id + 999}/zones/{zone_id}", headers=admin)
    assert other.status_code == 404
    supervisor = bearer(app_client, "supervisor")
    assert app_client.get(f"/api/v1/cameras/{camera_id}/zones", headers=supervisor).status_code == 403


def test_zones_are_listed_per_post_with_presence(app_client: TestClient, engine: Engine, org_data: SimpleNamespace,
                                                 camera_id: int) -> None:
    headers = bearer(app_client, "officer")
    zone_id = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers, json={
        "name": "户籍受理岗位", "kind": "post", "post_id": org_data.post, "polygon": ROI}).json()["id"]
    at = utcnow()
    with session_scope(engine, write=True) as s:
        assert record_presence(s, zone_id, PresenceState.OCCUPIED, at)
        assert not record_presence(s, zone_id, PresenceState.OCCUPIED, at)  # no change, no row
    rows = app_client.get(f"/api/v1/posts/{org_data.post}/zones", headers=headers).json()["data"]
    assert [(r["camera_name"], r["zone"]["presence"]["state"]) for r in rows] == [("公共服务大厅 2 号机", "occupied")]
    with session_scope(engine, write=True) as s:
        record_presence(s, zone_id, PresenceState.VACANT, at + timedelta(seconds=90))
    spans = app_client.get(f"/api/v1/cameras/{camera_id}/zones/{zone_id}/presence", headers=headers).json()["data"]
    assert [(r["state"], r["ended_at"] is None) for r in spans] == [("vacant", True), ("occupied", False)]


def test_zones_survive_the_camera_being_registered_again(app_client: TestClient, engine: Engine,
                                                         org_data: SimpleNamespace, camera_id: int) -> None:
    admin = bearer(app_client, "admin")
    app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=admin, json={
        "name": "户籍受理岗位", "kind": "post", "post_id": org_data.post, "polygon": ROI})
    assert app_client.delete(f"/api/v1/cameras/{camera_id}", headers=admin).status_code == 204
    with Session(engine) as s:
        kept = s.exec(select(Zone)).one()
        assert kept.camera_id is None
    # Another device registered meanwhile does not get them; the same device again does.
    other = _camera(engine, org_data, name="别的摄像机", uri="rtsp://127.0.0.1:9/other")
    again = _camera(engine, org_data, name="公共服务大厅 2 号机(更换后)")
    assert app_client.get(f"/api/v1/cameras/{other}/zones", headers=admin).json()["count"] == 0
    zones = app_client.get(f"/api/v1/cameras/{again}/zones", headers=admin).json()["data"]
    assert [(z["name"], z["polygon"]) for z in zones] == [("户籍受理岗位", ROI)]


def test_the_zone_page_draws_and_refuses_by_form(logged_in: Login, engine: Engine, org_data: SimpleNamespace,
                                                 camera_id: int) -> None:
    client, csrf = logged_in("officer")
    page = client.get(f"/cameras/{camera_id}/zones")
    assert page.status_code == 200 and page.template.name == "cameras/zones.html"
    assert "户籍受理岗" in page.text and 'data-zone-canvas' in page.text
    form = {"csrf_token": csrf, "name": "户籍受理岗位", "kind": "post", "post_id": str(org_data.post),
            "polygon": "0.44, 0.05\n0.74, 0.05\n0.74, 0.95\n1.44, 0.95", "occupied_after_seconds": "2",
            "vacant_after_seconds": "2", "queue_alert_count": "3"}
    refused = client.post(f"/cameras/{camera_id}/zones", data=form)
    assert refused.status_code == 422 and "第 4 个点超出画面" in refused.text
    assert "1.44, 0.95" in refused.text  # what was typed is kept
    fixed = form["polygon"].replace("1.44", "0.44")
    saved = client.post(f"/cameras/{camera_id}/zones", data={**form, "polygon": fixed}, follow_redirects=False)
    assert saved.status_code == 303
    listed = client.get(f"/cameras/{camera_id}/zones")
    assert "户籍受理岗位" in listed.text and "未知" in listed.text
    with Session(engine) as s:
        zone = s.exec(select(Zone)).one()
    assert zone.polygon == [(0.44, 0.05), (0.74, 0.05), (0.74, 0.95), (0.44, 0.95)]
    edit = client.get(f"/cameras/{camera_id}/zones/{zone.id}")
    assert edit.status_code == 200 and "0.7400, 0.9500" in edit.text
    client.post(f"/cameras/{camera_id}/zones/{zone.id}", data={**form, "name": "改名岗位",
                                                              "polygon": "0.1 0.1; 0.5 0.1; 0.3 0.5"})
    with Session(engine) as s:
        zone2 = s.get(Zone, zone.id)
        assert zone2 is not None and zone2.name == "改名岗位" and len(zone2.polygon) == 3
    gone = client.post(f"/cameras/{camera_id}/zones/{zone.id}/delete", data={"csrf_token": csrf},
                       follow_redirects=False)
    assert gone.status_code == 303
    with Session(engine) as s:
        assert s.exec(select(Zone)).all() == [] and s.exec(select(ZonePresence)).all() == []


def test_a_manager_sees_no_zone_page_and_a_county_officer_none_of_the_city(
        logged_in: Login, camera_id: int) -> None:
    client, _ = logged_in("manager")
    assert client.get(f"/cameras/{camera_id}/zones").status_code == 403
    county, _ = logged_in("county_officer")
    assert county.get(f"/cameras/{camera_id}/zones").status_code == 404


# --- the empty-post still (issue 13 §3) ------------------------------------------------------------------------


def test_an_officer_takes_the_empty_post_still_from_the_live_picture(
        app_client: TestClient, logged_in: Login, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:
    import hashlib

    import av
    import cv2
    import numpy as np

    from cameras.ingest import FRAMES
    from supervision.settings import get_settings

    headers = bearer(app_client, "officer")
    zone = app_client.post(f"/api/v1/cameras/{camera_id}/zones", headers=headers, json={
        "name": "户籍受理岗位", "kind": "post", "post_id": org_data.post, "polygon": ROI}).json()
    url = f"/api/v1/cameras/{camera_id}/zones/{zone['id']}/reference"
    assert app_client.post(url, headers=headers).status_code == 404  # no picture yet
    picture = np.zeros((360, 640, 3), np.uint8)
    picture[:, 320:] = 200  # the right half bright: the crop must come from the zone's box
    FRAMES.publish(camera_id, av.VideoFrame.from_ndarray(picture, format="bgr24"))
    try:
        assert app_client.post(url, headers=bearer(app_client, "county_officer")).status_code == 404
        assert app_client.post(url, headers=bearer(app_client, "staff")).status_code == 403
        taken = app_client.post(url, headers=headers)
        assert taken.status_code == 200, taken.text
        sha = taken.json()["reference_sha256"]
        path = get_settings().media_dir / "zones" / f"{sha}.png"
        assert hashlib.sha256(path.read_bytes()).hexdigest() == sha
        still = cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), cv2.IMREAD_GRAYSCALE)
        assert still is not None
        # The zone spans x 0.44–0.74 and y 0.05–0.95 of a 640×360 picture, dark left of 320 px, bright right.
        assert abs(still.shape[1] - 0.30 * 640) <= 2 and abs(still.shape[0] - 0.90 * 360) <= 2
        assert still[:, :30].mean() < 40 and still[:, -30:].mean() > 160
        client, csrf = logged_in("officer")
        page = client.post(f"/cameras/{camera_id}/zones/{zone['id']}/reference", data={"csrf_token": csrf},
                           follow_redirects=True)
        assert page.status_code == 200 and "reference-saved" in page.text
    finally:
        FRAMES.forget(camera_id)
    with Session(engine) as s:
        row = s.get(Zone, zone["id"])
        assert row is not None and row.reference_sha256 == sha and row.reference_taken_at is not None
        assert s.exec(select(AuditEntry).where(col(AuditEntry.action) == "zone.reference")).all()


def test_video_events_are_listed_by_jurisdiction(app_client: TestClient, engine: Engine,
                                                 org_data: SimpleNamespace) -> None:
    from cameras.models import VideoEvent
    city_cam = _camera(engine, org_data)
    county_cam = _camera(engine, org_data, site="county", name="涪城大厅", uri="rtsp://127.0.0.1:9/fc")
    start = utcnow() - timedelta(minutes=40)
    with session_scope(engine, write=True) as s:
        s.add(VideoEvent(site_id=org_data.city, camera_id=city_cam, post_id=org_data.post, staff_id=org_data.staff,
                         started_at=start))
        s.add(VideoEvent(site_id=org_data.county, camera_id=county_cam, post_id=org_data.county_post,
                         started_at=start + timedelta(minutes=5), ended_at=start + timedelta(minutes=25)))
    city = app_client.get("/api/v1/video-events", headers=bearer(app_client, "officer")).json()
    assert city["count"] == 2 and city["data"][0]["site_id"] == org_data.county  # newest first
    assert city["data"][0]["minutes"] == 20.0 and city["data"][1]["minutes"] >= 40
    county = app_client.get("/api/v1/video-events", headers=bearer(app_client, "county_officer")).json()
    assert [e["site_id"] for e in county["data"]] == [org_data.county]
    assert app_client.get("/api/v1/video-events?open_only=true", headers=bearer(
        app_client, "officer")).json()["count"] == 1
    assert app_client.get("/api/v1/video-events", headers=bearer(app_client, "staff")).status_code == 403


def test_the_video_events_page_names_post_staff_and_camera_in_both_languages(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:
    from cameras.models import VideoEvent
    with session_scope(engine, write=True) as s:
        s.add(VideoEvent(site_id=org_data.city, camera_id=camera_id, post_id=org_data.post, staff_id=org_data.staff,
                         started_at=utcnow() - timedelta(minutes=20)))
    client, csrf = logged_in("officer")
    page = client.get("/cameras/video-events")
    assert page.status_code == 200
    assert "户籍受理岗" in page.text and "张三" in page.text and "公共服务大厅 2 号机" in page.text
    assert "离岗超时" in page.text and "进行中" in page.text
    assert "post_vacant" not in re.sub(r"<[^>]+>", " ", page.text)  # no internal code in the text (values aside)
    client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
    english = client.get("/cameras/video-events?open=true")
    assert "Post left vacant" in english.text and "going on" in english.text
    county, _ = logged_in("county_officer")
    assert "张三" not in county.get("/cameras/video-events").text


def test_an_officer_confirms_an_event_on_its_page_and_the_ledger_row_leads_back(
        logged_in: Login, app_client: TestClient, engine: Engine, org_data: SimpleNamespace, camera_id: int) -> None:
    from cameras.models import VideoEvent, VideoEventStatus
    with session_scope(engine, write=True) as s:
        ended = utcnow() - timedelta(hours=1)
        event = VideoEvent(site_id=org_data.city, camera_id=camera_id, post_id=org_data.post, staff_id=org_data.staff,
                           started_at=ended - timedelta(minutes=21), ended_at=ended,
                           status=VideoEventStatus.PENDING_REVIEW)
        s.add(event)
        s.flush()
        event_id = int(event.id or 0)
    client, csrf = logged_in("officer")
    page = client.get(f"/cameras/video-events/{event_id}")
    assert page.status_code == 200 and 'data-testid="review-form"' in page.text
    refused = client.post(f"/cameras/video-events/{event_id}/review", data={"csrf_token": csrf, "outcome": "confirmed"})
    assert refused.status_code == 422 and 'data-testid="problem"' in refused.text  # no reason
    done = client.post(f"/cameras/video-events/{event_id}/review",
                       data={"csrf_token": csrf, "outcome": "confirmed", "reason": "录像核实离岗 21 分钟"})
    assert done.status_code == 303
    shown = client.get(f"/cameras/video-events/{event_id}")
    assert "确认(计入考核)" in shown.text and "review-form" not in shown.text
    api = app_client.get(f"/api/v1/video-events/{event_id}", headers=bearer(app_client, "officer")).json()
    assert api["review_outcome"] == "confirmed" and api["ledger_entry_id"]
    assert app_client.post(f"/api/v1/video-events/{event_id}/review", headers=bearer(app_client, "officer"),
                           json={"outcome": "dismissed", "reason": "x"}).status_code == 409
    assert app_client.get(f"/api/v1/video-events/{event_id}",
                          headers=bearer(app_client, "county_officer")).status_code == 404
    from web.composition import source_resolvers
    from web.labels import Ref
    with Session(engine) as s:
        refs = source_resolvers()["video"](s, org_data.principals["officer"], [str(event_id)], "zh-CN")
        assert refs == {str(event_id): Ref(refs[str(event_id)].label, f"/cameras/video-events/{event_id}")}
        assert source_resolvers()["video"](s, org_data.principals["county_officer"], [str(event_id)], "zh-CN") == {}
