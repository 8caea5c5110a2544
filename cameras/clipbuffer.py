"""A camera's last minute of H.264 access units in memory, and what evidence is made of it: MP4 clips and stills.

The ingest reader pushes every access unit (Annex-B bytes, a key flag, its presentation time in seconds on the
camera's clock, its arrival on ours) into the camera's `ClipBuffer`; the evidence recorder (cameras/evidence_capture.py)
takes a window out of it when an event needs a clip. Clips are REMUXED: the camera's own packets go into an MP4
container unchanged (no decoding, no encoding: the codec parameters are the camera's, and a clip costs a few
milliseconds of CPU); stills decode one key frame to a JPEG.

The buffer holds whole groups of pictures (a key frame and the frames that depend on it), so any window taken from
it starts at a key frame and plays from its first packet.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import cv2

from supervision.db import utcnow

CLOCK = 90_000
"""H.264 over RTP runs on a 90 kHz clock; the MP4 track keeps that time base so no timestamp is rounded."""


@dataclass(frozen=True, slots=True)
class Unit:
    """One access unit: Annex-B bytes (with SPS/PPS before a key frame), key or not, times."""

    data: bytes
    key: bool
    pts: float  # seconds on the camera's clock (monotonic within one session)
    wall: datetime  # when it arrived here (UTC)


class RtpClock:
    """Unwraps 32-bit RTP timestamps into seconds from the first unit of a session."""

    def __init__(self, rate: int = CLOCK) -> None:
        self.rate = rate
        self._last: int | None = None
        self._ticks = 0

    def seconds(self, ts: int) -> float:
        if self._last is not None:
            delta = (ts - self._last) & 0xFFFFFFFF
            if delta >= 0x80000000:
                delta -= 0x100000000  # a unit older than the previous one (reordering): step back
            self._ticks += delta
        self._last = ts
        return self._ticks / self.rate


class ClipBuffer:
    """The last `seconds` of one camera's access units, at most `max_bytes`, always starting at a key frame.

    `push` runs on the reader's thread, the window reads on the evidence recorder's: one lock, held for a deque
    operation (no copying of the bytes, which are immutable and shared).
    """

    def __init__(self, seconds: float = 60.0, max_bytes: int = 24 * 1024 * 1024) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._gops: deque[list[Unit]] = deque()
        self._bytes = 0
        self._need_key = True
        self.dropped_bytes = 0  # trimmed for the byte bound before their time was up (a camera above its budget)

    def __len__(self) -> int:
        with self._lock:
            return sum(len(g) for g in self._gops)

    @property
    def size(self) -> int:
        return self._bytes

    def push(self, data: bytes | None, key: bool, pts: float, wall: datetime | None = None) -> None:
        """Add an access unit; `data` None (a unit lost or not assembled) breaks the chain until the next key."""
        with self._lock:
            if data is None:
                if not key:
                    self._need_key = True
                return
            if key:
                self._need_key = False
                self._gops.append([])
            elif self._need_key:
                return
            unit = Unit(data, key, pts, wall or utcnow())
            self._gops[-1].append(unit)
            self._bytes += len(data)
            self._trim(unit.pts)

    def _trim(self, newest: float) -> None:
        # Keep the GOP that holds the moment `seconds` ago: its key frame is where a window that old starts.
        while len(self._gops) > 1:
            second = self._gops[1]
            too_old = newest - second[0].pts >= self.seconds
            too_big = self._bytes > self.max_bytes
            if not (too_old or too_big):
                break
            gone = self._gops.popleft()
            size = sum(len(u.data) for u in gone)
            self._bytes -= size
            if too_big and not too_old:
                self.dropped_bytes += size

    def reset(self) -> None:
        """A new session (reconnect): its timestamps start again, so what was kept cannot be joined to it."""
        with self._lock:
            self._gops.clear()
            self._bytes = 0
            self._need_key = True

    def span(self) -> tuple[datetime, datetime] | None:
        """Arrival times of the oldest and newest unit kept."""
        with self._lock:
            if not self._gops or not self._gops[0]:
                return None
            return self._gops[0][0].wall, self._gops[-1][-1].wall

    def window(self, start: datetime, end: datetime) -> list[Unit]:
        """The units from the last key frame at or before `start` up to `end` (what the buffer has of it)."""
        with self._lock:
            gops = list(self._gops)
        first = 0
        for i, gop in enumerate(gops):
            if gop and gop[0].wall <= start:
                first = i
        out: list[Unit] = []
        for gop in gops[first:]:
            if gop and gop[0].wall > end:
                break
            out.extend(u for u in gop if u.wall <= end)
        return out

    def key_near(self, at: datetime) -> Unit | None:
        """The key frame that arrived closest to `at`."""
        with self._lock:
            keys = [g[0] for g in self._gops if g]
        if not keys:
            return None
        return min(keys, key=lambda u: abs((u.wall - at).total_seconds()))


@dataclass(frozen=True)
class ClipInfo:
    duration: float
    frames: int
    width: int
    height: int


def write_mp4(units: list[Unit], path: Path) -> ClipInfo:
    """Remux the access units (from a key frame on) into a browser-playable MP4 at `path`; no re-encoding.

    `+faststart` moves the index (moov) before the data so a browser plays while it downloads; FFmpeg does that in
    a second pass over the finished file, so the output must be a real file, not a buffer. The decoding times are
    the presentation times in order (a camera that sends B-frames reorders them; the decoding time of the n-th
    packet is the n-th smallest presentation time, shifted back so none is later than its own presentation).
    """
    if not units or not units[0].key:
        raise ValueError("a clip starts at a key frame")
    width, height = _dimensions(units[0].data)
    base = units[0].pts
    pts = [round((u.pts - base) * CLOCK) for u in units]
    ordered = sorted(pts)
    shift = max(0, *(d - p for d, p in zip(ordered, pts, strict=True)))
    dts = [d - shift for d in ordered]
    tb = Fraction(1, CLOCK)
    out = av.open(str(path), "w", format="mp4", options={"movflags": "+faststart"})
    try:
        stream = out.add_stream("h264", rate=25)
        stream.width, stream.height = width, height
        stream.time_base = tb
        for unit, p, d in zip(units, pts, dts, strict=True):
            packet = av.Packet(unit.data)
            packet.pts, packet.dts, packet.time_base = p, d, tb
            packet.is_keyframe = unit.key
            packet.stream = stream
            out.mux(packet)
    finally:
        out.close()
    step = (pts[-1] - pts[-2]) if len(pts) > 1 else CLOCK // 25
    return ClipInfo((max(pts) + step) / CLOCK, len(units), width, height)


def _dimensions(key_unit: bytes) -> tuple[int, int]:
    frame = decode_key(key_unit)
    return int(frame.width), int(frame.height)


def decode_key(data: bytes) -> av.VideoFrame:
    """Decode one key access unit (with its SPS/PPS) on its own."""
    ctx = av.CodecContext.create("h264", "r")
    ctx.thread_count = 1
    frames = list(ctx.decode(av.Packet(data)))
    frames += list(ctx.decode(None))  # flush: the decoder may hold the frame back for reordering
    if not frames:
        raise ValueError("the key frame does not decode")
    frame: av.VideoFrame = frames[0]
    return frame


def still_jpeg(unit: Unit, quality: int = 85) -> bytes:
    """A JPEG of a key frame."""
    image = decode_key(unit.data).to_ndarray(format="bgr24")
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError("JPEG encoding failed")
    return bytes(buf.tobytes())


def with_parameter_sets(unit: bytes, extradata: bytes) -> bytes:
    """A key access unit with the stream's SPS/PPS in front when it has none in band (FFmpeg keeps the SDP's
    parameter sets in the extradata): each clip and still must decode on its own."""
    if not extradata.startswith((b"\x00\x00\x01", b"\x00\x00\x00\x01")):
        return unit  # avcC extradata (not from an RTSP camera): leave the unit as it is
    head = unit[:64]
    for start in (head.find(b"\x00\x00\x01"),):
        if start >= 0 and start + 3 < len(head) and head[start + 3] & 0x1F == 7:
            return unit
    return extradata + unit


def window_around(at: datetime, before: float, after: float) -> tuple[datetime, datetime]:
    return at - timedelta(seconds=before), at + timedelta(seconds=after)
