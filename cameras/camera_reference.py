"""The camera's reference still for the tamper checks, and the tamper alerts and events the worker records.

The still is the whole picture in grey, stored content-addressed under the media dir beside the zones' stills
(cameras.zones.store_reference / load_reference: same files, same integrity check). An officer takes it again
on the camera page (audited); the worker reads it at its next lease round and judges from it.
"""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import cv2
import numpy as np
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras import mqtt
from cameras.frames import fresh_jpeg
from cameras.models import (
    AlertKind,
    CameraAlert,
    CameraReference,
    CameraReferencePublic,
    VideoEvent,
    VideoEventKind,
    VideoEventStatus,
)
from cameras.service import camera_status, get_camera
from cameras.tamper import TamperChange
from cameras.zones import store_reference
from supervision import audit
from supervision.access import Permission, Principal
from supervision.db import session_scope, utcnow
from supervision.errors import InvalidInput
from supervision.incidents import record_incident

logger = logging.getLogger(__name__)

TAMPER_DETAIL = "camera.tamper.{}"


def reference_still(jpeg: bytes) -> tuple[bytes, str, int, int]:
    """The whole frame (JPEG) as a grey PNG, its sha256 and size; InvalidInput when it is no picture."""
    picture = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if picture is None or not picture.size:
        raise InvalidInput("reference", "zone.error.no_picture")
    ok, png = cv2.imencode(".png", picture)
    if not ok:
        raise InvalidInput("reference", "zone.error.no_picture")
    data = png.tobytes()
    return data, hashlib.sha256(data).hexdigest(), int(picture.shape[1]), int(picture.shape[0])


def camera_frame(engine: Engine, actor: Principal, camera_id: int) -> bytes:
    """The camera's live frame (JPEG) to take the still from: checked in a short read, fetched with no transaction
    open; NotFound / FrameStale when there is none."""
    actor.require(Permission.ZONES_MANAGE)
    with session_scope(engine) as s:
        health = camera_status(s, actor, camera_id)
    return fresh_jpeg(engine, camera_id, health)


def store_camera_reference(session: Session, camera_id: int, jpeg: bytes, media_dir: Path, *,
                           taken_by: str = "") -> tuple[CameraReference, str | None]:
    """Store the still and point the camera at it; returns the row and the sha256 it replaced."""
    data, sha, width, height = reference_still(jpeg)
    store_reference(media_dir, data, sha)
    row = session.get(CameraReference, camera_id)
    before = row.sha256 if row is not None else None
    if row is None:
        row = CameraReference(camera_id=camera_id, sha256=sha)
    row.sha256, row.width, row.height, row.taken_at, row.taken_by = sha, width, height, utcnow(), taken_by[:80]
    session.add(row)
    return row, before


def set_camera_reference(session: Session, actor: Principal, camera_id: int, *, jpeg: bytes, media_dir: Path,
                         ip: str = "") -> CameraReference:
    """Take the camera's current frame (fetched by the caller outside any transaction) as the scene as it should
    be; the tamper checks compare with it from the worker's next lease round. Audited."""
    actor.require(Permission.ZONES_MANAGE)
    camera = get_camera(session, actor, camera_id)
    row, before = store_camera_reference(session, int(camera.id or 0), jpeg, media_dir, taken_by=actor.name)
    audit.record(session, actor, "camera.tamper_reference", object_kind="camera", object_id=camera.id,
                 site_id=camera.site_id, summary=camera.name, detail={"before": before, "after": row.sha256}, ip=ip)
    return row


def camera_reference_public(session: Session, actor: Principal, camera_id: int) -> CameraReferencePublic:
    camera = get_camera(session, actor, camera_id)
    row = session.get(CameraReference, camera.id)
    alert = session.exec(select(CameraAlert).where(col(CameraAlert.camera_id) == camera.id,
                                                   col(CameraAlert.kind) == AlertKind.TAMPER,
                                                   col(CameraAlert.cleared_at).is_(None))).first()
    finding = alert.detail.rsplit(".", 1)[-1] if alert is not None else None
    if row is None:
        return CameraReferencePublic(camera_id=int(camera.id or 0), tamper=finding)
    return CameraReferencePublic(camera_id=row.camera_id, sha256=row.sha256, width=row.width, height=row.height,
                                 taken_at=row.taken_at, taken_by=row.taken_by, tamper=finding)


def references_to_analyse(session: Session, camera_ids: list[int]) -> dict[int, str]:
    """The sha256 of each camera's reference still, for those that have one."""
    if not camera_ids:
        return {}
    return {r.camera_id: r.sha256 for r in session.exec(
        select(CameraReference).where(col(CameraReference.camera_id).in_(camera_ids))).all()}


def record_tamper(session: Session, camera_id: int, *, site_id: int, name: str, window_id: int | None,
                  post_id: int | None, change: TamperChange) -> None:
    """Bring the camera's tamper alert and event in line with a confirmed change (idempotent against the rows).

    A new finding closes the open one of another kind and opens its own; "" (the picture is right) closes both.
    The alert and the event start when the picture first showed it, not when the hysteresis confirmed it.
    """
    now = utcnow()
    detail = TAMPER_DETAIL.format(change.state) if change.state else ""
    alerts = session.exec(select(CameraAlert).where(col(CameraAlert.camera_id) == camera_id,
                                                    col(CameraAlert.kind) == AlertKind.TAMPER,
                                                    col(CameraAlert.cleared_at).is_(None))).all()
    events = session.exec(select(VideoEvent).where(col(VideoEvent.camera_id) == camera_id,
                                                   col(VideoEvent.kind) == VideoEventKind.TAMPER,
                                                   col(VideoEvent.ended_at).is_(None))).all()
    kept = False
    for alert in alerts:
        if alert.detail == detail and not kept:
            kept = True
            continue
        alert.cleared_at = max(change.at, alert.started_at)
        session.add(alert)
        mqtt.notify_alert(session, alert, "cleared")
    for event in events:
        if kept:
            continue
        event.ended_at = max(change.at, event.started_at)
        event.status = VideoEventStatus.PENDING_REVIEW
        session.add(event)
        mqtt.notify_event(session, event, "closed")
    if not change.state or kept:
        return
    at = min(change.at, now)
    alert = CameraAlert(camera_id=camera_id, site_id=site_id, kind=AlertKind.TAMPER, started_at=at, detail=detail)
    event = VideoEvent(kind=VideoEventKind.TAMPER, site_id=site_id, camera_id=camera_id, post_id=post_id,
                       started_at=at)
    session.add(alert)
    session.add(event)
    session.flush()
    logger.warning("camera %s (%s) tampered with: %s", camera_id, name, change.state)
    mqtt.notify_alert(session, alert, "opened")
    mqtt.notify_event(session, event, "opened")
    if window_id is not None or post_id is not None:
        record_incident(session, kind="video_alert", source_kind="camera_alert", source_id=alert.id,
                        occurred_at=at, window_id=window_id, post_id=post_id, summary=f"{name}: tamper")


def demo_references(session: Session, camera_id: int, jpeg: bytes, media_dir: Path) -> bool:
    """Demo: the rendered empty hall as the camera's reference still (once; idempotent)."""
    if session.get(CameraReference, camera_id) is not None:
        return False
    store_camera_reference(session, camera_id, jpeg, media_dir)  # by nobody: the demo took it
    return True


def seed_demo_alerts(session: Session, camera_id: int, jpeg: bytes, media_dir: Path) -> int:
    """Demo: the camera's reference still (the empty hall), and on the last days a tamper finding (alert and
    event, ended) and a queue while a window stood vacant on its queue zone; once per camera (idempotent)."""
    from datetime import timedelta

    from cameras.models import Camera, Zone, ZoneKind

    made = int(demo_references(session, camera_id, jpeg, media_dir))
    camera = session.get(Camera, camera_id)
    if camera is None:
        return made
    seeded = session.exec(select(VideoEvent.id).where(col(VideoEvent.camera_id) == camera_id, col(
        VideoEvent.kind).in_([VideoEventKind.TAMPER, VideoEventKind.QUEUE_VACANT]))).first()
    if seeded is not None:
        return made
    day = utcnow().replace(hour=2, minute=0, second=0, microsecond=0) - timedelta(days=1)  # 10:00 in China
    start = day + timedelta(minutes=13 + camera_id % 20)
    session.add(CameraAlert(camera_id=camera_id, site_id=camera.site_id, kind=AlertKind.TAMPER, started_at=start,
                            cleared_at=start + timedelta(minutes=4), detail=TAMPER_DETAIL.format("covered")))
    session.add(VideoEvent(kind=VideoEventKind.TAMPER, status=VideoEventStatus.PENDING_REVIEW,
                           site_id=camera.site_id, camera_id=camera_id, post_id=camera.post_id, started_at=start,
                           ended_at=start + timedelta(minutes=4)))
    made += 1
    queue = session.exec(select(Zone).where(col(Zone.camera_id) == camera_id, col(Zone.kind) == ZoneKind.QUEUE)
                         .order_by(col(Zone.id))).first()
    if queue is not None:
        begin = day + timedelta(hours=1, minutes=7 + camera_id % 15)
        session.add(VideoEvent(kind=VideoEventKind.QUEUE_VACANT, status=VideoEventStatus.PENDING_REVIEW,
                               site_id=camera.site_id, camera_id=camera_id, zone_id=queue.id, started_at=begin,
                               ended_at=begin + timedelta(minutes=6)))
        made += 1
    return made
