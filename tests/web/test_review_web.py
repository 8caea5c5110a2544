"""The review pages (issue 13 §7, §3): the event page's timeline and keyboard help, false alarms per zone with
the threshold form, and windows closed, in both languages and by jurisdiction."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from types import SimpleNamespace

from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.models import (
    Camera,
    PresenceState,
    VideoEvent,
    VideoEventStatus,
    WindowClosure,
    Zone,
    ZoneKind,
    ZonePresence,
    ZoneVacancyThreshold,
)
from supervision.db import session_scope, utcnow
from supervision.models import AuditEntry
from supervision.settings import get_settings

Login = Callable[[str], tuple[TestClient, str]]


def _event(engine: Engine, org: SimpleNamespace) -> tuple[int, int]:
    """A city post zone whose post was empty 25 minutes yesterday morning, and the event it opened (ended).

    At a fixed hour on the hall's clock, inside the day's chart (07:00–20:00) whenever the test runs."""
    tz = get_settings().tz
    end = datetime.combine(utcnow().astimezone(tz).date() - timedelta(days=1), time(11, 0), tzinfo=tz)
    start = end - timedelta(minutes=25)
    with session_scope(engine, write=True) as s:
        cam = Camera(site_id=org.city, hall_id=org.hall, name="大厅审核机", host="127.0.0.1", port=554)
        s.add(cam)
        s.flush()
        zone = Zone(camera_id=cam.id, site_id=org.city, name="户籍岗", kind=ZoneKind.POST, post_id=org.post,
                    polygon_json=json.dumps([[0.1, 0.1], [0.5, 0.1], [0.5, 0.5], [0.1, 0.5]]))
        s.add(zone)
        s.flush()
        s.add(ZonePresence(zone_id=int(zone.id or 0), state=PresenceState.OCCUPIED,
                           started_at=start - timedelta(minutes=30), ended_at=start))
        s.add(ZonePresence(zone_id=int(zone.id or 0), state=PresenceState.VACANT, started_at=start, ended_at=end))
        s.add(ZonePresence(zone_id=int(zone.id or 0), state=PresenceState.OCCUPIED, started_at=end))
        event = VideoEvent(site_id=org.city, camera_id=cam.id, zone_id=zone.id, post_id=org.post,
                           staff_id=org.staff, started_at=start, ended_at=end, status=VideoEventStatus.PENDING_REVIEW)
        s.add(event)
        s.flush()
        return int(event.id or 0), int(zone.id or 0)


def test_the_event_page_draws_the_posts_day_and_documents_the_keys(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    event_id, _ = _event(engine, org_data)
    client, csrf = logged_in("officer")
    page = client.get(f"/cameras/video-events/{event_id}")
    assert page.status_code == 200
    text = page.text
    assert 'data-testid="timeline-chart"' in text and "<svg" in text and "<title id=\"timeline-svg-title\">" in text
    assert text.count('data-state="vacant"') == 2 and text.count('data-state="occupied"') >= 3  # chart + text
    assert 'data-testid="timeline-event"' in text
    assert "岗位当日在岗时间线" in text and "c 确认" in text and "/static/review.js" in text
    client.post("/locale", data={"csrf_token": csrf, "locale": "en", "next": "/"})
    english = client.get(f"/cameras/video-events/{event_id}").text
    assert "The post&#39;s presence that day" in english or "The post's presence that day" in english
    assert "c confirm" in english
    county, _ = logged_in("county_officer")
    assert county.get(f"/cameras/video-events/{event_id}").status_code == 404


def test_the_queue_links_lead_to_the_next_event_to_review(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    older, _ = _event(engine, org_data)
    newer, _ = _event(engine, org_data)
    with session_scope(engine, write=True) as s:  # newer by a minute
        row = s.get(VideoEvent, newer)
        assert row is not None
        row.started_at = row.started_at + timedelta(minutes=1)
        s.add(row)
    client, _ = logged_in("officer")
    page = client.get(f"/cameras/video-events/{newer}").text
    assert f'href="/cameras/video-events/{older}" data-queue="next"' in page
    assert 'data-queue="previous"' not in page


def test_false_alarms_page_and_the_zone_threshold_form(
        logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    event_id, zone_id = _event(engine, org_data)
    client, csrf = logged_in("officer")
    dismissed = client.post(f"/cameras/video-events/{event_id}/review",
                            data={"csrf_token": csrf, "outcome": "dismissed", "reason": "在柜台下整理材料"})
    assert dismissed.status_code == 303
    page = client.get("/cameras/zones/false-alarms")
    assert page.status_code == 200 and "误报统计" in page.text
    row = page.text.split(f'data-zone="{zone_id}"', 1)[1].split("</tr>", 1)[0]
    assert '<td data-col="dismissed">1</td>' in row and '<td data-col="rate">100 %</td>' in row
    bad = client.post(f"/cameras/zones/{zone_id}/threshold", data={"csrf_token": csrf, "minutes": "-4"})
    assert bad.status_code == 422 and 'data-testid="problem"' in bad.text
    ok = client.post(f"/cameras/zones/{zone_id}/threshold",
                     data={"csrf_token": csrf, "minutes": "25", "reason": "误报多"})
    assert ok.status_code == 303
    with Session(engine) as s:
        saved = s.get(ZoneVacancyThreshold, zone_id)
        assert saved is not None and saved.minutes == 25
        assert s.exec(select(AuditEntry).where(col(AuditEntry.action) == "zone.threshold")).first() is not None
    county, county_csrf = logged_in("county_officer")
    assert f'data-zone="{zone_id}"' not in county.get("/cameras/zones/false-alarms").text
    assert county.post(f"/cameras/zones/{zone_id}/threshold",
                       data={"csrf_token": county_csrf, "minutes": "1"}).status_code == 404
    supervisor, _ = logged_in("supervisor")
    assert supervisor.get("/cameras/zones/false-alarms").status_code == 403


def test_a_manager_closes_a_window_and_reopens_it(logged_in: Login, engine: Engine, org_data: SimpleNamespace) -> None:
    client, csrf = logged_in("manager")
    page = client.get("/windows/closures")
    assert page.status_code == 200 and "窗口暂停服务" in page.text and 'href="/windows/closures"' in page.text
    bad = client.post("/windows/closures", data={"csrf_token": csrf, "window_id": str(org_data.window),
                                                 "starts_at": "2026-12-07T11:00", "ends_at": "2026-12-07T10:00",
                                                 "reason": "培训"})
    assert bad.status_code == 422 and "结束时间须晚于开始时间" in bad.text
    junk = client.post("/windows/closures", data={"csrf_token": csrf, "window_id": str(org_data.window),
                                                  "starts_at": "tomorrow", "ends_at": "", "reason": "培训"})
    assert junk.status_code == 422 and 'data-testid="problem"' in junk.text
    done = client.post("/windows/closures", data={"csrf_token": csrf, "window_id": str(org_data.window),
                                                  "starts_at": "2026-01-05T09:00", "ends_at": "2099-12-07T17:00",
                                                  "reason": "业务系统升级"})
    assert done.status_code == 303
    with Session(engine) as s:
        [row] = s.exec(select(WindowClosure)).all()
        assert row.reason == "业务系统升级" and row.starts_at.hour == 1  # 09:00 in Shanghai is 01:00 UTC
    listed = client.get("/windows/closures").text
    assert "业务系统升级" in listed and "暂停中" in listed
    assert client.post(f"/windows/closures/{row.id}/end", data={"csrf_token": csrf}).status_code == 303
    with Session(engine) as s:
        ended = s.get(WindowClosure, row.id)
        assert ended is not None and ended.ends_at <= utcnow()
    county, county_csrf = logged_in("county_manager")
    assert "业务系统升级" not in county.get("/windows/closures").text
    assert county.post(f"/windows/closures/{row.id}/end", data={"csrf_token": county_csrf}).status_code == 404
    officer, _ = logged_in("officer")
    assert officer.get("/windows/closures").status_code == 403


def test_the_review_api_false_alarms_thresholds_and_closures(
        app_client: TestClient, engine: Engine, org_data: SimpleNamespace) -> None:
    from tests.web.conftest import bearer

    _, zone_id = _event(engine, org_data)
    officer = bearer(app_client, "officer")
    listed = app_client.get("/api/v1/zones/false-alarms", headers=officer).json()
    assert [(r["zone_id"], r["events"], r["pending"], r["threshold_override"]) for r in listed["data"]] == [
        (zone_id, 1, 1, False)]
    bad = app_client.put(f"/api/v1/zones/{zone_id}/threshold", headers=officer, json={"minutes": 0})
    assert bad.status_code == 422 and "minutes" in bad.text
    tuned = app_client.put(f"/api/v1/zones/{zone_id}/threshold", headers=officer, json={"minutes": 25})
    assert tuned.status_code == 200 and tuned.json()["threshold_minutes"] == 25
    assert app_client.put(f"/api/v1/zones/{zone_id}/threshold", headers=bearer(app_client, "county_officer"),
                          json={"minutes": 5}).status_code == 404
    manager = bearer(app_client, "manager")
    body = {"window_id": org_data.window, "starts_at": "2026-12-07T09:00:00+08:00",
            "ends_at": "2026-12-07T08:00:00+08:00", "reason": "培训"}
    refused = app_client.post("/api/v1/window-closures", headers=manager, json=body)
    assert refused.status_code == 422 and "ends_at" in refused.text
    naive = app_client.post("/api/v1/window-closures", headers=manager,
                            json=body | {"starts_at": "2026-12-07T09:00:00", "ends_at": "2026-12-07T10:00:00"})
    assert naive.status_code == 422 and "starts_at" in naive.text
    made = app_client.post("/api/v1/window-closures", headers=manager,
                           json=body | {"ends_at": "2026-12-07T11:00:00+08:00"})
    assert made.status_code == 201 and made.json()["window_name"] == "公安窗口"
    assert app_client.get("/api/v1/window-closures", headers=manager).json()["count"] == 1
    assert app_client.get("/api/v1/window-closures", headers=bearer(app_client, "county_manager")).json()["count"] == 0
    assert app_client.post("/api/v1/window-closures", headers=officer, json=body).status_code == 403
