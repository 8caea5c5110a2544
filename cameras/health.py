"""Pure logic of stream health: packet statistics, frozen-picture detection and the status with hysteresis."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from cameras.models import CameraStatus

# A frozen camera repeats the very same picture; sensor noise alone moves a live one by more than this
# (mean absolute difference of a 64×36 grey thumbnail, 0–255).
FROZEN_DIFF_THRESHOLD = 0.4
THUMB_SIZE = (64, 36)


@dataclass
class StreamStats:
    """Counts every packet (not only those decoded) over a sliding window."""

    window_seconds: float = 5.0
    _packets: deque[tuple[float, int, bool]] = field(default_factory=deque)
    _analysed: deque[float] = field(default_factory=deque)
    last_packet_at: float | None = None
    packets_total: int = 0

    def on_packet(self, now: float, size: int, keyframe: bool) -> None:
        self._packets.append((now, size, keyframe))
        self.last_packet_at = now
        self.packets_total += 1
        self._trim(now)

    def on_analysed(self, now: float) -> None:
        self._analysed.append(now)
        self._trim(now)

    def _trim(self, now: float) -> None:
        edge = now - self.window_seconds
        while self._packets and self._packets[0][0] < edge:
            self._packets.popleft()
        while self._analysed and self._analysed[0] < edge:
            self._analysed.popleft()

    def figures(self, now: float) -> tuple[float, float, float, float]:
        """Return (fps, kbit/s, key-frame interval s, analysed frames/s) over the window.

        Called from the worker's thread while the reader's thread appends: it reads snapshots and never
        trims (list(deque) copies in one step under the GIL; iterating the deque itself raised "deque
        mutated during iteration" and lost a whole health round at 256 cameras).
        """
        edge = now - self.window_seconds
        packets = [p for p in list(self._packets) if p[0] >= edge]
        analysed = [t for t in list(self._analysed) if t >= edge]
        span = self.window_seconds
        fps = len(packets) / span
        kbps = sum(p[1] for p in packets) * 8 / 1000 / span
        keys = [p[0] for p in packets if p[2]]
        interval = (keys[-1] - keys[0]) / (len(keys) - 1) if len(keys) >= 2 else 0.0
        return round(fps, 2), round(kbps, 1), round(interval, 2), round(len(analysed) / span, 2)


def thumbnail_diff(a: npt.NDArray[np.uint8], b: npt.NDArray[np.uint8]) -> float:
    return float(np.mean(np.abs(a.astype(np.int16) - b.astype(np.int16))))


@dataclass
class FreezeDetector:
    """Notices a picture that no longer changes while frames keep arriving."""

    threshold: float = FROZEN_DIFF_THRESHOLD
    _reference: npt.NDArray[np.uint8] | None = None
    last_change_at: float | None = None

    def update(self, thumb: npt.NDArray[np.uint8], now: float) -> None:
        if (self._reference is None or self._reference.shape != thumb.shape
                or thumbnail_diff(self._reference, thumb) > self.threshold):
            self._reference = thumb
            self.last_change_at = now

    def unchanged_for(self, now: float) -> float:
        return 0.0 if self.last_change_at is None else now - self.last_change_at


@dataclass
class StatusTracker:
    """Turns observations into a status; an alert opens on a change to offline/frozen, clears on recovery."""

    offline_after: float
    frozen_after: float
    recover_after: float
    started_at: float
    status: CameraStatus = CameraStatus.UNKNOWN
    _healthy_since: float | None = None

    def evaluate(self, now: float, last_packet_at: float | None, unchanged_for: float) -> CameraStatus | None:
        """Return the new status if it changed, else None."""
        silent_since = last_packet_at if last_packet_at is not None else self.started_at
        if now - silent_since >= self.offline_after:
            observed = CameraStatus.OFFLINE
        elif unchanged_for >= self.frozen_after:
            observed = CameraStatus.FROZEN
        elif last_packet_at is not None:
            observed = CameraStatus.ONLINE
        else:
            observed = CameraStatus.UNKNOWN
        if observed == CameraStatus.ONLINE and self.status in (CameraStatus.OFFLINE, CameraStatus.FROZEN):
            # Hysteresis: a camera flapping back for a moment does not clear its alert.
            if self._healthy_since is None:
                self._healthy_since = now
            if now - self._healthy_since < self.recover_after:
                return None
        self._healthy_since = None if observed != CameraStatus.ONLINE else self._healthy_since
        if observed == CameraStatus.UNKNOWN or observed == self.status:
            return None
        self.status = observed
        return observed
