"""Stream ingest: a thread per camera reads RTSP with PyAV, decodes key frames only, keeps the last frame."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import av
import cv2
import numpy as np
import numpy.typing as npt

from cameras.clipbuffer import ClipBuffer, with_parameter_sets
from cameras.config import CameraSettings
from cameras.health import THUMB_SIZE, FreezeDetector, StreamStats
from cameras.onvif_client import redact_uri
from cameras.presence import CameraZones
from cameras.queue import CameraQueues
from cameras.tamper import CameraTamper
from supervision.db import utcnow

logger = logging.getLogger(__name__)

# After this many undecodable packets in a row the stream is garbage: reconnect instead of churning.
MAX_BAD_PACKETS = 50


@dataclass
class LatestFrame:
    seq: int
    at: datetime
    frame: Any  # av.VideoFrame, kept undecoded to RGB until someone asks for a JPEG
    width: int
    height: int
    jpeg: bytes | None = None


class FrameRegistry:
    """The latest frame of every camera this process reads; JPEG made on demand and cached per frame."""

    def __init__(self, jpeg_quality: int = 80) -> None:
        self._lock = threading.Lock()
        self._frames: dict[int, LatestFrame] = {}
        self._watchers: dict[int, int] = {}
        self._cond = threading.Condition(self._lock)
        self.jpeg_quality = jpeg_quality

    def publish(self, camera_id: int, frame: Any) -> None:
        with self._cond:
            prev = self._frames.get(camera_id)
            self._frames[camera_id] = LatestFrame((prev.seq + 1) if prev else 1, utcnow(), frame,
                                                  int(frame.width), int(frame.height))
            self._cond.notify_all()

    def forget(self, camera_id: int) -> None:
        with self._cond:
            self._frames.pop(camera_id, None)
            self._cond.notify_all()

    def has(self, camera_id: int) -> bool:
        with self._lock:
            return camera_id in self._frames

    def camera_ids(self) -> list[int]:
        with self._lock:
            return sorted(self._frames)

    def latest(self, camera_id: int) -> LatestFrame | None:
        with self._lock:
            return self._frames.get(camera_id)

    def jpeg(self, camera_id: int) -> tuple[int, datetime, bytes] | None:
        """Return (seq, time, JPEG) of the latest frame, or None."""
        latest = self.latest(camera_id)
        if latest is None:
            return None
        if latest.jpeg is None:
            # Encoding outside the lock: a slow JPEG never blocks publishing; a race only encodes twice.
            image = latest.frame.to_ndarray(format="bgr24")
            ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, self.jpeg_quality])
            if not ok:
                return None
            latest.jpeg = buf.tobytes()
        return latest.seq, latest.at, latest.jpeg

    def wait_newer(self, camera_id: int, seq: int, timeout: float) -> bool:
        with self._cond:
            current = self._frames.get(camera_id)
            if current is not None and current.seq > seq:
                return True
            self._cond.wait(timeout)
            current = self._frames.get(camera_id)
            return current is not None and current.seq > seq

    @contextmanager
    def watch(self, camera_id: int) -> Iterator[None]:
        """While inside, the camera's reader decodes every frame (the one camera being watched live)."""
        with self._lock:
            self._watchers[camera_id] = self._watchers.get(camera_id, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._watchers.get(camera_id, 1) - 1
                if left <= 0:
                    self._watchers.pop(camera_id, None)
                else:
                    self._watchers[camera_id] = left

    def watched(self, camera_id: int) -> bool:
        return camera_id in self._watchers  # a dict lookup: safe without the lock


FRAMES = FrameRegistry()
"""The registry of this process: the embedded `serve` reads frames from it directly."""


def backoff_delay(attempt: int, low: float, high: float, rng: random.Random) -> float:
    """Exponential backoff with full jitter, so cameras of a restarted switch do not reconnect in step."""
    cap = min(high, low * (2 ** min(attempt, 16)))
    return float(low + rng.random() * max(0.0, cap - low))


@dataclass
class ReaderState:
    """What the reader knows; the service reads it from its own thread (simple fields, no lock needed)."""

    stats: StreamStats = field(default_factory=StreamStats)
    freeze: FreezeDetector = field(default_factory=FreezeDetector)
    started_at: float = field(default_factory=time.monotonic)
    width: int = 0
    height: int = 0
    codec: str = ""
    reconnects: int = 0
    last_error: str = ""
    opened: bool = False
    decoded: int = 0
    bad_packets: int = 0


class CameraReader(threading.Thread):
    """Reads one camera until stopped or its lease runs out; reconnects with backoff and jitter."""

    def __init__(self, camera_id: int, uri: str, settings: CameraSettings, registry: FrameRegistry, *,
                 start_delay: float = 0.0, lease_valid: Callable[[], bool] = lambda: True,
                 decode_all: bool | None = None) -> None:
        super().__init__(name=f"camera-{camera_id}", daemon=True)
        self.camera_id = camera_id
        self._uri = uri
        self.settings = settings
        self.registry = registry
        self.start_delay = start_delay
        self.lease_valid = lease_valid
        self.decode_all = settings.decode == "all" if decode_all is None else decode_all
        self.state = ReaderState()
        self._stop_event = threading.Event()
        self._rng = random.Random(camera_id)
        self._container: Any = None
        # The camera's post zones (set by the worker); analysed on every analysed frame.
        self.zones = CameraZones()
        # The camera's last minute of packets for event evidence (set by the worker; None: not kept).
        self.clip_buffer: ClipBuffer | None = None
        # The camera's tamper checks and queue counts (set by the worker); also on every analysed frame.
        self.tamper = CameraTamper()
        self.queues = CameraQueues()

    def __repr__(self) -> str:
        return f"CameraReader({self.camera_id}, {redact_uri(self._uri)})"

    def stop(self) -> None:
        self._stop_event.set()

    @property
    def stopping(self) -> bool:
        return self._stop_event.is_set() or not self.lease_valid()

    def run(self) -> None:
        if self._stop_event.wait(self.start_delay):
            return
        attempt = 0
        while not self.stopping:
            healthy_from = time.monotonic()
            try:
                self._read_once()
            except Exception as exc:  # one camera's failure must never reach the others or the process
                self.state.last_error = _describe(exc)
                logger.info("camera %s stream error: %s", self.camera_id, self.state.last_error)
            finally:
                self._close()
            if self.stopping:
                break
            # A stream that ran well for a while starts the backoff again from the bottom.
            attempt = 0 if time.monotonic() - healthy_from > 30 else attempt + 1
            self.state.reconnects += 1
            self._stop_event.wait(backoff_delay(attempt, self.settings.backoff_min_seconds,
                                                self.settings.backoff_max_seconds, self._rng))
        self.registry.forget(self.camera_id)
        logger.debug("camera %s reader ended", self.camera_id)

    def _close(self) -> None:
        container, self._container = self._container, None
        if container is not None:
            try:
                container.close()
            except Exception:
                logger.debug("closing camera %s failed", self.camera_id, exc_info=True)
        self.state.opened = False

    def _read_once(self) -> None:
        s = self.settings
        # PyAV bounds the whole open (a host that accepts TCP and never answers); reads are bounded by
        # FFmpeg's own timeouts (open_options), so PyAV's per-I/O callback into Python is off after the open.
        self._container = av.open(self._uri, options=open_options(self._uri, s),
                                  timeout=(s.open_timeout_seconds, None))
        container = self._container
        stream = container.streams.video[0]
        ctx = stream.codec_context
        # One decoding thread per camera: FFmpeg's default (one per core) multiplies threads by cameras.
        ctx.thread_count = 1
        ctx.thread_type = "NONE"
        self.state.codec = str(ctx.name or "")
        self.state.opened = True
        self.state.last_error = ""
        last_live = 0.0
        clip_buffer = self.clip_buffer
        extradata = bytes(ctx.extradata or b"")
        if clip_buffer is not None:
            clip_buffer.reset()
        for packet in container.demux(stream):
            if self.stopping:
                return
            if packet.size == 0:
                continue  # the demuxer's flush packet
            now = time.monotonic()
            key = bool(packet.is_keyframe)
            self.state.stats.on_packet(now, int(packet.size), key)
            if clip_buffer is not None and packet.pts is not None and ctx.name == "h264":
                data = bytes(packet)
                clip_buffer.push(with_parameter_sets(data, extradata) if key else data, key,
                                 float(packet.pts * packet.time_base))
            watched = self.registry.watched(self.camera_id)
            full = self.decode_all or watched
            ctx.skip_frame = "DEFAULT" if full else "NONKEY"
            if not key and not full:
                continue  # not even handed to the decoder: the cheap path
            try:
                frames = ctx.decode(packet)
            except av.error.FFmpegError as exc:
                self.state.bad_packets += 1
                if self.state.bad_packets >= MAX_BAD_PACKETS:
                    raise StreamGarbageError(str(exc)) from exc
                continue
            self.state.bad_packets = 0
            for frame in frames:
                self.state.decoded += 1
                self.state.width, self.state.height = int(frame.width), int(frame.height)
                if key or self.decode_all:
                    self._analyse(frame, now)
                if not watched or now - last_live >= 1.0 / max(0.5, s.live_fps) or key:
                    self.registry.publish(self.camera_id, frame)
                    last_live = now
        # demux ended: the server closed the stream

    def _analyse(self, frame: Any, now: float) -> None:
        thumb = luma_thumbnail(frame)
        self.state.freeze.update(thumb, now)
        self.state.stats.on_analysed(now)
        self.analyse_zones(frame, now)

    def analyse_zones(self, frame: Any, now: float) -> None:
        """Presence in the post zones, tamper checks and queue counts on this frame (each only when configured)."""
        parts = [p for p in (self.zones, self.tamper, self.queues) if p]
        if not parts:
            return
        grey, wall = luma_plane(frame), utcnow()
        for part in parts:
            try:
                part.analyse(grey, now, wall)
            except Exception:  # an analysis must never end the camera's stream
                logger.exception("camera %s: %s failed", self.camera_id, type(part).__name__)


PROTOCOL_WHITELIST = "tcp,udp,rtp,rtsp,rtsps,tls,http,https,httpproxy,crypto"


def open_options(uri: str, s: CameraSettings) -> dict[str, str]:
    """FFmpeg options for reading a camera's stream.

    Reads are bounded by FFmpeg's own socket timeouts (microseconds), not by PyAV's `timeout=`: PyAV
    implements that with an interrupt callback that FFmpeg calls on every I/O loop and that takes the GIL,
    which cost ~10 % of the ingest's CPU at 720p (bench/cameras/RESULTS.md).
    """
    read_us = str(int(s.read_timeout_seconds * 1_000_000))
    # Only the network protocols a camera stream needs: a stream URI never makes FFmpeg read a file
    # (file:, concat:, subfile:) or reach another protocol, whatever an admin or a device wrote into it.
    base = {"rw_timeout": read_us, "protocol_whitelist": PROTOCOL_WHITELIST}
    if uri.startswith("rtsp"):
        # rtsp's "timeout" is its socket I/O timeout.
        return {**base, "rtsp_transport": s.rtsp_transport, "timeout": read_us}
    if uri.startswith(("http://", "https://")):
        return {**base, "reconnect": "0"}
    return base


def luma_plane(frame: Any) -> npt.NDArray[np.uint8]:
    """The decoded frame's grey picture at full size: its Y plane as is (no copy, no conversion)."""
    if frame.format.name not in LUMA_FORMATS:
        grey: npt.NDArray[np.uint8] = frame.reformat(format="gray").to_ndarray()
        return grey
    plane = frame.planes[0]
    luma: npt.NDArray[np.uint8] = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[
        :, :frame.width]
    return luma


LUMA_FORMATS = ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12")


def luma_thumbnail(frame: Any) -> npt.NDArray[np.uint8]:
    """The analysis thumbnail, grey, from the decoded frame's Y plane.

    Area-averaging the Y plane with OpenCV costs a fraction of FFmpeg's swscale to a grey picture
    (`frame.reformat(..., format="gray")`): about 1.5 vs 7 CPU-s per camera-hour at 720p.
    """
    if frame.format.name not in ("yuv420p", "yuvj420p", "yuv422p", "yuvj422p", "yuv444p", "yuvj444p", "nv12"):
        grey: npt.NDArray[np.uint8] = frame.reformat(width=THUMB_SIZE[0], height=THUMB_SIZE[1],
                                                     format="gray").to_ndarray()
        return grey
    plane = frame.planes[0]
    luma = np.frombuffer(plane, np.uint8).reshape(frame.height, plane.line_size)[:, :frame.width]
    thumb: npt.NDArray[np.uint8] = np.asarray(cv2.resize(luma, THUMB_SIZE, interpolation=cv2.INTER_AREA),
                                              dtype=np.uint8)
    return thumb


class StreamGarbageError(Exception):
    """The stream keeps sending data that does not decode."""


def _describe(exc: BaseException) -> str:
    if isinstance(exc, StreamGarbageError):
        return "camera.stream.bad_data"
    if isinstance(exc, av.error.InvalidDataError):
        return "camera.stream.bad_data"
    if isinstance(exc, (av.error.TimeoutError, TimeoutError)):
        return "camera.stream.no_packets"
    return "camera.stream.open_failed"
