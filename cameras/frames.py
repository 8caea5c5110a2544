"""Frames for the web: the latest JPEG and a live MJPEG of any camera, whichever process reads it."""

from __future__ import annotations

import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from cameras.config import get_camera_settings
from cameras.frame_server import BOUNDARY, TOKEN_HEADER, frames_token
from cameras.ingest import FRAMES, FrameRegistry
from cameras.models import CameraHealthPublic, CameraStatus, IngestLease, IngestWorker
from supervision.db import session_scope, utcnow
from supervision.errors import DeviceError, NotFound, SupervisionError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapshot:
    jpeg: bytes
    seq: int
    at: datetime | None


class FrameStale(SupervisionError):
    """The camera's last frame is too old to pass for its picture now (the camera is offline)."""

    code = "frame_stale"
    status = 503


def check_fresh(shot: Snapshot, *, offline: bool, keyframe_interval_s: float, offline_after_seconds: float,
                now: datetime | None = None) -> float:
    """Return the frame's age in seconds; raise FrameStale when it is older than a live camera's could be.

    A reader keeps its last frame while it reconnects, so the still of an offline camera was its last picture,
    served as if live. A live camera's newest frame is at most one key-frame interval old (key frames only
    are decoded while nobody watches), so anything older than the offline limit plus that interval is stale.
    """
    age = 0.0 if shot.at is None else max(0.0, ((now or utcnow()) - shot.at).total_seconds())
    if offline or age > offline_after_seconds + max(1.0, keyframe_interval_s):
        at = "" if shot.at is None else shot.at.isoformat(timespec="seconds")
        raise FrameStale("camera.error.frame_stale", at=at, age=round(age))
    return age


def owner_url(engine: Engine, camera_id: int) -> str:
    """The frame URL of the worker holding the camera's live lease, or ''."""
    with session_scope(engine) as s:
        row = s.exec(select(IngestWorker.frame_url).join(
            IngestLease, col(IngestLease.worker_id) == col(IngestWorker.id)).where(
            col(IngestLease.camera_id) == camera_id, col(IngestLease.expires_at) > utcnow())).first()
    return row or ""


def latest_jpeg(engine: Engine, camera_id: int, *, registry: FrameRegistry | None = None,
                timeout: float = 3.0) -> Snapshot | None:
    """The camera's latest frame as JPEG: from this process if it reads the camera, else from its worker.

    Returns None when nobody has a frame yet; raises DeviceError when the owning worker cannot be reached.
    Check the principal's right to the camera first (cameras.get_camera).
    """
    local = (registry or FRAMES).jpeg(camera_id)
    if local is not None:
        return Snapshot(local[2], local[0], local[1])
    url = owner_url(engine, camera_id)
    if not url:
        return None
    req = urllib.request.Request(f"{url}/frames/{camera_id}.jpg", headers={TOKEN_HEADER: frames_token()})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            at = resp.headers.get("X-Frame-At")
            return Snapshot(resp.read(), int(resp.headers.get("X-Frame-Seq", "0")),
                            datetime.fromisoformat(at) if at else None)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return None
        raise DeviceError("camera.error.worker_unreachable") from exc
    except OSError as exc:
        raise DeviceError("camera.error.worker_unreachable") from exc


def fresh_jpeg(engine: Engine, camera_id: int, health: CameraHealthPublic) -> bytes:
    """The camera's live frame as JPEG (latest_jpeg, its health read by the caller); NotFound when there is none,
    FrameStale when it is older than a live camera's could be. Call it with no transaction open."""
    shot = latest_jpeg(engine, camera_id)
    if shot is None:
        raise NotFound("camera.error.no_frame")
    check_fresh(shot, offline=health.status == CameraStatus.OFFLINE, keyframe_interval_s=health.keyframe_interval_s,
                offline_after_seconds=get_camera_settings().offline_after_seconds)
    return shot.jpeg


def live_jpegs(engine: Engine, camera_id: int, *, stop: threading.Event | None = None,
               registry: FrameRegistry | None = None, max_seconds: float = 3600.0) -> Iterator[bytes]:
    """Yield JPEG frames of the camera as they come (the reader decodes every frame while someone watches).

    The web wraps them as multipart/x-mixed-replace (cameras.MJPEG_BOUNDARY). Ends when `stop` is set,
    after `max_seconds`, or when the camera's reader goes away.
    """
    reg = registry or FRAMES
    ends = time.monotonic() + max_seconds
    stop = stop or threading.Event()
    if reg.has(camera_id):
        seq = 0
        with reg.watch(camera_id):
            while time.monotonic() < ends and not stop.is_set():
                if not reg.wait_newer(camera_id, seq, 1.0):
                    if not reg.has(camera_id):
                        return
                    continue
                got = reg.jpeg(camera_id)
                if got is None:
                    return
                seq = got[0]
                yield got[2]
        return
    url = owner_url(engine, camera_id)
    if not url:
        return
    req = urllib.request.Request(f"{url}/frames/{camera_id}.mjpeg", headers={TOKEN_HEADER: frames_token()})
    try:
        resp = urllib.request.urlopen(req, timeout=10)
    except OSError as exc:
        raise DeviceError("camera.error.worker_unreachable") from exc
    with resp:
        while time.monotonic() < ends and not stop.is_set():
            jpeg = _next_part(resp)
            if jpeg is None:
                return
            yield jpeg


def _next_part(resp: object) -> bytes | None:
    readline = resp.readline  # type: ignore[attr-defined]
    read = resp.read  # type: ignore[attr-defined]
    length = -1
    for _ in range(20):  # boundary line and headers: bounded, a broken worker cannot hold us
        line = readline(1024)
        if not line:
            return None
        text = line.decode("latin-1").strip()
        if text.lower().startswith("content-length:"):
            length = int(text.split(":", 1)[1])
        if text == "" and length >= 0:
            data: bytes = read(length)
            readline(8)
            return data
    return None


MJPEG_BOUNDARY = BOUNDARY
