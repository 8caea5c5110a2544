"""Zones on a camera's picture (post, queue, entrance line) and their presence state: services over a session."""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras.frames import fresh_jpeg
from cameras.geometry import PolygonProblem, check_polygon, crop_mask
from cameras.models import (
    Camera,
    CameraHealth,
    PresenceState,
    Zone,
    ZoneCreate,
    ZoneKind,
    ZonePresence,
    ZonePresencePublic,
    ZonePublic,
    ZoneUpdate,
)
from cameras.onvif_client import redact_uri
from cameras.presence import AnalysedZone
from cameras.service import get_camera, health_public
from supervision import audit, org
from supervision.access import Permission, Principal
from supervision.db import session_scope, utcnow
from supervision.errors import InvalidInput, NotFound
from supervision.models import Hall, Post, Window
from supervision.org import OrgKind

logger = logging.getLogger(__name__)


def device_key(camera: Camera) -> str:
    """What names the device across registrations: address, port and plain stream (credentials removed)."""
    return f"{camera.host.lower()}:{camera.port}|{redact_uri(camera.stream_uri_override)}"[:800]


def _polygon(points: list[tuple[float, float]]) -> str:
    try:
        pts = check_polygon(points)
    except PolygonProblem as exc:
        raise InvalidInput("polygon", exc.key, point=exc.point) from None
    return json.dumps([[round(x, 5), round(y, 5)] for x, y in pts])


def _check_links(session: Session, zone: Zone, camera: Camera) -> None:
    """A zone's post, window and hall belong to the camera's site; a post zone names its post or window."""
    if zone.post_id is not None:
        post = session.get(Post, zone.post_id)
        if post is None or post.site_id != camera.site_id:
            raise InvalidInput("post_id", "error.post_other_site")
        if zone.window_id is None:
            zone.window_id = post.window_id
    if zone.window_id is not None:
        window = session.get(Window, zone.window_id)
        if window is None or window.site_id != camera.site_id:
            raise InvalidInput("window_id", "error.window_other_site")
    if zone.kind == ZoneKind.QUEUE and zone.hall_id is None:
        zone.hall_id = camera.hall_id
    if zone.hall_id is not None:
        hall = session.get(Hall, zone.hall_id)
        if hall is None or hall.site_id != camera.site_id:
            raise InvalidInput("hall_id", "error.hall_other_site")
    if zone.kind == ZoneKind.POST and zone.post_id is None and zone.window_id is None:
        raise InvalidInput("post_id", "zone.error.post_needed")
    if zone.kind == ZoneKind.QUEUE and zone.hall_id is None:
        raise InvalidInput("hall_id", "zone.error.hall_needed")


def _audit_view(zone: Zone) -> dict[str, Any]:
    return {"name": zone.name, "kind": zone.kind.value, "camera_id": zone.camera_id, "post_id": zone.post_id,
            "window_id": zone.window_id, "hall_id": zone.hall_id, "polygon": zone.polygon,
            "occupied_after_seconds": zone.occupied_after_seconds,
            "vacant_after_seconds": zone.vacant_after_seconds, "queue_alert_count": zone.queue_alert_count}


def create_zone(session: Session, actor: Principal, camera_id: int, data: ZoneCreate, *, ip: str = "") -> Zone:
    """Draw a zone on a camera of the actor's jurisdiction."""
    actor.require(Permission.ZONES_MANAGE)
    camera = get_camera(session, actor, camera_id)
    polygon = _polygon(data.polygon)
    zone = Zone(**data.model_dump(exclude={"polygon"}), camera_id=camera.id, site_id=camera.site_id,
                device_key=device_key(camera), polygon_json=polygon)
    _check_links(session, zone, camera)
    session.add(zone)
    session.flush()
    audit.record(session, actor, "zone.create", object_kind="zone", object_id=zone.id, site_id=zone.site_id,
                 summary=f"{camera.name} · {zone.name}", detail=_audit_view(zone), ip=ip)
    return zone


def get_zone(session: Session, actor: Principal, camera_id: int, zone_id: int) -> tuple[Camera, Zone]:
    """A zone of a camera of the actor's jurisdiction (others do not exist for them)."""
    camera = get_camera(session, actor, camera_id)
    zone = session.get(Zone, zone_id)
    if zone is None or zone.camera_id != camera.id:
        raise NotFound("error.not_found_kind", kind="kind.zone", id=zone_id)
    return camera, zone


def update_zone(session: Session, actor: Principal, camera_id: int, zone_id: int, data: ZoneUpdate, *,
                ip: str = "") -> Zone:
    actor.require(Permission.ZONES_MANAGE)
    camera, zone = get_zone(session, actor, camera_id, zone_id)
    changes = data.model_dump(exclude_unset=True)
    polygon = changes.pop("polygon", None)
    for key, value in changes.items():
        setattr(zone, key, value)
    if polygon is not None:
        zone.polygon_json = _polygon(polygon)
    _check_links(session, zone, camera)
    zone.updated_at = utcnow()
    session.add(zone)
    audit.record(session, actor, "zone.update", object_kind="zone", object_id=zone.id, site_id=zone.site_id,
                 summary=f"{camera.name} · {zone.name}", detail={**changes, **(
                     {"polygon": zone.polygon} if polygon is not None else {})}, ip=ip)
    return zone


def delete_zone(session: Session, actor: Principal, camera_id: int, zone_id: int, *, ip: str = "") -> None:
    actor.require(Permission.ZONES_MANAGE)
    camera, zone = get_zone(session, actor, camera_id, zone_id)
    audit.record(session, actor, "zone.delete", object_kind="zone", object_id=zone.id, site_id=zone.site_id,
                 summary=f"{camera.name} · {zone.name}", detail=_audit_view(zone), ip=ip)
    for row in session.exec(select(ZonePresence).where(col(ZonePresence.zone_id) == zone.id)).all():
        session.delete(row)
    session.delete(zone)


def _presence(session: Session, zone_ids: list[int]) -> dict[int, ZonePresencePublic]:
    if not zone_ids:
        return {}
    rows = session.exec(select(ZonePresence).where(col(ZonePresence.zone_id).in_(zone_ids),
                                                   col(ZonePresence.ended_at).is_(None))).all()
    return {r.zone_id: ZonePresencePublic(state=r.state, since=r.started_at) for r in rows}


def zone_public(zone: Zone, presence: ZonePresencePublic | None) -> ZonePublic:
    data = zone.model_dump(exclude={"polygon_json", "device_key", "created_at"})
    return ZonePublic(**data, polygon=zone.polygon, presence=presence or ZonePresencePublic())


def list_zones(session: Session, actor: Principal, camera_id: int) -> list[ZonePublic]:
    """The zones of one camera, with their presence state now."""
    camera = get_camera(session, actor, camera_id)
    zones = list(session.exec(select(Zone).where(col(Zone.camera_id) == camera.id)
                              .order_by(col(Zone.kind), col(Zone.name), col(Zone.id))).all())
    presence = _presence(session, [int(z.id or 0) for z in zones])
    return [zone_public(z, presence.get(int(z.id or 0))) for z in zones]


@dataclass(frozen=True)
class PostZone:
    zone: ZonePublic
    camera_name: str


def list_post_zones(session: Session, actor: Principal, post_id: int) -> list[PostZone]:
    """The zones watching one post of the actor's jurisdiction (on any camera), with their presence now."""
    actor.require(Permission.CAMERAS_VIEW)
    post = org.get_entity(session, actor, OrgKind.POST, post_id)
    rows = session.exec(select(Zone, Camera).join(Camera, col(Camera.id) == col(Zone.camera_id))
                        .where(col(Zone.post_id) == post.id).order_by(col(Camera.name), col(Zone.name))).all()
    presence = _presence(session, [int(z.id or 0) for z, _ in rows])
    return [PostZone(zone_public(z, presence.get(int(z.id or 0))), c.name) for z, c in rows]


def attach_zones(session: Session, camera: Camera) -> int:
    """Give a newly registered camera the zones its device had before (same address, port and stream, site).

    A camera deleted and registered again, e.g. after a replacement or a move to another NVR channel record,
    keeps the zones an officer drew; returns how many were attached.
    """
    done = session.execute(update(Zone).where(
        col(Zone.camera_id).is_(None), col(Zone.device_key) == device_key(camera),
        col(Zone.site_id) == camera.site_id).values(camera_id=camera.id, updated_at=utcnow()))
    count = int(done.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        logger.info("camera %s got back %d zones of its device", camera.id, count)
    return count


def detach_zones(session: Session, camera_id: int) -> None:
    """Keep a deleted camera's zones, waiting for its device to be registered again."""
    session.execute(update(Zone).where(col(Zone.camera_id) == camera_id).values(camera_id=None))


def rekey_zones(session: Session, camera: Camera) -> None:
    """Keep the device key of a camera's zones in step with an edit of its address or stream."""
    session.execute(update(Zone).where(col(Zone.camera_id) == camera.id).values(device_key=device_key(camera)))


# --- presence state, written by ingest ------------------------------------------------------------------------


def reference_file(media_dir: Path, sha256: str) -> Path:
    """Where a zone's reference still lives: content-addressed under the media dir."""
    return media_dir / "zones" / f"{sha256}.png"


def reference_crop(jpeg: bytes, polygon: list[tuple[float, float]]) -> tuple[bytes, str]:
    """The zone's crop of a camera frame (JPEG) as PNG bytes and their sha256; InvalidInput when no picture."""
    picture = cv2.imdecode(np.frombuffer(jpeg, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)
    if picture is None or not picture.size:
        raise InvalidInput("reference", "zone.error.no_picture")
    (x0, y0, x1, y1), _ = crop_mask(polygon, picture.shape[1], picture.shape[0])
    ok, png = cv2.imencode(".png", picture[y0:y1, x0:x1])
    if not ok:
        raise InvalidInput("reference", "zone.error.no_picture")
    data = png.tobytes()
    return data, hashlib.sha256(data).hexdigest()


def store_reference(media_dir: Path, data: bytes, sha256: str) -> Path:
    """Write the still (atomically: a temporary file renamed) unless the same content is there already."""
    path = reference_file(media_dir, sha256)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)
    return path


def set_reference(session: Session, actor: Principal, camera_id: int, zone_id: int, *, jpeg: bytes,
                  media_dir: Path, ip: str = "") -> Zone:
    """Take the camera's current frame (JPEG, fetched by the caller outside any transaction) as the zone's still
    of the empty post: its crop is stored on disk, its sha256 on the zone, and the detector starts from it."""
    actor.require(Permission.ZONES_MANAGE)
    _, zone = get_zone(session, actor, camera_id, zone_id)
    if zone.kind != ZoneKind.POST:
        raise InvalidInput("reference", "zone.error.reference_post_only")
    data, sha = reference_crop(jpeg, zone.polygon)
    store_reference(media_dir, data, sha)
    before = zone.reference_sha256
    zone.reference_sha256 = sha
    zone.reference_taken_at = zone.updated_at = utcnow()
    session.add(zone)
    audit.record(session, actor, "zone.reference", object_kind="zone", object_id=zone.id, site_id=zone.site_id,
                 summary=zone.name, detail={"before": before, "after": sha}, ip=ip)
    return zone


def current_frame(engine: Engine, actor: Principal, camera_id: int, zone_id: int) -> bytes:
    """The camera's live frame (JPEG) to take a zone's still from: checked in a short read, then fetched (from
    this process or the camera's worker) with no transaction open; NotFound / FrameStale when there is none."""
    actor.require(Permission.ZONES_MANAGE)
    with session_scope(engine) as s:
        get_zone(s, actor, camera_id, zone_id)
        health = health_public(s.get(CameraHealth, camera_id))
    return fresh_jpeg(engine, camera_id, health)


def load_reference(media_dir: Path, sha256: str | None) -> Any:
    """The stored still as a grey picture, or None when there is none or its content no longer matches."""
    if not sha256:
        return None
    path = reference_file(media_dir, sha256)
    try:
        data = path.read_bytes()
    except OSError:
        logger.warning("zone reference still %s is missing", path)
        return None
    if hashlib.sha256(data).hexdigest() != sha256:
        logger.warning("zone reference still %s does not match its sha256; ignored", path)
        return None
    return cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_GRAYSCALE)


def zones_to_analyse(session: Session, camera_ids: list[int]) -> dict[int, list[AnalysedZone]]:
    """The post zones of these cameras, by camera."""
    if not camera_ids:
        return {}
    out: dict[int, list[AnalysedZone]] = {cid: [] for cid in camera_ids}
    for z in session.exec(select(Zone).where(col(Zone.camera_id).in_(camera_ids),
                                             col(Zone.kind) == ZoneKind.POST).order_by(col(Zone.id))).all():
        out[int(z.camera_id or 0)].append(AnalysedZone(int(z.id or 0), z.kind, z.polygon,
                                                       z.occupied_after_seconds, z.vacant_after_seconds,
                                                       z.updated_at, z.reference_sha256))
    return out


def record_presence(session: Session, zone_id: int, state: PresenceState, at: datetime) -> bool:
    """Close the zone's open span and open one in `state` from `at`; False when the state was that already.

    `at` is when the state really changed (the first frame that showed it), not when hysteresis confirmed it,
    so a vacancy's start is true to the picture.
    """
    current = session.exec(select(ZonePresence).where(col(ZonePresence.zone_id) == zone_id,
                                                      col(ZonePresence.ended_at).is_(None))).all()
    if any(r.state == state for r in current) and len(current) == 1:
        return False
    if session.get(Zone, zone_id) is None:
        return False  # deleted while the frame was analysed
    for row in current:
        row.ended_at = max(at, row.started_at)
        session.add(row)
    session.add(ZonePresence(zone_id=zone_id, state=state, started_at=at))
    return True


def presence_timeline(session: Session, actor: Principal, camera_id: int, zone_id: int, *,
                      since: datetime | None = None, limit: int = 500) -> list[ZonePresence]:
    """A zone's presence spans, newest first."""
    _, zone = get_zone(session, actor, camera_id, zone_id)
    stmt = select(ZonePresence).where(col(ZonePresence.zone_id) == zone.id)
    if since is not None:
        stmt = stmt.where((col(ZonePresence.ended_at).is_(None)) | (col(ZonePresence.ended_at) >= since))
    stmt = stmt.order_by(col(ZonePresence.started_at).desc(), col(ZonePresence.id).desc()).limit(limit)
    return list(session.exec(stmt).all())


# --- the demo ---------------------------------------------------------------------------------------------------

# Where the demo's rendered hall (cameras.demo.render_hall_clip) seats the staff of its four windows (around
# the middle of each window), and its queue.
DEMO_WINDOW_X = (0.09, 0.325, 0.56, 0.795)
DEMO_POST_TOP, DEMO_POST_BOTTOM, DEMO_POST_WIDTH = 0.2, 0.47, 0.12
DEMO_QUEUE = [(0.04, 0.6), (0.72, 0.6), (0.72, 0.92), (0.04, 0.92)]


def seed_demo_zones(session: Session, actor: Principal, camera_id: int) -> int:
    """Draw the demo hall's post zones (one per window with a post) and its queue zone, once per camera.

    Idempotent: a camera that has zones already (a restarted demo) keeps them as they are.
    """
    camera = get_camera(session, actor, camera_id)
    if session.exec(select(Zone.id).where(col(Zone.camera_id) == camera.id)).first() is not None:
        return 0
    windows = list(session.exec(select(Window).where(col(Window.site_id) == camera.site_id,
                                                     col(Window.hall_id) == camera.hall_id)
                                .order_by(col(Window.id))).all())
    made = 0
    for x, window in zip(DEMO_WINDOW_X, windows, strict=False):
        post = session.exec(select(Post).where(col(Post.window_id) == window.id).order_by(col(Post.id))).first()
        if post is None:
            continue
        polygon = [(x, DEMO_POST_TOP), (x + DEMO_POST_WIDTH, DEMO_POST_TOP), (x + DEMO_POST_WIDTH, DEMO_POST_BOTTOM),
                   (x, DEMO_POST_BOTTOM)]
        create_zone(session, actor, int(camera.id or 0), ZoneCreate(
            name=f"{window.name} · {post.name}"[:80], kind=ZoneKind.POST, post_id=post.id, polygon=polygon))
        made += 1
    if camera.hall_id is not None:
        create_zone(session, actor, int(camera.id or 0), ZoneCreate(
            name="等候区", kind=ZoneKind.QUEUE, hall_id=camera.hall_id, polygon=DEMO_QUEUE))
        made += 1
    return made


def seed_demo_references(session: Session, camera_id: int, jpeg: bytes, media_dir: Path) -> int:
    """Give the demo camera's post zones the empty hall as their still of the empty post (once; idempotent)."""
    made = 0
    for zone in session.exec(select(Zone).where(col(Zone.camera_id) == camera_id, col(Zone.kind) == ZoneKind.POST,
                                                col(Zone.reference_sha256).is_(None))).all():
        data, sha = reference_crop(jpeg, zone.polygon)
        store_reference(media_dir, data, sha)
        zone.reference_sha256 = sha
        zone.reference_taken_at = zone.updated_at = utcnow()
        session.add(zone)
        made += 1
    return made
