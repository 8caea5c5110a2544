"""Presence at a post: a detector on the zone's pixels and hysteresis on its answers (pure, no I/O).

The detector chosen (bench/presence/RESULTS.md compares it with OpenCV's HOG people detector, its Haar
upper-body cascade and MOG2) keeps a background of the zone's picture and calls the zone occupied when a
large enough share of it differs. What makes it hold up in a real hall:

- every picture is normalized to zero mean and unit spread over the zone before comparing, so lights that
  dim or brighten, or a camera's automatic gain, change nothing;
- the background learns only while the zone is judged empty (a person standing still for an hour is not
  learnt into it), except pixels that have not changed at all for `absorb_seconds` (a minute while vacant:
  papers or a bag left on the counter; half an hour while occupied: a person who was there when analysis
  started, then left), which become background after that time;
- the picture is blurred and the difference thresholded in units of the zone's own spread, so sensor
  noise of a cheap camera stays below it;
- a person already at the post when analysis starts is not learnt as the empty post: with the zone's reference
  still (an officer's picture of the empty post, `Zone.reference_sha256`) the background starts from it; without
  one the detector answers "don't know" (the state stays unknown) until it has seen the zone change and come
  back to its first picture — something came and went, so the first picture was the empty post — or until the
  zone stood pixel-still for `absorb_occupied_seconds`;
- a passer-by or a person turning away does not flip the state: `Hysteresis` wants the same answer for
  `occupied_after_seconds` / `vacant_after_seconds` before it changes, and dates the change from the first
  frame that showed it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cv2
import numpy as np
import numpy.typing as npt

from cameras.geometry import crop_mask
from cameras.models import PresenceState, ZoneKind

Grey = npt.NDArray[np.uint8]
Floats = npt.NDArray[np.float32]

# The zone is compared at most this many pixels on its longer side: a person at a post covers a large part
# of the zone, so detail beyond this only costs CPU (bench/presence: 96 px ≈ 0.2 ms per zone).
WORK_SIDE = 96


@dataclass
class DetectorSettings:
    """What decides "someone is there"; the defaults are argued in bench/presence/RESULTS.md."""

    # A pixel differs when it moved this many of the zone's standard deviations from the background.
    pixel_threshold: float = 0.9
    # The zone is occupied when at least this share of it differs (a person covers far more; papers less).
    occupied_share: float = 0.12
    # Background learning rate per analysed frame while the zone is empty (lights drifting, shadows).
    learn_rate: float = 0.08
    # A pixel unchanged for this long while the post is vacant is background (papers left on the counter).
    absorb_seconds: float = 60.0
    # ... and while it is occupied: a person standing or sitting still is pixel-still at one frame a second
    # (the clip's people are, for a minute and more), so only after half an hour. A large object left at an
    # empty post therefore reads as occupied until then: the error that accuses nobody.
    absorb_occupied_seconds: float = 1800.0
    # Frame-to-frame change below this (in standard deviations) counts as "unchanged" for absorbing.
    still_threshold: float = 0.35


def _normalize(grey: Grey, mask: npt.NDArray[np.bool_]) -> Floats:
    img = cv2.GaussianBlur(grey, (5, 5), 0).astype(np.float32)
    values = img[mask]
    mean = float(values.mean()) if values.size else 0.0
    std = float(values.std()) if values.size else 1.0
    out: Floats = ((img - mean) / max(std, 4.0)).astype(np.float32)
    return out


@dataclass
class ZoneBackgroundDetector:
    """One post zone's detector: feed it the camera's grey picture once per analysed frame."""

    polygon: Sequence[tuple[float, float]]
    settings: DetectorSettings = field(default_factory=DetectorSettings)
    # The zone's crop of a still of the empty post (any resolution of the same aspect), or None.
    reference: Grey | None = None
    # Whether the background is known to show the empty post (from the reference, or confirmed by a visit).
    trusted: bool = False
    _seen_change: bool = False
    _size: tuple[int, int] = (0, 0)
    _box: tuple[int, int, int, int] = (0, 0, 0, 0)
    _work: tuple[int, int] = (0, 0)
    _mask: npt.NDArray[np.bool_] | None = None
    _background: Floats | None = None
    _previous: Floats | None = None
    _still_since: Floats | None = None
    last_share: float = 0.0
    # The pixels (work size) that differed from the background in the last picture: cameras.queue counts its blobs.
    last_differs: npt.NDArray[np.bool_] | None = None

    def _prepare(self, width: int, height: int) -> None:
        """Work out the crop and mask for this picture size (again when the camera changes resolution)."""
        self._size = (width, height)
        self._box, mask = crop_mask(self.polygon, width, height)
        w, h = mask.shape[1], mask.shape[0]
        scale = min(1.0, WORK_SIDE / max(w, h))
        self._work = (max(2, round(w * scale)), max(2, round(h * scale)))
        small = cv2.resize(mask, self._work, interpolation=cv2.INTER_NEAREST)
        self._mask = small > 0
        self._background = self._previous = self._still_since = None
        self._seen_change = False
        self.trusted = self.reference is not None

    def _seed(self, img: Floats, at: float) -> None:
        """Start the background: from the reference still when there is one, else from this first picture."""
        assert self._mask is not None
        background = img.copy()
        if self.reference is not None and self.reference.size:
            ref = np.asarray(cv2.resize(self.reference, self._work, interpolation=cv2.INTER_AREA), dtype=np.uint8)
            background = _normalize(ref, self._mask)
        self._background = background
        self._previous = img
        self._still_since = np.full(img.shape, at, dtype=np.float32)

    def work_pixels(self, picture_share: float) -> float:
        """How many pixels of the zone's work picture a share of the whole camera picture covers."""
        x0, y0, x1, y1 = self._box
        box = max(1, (x1 - x0) * (y1 - y0))
        return picture_share * self._size[0] * self._size[1] * (self._work[0] * self._work[1]) / box

    @property
    def mask(self) -> npt.NDArray[np.bool_] | None:
        """The polygon's mask over the work picture (None before the first picture)."""
        return self._mask

    def crop(self, grey: Grey) -> Grey:
        if grey.shape[1] != self._size[0] or grey.shape[0] != self._size[1]:
            self._prepare(grey.shape[1], grey.shape[0])
        x0, y0, x1, y1 = self._box
        out: Grey = np.asarray(cv2.resize(grey[y0:y1, x0:x1], self._work, interpolation=cv2.INTER_AREA),
                               dtype=np.uint8)
        return out

    def observe(self, grey: Grey, at: float, *, occupied_now: bool = False) -> bool | None:
        """Whether the zone looks occupied in this picture (`at`: seconds, monotonic); None: cannot tell yet.

        `occupied_now`: the confirmed state (from the hysteresis); the background does not learn then.
        """
        work = self.crop(grey)
        assert self._mask is not None
        mask = self._mask
        img = _normalize(work, mask)
        s = self.settings
        if self._background is None or self._previous is None or self._still_since is None:
            self._seed(img, at)
            assert self._background is not None
            if not self.trusted:
                self.last_share = 0.0
                return None
        assert self._background is not None and self._previous is not None and self._still_since is not None
        moved = np.abs(img - self._previous) > s.still_threshold
        self._still_since[moved] = at
        self._previous = img
        differs = np.abs(img - self._background) > s.pixel_threshold
        self.last_differs = differs
        share = float(differs[mask].mean()) if mask.any() else 0.0
        self.last_share = share
        seen = share >= s.occupied_share
        if not self.trusted:
            # The first picture may show a person: learn nothing from it but what stood still for the long time
            # (a person who was there and left for good), and trust it once the zone changed and came back.
            if seen:
                self._seen_change = True
            elif self._seen_change and share <= s.occupied_share / 2:
                self.trusted = True
            settled = (at - self._still_since) >= s.absorb_occupied_seconds
            if settled.all():
                self._background[...] = img
                self.trusted = True
            elif settled.any():
                self._background[settled] = img[settled]
            return seen if self.trusted else None
        if not seen and not occupied_now:
            cv2.accumulateWeighted(img, self._background, s.learn_rate)
        settled = (at - self._still_since) >= (s.absorb_occupied_seconds if occupied_now else s.absorb_seconds)
        if settled.any():
            self._background[settled] = img[settled]
        return seen


@dataclass
class Hysteresis:
    """A zone's presence state: flips only after the detector agreed long enough; dates a flip from its start."""

    occupied_after_seconds: float = 2.0
    vacant_after_seconds: float = 2.0
    state: PresenceState = PresenceState.UNKNOWN
    _candidate: bool | None = None
    _candidate_since: float = 0.0

    def update(self, seen: bool | None, at: float) -> tuple[PresenceState, float] | None:
        """Feed one answer at time `at`; return (new state, when it began) when the state changes.

        `seen` None (the detector cannot tell yet) keeps the state and forgets any candidate.
        """
        if seen is None:
            self._candidate = None
            return None
        if self._candidate is None or seen != self._candidate:
            self._candidate, self._candidate_since = seen, at
        wanted = PresenceState.OCCUPIED if seen else PresenceState.VACANT
        if wanted == self.state:
            return None
        needed = self.occupied_after_seconds if seen else self.vacant_after_seconds
        if at - self._candidate_since >= needed:
            self.state = wanted
            return wanted, self._candidate_since
        return None


@dataclass
class PostPresence:
    """A post zone's detector and hysteresis together: what ingest runs per zone and analysed frame."""

    zone_id: int
    detector: ZoneBackgroundDetector
    hysteresis: Hysteresis

    @classmethod
    def for_zone(cls, zone_id: int, polygon: Sequence[tuple[float, float]], occupied_after_seconds: float,
                 vacant_after_seconds: float, reference: Grey | None = None) -> PostPresence:
        return cls(zone_id, ZoneBackgroundDetector(list(polygon), reference=reference),
                   Hysteresis(occupied_after_seconds, vacant_after_seconds))

    def update(self, grey: Grey, at: float) -> tuple[PresenceState, float] | None:
        seen = self.detector.observe(grey, at, occupied_now=self.hysteresis.state == PresenceState.OCCUPIED)
        return self.hysteresis.update(seen, at)


@dataclass(frozen=True)
class AnalysedZone:
    """What ingest needs of a zone to analyse it (copied out of the session)."""

    id: int
    kind: ZoneKind
    polygon: list[tuple[float, float]]
    occupied_after_seconds: float
    vacant_after_seconds: float
    updated_at: datetime
    reference_sha256: str | None = None


@dataclass(frozen=True)
class PresenceChange:
    zone_id: int
    state: PresenceState
    at: datetime


class CameraZones:
    """The post zones of one camera as its reader analyses them; changes wait in `pending` for the worker.

    The worker thread configures the zones (after reading them in a short read) and drains the changes (to
    write them in its own short transaction); the reader thread analyses frames. Nothing here touches the
    database, so no transaction is ever open while a frame is decoded or analysed.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._zones: dict[int, tuple[datetime, PostPresence]] = {}
        self._pending: list[PresenceChange] = []

    def configure(self, zones: Sequence[AnalysedZone],
                  load_reference: Callable[[str | None], Grey | None] | None = None) -> None:
        """Take the camera's zones now: new and edited ones start afresh, deleted ones are dropped.

        `load_reference` reads a zone's reference still by its sha256 (None: none, or it no longer matches).
        """
        with self._lock:
            kept: dict[int, tuple[datetime, PostPresence]] = {}
            for z in zones:
                old = self._zones.get(z.id)
                if old is not None and old[0] == z.updated_at:
                    kept[z.id] = old
                else:
                    reference = load_reference(z.reference_sha256) if load_reference else None
                    kept[z.id] = (z.updated_at, PostPresence.for_zone(z.id, z.polygon, z.occupied_after_seconds,
                                                                      z.vacant_after_seconds, reference))
            self._zones = kept

    def __bool__(self) -> bool:
        return bool(self._zones)

    def analyse(self, grey: Grey, at: float, wall: datetime) -> None:
        """Run every zone on one analysed frame (`at` monotonic seconds, `wall` the frame's time)."""
        with self._lock:
            zones = list(self._zones.values())
        for _, post in zones:
            change = post.update(grey, at)
            if change is not None:
                state, began = change
                with self._lock:
                    self._pending.append(PresenceChange(post.zone_id, state,
                                                        wall - timedelta(seconds=max(0.0, at - began))))

    def has_pending(self) -> bool:
        return bool(self._pending)  # a list's truth under the GIL: no lock needed for a hint

    def drain(self) -> list[PresenceChange]:
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def give_back(self, changes: list[PresenceChange]) -> None:
        """Changes a failed write could not store: kept for the next round, in order."""
        with self._lock:
            self._pending = changes + self._pending
