"""City-level event evidence for the role walk: a county user must not list, download or export it."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import cv2
import numpy as np
from sqlalchemy.engine import Engine

from cameras.evidence import NewItem, evidence_dir, log_items, store_bytes
from cameras.models import EvidenceKind, VideoEvent, VideoEventStatus
from supervision.db import session_scope, utcnow


def still() -> bytes:
    ok, buf = cv2.imencode(".jpg", np.full((36, 64, 3), 128, np.uint8))
    assert ok
    return bytes(buf.tobytes())


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        event = VideoEvent(site_id=org.city, post_id=org.post, staff_id=org.staff,
                           started_at=utcnow() - timedelta(minutes=40), ended_at=utcnow() - timedelta(minutes=20),
                           status=VideoEventStatus.PENDING_REVIEW)
        s.add(event)
        s.flush()
        event_id = int(event.id or 0)
    sha, size = store_bytes(evidence_dir(), still())
    item = log_items(engine, [NewItem(event_id, None, EvidenceKind.STILL, "start", sha, size, utcnow())])[0]
    return {"event_id": event_id, "item_id": item.id}, []
