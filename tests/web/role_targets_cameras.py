"""City-level cameras for the role walk: a county user must not reach or see them."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from cameras import CameraCreate, ZoneCreate, create_zone, register_camera
from cameras.models import AlertKind, CameraAlert, VideoEvent, VideoEventStatus, ZoneKind
from supervision.access import SYSTEM
from supervision.db import session_scope, utcnow


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        camera = register_camera(s, SYSTEM, CameraCreate(
            site_id=org.city, hall_id=org.hall, name="市中心公安窗口摄像机", host="127.0.0.1", port=9,
            skip_probe=True, stream_uri_override="rtsp://127.0.0.1:9/none",
        ))
        s.add(CameraAlert(camera_id=camera.id or 0, site_id=org.city, kind=AlertKind.OFFLINE, started_at=utcnow(),
                          detail="role walk"))
        camera_id = camera.id
        zone = create_zone(s, SYSTEM, int(camera_id or 0), ZoneCreate(
            name="市中心户籍岗位区域", kind=ZoneKind.POST, post_id=org.post, polygon=ROI))
        event = VideoEvent(site_id=org.city, camera_id=camera_id, zone_id=zone.id, post_id=org.post,
                           staff_id=org.staff, started_at=utcnow() - timedelta(minutes=30),
                           ended_at=utcnow() - timedelta(minutes=10), status=VideoEventStatus.PENDING_REVIEW)
        s.add(event)
        s.flush()
    ids = {"camera_id": camera_id, "zone_id": zone.id, "post_id": org.post, "event_id": event.id}
    return ids, ["市中心公安窗口摄像机", "市中心户籍岗位区域"]


ROI = [(0.44, 0.05), (0.74, 0.05), (0.74, 0.95), (0.44, 0.95)]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Zone bodies that would be accepted on a camera of the caller's own jurisdiction."""
    zone = {"name": "越权区域", "kind": "post", "post_id": org.post, "polygon": [list(p) for p in ROI]}
    form = {"name": "越权区域", "kind": "post", "post_id": org.post,
            "polygon": "\n".join(f"{x}, {y}" for x, y in ROI)}
    return {
        ("POST", "/api/v1/cameras/{camera_id}/zones"): zone,
        ("PATCH", "/api/v1/cameras/{camera_id}/zones/{zone_id}"): {"name": "越权改名", "polygon": zone["polygon"]},
        ("POST", "/cameras/{camera_id}/zones"): form,
        ("POST", "/cameras/{camera_id}/zones/{zone_id}"): form,
        ("POST", "/api/v1/video-events/{event_id}/review"): {"outcome": "dismissed", "reason": "越权审核"},
        ("POST", "/cameras/video-events/{event_id}/review"): {"outcome": "dismissed", "reason": "越权审核"},
    }
