"""Video events and camera alerts on MQTT (issue 13 §8), against the Mosquitto running on 127.0.0.1:1883.

Each test subscribes under a topic prefix of its own, so engineers testing at once never see each other's messages.
"""

from __future__ import annotations

import json
import queue
import socket
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from cameras import mqtt
from cameras.camera_reference import record_tamper
from cameras.models import Camera, CameraHealth, CameraStatus, VideoEvent, VideoEventReview
from cameras.staleness import mark_silent_cameras
from cameras.tamper import Tamper, TamperChange, TamperReading
from cameras.vacancy import review_event
from supervision.db import session_scope, utcnow
from tests.cameras.conftest import fast_settings, wait_for
from tests.web.conftest import app_client, bearer  # noqa: F401  (the fixture, used by name)

BROKER = ("127.0.0.1", 1883)
READING = TamperReading(10.0, 2.0, 1.0, 1.0, (Tamper.COVERED,))


def broker_up() -> bool:
    try:
        with socket.create_connection(BROKER, timeout=2):
            return True
    except OSError:
        return False


class Subscriber:
    """A paho client of the test's own, collecting what arrives under a prefix."""

    def __init__(self, prefix: str) -> None:
        import paho.mqtt.client as paho
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: queue.Queue[tuple[str, dict[str, Any]]] = queue.Queue()
        self.client = paho.Client(callback_api_version=CallbackAPIVersion.VERSION2)
        subscribed: queue.Queue[bool] = queue.Queue()
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, json.loads(m.payload)))
        self.client.on_subscribe = lambda *a: subscribed.put(True)
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(f"{prefix}/#", qos=1)
        self.client.connect(*BROKER)
        self.client.loop_start()
        subscribed.get(timeout=30)

    def take(self, n: int, timeout: float = 30) -> list[tuple[str, dict[str, Any]]]:
        out = []
        ends = time.monotonic() + timeout
        while len(out) < n:
            out.append(self.messages.get(timeout=max(0.1, ends - time.monotonic())))
        return out

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def _configure(monkeypatch: pytest.MonkeyPatch, **env: str) -> None:
    for key, value in env.items():
        monkeypatch.setenv(f"SUPERVISION_MQTT_{key.upper()}", value)
    mqtt.reset_publisher()


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Subscriber]]:
    if not broker_up():
        pytest.skip("no MQTT broker on 127.0.0.1:1883 (apt-get install mosquitto)")
    prefix = f"svtest-{uuid.uuid4().hex[:10]}"
    _configure(monkeypatch, url="mqtt://127.0.0.1:1883", topic_prefix=prefix)
    sub = Subscriber(prefix)
    try:
        yield prefix, sub
    finally:
        sub.close()
        mqtt.reset_publisher()


@pytest.fixture(autouse=True)
def _publisher_off_afterwards() -> Iterator[None]:
    yield
    mqtt.reset_publisher()


def _camera(engine: Engine, site_id: int) -> int:
    with session_scope(engine, write=True) as s:
        cam = Camera(site_id=site_id, name="大厅一号", host="127.0.0.1", port=554, stream_uri_override="rtsp://x/y")
        s.add(cam)
        s.flush()
        return int(cam.id or 0)


def _tamper(engine: Engine, cid: int, site_id: int, state: str) -> None:
    with session_scope(engine, write=True) as s:
        record_tamper(s, cid, site_id=site_id, name="cam", window_id=None, post_id=None,
                      change=TamperChange(state, utcnow() - timedelta(seconds=5), READING))


def test_tamper_alert_and_event_are_published_as_json_and_the_review_too(
        engine: Engine, org_data: SimpleNamespace, published: tuple[str, Subscriber]) -> None:
    prefix, sub = published
    cid = _camera(engine, org_data.city)
    _tamper(engine, cid, org_data.city, "covered")
    got = dict((m["type"], (t, m)) for t, m in sub.take(2))
    topic, alert = got["camera_alert"]
    assert topic == f"{prefix}/MY/{cid}/tamper"  # <prefix>/<site code>/<camera id>/<kind>
    assert alert["action"] == "opened" and alert["detail"] == "camera.tamper.covered"
    assert alert["site_code"] == "MY" and alert["camera_id"] == cid and alert["cleared_at"] is None
    topic, event = got["video_event"]
    assert topic == f"{prefix}/MY/{cid}/tamper" and event["action"] == "opened" and event["status"] == "open"
    _tamper(engine, cid, org_data.city, "")
    closed = {m["type"]: m for _, m in sub.take(2)}
    assert closed["camera_alert"]["action"] == "cleared" and closed["camera_alert"]["cleared_at"]
    assert closed["video_event"]["action"] == "closed" and closed["video_event"]["status"] == "pending_review"
    with session_scope(engine, write=True) as s:
        review_event(s, org_data.principals["officer"], event["id"], VideoEventReview(
            outcome="dismissed", reason="保洁员擦拭镜头"))  # type: ignore[arg-type]
    [(topic, reviewed)] = sub.take(1)
    assert reviewed["action"] == "reviewed" and reviewed["review_outcome"] == "dismissed"
    assert wait_for(lambda: mqtt.status().published == 5, 10) and mqtt.status().connected


def test_a_rolled_back_change_publishes_nothing(engine: Engine, org_data: SimpleNamespace,
                                                published: tuple[str, Subscriber]) -> None:
    _, sub = published
    cid = _camera(engine, org_data.city)
    with pytest.raises(RuntimeError), session_scope(engine, write=True) as s:
        record_tamper(s, cid, site_id=org_data.city, name="cam", window_id=None, post_id=None,
                      change=TamperChange("blurred", utcnow(), READING))
        raise RuntimeError("the transaction fails after the alert was added")
    _tamper(engine, cid, org_data.city, "turned_away")  # a later, committed one arrives: the first never did
    assert {m["detail"] for _, m in sub.take(2) if m["type"] == "camera_alert"} == {"camera.tamper.turned_away"}
    with pytest.raises(queue.Empty):
        sub.take(1, timeout=2)


def test_an_offline_camera_found_by_the_scheduler_is_published(engine: Engine, org_data: SimpleNamespace,
                                                              published: tuple[str, Subscriber]) -> None:
    prefix, sub = published
    cid = _camera(engine, org_data.county)
    with session_scope(engine, write=True) as s:
        s.add(CameraHealth(camera_id=cid, status=CameraStatus.ONLINE, worker_id="gone",
                           updated_at=utcnow() - timedelta(minutes=5)))
    assert mark_silent_cameras(engine, cs=fast_settings()) == [cid]
    [(topic, alert)] = sub.take(1)
    assert topic == f"{prefix}/FC/{cid}/offline" and alert["action"] == "opened"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_broker_that_is_down_blocks_nothing_and_loses_no_event(engine: Engine, org_data: SimpleNamespace,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    _configure(monkeypatch, url=f"mqtt://127.0.0.1:{_free_port()}", connect_wait_seconds="0.5", queue_size="2")
    cid = _camera(engine, org_data.city)
    started = time.monotonic()
    for state in ("covered", "", "blurred", "", "turned_away"):
        _tamper(engine, cid, org_data.city, state)
    assert time.monotonic() - started < 5  # ten messages, nobody waited for the broker
    with Session(engine) as s:
        assert len(s.exec(VideoEvent.__table__.select()).all()) == 3  # type: ignore[attr-defined]
    assert wait_for(lambda: mqtt.status().failed + mqtt.status().dropped == 10, 30), mqtt.status()
    status = mqtt.status()
    assert status.enabled and not status.connected and status.published == 0 and status.dropped >= 1


def test_off_by_default_and_a_bad_url_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SUPERVISION_MQTT_URL", raising=False)
    mqtt.reset_publisher()
    assert mqtt.status().enabled is False and mqtt.publisher() is None
    with pytest.raises(ValueError):
        mqtt.parse_url("http://127.0.0.1:1883")
    broker = mqtt.parse_url("mqtt://user:p%40ss@broker.local")
    assert (broker.host, broker.port, broker.username, broker.password) == ("broker.local", 1883, "user", "p@ss")
    assert mqtt.topic("sv/", "A/B+#", None, "tamper") == "sv/A_B__/-/tamper"


def test_the_status_is_under_the_api_for_admins(app_client: TestClient, org_data: SimpleNamespace,  # noqa: F811
                                                 published: tuple[str, Subscriber]) -> None:
    prefix, _ = published
    reply = app_client.get("/api/v1/mqtt/status", headers=bearer(app_client, "admin"))
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["enabled"] is True and body["broker"] == "127.0.0.1:1883" and body["topic_prefix"] == prefix
    assert "password" not in reply.text
    assert app_client.get("/api/v1/mqtt/status", headers=bearer(app_client, "officer")).status_code == 403


def test_vacancy_and_queue_events_from_the_jobs_are_published(engine: Engine, org_data: SimpleNamespace,
                                                              published: tuple[str, Subscriber]) -> None:
    from cameras.models import PresenceState
    from cameras.queue import evaluate_queue_alerts
    from cameras.vacancy import evaluate_vacancies
    from tests.cameras.test_queue import _count, _hall, _presence, at

    prefix, sub = published
    h = _hall(engine, org_data)
    _presence(engine, h.post, PresenceState.VACANT, at(10, 0))
    assert evaluate_vacancies(engine, now=at(10, 20), threshold=timedelta(minutes=15)) == (1, 0)
    [(topic, vacant)] = sub.take(1)
    assert topic == f"{prefix}/MY/{h.camera}/post_vacant" and vacant["action"] == "opened"
    assert vacant["staff_id"] == org_data.staff and vacant["started_at"].startswith("2026-12-07T02:00")
    _count(engine, h.queue, 4, at(10, 20))
    assert evaluate_queue_alerts(engine, now=at(10, 20)) == (1, 0)
    [(topic, queue_event)] = sub.take(1)
    assert topic == f"{prefix}/MY/{h.camera}/queue_vacant" and queue_event["zone_id"] == h.queue
    _presence(engine, h.post, PresenceState.OCCUPIED, at(10, 25))
    assert evaluate_queue_alerts(engine, now=at(10, 25)) == (0, 1)
    assert evaluate_vacancies(engine, now=at(10, 25), threshold=timedelta(minutes=15)) == (0, 1)
    closed = {m["kind"]: m for _, m in sub.take(2)}
    assert closed["queue_vacant"]["action"] == closed["post_vacant"]["action"] == "closed"
