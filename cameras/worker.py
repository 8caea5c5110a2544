"""The ingest service: leases cameras from the database, runs a reader per camera, writes health and alerts.

One `IngestService` runs in each process that reads cameras: inside `supervision serve` (embedded,
SQLite or PostgreSQL) or in each `supervision worker` process. Leases are rows in `ingest_lease`:
claimed with SELECT … FOR UPDATE SKIP LOCKED (PostgreSQL; SQLite serialises writers anyway), renewed
every third of a lease period, taken over by another worker once expired. A reader stops itself when
its lease could not be renewed in time, so no camera is ever read by two workers.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import socket
import threading
import time
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, func, or_, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlmodel import Session, col, select

from cameras import mqtt
from cameras.camera_reference import record_tamper, references_to_analyse
from cameras.clipbuffer import ClipBuffer
from cameras.config import CameraSettings, get_camera_settings
from cameras.evidence import EvidenceSettings, get_evidence_settings
from cameras.evidence_capture import EvidenceRecorder
from cameras.frame_server import FrameServer
from cameras.health import StatusTracker
from cameras.ingest import FRAMES, CameraReader, FrameRegistry
from cameras.models import (
    AlertKind,
    Camera,
    CameraAlert,
    CameraHealth,
    CameraStatus,
    IngestLease,
    IngestWorker,
)
from cameras.presence import PresenceChange
from cameras.queue import QueueSettings, queue_zones, record_counts
from cameras.rtsp_reader import reader_class
from cameras.service import stream_uri
from cameras.tamper import TamperChange, TamperSettings
from cameras.zones import load_reference, record_presence, zones_to_analyse
from supervision.db import session_scope, utcnow
from supervision.incidents import record_incident
from supervision.settings import Settings, get_settings

logger = logging.getLogger(__name__)

# The alerts the stream's status opens and clears (others, e.g. the evidence disk's, have their own owner).
STREAM_ALERTS = (AlertKind.OFFLINE, AlertKind.FROZEN)

# A reader stops this long before its lease expires, so clock skew between machines up to this is safe.
LEASE_SAFETY_SECONDS = 2.0


def new_worker_id() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{uuid.uuid4().hex[:6]}"


class _Held:
    """A camera this worker holds: its reader, the lease deadline and the status tracker."""

    def __init__(self, reader: CameraReader, tracker: StatusTracker, camera: Camera, uri: str) -> None:
        self.reader = reader
        self.tracker = tracker
        self.uri = uri
        self.started = False  # the reader runs (a camera without a stream URI has none to run)
        self.valid_until = time.monotonic()
        self.scene: Any = None  # the camera's reference still (grey), as loaded for sha256 `scene_sha`
        self.scene_sha: str | None = None
        self.note(camera)

    def note(self, camera: Camera) -> None:
        """Take the camera row's current placement and name, and remember which version of it we saw."""
        self.site_id = camera.site_id
        self.window_id = camera.window_id
        self.post_id = camera.post_id
        self.name = camera.name
        self.config_at = camera.updated_at


class IngestService:
    """Runs the readers of the cameras this process holds; start()/stop() from the runtime."""

    def __init__(self, engine: Engine, settings: Settings | None = None,
                 stop_event: threading.Event | None = None, *, camera_settings: CameraSettings | None = None,
                 registry: FrameRegistry | None = None,
                 serve_frames: bool = True, worker_id: str | None = None,
                 evidence: EvidenceSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings
        self.stop_event = stop_event or threading.Event()
        self.cs = camera_settings or get_camera_settings()
        self.registry = registry or FRAMES
        self.worker_id = worker_id or new_worker_id()
        self.held: dict[int, _Held] = {}
        self._thread: threading.Thread | None = None
        self._own_stop = threading.Event()
        self.frame_server = FrameServer(self.registry, self.cs) if serve_frames else None
        self._pending_start = 0
        self.last_error = ""
        # Event evidence: each held camera's last minute in memory, and the thread that cuts stills and clips.
        self.evidence_settings = evidence or get_evidence_settings()
        self.evidence: EvidenceRecorder | None = None
        if self.evidence_settings.enabled:
            self.evidence = EvidenceRecorder(engine, self._clip_buffers, settings=self.evidence_settings)

    def _clip_buffers(self) -> dict[int, ClipBuffer]:
        return {cid: h.reader.clip_buffer for cid, h in list(self.held.items()) if h.reader.clip_buffer is not None}

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        frame_url = ""
        if self.frame_server is not None:
            self.frame_server.start()
            frame_url = self.frame_server.url
        with session_scope(self.engine, write=True) as s:
            s.add(IngestWorker(id=self.worker_id, host=socket.gethostname()[:120], pid=os.getpid(),
                               frame_url=frame_url, capacity=self.cs.max_cameras_per_process))
        self._thread = threading.Thread(target=self._loop, name="ingest-leases", daemon=True)
        self._thread.start()
        if self.evidence is not None:
            self.evidence.start()
        logger.info("ingest worker %s started (capacity %d, frames at %s)", self.worker_id,
                    self.cs.max_cameras_per_process, frame_url or "in-process")

    def stop(self) -> None:
        self._own_stop.set()
        if self.evidence is not None:
            self.evidence.stop()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._stop_readers(list(self.held))
        try:
            with session_scope(self.engine, write=True) as s:
                s.execute(delete(IngestLease).where(col(IngestLease.worker_id) == self.worker_id))
                s.execute(delete(IngestWorker).where(col(IngestWorker.id) == self.worker_id))
        except Exception:
            logger.exception("could not release the leases of %s; they expire by themselves", self.worker_id)
        if self.frame_server is not None:
            self.frame_server.stop()
        logger.info("ingest worker %s stopped", self.worker_id)

    @property
    def stopping(self) -> bool:
        return self._own_stop.is_set() or self.stop_event.is_set()

    def _loop(self) -> None:
        period = self.cs.lease_seconds / 3
        next_lease = 0.0
        next_flush = 0.0
        while not self.stopping:
            now = time.monotonic()
            if now >= next_lease:
                try:
                    self.heartbeat()
                    self.last_error = ""
                except (OperationalError, IntegrityError) as exc:
                    # Another worker won a race for a camera, or the database is away: try again next round.
                    self.last_error = exc.__class__.__name__
                    logger.warning("lease round of %s failed: %s", self.worker_id, exc.__class__.__name__)
                except Exception:
                    logger.exception("lease round of %s failed", self.worker_id)
                next_lease = now + period
            changes = self._evaluate()
            # A presence change is written at once (vacancy events wait on it), health every few seconds.
            if changes or now >= next_flush or any(h.reader.zones.has_pending() or h.reader.tamper.has_pending()
                                                   for h in list(self.held.values())):
                try:
                    self._flush(changes)
                except Exception:
                    logger.exception("writing camera health failed")
                next_flush = now + self.cs.health_flush_seconds
            self._own_stop.wait(0.5)
            if self.stop_event.is_set():
                break

    # --- leases ------------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Renew our leases, claim our share of free or expired ones, start and stop readers to match."""
        started = time.monotonic()
        now = utcnow()
        expires = now + timedelta(seconds=self.cs.lease_seconds)
        with session_scope(self.engine, write=True) as s:
            renewed = set(s.execute(
                update(IngestLease).where(col(IngestLease.worker_id) == self.worker_id)
                .values(expires_at=expires).returning(col(IngestLease.camera_id))).scalars())
            # Cameras deleted or disabled since: let them go.
            current = {int(c.id or 0): c for c in s.exec(
                select(Camera).where(col(Camera.enabled), col(Camera.id).in_(renewed))).all()}
            gone = renewed - set(current)
            if gone:
                s.execute(delete(IngestLease).where(col(IngestLease.camera_id).in_(gone),
                                                    col(IngestLease.worker_id) == self.worker_id))
            mine = renewed - gone
            target = self._fair_share(s, now)
            # More than our share (another worker joined): hand the surplus back, highest ids first.
            surplus = set(sorted(mine)[target:]) if len(mine) > target else set()
            mine -= surplus
            claimed: list[int] = []
            if len(mine) < target:
                claimed = self._claim(s, now, expires, target - len(mine))
            s.execute(update(IngestWorker).where(col(IngestWorker.id) == self.worker_id)
                      .values(heartbeat_at=now, camera_count=len(mine) + len(claimed)))
            # Workers silent for ten lease periods are gone; their rows only confuse the web.
            s.execute(delete(IngestWorker).where(
                col(IngestWorker.heartbeat_at) < now - timedelta(seconds=self.cs.lease_seconds * 10)))
            cameras = {c.id: c for c in s.exec(select(Camera).where(col(Camera.id).in_(claimed))).all()}
        # The lease is ours from when the round started: count the deadline from then, minus a margin.
        valid_until = started + self.cs.lease_seconds - LEASE_SAFETY_SECONDS
        lost = set(self.held) - mine - surplus
        if lost:
            logger.warning("worker %s lost the leases of cameras %s", self.worker_id, sorted(lost))
            self._stop_readers(list(lost))
        for cid in mine:
            if cid in self.held:
                self.held[cid].valid_until = valid_until
        self._apply_edits(current, mine, valid_until)
        for i, cid in enumerate(claimed):
            camera = cameras.get(cid)
            if camera is not None:
                self._start_reader(camera, valid_until, i)
        self.refresh_zones()
        if surplus:
            # Readers first, leases after: the camera is never read by two workers.
            self._stop_readers(list(surplus))
            with session_scope(self.engine, write=True) as s:
                s.execute(delete(IngestLease).where(col(IngestLease.camera_id).in_(surplus),
                                                    col(IngestLease.worker_id) == self.worker_id))
            logger.info("worker %s handed back cameras %s", self.worker_id, sorted(surplus))

    def refresh_zones(self) -> None:
        """Give each reader its camera's post zones as they are now (drawn, edited or deleted since)."""
        held = dict(self.held)
        if not held:
            return
        with session_scope(self.engine) as s:
            zones = zones_to_analyse(s, sorted(held))
            queues = queue_zones(s, sorted(held))
            scenes = references_to_analyse(s, sorted(held))
        media_dir = (self.settings or get_settings()).media_dir
        tamper_settings, queue_settings = TamperSettings(), QueueSettings()
        for cid, h in held.items():
            h.reader.zones.configure(zones.get(cid, []), lambda sha: load_reference(media_dir, sha))
            # The camera's reference still: the tamper checks compare with it, queue zones start from its crop.
            sha = scenes.get(cid)
            scene = load_reference(media_dir, sha) if sha is not None and sha != h.scene_sha else h.scene
            h.scene, h.scene_sha = scene, sha
            h.reader.tamper.configure(scene, sha if scene is not None else None, tamper_settings)
            h.reader.queues.configure(queues.get(cid, []), scene, sha if scene is not None else None, queue_settings)

    def _apply_edits(self, current: dict[int, Camera], mine: set[int], valid_until: float) -> None:
        """Restart the reader of every held camera whose stream changed since it started (an edit, a probe).

        Runs at every lease renewal, so an edited camera (stream, profile, address, credentials) is read with
        its new settings within a third of a lease period, without disabling and enabling it; a restarted
        demo, whose virtual cameras came back on new ports, is read again at once.
        """
        for cid in sorted(mine):
            held, camera = self.held.get(cid), current.get(cid)
            if held is None or camera is None:
                continue
            # A reader ends itself when its lease lapsed (a stalled round); the lease is ours again: read again.
            ended = held.started and not held.reader.is_alive()
            if camera.updated_at == held.config_at and not ended:
                continue
            uri = stream_uri(camera)
            if uri == held.uri and not ended:
                held.note(camera)
                continue
            logger.info("camera %s %s; its reader starts again", cid, "changed" if uri != held.uri else "lapsed")
            status = held.tracker.status
            # Not _stop_readers: a reader stuck opening the old address would hold up the lease round for
            # the open timeout. It is told to stop and ends by itself; its last act (forgetting its frame)
            # can only blank the new reader's picture until the next key frame.
            held.reader.stop()
            held.reader.join(timeout=1.0)
            self.held.pop(cid, None)
            self._start_reader(camera, valid_until, 0)
            # The status carries over: an open alert stays open until the new stream proves healthy.
            self.held[cid].tracker.status = status

    def _fair_share(self, s: Session, now: Any) -> int:
        alive = int(s.exec(select(func.count()).select_from(IngestWorker).where(
            col(IngestWorker.heartbeat_at) >= now - timedelta(seconds=self.cs.lease_seconds))).one())
        cameras = int(s.exec(select(func.count()).select_from(Camera).where(col(Camera.enabled))).one())
        return min(self.cs.max_cameras_per_process, math.ceil(cameras / max(1, alive)))

    def _claim(self, s: Session, now: Any, expires: Any, wanted: int) -> list[int]:
        free = (select(Camera.id).outerjoin(IngestLease, col(IngestLease.camera_id) == col(Camera.id))
                .where(col(Camera.enabled),
                       or_(col(IngestLease.camera_id).is_(None), col(IngestLease.expires_at) < now))
                .order_by(col(Camera.id)).limit(wanted)
                # PostgreSQL: two workers claiming at once skip each other's rows instead of waiting.
                .with_for_update(of=Camera, skip_locked=True))
        ids = [int(i) for i in s.exec(free).all() if i is not None]
        claimed: list[int] = []
        for cid in ids:
            took = s.execute(update(IngestLease).where(
                col(IngestLease.camera_id) == cid, col(IngestLease.expires_at) < now,
            ).values(worker_id=self.worker_id, expires_at=expires, acquired_at=now))
            if took.rowcount == 0:  # type: ignore[attr-defined]
                # No lease row yet; the primary key makes a concurrent second insert fail, never double-read.
                s.add(IngestLease(camera_id=cid, worker_id=self.worker_id, expires_at=expires,
                                  acquired_at=now))
            claimed.append(cid)
        s.flush()
        return claimed

    def _start_reader(self, camera: Camera, valid_until: float, index: int) -> None:
        cid = int(camera.id or 0)
        uri = stream_uri(camera)
        reader = reader_class(self.cs, uri)(cid, uri, self.cs, self.registry,
                                            start_delay=index * self.cs.connect_stagger_seconds,
                                            lease_valid=lambda: time.monotonic() < self.held[cid].valid_until
                                            if cid in self.held else False)
        tracker = StatusTracker(self.cs.offline_after_seconds, self.cs.frozen_after_seconds,
                                self.cs.recover_after_seconds, started_at=time.monotonic())
        if self.evidence is not None:
            es = self.evidence_settings
            reader.clip_buffer = ClipBuffer(es.buffer_seconds, int(es.buffer_mb * 1024 * 1024))
        held = _Held(reader, tracker, camera, uri)
        held.valid_until = valid_until
        self.held[cid] = held
        if not uri:
            reader.state.last_error = "camera.stream.no_uri"
            return  # nothing to read; the tracker will call it offline
        reader.start()
        held.started = True

    def _stop_readers(self, ids: list[int]) -> None:
        readers = [self.held[i].reader for i in ids if i in self.held]
        for r in readers:
            r.stop()
        deadline = time.monotonic() + max(self.cs.read_timeout_seconds, self.cs.open_timeout_seconds) + 2
        for r in readers:
            if r.is_alive():
                r.join(timeout=max(0.1, deadline - time.monotonic()))
            if r.is_alive():
                logger.error("reader of camera %s did not stop in time", r.camera_id)
        for i in ids:
            self.held.pop(i, None)
            self.registry.forget(i)

    # --- status, health, alerts -------------------------------------------------------------------

    def _evaluate(self) -> list[tuple[int, CameraStatus]]:
        now = time.monotonic()
        changes = []
        for cid, held in list(self.held.items()):
            st = held.reader.state
            unchanged = st.freeze.unchanged_for(now) if st.freeze.last_change_at is not None else 0.0
            new = held.tracker.evaluate(now, st.stats.last_packet_at, unchanged)
            if new is not None:
                changes.append((cid, new))
        return changes

    def _flush(self, changes: list[tuple[int, CameraStatus]]) -> None:
        now_m = time.monotonic()
        now = utcnow()
        presence: list[tuple[_Held, list[PresenceChange]]] = [(h, h.reader.zones.drain())
                                                             for h in list(self.held.values())]
        tamper: list[tuple[int, _Held, list[TamperChange]]] = [(cid, h, h.reader.tamper.drain())
                                                               for cid, h in list(self.held.items())]
        counts = [(h, h.reader.queues.drain()) for h in list(self.held.values())]
        try:
            with session_scope(self.engine, write=True) as s:
                self._write_health(s, changes, now_m, now)
                for _, found in presence:
                    for change in found:
                        record_presence(s, change.zone_id, change.state, change.at)
                for cid, held, seen in tamper:
                    for t in seen:
                        record_tamper(s, cid, site_id=held.site_id, name=held.name, window_id=held.window_id,
                                      post_id=held.post_id, change=t)
                for _, zone_counts in counts:
                    record_counts(s, zone_counts)
        except Exception:
            for held, found in presence:
                held.reader.zones.give_back(found)
            for _, held, seen in tamper:
                held.reader.tamper.give_back(seen)
            for held, zone_counts in counts:
                held.reader.queues.give_back(zone_counts)
            raise

    def _write_health(self, s: Session, changes: list[tuple[int, CameraStatus]], now_m: float, now: Any) -> None:
        for cid, held in list(self.held.items()):
            st = held.reader.state
            fps, kbps, key_interval, analysed = st.stats.figures(now_m)
            last = st.stats.last_packet_at
            values: dict[str, Any] = dict(
                status=held.tracker.status, fps=fps, analysed_fps=analysed, bitrate_kbps=kbps,
                width=st.width, height=st.height, codec=st.codec[:20], keyframe_interval_s=key_interval,
                reconnects=st.reconnects, last_error=st.last_error[:200], worker_id=self.worker_id,
                updated_at=now,
                last_frame_at=None if last is None else now - timedelta(seconds=now_m - last))
            if any(c == cid for c, _ in changes):
                values["status_since"] = now
            done = s.execute(update(CameraHealth).where(
                col(CameraHealth.camera_id) == cid, col(CameraHealth.worker_id) == self.worker_id,
            ).values(**values))
            if done.rowcount == 0:  # type: ignore[attr-defined]
                self._adopt(s, cid, held, values, now)
        for cid, status in changes:
            held_cam = self.held.get(cid)
            if held_cam is not None:
                self._record_alerts(s, cid, held_cam, status, now)

    def _adopt(self, s: Session, cid: int, held: _Held, values: dict[str, Any], now: Any) -> None:
        """Take over a health row last written by someone else: another worker, or the scheduler that found
        the row silent and marked it offline (cameras.staleness).

        A new reader knows nothing yet (unknown): it keeps a stored offline/frozen status, so an open alert
        stays open rather than being cleared and opened again. A reader that knows reconciles the alerts now,
        e.g. clears the "worker silent" alert of a worker that was only slow.
        """
        stored = s.execute(select(CameraHealth.status).where(col(CameraHealth.camera_id) == cid)).scalar()
        if stored is None:
            s.add(CameraHealth(camera_id=cid, **values))
            return
        if held.tracker.status == CameraStatus.UNKNOWN and stored in (CameraStatus.OFFLINE, CameraStatus.FROZEN):
            held.tracker.status = stored
            values = {**values, "status": stored}
        s.execute(update(CameraHealth).where(col(CameraHealth.camera_id) == cid).values(**values))
        if held.tracker.status != CameraStatus.UNKNOWN:
            self._record_alerts(s, cid, held, held.tracker.status, now)

    def _record_alerts(self, s: Session, cid: int, held: _Held, status: CameraStatus, now: Any) -> None:
        open_alerts = s.exec(select(CameraAlert).where(col(CameraAlert.camera_id) == cid,
                                                       col(CameraAlert.cleared_at).is_(None),
                                                       col(CameraAlert.kind).in_(STREAM_ALERTS))).all()
        wanted = {CameraStatus.OFFLINE: AlertKind.OFFLINE, CameraStatus.FROZEN: AlertKind.FROZEN}.get(status)
        for alert in open_alerts:
            # A tamper alert is the tamper checks' to clear (cameras.camera_reference), not the stream's.
            if alert.kind != wanted and alert.kind != AlertKind.TAMPER:
                alert.cleared_at = now
                s.add(alert)
                mqtt.notify_alert(s, alert, "cleared")
                logger.info("camera %s alert %s cleared", cid, alert.kind.value)
        if wanted is None or any(a.kind == wanted for a in open_alerts):
            return
        alert = CameraAlert(camera_id=cid, site_id=held.site_id, kind=wanted, started_at=now,
                            detail=held.reader.state.last_error[:200])
        s.add(alert)
        s.flush()
        mqtt.notify_alert(s, alert, "opened")
        logger.warning("camera %s (%s) is %s", cid, held.name, status.value)
        if held.window_id is not None or held.post_id is not None:
            # The risk register sees video alerts of a watched window/post through the incident link.
            record_incident(s, kind="video_alert", source_kind="camera_alert", source_id=alert.id,
                            occurred_at=now, window_id=held.window_id, post_id=held.post_id,
                            summary=f"{held.name}: {wanted.value}")


def ingest_service_factory(engine: Engine, settings: Settings, stop_event: threading.Event) -> IngestService:
    """The runtime's ServiceFactory for ingest inside `supervision serve` (frames read in-process)."""
    return IngestService(engine, settings, stop_event, serve_frames=False)


PR_SET_PDEATHSIG = 1  # linux/prctl.h


def die_with_parent(parent_pid: int, stop: threading.Event) -> None:
    """Have this process stopped when its parent dies, even by kill -9 (it must never outlive its parent).

    PR_SET_PDEATHSIG sends us SIGTERM when the parent goes (Linux); the orphaned child of a killed
    `supervision worker` kept its leases and read beside the restarted worker's children. As a fallback
    (another OS, or the parent died before the prctl), a thread notices that we were re-parented.
    """
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0) != 0:
            logger.warning("prctl(PR_SET_PDEATHSIG) failed: errno %s", ctypes.get_errno())
    except (OSError, AttributeError):
        logger.info("no prctl here; watching the parent's pid instead")

    def watch() -> None:
        while not stop.wait(1.0):
            if os.getppid() != parent_pid:
                logger.error("the parent worker process %s is gone; stopping", parent_pid)
                stop.set()
                return

    if os.getppid() != parent_pid:
        stop.set()  # gone already, before the prctl took effect
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _child_main(index: int, parent_pid: int | None = None) -> None:
    """One worker process: an IngestService until SIGTERM/SIGINT or its parent's death."""
    from supervision.db import get_engine
    from supervision.logconfig import configure_logging
    from supervision.settings import get_settings

    # A spawned process starts with no logging of ours, and importing onvif set up its own.
    configure_logging()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    if parent_pid is not None:
        die_with_parent(parent_pid, stop)
    if stop.is_set():
        return
    service = IngestService(get_engine(), get_settings(), stop)
    service.start()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        service.stop()


def run_worker(processes: int | None = None, *, stop_event: threading.Event | None = None) -> int:
    """Entry of `supervision worker`: run ingest in N processes until SIGTERM/SIGINT; return an exit code."""
    import multiprocessing

    cs = get_camera_settings()
    n = processes or cs.worker_processes or (os.cpu_count() or 1)
    stop = stop_event or threading.Event()
    if stop_event is None:
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
    ctx = multiprocessing.get_context("spawn")
    parent = os.getpid()
    children = [ctx.Process(target=_child_main, args=(i, parent), name=f"ingest-{i}") for i in range(n)]
    for child in children:
        child.start()
    logger.info("supervision worker: %d ingest processes (%s)", n, [c.pid for c in children])
    code = 0
    while not stop.wait(1.0):
        for i, child in enumerate(children):
            if not child.is_alive():
                # A crashed process loses its leases to the others after one lease period; replace it.
                logger.error("ingest process %s exited with %s; starting another", child.pid, child.exitcode)
                children[i] = ctx.Process(target=_child_main, args=(i, parent), name=f"ingest-{i}")
                children[i].start()
    for child in children:
        if child.pid is not None and child.is_alive():
            os.kill(child.pid, signal.SIGTERM)
    for child in children:
        child.join(timeout=30)
        if child.is_alive():
            child.kill()
            code = 1
    return code
