"""The ingest worker's evidence recorder: stills and clips of the events of the cameras this worker holds.

How the worker learns of an event: it POLLS. Events are opened by scheduler jobs in another process (vacancy
now; tamper and queue events the same way), always as a `video_event` row with a camera and the moment it opened
(`created_at`). Every `poll_seconds` the recorder reads, in one short read, the recent and open events of the
cameras this worker holds the lease of, with the evidence each already has. Polling needs nothing from the code
that opens an event (any kind, any job) and survives a worker's death: the next lease holder finds the same rows
and writes what is missing. A request table would add a write to every event's opening and a row to clean up.

For an event opened at T (the clip is about the moment the event became true; a vacancy's `started_at` is the
start of the vacancy, up to N minutes earlier, long out of the minute the buffer holds):
- the start still: the key frame closest to T, as soon as the event is seen (≤ poll_seconds + a decode);
- the clip: T − before_seconds … T + after_seconds, remuxed once T + after_seconds has arrived (or what the
  buffer has of it, for an event found late);
- the middle and end stills when the event ends (or when it has been open `still_cap_minutes`): the end is the
  newest key frame, the middle the sample nearest the middle from the JPEGs the recorder keeps of the open event.
Files are written first, then logged in a short write each (cameras.evidence.log_items).
"""

from __future__ import annotations

import logging
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from cameras.clipbuffer import ClipBuffer, Unit, still_jpeg, write_mp4
from cameras.evidence import (
    EvidenceSettings,
    FreeSpace,
    NewItem,
    evidence_dir,
    free_bytes,
    get_evidence_settings,
    log_items,
    store_bytes,
    store_file,
)
from cameras.models import AlertKind, CameraAlert, EvidenceItem, EvidenceKind, VideoEvent
from supervision.db import session_scope, utcnow

logger = logging.getLogger(__name__)

MAX_SAMPLES = 32


@dataclass
class _Tracked:
    """An open event this recorder watches: JPEG samples of it, thinned so they always cover it all."""

    event_id: int
    camera_id: int
    opened: datetime
    samples: list[tuple[datetime, bytes]] = field(default_factory=list)
    every: float = 20.0
    next_at: float = 0.0

    def sample(self, at: datetime, jpeg: bytes, now: float) -> None:
        self.samples.append((at, jpeg))
        if len(self.samples) > MAX_SAMPLES:
            self.samples = self.samples[::2]
            self.every *= 2
        self.next_at = now + self.every

    def nearest(self, at: datetime) -> tuple[datetime, bytes] | None:
        if not self.samples:
            return None
        return min(self.samples, key=lambda s: abs((s[0] - at).total_seconds()))


@dataclass(frozen=True)
class _Seen:
    id: int
    camera_id: int
    site_id: int
    created_at: datetime
    ended_at: datetime | None
    labels: frozenset[str]


class EvidenceRecorder:
    """Runs in the ingest worker ("evidence" thread): polls events, cuts clips and stills from the buffers."""

    def __init__(self, engine: Engine, buffers: Callable[[], dict[int, ClipBuffer]], *,
                 settings: EvidenceSettings | None = None, free_space: FreeSpace = free_bytes) -> None:
        self.engine = engine
        self.buffers = buffers
        self.s = settings or get_evidence_settings()
        self.root = evidence_dir(self.s)
        self.free_space = free_space
        self.tracked: dict[int, _Tracked] = {}
        self.disk_full = False
        self._no_clip: set[int] = set()  # events whose clip was refused (full disk) or failed: not tried again
        self.written = 0
        self.last_write_delay: float | None = None  # seconds from an event's opening to its start still
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="evidence", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        while not self._stop.wait(self.s.poll_seconds):
            try:
                self.step()
            except Exception:  # evidence must never stop the ingest
                logger.exception("evidence round failed")

    # --- one round ------------------------------------------------------------------------------------------

    def step(self, now: datetime | None = None) -> int:
        """Look at the events of the held cameras once and write what is due; the number of files logged."""
        buffers = self.buffers()
        if not buffers:
            return 0
        now = now or utcnow()
        events = self._events(sorted(buffers), now)
        items: list[NewItem] = []
        for ev in events:
            buf = buffers.get(ev.camera_id)
            if buf is None:
                continue
            items.extend(self._due(ev, buf, now))
        done = log_items(self.engine, items) if items else []
        self.written += len(done)
        self._no_clip &= {ev.id for ev in events}
        live = {ev.id for ev in events if ev.ended_at is None}
        for eid in [e for e in self.tracked if e not in live]:
            self.tracked.pop(eid, None)
        return len(done)

    def _events(self, camera_ids: list[int], now: datetime) -> list[_Seen]:
        recent = now - timedelta(seconds=self.s.buffer_seconds + self.s.after_seconds)
        with session_scope(self.engine) as s:
            rows = s.exec(select(VideoEvent).where(
                col(VideoEvent.camera_id).in_(camera_ids),
                (col(VideoEvent.created_at) >= recent) | col(VideoEvent.ended_at).is_(None)
                | (col(VideoEvent.ended_at) >= recent) | col(VideoEvent.id).in_(list(self.tracked)))).all()
            ids = [int(r.id or 0) for r in rows]
            have: dict[int, set[str]] = {}
            if ids:
                for eid, label in s.exec(select(EvidenceItem.event_id, EvidenceItem.label).where(
                        col(EvidenceItem.event_id).in_(ids))).all():
                    have.setdefault(int(eid), set()).add(label)
        return [_Seen(int(r.id or 0), int(r.camera_id or 0), r.site_id, r.created_at, r.ended_at,
                      frozenset(have.get(int(r.id or 0), set()))) for r in rows]

    def _due(self, ev: _Seen, buf: ClipBuffer, now: datetime) -> list[NewItem]:
        out: list[NewItem] = []
        span = buf.span()
        if span is None:
            return out
        oldest, _ = span
        tracked = self.tracked.get(ev.id)
        if tracked is None and ev.ended_at is None:
            tracked = self.tracked[ev.id] = _Tracked(ev.id, ev.camera_id, ev.created_at)
        if "start" not in ev.labels and ev.created_at >= oldest - timedelta(seconds=5):
            unit = buf.key_near(ev.created_at)
            if unit is not None:
                item = self._still(ev, unit, "start")
                if item is not None:
                    out.append(item)
                    self.last_write_delay = (utcnow() - ev.created_at).total_seconds()
        if "clip" not in ev.labels and ev.id not in self._no_clip:
            clip_end = ev.created_at + timedelta(seconds=self.s.after_seconds)
            if now >= clip_end and clip_end >= oldest:
                item = self._clip(ev, buf, ev.created_at - timedelta(seconds=self.s.before_seconds), clip_end)
                if item is not None:
                    out.append(item)
                else:
                    self._no_clip.add(ev.id)
        if tracked is not None and time.monotonic() >= tracked.next_at:
            unit = buf.key_near(now)
            if unit is not None:
                try:
                    tracked.sample(unit.wall, still_jpeg(unit), time.monotonic())
                except ValueError:
                    logger.info("camera %s: a key frame did not decode for a sample", ev.camera_id)
        capped = ev.ended_at is None and now - ev.created_at >= timedelta(minutes=self.s.still_cap_minutes)
        if (ev.ended_at is not None or capped) and "end" not in ev.labels:
            end_at = ev.ended_at or now
            if end_at >= oldest - timedelta(seconds=5) or (tracked and tracked.samples):
                out.extend(self._closing(ev, buf, tracked, end_at))
        return out

    def _still(self, ev: _Seen, unit: Unit, label: str) -> NewItem | None:
        try:
            sha, size = store_bytes(self.root, still_jpeg(unit))
        except (ValueError, OSError):
            logger.exception("camera %s: the %s still of event %s failed", ev.camera_id, label, ev.id)
            return None
        return NewItem(ev.id, ev.camera_id, EvidenceKind.STILL, label, sha, size, unit.wall)

    def _closing(self, ev: _Seen, buf: ClipBuffer, tracked: _Tracked | None, end_at: datetime) -> list[NewItem]:
        out: list[NewItem] = []
        middle_at = ev.created_at + (end_at - ev.created_at) / 2
        if "middle" not in ev.labels:
            sample = tracked.nearest(middle_at) if tracked else None
            if sample is not None:
                sha, size = store_bytes(self.root, sample[1])
                out.append(NewItem(ev.id, ev.camera_id, EvidenceKind.STILL, "middle", sha, size, sample[0]))
            else:
                unit = _near(buf, middle_at)
                item = self._still(ev, unit, "middle") if unit is not None else None
                if item is not None:
                    out.append(item)
        unit = _near(buf, end_at)
        item = self._still(ev, unit, "end") if unit is not None else None
        if item is not None:
            out.append(item)
        return out

    def _clip(self, ev: _Seen, buf: ClipBuffer, start: datetime, end: datetime) -> NewItem | None:
        if not self._room(ev):
            return None
        units = buf.window(start, end)
        if not units:
            return None
        self.root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.root, prefix=".clip-", suffix=".mp4", delete=False) as tmp:
            path = Path(tmp.name)
        try:
            info = write_mp4(units, path)
            sha, size = store_file(self.root, path)
        except (ValueError, OSError) as exc:
            path.unlink(missing_ok=True)
            logger.warning("camera %s: the clip of event %s failed: %s", ev.camera_id, ev.id, exc)
            return None
        except Exception:
            path.unlink(missing_ok=True)
            raise
        return NewItem(ev.id, ev.camera_id, EvidenceKind.CLIP, "clip", sha, size, units[0].wall, info.duration)

    def _room(self, ev: _Seen) -> bool:
        """Enough free space for a clip? Below the floor: no clip, and an open camera alert until there is."""
        floor = int(self.s.min_free_mb * 1024 * 1024)
        full = self.free_space(self.root) < floor
        if full != self.disk_full or full:
            self._alert(ev, full)
        self.disk_full = full
        if full:
            logger.warning("evidence disk below its free-space floor: no clip for event %s", ev.id)
        return not full

    def _alert(self, ev: _Seen, full: bool) -> None:
        now = utcnow()
        with session_scope(self.engine, write=True) as s:
            open_alert = s.exec(select(CameraAlert).where(
                col(CameraAlert.camera_id) == ev.camera_id, col(CameraAlert.kind) == AlertKind.EVIDENCE_DISK_FULL,
                col(CameraAlert.cleared_at).is_(None))).first()
            if full and open_alert is None:
                s.add(CameraAlert(camera_id=ev.camera_id, site_id=ev.site_id, kind=AlertKind.EVIDENCE_DISK_FULL,
                                  started_at=now, detail="camera.alert.evidence_disk_full"))
            elif not full:
                for alert in s.exec(select(CameraAlert).where(
                        col(CameraAlert.kind) == AlertKind.EVIDENCE_DISK_FULL,
                        col(CameraAlert.cleared_at).is_(None))).all():
                    alert.cleared_at = now
                    s.add(alert)


NEAR_SECONDS = 5.0
"""A still shows the moment it is labelled with, give or take this (a key frame every 1–4 s)."""


def _near(buf: ClipBuffer, at: datetime) -> Unit | None:
    unit = buf.key_near(at)
    if unit is None or abs((unit.wall - at).total_seconds()) > NEAR_SECONDS:
        return None
    return unit


def clip_units(clip: Path, start: datetime) -> list[Unit]:
    """A recorded H.264 MP4 as the access units a camera would have sent (Annex-B), arriving from `start`."""
    import av
    from av.bitstream import BitStreamFilterContext

    units: list[Unit] = []
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        time_base = stream.time_base or Fraction(1, 90_000)
        annexb = BitStreamFilterContext("h264_mp4toannexb", stream)
        for packet in container.demux(stream):
            for out in annexb.filter(packet if packet.size else None):
                if out.pts is None:
                    continue
                at = float(out.pts * time_base)
                units.append(Unit(bytes(out), bool(out.is_keyframe), at, start + timedelta(seconds=at)))
    return units


def seed_demo_evidence(engine: Engine, camera_id: int, clip: Path, *, settings: EvidenceSettings | None = None
                       ) -> int:
    """Demo: stills and a clip for each of the camera's events that has none, cut from the camera's own demo clip
    the way the worker cuts them from its buffer (so the review pages show evidence at any hour). Idempotent."""
    s = settings or get_evidence_settings()
    root = evidence_dir(s)
    with session_scope(engine) as session:
        events = session.exec(select(VideoEvent).where(col(VideoEvent.camera_id) == camera_id)).all()
        have = set(session.exec(select(EvidenceItem.event_id).where(
            col(EvidenceItem.event_id).in_([e.id for e in events]))).all()) if events else set()
    todo = [e for e in events if e.id not in have]
    if not todo or not clip.exists():
        return 0
    logged = 0
    for ev in todo:
        units = clip_units(clip, ev.started_at)
        keys = [u for u in units if u.key]
        if not keys:
            return 0
        window = [u for u in units if u.pts < s.before_seconds + s.after_seconds]
        items: list[NewItem] = []
        for label, unit in (("start", keys[0]), ("middle", keys[len(keys) // 2]), ("end", keys[-1])):
            sha, size = store_bytes(root, still_jpeg(unit))
            items.append(NewItem(int(ev.id or 0), camera_id, EvidenceKind.STILL, label, sha, size, unit.wall))
        root.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=root, prefix=".clip-", suffix=".mp4", delete=False) as tmp:
            path = Path(tmp.name)
        info = write_mp4(window, path)
        sha, size = store_file(root, path)
        items.append(NewItem(int(ev.id or 0), camera_id, EvidenceKind.CLIP, "clip", sha, size, window[0].wall,
                             info.duration))
        logged += len(log_items(engine, items))
    return logged
