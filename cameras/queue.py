"""Queues while windows stand vacant (issue 13 §4): people counted in a queue zone, and the alert rule.

Counting reuses the presence detector's background model (cameras.presence.ZoneBackgroundDetector: a
normalized picture against a background that learns only while the zone looks empty, so lights and camera gain
do not count) on the queue zone, and counts the blobs of pixels that differ from it: a blob of about one person's
size is one person, a larger blob (people standing close) counts as its area in persons. It is a blob count, not
a person detector: people who overlap heavily from the camera's view count as fewer, a trolley or a large bag
counts as a person — measured in bench/presence/queue_count.py, see README "Queue while vacant".

The rule (pure, `queue_alert_wanted`): the count at or above the zone's `queue_alert_count` while at least one
window the zone serves (the windows of its hall) is vacant — its post zone has an open vacancy event, or its
presence is vacant inside the site's office hours. The event (kind queue_vacant) opens when both hold and closes
when either ends; `evaluate_queue_alerts` applies it, run by the scheduler: reads first, then one short write.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras import mqtt
from cameras.geometry import crop_mask
from cameras.models import (
    PresenceState,
    QueueStatePublic,
    VideoEvent,
    VideoEventKind,
    VideoEventStatus,
    Zone,
    ZoneCount,
    ZoneKind,
    ZonePresence,
)
from cameras.presence import ZoneBackgroundDetector
from supervision.access import Permission, Principal
from supervision.db import session_scope, utcnow
from supervision.models import Window
from supervision.officehours import hours_for
from supervision.scheduler import JobSpec
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

Grey = npt.NDArray[np.uint8]


class QueueSettings(BaseSettings):
    """How people are counted in a queue zone (`SUPERVISION_CAMERA_QUEUE_*`); the alert count is per zone."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_CAMERA_QUEUE_", env_file=".env", extra="ignore")

    enabled: bool = Field(True, description="Count people in queue zones on every analysed frame")
    person_share: float = Field(0.007, gt=0, le=1, description="Share of the whole picture one standing person "
                                "covers: about 0.007 for a hall camera mounted high (25×65 px of 640×360, the "
                                "demo hall); a close view far more (the labelled footage: 0.1)")
    min_person: float = Field(0.35, gt=0, le=1,
                              description="A blob smaller than this part of a person is not counted")
    hold_seconds: float = Field(3.0, ge=0, le=600, description="A new count must hold this long to be taken")
    refresh_seconds: float = Field(30.0, ge=1, le=600,
                                   description="A worker writes an unchanged count again this often")
    fresh_seconds: float = Field(90.0, ge=5, le=3600,
                                 description="An older count is not used (its worker stopped)")


def count_blobs(differs: npt.NDArray[np.bool_], mask: npt.NDArray[np.bool_], person_pixels: float,
                min_person: float) -> int:
    """People in a zone from its changed pixels: blobs of a person's size count one, larger ones their area."""
    if not mask.any():
        return 0
    changed = (differs & mask).astype(np.uint8)
    # Join a person's parts (head, torso, legs split by a counter's edge) and drop speckles of noise.
    opened = cv2.morphologyEx(changed, cv2.MORPH_OPEN, np.ones((2, 2), np.uint8))
    closed = cv2.morphologyEx(opened, cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8))
    n, _, stats, _ = cv2.connectedComponentsWithStats(closed, connectivity=8)
    person = max(1.0, person_pixels)
    blobs = [float(stats[i, cv2.CC_STAT_AREA]) for i in range(1, n)]
    found = [b for b in blobs if b >= min_person * person]
    if not found:
        return 0
    # People by area: a person split in two by a counter's edge or a dark coat is still one, three standing
    # shoulder to shoulder are three; each separate blob is at least one.
    return max(len([b for b in found if b >= 0.75 * person]), round(sum(found) / person), 1)


@dataclass
class QueueCounter:
    """One queue zone's count with hysteresis: a new count is taken once it held for `hold_seconds`."""

    zone_id: int
    detector: ZoneBackgroundDetector
    settings: QueueSettings
    count: int | None = None
    _candidate: int | None = None
    _since: float = 0.0

    @classmethod
    def for_zone(cls, zone_id: int, polygon: Sequence[tuple[float, float]], settings: QueueSettings,
                 scene: Grey | None = None) -> QueueCounter:
        """`scene`: the camera's whole reference still (the empty hall), cropped to the zone as its background."""
        reference = None
        if scene is not None and scene.size:
            (x0, y0, x1, y1), _ = crop_mask(polygon, scene.shape[1], scene.shape[0])
            reference = np.ascontiguousarray(scene[y0:y1, x0:x1])
        return cls(zone_id, ZoneBackgroundDetector(list(polygon), reference=reference), settings)

    def raw(self, grey: Grey, at: float) -> int | None:
        """The count in this picture alone (None: the detector does not know the empty zone yet)."""
        # While people are counted the background learns nothing (a queue standing still is not the empty hall).
        seen = self.detector.observe(grey, at, occupied_now=bool(self.count))
        mask = self.detector.mask
        if seen is None or self.detector.last_differs is None or mask is None:
            return None
        return count_blobs(self.detector.last_differs, mask, self.detector.work_pixels(self.settings.person_share),
                           self.settings.min_person)

    def update(self, grey: Grey, at: float) -> int | None:
        """Feed one picture; return the new count when it changed (held long enough)."""
        now = self.raw(grey, at)
        if now is None:
            return None
        if now != self._candidate:
            self._candidate, self._since = now, at
        if now != self.count and at - self._since >= self.settings.hold_seconds:
            self.count = now
            return now
        return None


@dataclass(frozen=True)
class QueueZone:
    """What ingest needs of a queue zone (copied out of the session)."""

    id: int
    polygon: list[tuple[float, float]]
    updated_at: datetime


@dataclass
class CameraQueues:
    """The queue zones of one camera as its reader counts them; the latest counts wait for the worker."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counters: dict[int, tuple[datetime, QueueCounter]] = field(default_factory=dict)
    _key: str | None = None
    _pending: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    _written: dict[int, float] = field(default_factory=dict)

    def configure(self, zones: Sequence[QueueZone], scene: Grey | None, scene_key: str | None,
                  settings: QueueSettings) -> None:
        with self._lock:
            fresh = scene_key != self._key
            self._key = scene_key
            kept: dict[int, tuple[datetime, QueueCounter]] = {}
            if settings.enabled:
                for z in zones:
                    old = self._counters.get(z.id)
                    if old is not None and old[0] == z.updated_at and not fresh:
                        kept[z.id] = old
                    else:
                        kept[z.id] = (z.updated_at, QueueCounter.for_zone(z.id, z.polygon, settings, scene))
            self._counters = kept

    def __bool__(self) -> bool:
        return bool(self._counters)

    def analyse(self, grey: Grey, at: float, wall: datetime) -> None:
        with self._lock:
            counters = [c for _, c in self._counters.values()]
        for counter in counters:
            changed = counter.update(grey, at)
            due = at - self._written.get(counter.zone_id, -1e9) >= counter.settings.refresh_seconds
            if counter.count is not None and (changed is not None or due):
                with self._lock:
                    self._pending[counter.zone_id] = (counter.count, wall)
                self._written[counter.zone_id] = at

    def has_pending(self) -> bool:
        return bool(self._pending)

    def drain(self) -> dict[int, tuple[int, datetime]]:
        with self._lock:
            out, self._pending = self._pending, {}
        return out

    def give_back(self, counts: dict[int, tuple[int, datetime]]) -> None:
        with self._lock:
            self._pending = {**counts, **self._pending}


def queue_zones(session: Session, camera_ids: list[int]) -> dict[int, list[QueueZone]]:
    """The queue zones of these cameras, by camera."""
    out: dict[int, list[QueueZone]] = {cid: [] for cid in camera_ids}
    if not camera_ids:
        return out
    for z in session.exec(select(Zone).where(col(Zone.camera_id).in_(camera_ids),
                                             col(Zone.kind) == ZoneKind.QUEUE).order_by(col(Zone.id))).all():
        out[int(z.camera_id or 0)].append(QueueZone(int(z.id or 0), z.polygon, z.updated_at))
    return out


def record_counts(session: Session, counts: dict[int, tuple[int, datetime]]) -> None:
    """Write the counts a worker drained (one row per zone, updated in place)."""
    for zone_id, (count, at) in counts.items():
        row = session.get(ZoneCount, zone_id)
        if row is None:
            if session.get(Zone, zone_id) is None:
                continue  # deleted meanwhile
            row = ZoneCount(zone_id=zone_id)
        row.count, row.counted_at = count, at
        session.add(row)


# --- the rule ----------------------------------------------------------------------------------------------------


def queue_alert_wanted(count: int | None, threshold: int, vacant_windows: Sequence[object]) -> bool:
    """An alert should be open: the queue reached the zone's count while at least one of its windows is vacant."""
    return count is not None and count >= threshold and len(vacant_windows) > 0


@dataclass(frozen=True)
class _QueueView:
    zone: Zone
    count: int | None
    counted_at: datetime | None
    vacant: list[str]
    open_event: int | None


def _in_office_hours(session: Session, site_id: int, now: datetime, cache: dict[int, bool]) -> bool:
    if site_id not in cache:
        tz = get_settings().tz
        local = now.astimezone(tz)
        hours = hours_for(session, site_id=site_id, day=local.date())
        cache[site_id] = hours is not None and any(a <= local.time() < b for a, b in hours.periods)
    return cache[site_id]


def _views(session: Session, now: datetime, zones: list[Zone]) -> list[_QueueView]:
    """Each queue zone with its fresh count and the names of its hall's windows that are vacant now."""
    fresh_after = now - timedelta(seconds=QueueSettings().fresh_seconds)
    ids = [int(z.id or 0) for z in zones]
    counts = {c.zone_id: c for c in session.exec(select(ZoneCount).where(col(ZoneCount.zone_id).in_(ids))).all()}
    halls = {z.hall_id for z in zones if z.hall_id is not None}
    windows = list(session.exec(select(Window).where(col(Window.hall_id).in_(halls))).all()) if halls else []
    window_ids = [int(w.id or 0) for w in windows]
    posts = list(session.exec(select(Zone, ZonePresence).join(
        ZonePresence, (col(ZonePresence.zone_id) == col(Zone.id)) & col(ZonePresence.ended_at).is_(None),
        isouter=True).where(col(Zone.kind) == ZoneKind.POST, col(Zone.window_id).in_(window_ids))).all()) \
        if window_ids else []
    post_zone_ids = [int(z.id or 0) for z, _ in posts]
    vacant_events = set(session.exec(select(VideoEvent.zone_id).where(
        col(VideoEvent.zone_id).in_(post_zone_ids), col(VideoEvent.kind) == VideoEventKind.POST_VACANT,
        col(VideoEvent.ended_at).is_(None))).all()) if post_zone_ids else set()
    open_events = {int(e.zone_id or 0): int(e.id or 0) for e in session.exec(select(VideoEvent).where(
        col(VideoEvent.zone_id).in_(ids), col(VideoEvent.kind) == VideoEventKind.QUEUE_VACANT,
        col(VideoEvent.ended_at).is_(None))).all()}
    office: dict[int, bool] = {}
    vacant_windows: set[int] = set()
    for z, p in posts:
        if z.id in vacant_events or (p is not None and p.state == PresenceState.VACANT
                                     and _in_office_hours(session, z.site_id, now, office)):
            vacant_windows.add(int(z.window_id or 0))
    out = []
    for z in zones:
        c = counts.get(int(z.id or 0))
        fresh = c is not None and c.counted_at >= fresh_after
        names = sorted(w.name for w in windows if w.hall_id == z.hall_id and w.site_id == z.site_id
                       and w.id in vacant_windows)
        out.append(_QueueView(z, c.count if c is not None and fresh else None,
                              c.counted_at if c is not None else None, names, open_events.get(int(z.id or 0))))
    return out


def evaluate_queue_alerts(engine: Engine | None = None, *, now: datetime | None = None) -> tuple[int, int]:
    """Open and close queue-while-vacant events for every queue zone; returns (opened, closed)."""
    now = now or utcnow()
    with session_scope(engine) as s:
        zones = list(s.exec(select(Zone).where(col(Zone.kind) == ZoneKind.QUEUE,
                                               col(Zone.camera_id).is_not(None))).all())
        views = _views(s, now, zones)
        stray = [int(e.id or 0) for e in s.exec(select(VideoEvent).where(
            col(VideoEvent.kind) == VideoEventKind.QUEUE_VACANT, col(VideoEvent.ended_at).is_(None),
            col(VideoEvent.zone_id).not_in([int(z.id or 0) for z in zones]) | col(VideoEvent.zone_id).is_(None)
        )).all()]
    to_open = [v for v in views if v.open_event is None
               and queue_alert_wanted(v.count, v.zone.queue_alert_count, v.vacant)]
    to_close = [v.open_event for v in views if v.open_event is not None
                and not queue_alert_wanted(v.count, v.zone.queue_alert_count, v.vacant)] + stray
    if not (to_open or to_close):
        return 0, 0
    opened = closed = 0
    with session_scope(engine, write=True) as s:
        for v in to_open:
            if s.exec(select(VideoEvent.id).where(col(VideoEvent.zone_id) == v.zone.id,
                                                  col(VideoEvent.kind) == VideoEventKind.QUEUE_VACANT,
                                                  col(VideoEvent.ended_at).is_(None))).first() is not None:
                continue  # another run opened it in between
            event = VideoEvent(kind=VideoEventKind.QUEUE_VACANT, site_id=v.zone.site_id, camera_id=v.zone.camera_id,
                               zone_id=v.zone.id, started_at=now)
            s.add(event)
            s.flush()
            mqtt.notify_event(s, event, "opened")
            opened += 1
        for eid in to_close:
            found = s.get(VideoEvent, eid)
            if found is None or found.ended_at is not None:
                continue
            found.ended_at = max(found.started_at, now)
            found.status = VideoEventStatus.PENDING_REVIEW
            s.add(found)
            mqtt.notify_event(s, found, "closed")
            closed += 1
    if opened or closed:
        logger.info("queue-while-vacant events: %d opened, %d closed", opened, closed)
    return opened, closed


def queue_states(session: Session, actor: Principal, camera_id: int) -> list[QueueStatePublic]:
    """A camera's queue zones now: count, threshold, vacant windows, whether an alert is open."""
    from cameras.service import get_camera

    actor.require(Permission.CAMERAS_VIEW)
    camera = get_camera(session, actor, camera_id)
    zones = list(session.exec(select(Zone).where(col(Zone.camera_id) == camera.id, col(Zone.kind) == ZoneKind.QUEUE)
                              .order_by(col(Zone.id))).all())
    return [QueueStatePublic(zone_id=int(v.zone.id or 0), camera_id=v.zone.camera_id, name=v.zone.name,
                             count=v.count, counted_at=v.counted_at, queue_alert_count=v.zone.queue_alert_count,
                             vacant_windows=v.vacant, alert_open=v.open_event is not None)
            for v in _views(session, utcnow(), zones)]


def run_queue_job() -> None:
    """The scheduler's job."""
    evaluate_queue_alerts()


QUEUE_JOB = JobSpec("cameras.queue_vacant", "cameras.queue:run_queue_job", "interval", {"seconds": 10})
