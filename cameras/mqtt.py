"""Video events and camera alerts published as JSON on an MQTT broker (issue 13 §8), optional.

Off unless `SUPERVISION_MQTT_URL` is set (mqtt://user:password@host:1883). Each video event (opened, closed,
reviewed) and camera alert (offline, online, frozen, tamper, and their clearing) goes out on
`<prefix>/<site code>/<camera id>/<event kind>` with QoS 1, once its transaction has committed: `notify` only
remembers the message on the session, an `after_commit` hook hands it to the background publisher's bounded
queue (never waiting), and a rolled-back change publishes nothing. The database stays the record: a broker that
is down, or a full queue, loses only the message (logged and counted in `status()`), never the event.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import event
from sqlmodel import Session

from supervision.models import Site

logger = logging.getLogger(__name__)

_PENDING = "mqtt_pending"


class MqttSettings(BaseSettings):
    """Where video events go out (`SUPERVISION_MQTT_*`); no URL, no publishing."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_MQTT_", env_file=".env", extra="ignore")

    url: str = Field("", description="mqtt://[user:password@]host[:port] of the broker; empty: do not publish")
    topic_prefix: str = Field("supervision", min_length=1, max_length=80,
                              description="First level of every topic: <prefix>/<site code>/<camera id>/<kind>")
    queue_size: int = Field(1000, ge=1, le=100_000, description="Messages waiting for the broker at most; more "
                            "are dropped (and counted), never waited for")
    connect_wait_seconds: float = Field(5.0, ge=0.1, le=120,
                                        description="How long a message waits for a broker that is not connected")
    client_id: str = Field("", max_length=60, description="MQTT client id; empty: one of its own per process")


@lru_cache
def get_mqtt_settings() -> MqttSettings:
    return MqttSettings()


class MqttStatus(BaseModel):
    """The publisher of this process: on or off, connected, and what became of the messages."""

    enabled: bool
    broker: str = Field(description="Host and port of the broker (no credentials); empty when off")
    topic_prefix: str
    connected: bool = False
    queued: int = 0
    published: int = 0
    failed: int = Field(0, description="Not acknowledged by the broker (down, refused, timed out)")
    dropped: int = Field(0, description="Left out because the queue was full")
    last_error: str = ""


def _segment(value: object) -> str:
    """A topic level: MQTT's wildcards and separators are not allowed inside one."""
    text = str(value).strip() or "-"
    return "".join("_" if c in "/+#\x00" else c for c in text)


def topic(prefix: str, site_code: str, camera_id: int | None, kind: str) -> str:
    return "/".join([prefix.strip("/") or "supervision", _segment(site_code),
                     _segment(camera_id if camera_id is not None else "-"), _segment(kind)])


@dataclass(frozen=True)
class _Broker:
    host: str
    port: int
    tls: bool
    username: str | None
    password: str | None

    @property
    def shown(self) -> str:
        return f"{self.host}:{self.port}"


def parse_url(url: str) -> _Broker:
    """mqtt://[user:password@]host[:port] or mqtts://…; ValueError for anything else."""
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl") or not parts.hostname:
        raise ValueError("SUPERVISION_MQTT_URL must be mqtt://host[:port] or mqtts://host[:port]")
    tls = parts.scheme in ("mqtts", "ssl")
    return _Broker(parts.hostname, parts.port or (8883 if tls else 1883), tls,
                   unquote(parts.username) if parts.username else None,
                   unquote(parts.password) if parts.password else None)


class MqttPublisher:
    """A thread with a paho client and a bounded queue: `submit` never blocks; QoS 1 acknowledged per message."""

    def __init__(self, settings: MqttSettings) -> None:
        self.settings = settings
        self.broker = parse_url(settings.url)
        self._queue: queue.Queue[tuple[str, bytes]] = queue.Queue(maxsize=settings.queue_size)
        self._stop = threading.Event()
        self._connected = threading.Event()
        self.published = self.failed = self.dropped = 0
        self.last_error = ""
        self._last_warning = 0.0
        self._client: Any = None
        self._thread = threading.Thread(target=self._run, name="mqtt-publisher", daemon=True)

    def _make_client(self) -> Any:
        """The paho client, made and connected in the publisher's thread (its socket work never in the caller's)."""
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(callback_api_version=CallbackAPIVersion.VERSION2,
                             client_id=self.settings.client_id or "", protocol=mqtt.MQTTv311)
        if self.broker.username:
            client.username_pw_set(self.broker.username, self.broker.password)
        if self.broker.tls:
            client.tls_set()
        client.reconnect_delay_set(1, 30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        client.loop_start()
        return client

    def start(self) -> None:
        self._thread.start()
        logger.info("publishing video events to MQTT broker %s", self.broker.shown)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if getattr(reason, "is_failure", False):
            self.last_error = f"connect refused: {reason}"
            logger.warning("MQTT broker %s refused the connection: %s", self.broker.shown, reason)
            return
        self.last_error = ""
        self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            self.last_error = f"disconnected: {reason}"

    def _warn(self, message: str, *args: object) -> None:
        # A broker down for an hour would log every message: once a minute is enough to be seen.
        now = time.monotonic()
        if now - self._last_warning >= 60:
            self._last_warning = now
            logger.warning(message, *args)

    def submit(self, topic_name: str, payload: dict[str, Any]) -> bool:
        """Queue one message; False (counted as dropped) when the queue is full. Never waits."""
        data = json.dumps(payload, ensure_ascii=False, default=_json_default).encode()
        try:
            self._queue.put_nowait((topic_name, data))
        except queue.Full:
            self.dropped += 1
            self._warn("MQTT queue full (%d): message on %s dropped (%d so far)", self.settings.queue_size,
                       topic_name, self.dropped)
            return False
        return True

    def _run(self) -> None:
        try:
            self._client = self._make_client()
        except (OSError, ValueError) as exc:
            self.last_error = exc.__class__.__name__
            logger.error("MQTT client for %s could not start: %s", self.broker.shown, exc)
            return
        try:
            self._publish_loop()
        finally:
            self._client.loop_stop()
            self._client.disconnect()

    def _publish_loop(self) -> None:
        while not self._stop.is_set():
            try:
                topic_name, data = self._queue.get(timeout=0.5)
            except queue.Empty:
                continue
            if not self._connected.wait(self.settings.connect_wait_seconds):
                self.failed += 1
                self.last_error = self.last_error or "not connected"
                self._warn("MQTT broker %s not reachable: message on %s not sent (%d so far)", self.broker.shown,
                           topic_name, self.failed)
                continue
            try:
                info = self._client.publish(topic_name, data, qos=1)
                info.wait_for_publish(timeout=10)
                ok = info.is_published()
            except (RuntimeError, ValueError, OSError) as exc:
                ok = False
                self.last_error = exc.__class__.__name__
            if ok:
                self.published += 1
            else:
                self.failed += 1
                self._warn("MQTT message on %s not acknowledged (%d so far)", topic_name, self.failed)

    def status(self) -> MqttStatus:
        return MqttStatus(enabled=True, broker=self.broker.shown, topic_prefix=self.settings.topic_prefix,
                          connected=self._connected.is_set(), queued=self._queue.qsize(), published=self.published,
                          failed=self.failed, dropped=self.dropped, last_error=self.last_error[:200])


def _json_default(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


_lock = threading.Lock()
_publisher: MqttPublisher | None = None


def publisher() -> MqttPublisher | None:
    """This process's publisher, started on first use; None when publishing is off (or its URL is bad)."""
    global _publisher
    settings = get_mqtt_settings()
    if not settings.url:
        return None
    with _lock:
        if _publisher is None:
            try:
                _publisher = MqttPublisher(settings)
            except ValueError:
                logger.error("SUPERVISION_MQTT_URL is not an MQTT URL; video events are not published")
                return None
            _publisher.start()
        return _publisher


def reset_publisher() -> None:
    """Stop this process's publisher and read the settings again (tests; a changed configuration)."""
    global _publisher
    with _lock:
        old, _publisher = _publisher, None
    if old is not None:
        old.stop()
    get_mqtt_settings.cache_clear()


def status() -> MqttStatus:
    settings = get_mqtt_settings()
    if not settings.url:
        return MqttStatus(enabled=False, broker="", topic_prefix=settings.topic_prefix)
    pub = publisher()
    if pub is None:
        return MqttStatus(enabled=False, broker="", topic_prefix=settings.topic_prefix, last_error="bad url")
    return pub.status()


def _after_commit(session: Session) -> None:
    pending: list[tuple[str, dict[str, Any]]] = session.info.pop(_PENDING, [])
    pub = publisher() if pending else None
    if pub is None:
        return
    for topic_name, payload in pending:
        pub.submit(topic_name, payload)


def _after_rollback(session: Session, previous: object = None) -> None:
    session.info.pop(_PENDING, None)


def notify(session: Session, *, site_id: int, camera_id: int | None, kind: str, payload: dict[str, Any]) -> None:
    """Publish this message once the session's transaction commits (nothing when publishing is off)."""
    settings = get_mqtt_settings()
    if not settings.url:
        return
    site = session.get(Site, site_id)
    code = site.code if site is not None else str(site_id)
    body = {**payload, "site_id": site_id, "site_code": code, "camera_id": camera_id, "kind": kind}
    pending = session.info.setdefault(_PENDING, [])
    pending.append((topic(settings.topic_prefix, code, camera_id, kind), body))
    if not event.contains(session, "after_commit", _after_commit):
        event.listen(session, "after_commit", _after_commit)
        event.listen(session, "after_soft_rollback", _after_rollback)


def notify_alert(session: Session, alert: Any, action: str) -> None:
    """A camera alert opened or cleared: kind offline / frozen / tamper; "online" when offline or frozen ends."""
    kind = alert.kind.value
    if action == "cleared" and kind in ("offline", "frozen"):
        kind = "online"
    notify(session, site_id=alert.site_id, camera_id=alert.camera_id, kind=kind, payload={
        "type": "camera_alert", "action": action, "id": alert.id, "alert": alert.kind.value,
        "detail": alert.detail, "started_at": alert.started_at, "cleared_at": alert.cleared_at})


def notify_event(session: Session, video_event: Any, action: str) -> None:
    """A video event opened, closed (ended) or reviewed."""
    e = video_event
    notify(session, site_id=e.site_id, camera_id=e.camera_id, kind=e.kind.value, payload={
        "type": "video_event", "action": action, "id": e.id, "status": e.status.value, "zone_id": e.zone_id,
        "post_id": e.post_id, "staff_id": e.staff_id, "started_at": e.started_at, "ended_at": e.ended_at,
        "review_outcome": e.review_outcome.value if e.review_outcome is not None else None})
