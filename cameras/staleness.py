"""Health that nobody writes any more: a dead worker's cameras turn offline, seen by whoever outlives it.

A worker writes every held camera's health every `health_flush_seconds`. When it dies (kill -9, a lost
machine) its last row would say "online, 25 fps" for ever. The web reads a row older than the stale limit as
offline (`apply_staleness`), and the scheduler's job `mark_silent_cameras` writes it offline and opens the
offline alert, so a dead ingest is noticed within the same ≤ 15 s as a dropped stream.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from cameras import mqtt
from cameras.config import CameraSettings, get_camera_settings
from cameras.models import AlertKind, Camera, CameraAlert, CameraHealth, CameraHealthPublic, CameraStatus
from supervision.db import session_scope, utcnow
from supervision.incidents import record_incident
from supervision.scheduler import JobSpec

logger = logging.getLogger(__name__)

SILENT = "camera.stream.worker_silent"
# How often the scheduler looks: the stale limit (9 s by default) plus this stays within 15 s.
CHECK_SECONDS = 4


def stale_after_seconds(cs: CameraSettings) -> float:
    """Age of a health row past which its worker is taken for dead: the offline limit plus one flush."""
    return cs.offline_after_seconds + cs.health_flush_seconds


def _aware(at: datetime) -> datetime:
    from datetime import UTC

    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def is_stale(health: CameraHealth, now: datetime, cs: CameraSettings) -> bool:
    """True when a worker once wrote this row and has not for longer than the stale limit."""
    return (bool(health.worker_id) and health.status != CameraStatus.OFFLINE
            and _aware(health.updated_at) < now - timedelta(seconds=stale_after_seconds(cs)))


def apply_staleness(out: CameraHealthPublic, health: CameraHealth, now: datetime | None = None,
                    cs: CameraSettings | None = None) -> CameraHealthPublic:
    """Show a row its worker stopped writing as offline (the read path; writes nothing)."""
    if not is_stale(health, now or utcnow(), cs or get_camera_settings()):
        return out
    return out.model_copy(update={"status": CameraStatus.OFFLINE, "status_since": health.updated_at,
                                  "fps": 0.0, "analysed_fps": 0.0, "bitrate_kbps": 0.0, "last_error": SILENT})


def mark_silent_cameras(engine: Engine | None = None, *, cs: CameraSettings | None = None) -> list[int]:
    """Write silent cameras offline and open their offline alert; return their ids.

    Safe to run twice, even at once: the conditional UPDATE lets one run win each camera, and only the
    winner opens the alert. The worker that takes the camera over (or the slow one that comes back) adopts
    the row and clears the alert once it reads the stream again.
    """
    cs = cs or get_camera_settings()
    now = utcnow()
    cutoff = now - timedelta(seconds=stale_after_seconds(cs))
    stale = (col(CameraHealth.updated_at) < cutoff, col(CameraHealth.worker_id) != "",
             col(CameraHealth.status) != CameraStatus.OFFLINE)
    # A read first: most rounds find nothing, and then no write transaction is begun at all.
    with session_scope(engine) as s:
        candidates = list(s.exec(select(CameraHealth.camera_id).join(Camera, col(Camera.id) == col(
            CameraHealth.camera_id)).where(col(Camera.enabled), *stale)).all())
    marked: list[int] = []
    for cid in candidates:
        with session_scope(engine, write=True) as s:
            won = s.execute(update(CameraHealth).where(col(CameraHealth.camera_id) == cid, *stale).values(
                status=CameraStatus.OFFLINE, status_since=now, fps=0.0, analysed_fps=0.0, bitrate_kbps=0.0,
                last_error=SILENT, worker_id="", updated_at=now))
            if won.rowcount == 0:  # type: ignore[attr-defined]
                continue  # its worker wrote meanwhile, or another scheduler run took it
            camera = s.get(Camera, cid)
            if camera is None:
                continue
            for alert in s.exec(select(CameraAlert).where(col(CameraAlert.camera_id) == cid,
                                                          col(CameraAlert.cleared_at).is_(None))).all():
                if alert.kind == AlertKind.FROZEN:
                    alert.cleared_at = now
                    s.add(alert)
                    mqtt.notify_alert(s, alert, "cleared")
            if s.exec(select(CameraAlert.id).where(col(CameraAlert.camera_id) == cid,
                                                   col(CameraAlert.kind) == AlertKind.OFFLINE,
                                                   col(CameraAlert.cleared_at).is_(None))).first() is None:
                offline = CameraAlert(camera_id=cid, site_id=camera.site_id, kind=AlertKind.OFFLINE, started_at=now,
                                      detail=SILENT)
                s.add(offline)
                s.flush()
                mqtt.notify_alert(s, offline, "opened")
                if camera.window_id is not None or camera.post_id is not None:
                    # As a worker's own offline alert does: the risk register sees it through the incident link.
                    record_incident(s, kind="video_alert", source_kind="camera_alert", source_id=offline.id,
                                    occurred_at=now, window_id=camera.window_id, post_id=camera.post_id,
                                    summary=f"{camera.name}: {AlertKind.OFFLINE.value}")
            marked.append(cid)
    if marked:
        logger.warning("cameras %s: their ingest worker stopped writing; marked offline", marked)
    return marked


def run_silence_check() -> None:
    """The scheduler's job: mark the cameras of a dead worker offline."""
    mark_silent_cameras()


SILENCE_JOB = JobSpec("cameras.silent_workers", "cameras.staleness:run_silence_check", "interval",
                      {"seconds": CHECK_SECONDS})
