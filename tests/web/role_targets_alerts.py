"""City-level tamper and queue objects for the role walk: a camera with its tamper alert and reference still, a
queue zone with its count and a queue-while-vacant event. A county user must not reach or see them."""

from __future__ import annotations

import json
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
from sqlalchemy.engine import Engine

from cameras.camera_reference import store_camera_reference
from cameras.models import (
    AlertKind,
    Camera,
    CameraAlert,
    VideoEvent,
    VideoEventKind,
    VideoEventStatus,
    Zone,
    ZoneCount,
    ZoneKind,
)
from supervision.db import session_scope, utcnow
from supervision.settings import get_settings

QUEUE_NAME = "市中心一楼等候区"
CAMERA_NAME = "市中心等候区摄像机"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    ok, jpeg = cv2.imencode(".jpg", np.full((90, 160, 3), 120, np.uint8))
    assert ok
    with session_scope(engine, write=True) as s:
        cam = Camera(site_id=org.city, hall_id=org.hall, name=CAMERA_NAME, host="127.0.0.1", port=9,
                     stream_uri_override="rtsp://127.0.0.1:9/queue")
        s.add(cam)
        s.flush()
        cid = int(cam.id or 0)
        store_camera_reference(s, cid, jpeg.tobytes(), get_settings().media_dir, taken_by="市中心监察员")
        s.add(CameraAlert(camera_id=cid, site_id=org.city, kind=AlertKind.TAMPER, started_at=utcnow(),
                          detail="camera.tamper.covered"))
        zone = Zone(camera_id=cid, site_id=org.city, name=QUEUE_NAME, kind=ZoneKind.QUEUE, hall_id=org.hall,
                    polygon_json=json.dumps([[0.1, 0.5], [0.6, 0.5], [0.6, 0.9], [0.1, 0.9]]))
        s.add(zone)
        s.flush()
        s.add(ZoneCount(zone_id=int(zone.id or 0), count=7, counted_at=utcnow()))
        s.add(VideoEvent(kind=VideoEventKind.QUEUE_VACANT, status=VideoEventStatus.PENDING_REVIEW, site_id=org.city,
                         camera_id=cid, zone_id=zone.id, started_at=utcnow() - timedelta(minutes=9),
                         ended_at=utcnow() - timedelta(minutes=2)))
    # No path values of its own: the camera routes aim at role_targets_cameras' city camera.
    return {}, [QUEUE_NAME, CAMERA_NAME, "市中心监察员"]
