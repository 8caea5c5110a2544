"""City-level cameras for the role walk: a county user must not reach or see them."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from cameras import CameraCreate, register_camera
from cameras.models import AlertKind, CameraAlert
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
    return {"camera_id": camera_id}, ["市中心公安窗口摄像机"]
