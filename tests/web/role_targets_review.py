"""City-level review objects for the role walk: a post zone with a reviewed false alarm and a closure of the city's
window. A county user must neither tune the zone, nor end or see the closure."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from cameras import CameraCreate, ZoneCreate, create_zone, register_camera
from cameras.closures import close_window
from cameras.models import WindowClosureCreate, ZoneKind
from supervision.access import SYSTEM
from supervision.db import session_scope, utcnow

ROI = [(0.1, 0.1), (0.3, 0.1), (0.3, 0.5), (0.1, 0.5)]


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        camera = register_camera(s, SYSTEM, CameraCreate(
            site_id=org.city, hall_id=org.hall, name="市中心审核调阈摄像机", host="127.0.0.1", port=9,
            skip_probe=True, stream_uri_override="rtsp://127.0.0.1:9/review"))
        zone = create_zone(s, SYSTEM, int(camera.id or 0), ZoneCreate(
            name="市中心调阈岗位区域", kind=ZoneKind.POST, post_id=org.post, polygon=ROI))
        closure = close_window(s, SYSTEM, WindowClosureCreate(
            window_id=org.window, starts_at=utcnow(), ends_at=utcnow() + timedelta(hours=2),
            reason="市中心系统升级停办"))
    return {"zone_id": zone.id, "closure_id": closure.id}, ["市中心调阈岗位区域", "市中心系统升级停办"]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city's zone and window."""
    return {
        ("POST", "/cameras/zones/{zone_id}/threshold"): {"minutes": "3", "reason": "越权调阈"},
        ("POST", "/windows/closures"): {"window_id": org.window, "starts_at": "2026-12-07T09:00",
                                        "ends_at": "2026-12-07T10:00", "reason": "越权停办"},
        ("PUT", "/api/v1/zones/{zone_id}/threshold"): {"minutes": 3, "reason": "越权调阈"},
        ("POST", "/api/v1/window-closures"): {"window_id": org.window, "starts_at": "2026-12-07T09:00:00+08:00",
                                              "ends_at": "2026-12-07T10:00:00+08:00", "reason": "越权停办"},
    }
