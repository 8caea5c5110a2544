"""Tamper checks on one analysed picture against a reference still (pure, no I/O): covered, blurred, turned away.

Issue 13 §5. Each check is a number with a threshold, so the figures can be shown beside the decision:

- covered: a hand, a bag or tape over the lens leaves a picture that is dark or uniform (little spread);
- blurred: a lens knocked out of focus, smeared or fogged keeps far less fine detail (variance of the
  Laplacian) than the reference still of the same scene;
- turned away: the scene's edges no longer line up with the reference (normalized correlation of the
  gradient pictures), while the brightness may be the same. Comparing edges, not grey levels, keeps lights and
  automatic gain from looking like a turned camera.

Wired into ingest (issue 13 §5): `CameraTamper` runs on every analysed frame of the camera's reader, with the
camera's reference still (`CameraReference`, taken again by an officer on the camera page) and `TamperHysteresis`,
so a hand waved in front of the lens for a second raises nothing; the worker turns a confirmed finding into a
camera alert (beside offline / frozen) and a video event of kind tamper for review. Without a reference still only
"covered" is judged (it needs none); blurred and turned away need the picture of the scene as it should be.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

Grey = npt.NDArray[np.uint8]

# Tamper is judged on a small picture: enough for the scene's layout, cheap at one frame a second.
WORK_SIZE = (160, 90)


class Tamper(StrEnum):
    COVERED = "covered"
    BLURRED = "blurred"
    TURNED_AWAY = "turned_away"


@dataclass(frozen=True)
class TamperThresholds:
    # Below this mean grey level the picture is dark; below this spread it is uniform.
    dark_mean: float = 25.0
    uniform_std: float = 8.0
    # Detail (variance of the Laplacian) below this share of the reference's is a blurred lens.
    sharpness_share: float = 0.3
    # Edge correlation with the reference below this: the camera looks elsewhere.
    scene_correlation: float = 0.45


@dataclass(frozen=True)
class TamperReading:
    mean: float
    std: float
    sharpness_share: float
    scene_correlation: float
    found: tuple[Tamper, ...]


def _small(grey: Grey) -> Grey:
    out: Grey = np.asarray(cv2.resize(grey, WORK_SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return out


SHARPNESS_SIZE = (192, 108)


def _sharpness(grey: Grey) -> float:
    """Fine detail relative to the picture's contrast, at one size (so lights and resolution do not count)."""
    small = cv2.resize(grey, SHARPNESS_SIZE, interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(small, cv2.CV_32F).var()) / max(1.0, float(small.astype(np.float32).var()))


def _edges(grey: Grey) -> npt.NDArray[np.float32]:
    blurred = cv2.GaussianBlur(grey, (3, 3), 0)
    gx = cv2.Sobel(blurred, cv2.CV_32F, 1, 0)
    gy = cv2.Sobel(blurred, cv2.CV_32F, 0, 1)
    mag: npt.NDArray[np.float32] = np.asarray(cv2.magnitude(gx, gy), dtype=np.float32)
    return mag


def _correlation(a: npt.NDArray[np.float32], b: npt.NDArray[np.float32]) -> float:
    a0, b0 = a - a.mean(), b - b.mean()
    den = float(np.sqrt((a0 * a0).sum() * (b0 * b0).sum()))
    return float((a0 * b0).sum() / den) if den > 0 else 0.0


@dataclass
class TamperCheck:
    """A camera's reference still (taken by an officer when the picture is right) and the thresholds.

    Without a reference (None) only "covered" is judged: the other two compare with the scene as it should be.
    """

    reference: Grey | None
    thresholds: TamperThresholds = TamperThresholds()

    def __post_init__(self) -> None:
        self._sharpness = 0.0
        self._edges: npt.NDArray[np.float32] | None = None
        if self.reference is not None and self.reference.size:
            self._sharpness = max(1e-6, _sharpness(self.reference))
            self._edges = _edges(_small(self.reference))

    def read(self, grey: Grey) -> TamperReading:
        """Measure one picture (any size: the reference's size is not required) and name what is wrong."""
        t = self.thresholds
        small = _small(grey)
        mean, std = float(small.mean()), float(small.std())
        if self._edges is None:
            sharp, corr = 1.0, 1.0
        else:
            sharp = _sharpness(grey) / self._sharpness
            corr = _correlation(_edges(small), self._edges)
        found: list[Tamper] = []
        if mean < t.dark_mean or std < t.uniform_std:
            found.append(Tamper.COVERED)
        elif self._edges is not None:
            if sharp < t.sharpness_share:
                found.append(Tamper.BLURRED)
            elif corr < t.scene_correlation:
                # A blurred picture loses its edges too: "turned away" only when detail is still there.
                found.append(Tamper.TURNED_AWAY)
        return TamperReading(mean, std, sharp, corr, tuple(found))


class TamperSettings(BaseSettings):
    """Thresholds and hysteresis of the tamper checks (`SUPERVISION_CAMERA_TAMPER_*`)."""

    model_config = SettingsConfigDict(env_prefix="SUPERVISION_CAMERA_TAMPER_", env_file=".env", extra="ignore")

    enabled: bool = Field(True, description="Run the tamper checks on every analysed frame")
    dark_mean: float = Field(TamperThresholds.dark_mean, ge=0, le=255,
                             description="Mean grey level below which the picture is dark (covered)")
    uniform_std: float = Field(TamperThresholds.uniform_std, ge=0, le=128,
                               description="Grey spread below which the picture is uniform (covered)")
    sharpness_share: float = Field(TamperThresholds.sharpness_share, ge=0, le=1,
                                   description="Detail below this share of the reference still's: blurred")
    scene_correlation: float = Field(TamperThresholds.scene_correlation, ge=-1, le=1,
                                     description="Edge correlation with the reference still below this: turned away")
    after_seconds: float = Field(5.0, ge=0, le=600, description="A finding must hold this long to raise an alert")
    clear_seconds: float = Field(5.0, ge=0, le=600, description="The picture must be right this long to clear it")

    def thresholds(self) -> TamperThresholds:
        return TamperThresholds(self.dark_mean, self.uniform_std, self.sharpness_share, self.scene_correlation)


@dataclass
class TamperHysteresis:
    """A camera's tamper state: changes only after the checks agreed for a while; dates a change from its start.

    `state` None: not judged yet (a new reader); "" (no finding) or the finding once confirmed.
    """

    after_seconds: float = 5.0
    clear_seconds: float = 5.0
    state: str | None = None
    _candidate: str | None = None
    _since: float = 0.0

    def update(self, found: tuple[Tamper, ...], at: float) -> tuple[str, float] | None:
        """Feed one reading at `at` (monotonic s); return (new state, when it began) when the state changes."""
        seen = found[0].value if found else ""
        if seen != self._candidate:
            self._candidate, self._since = seen, at
        if seen == self.state:
            return None
        needed = self.clear_seconds if seen == "" else self.after_seconds
        if at - self._since >= needed:
            self.state = seen
            return seen, self._since
        return None


@dataclass(frozen=True)
class TamperChange:
    state: str  # "" (the picture is right again) or a Tamper value
    at: datetime  # when the picture first showed it
    reading: TamperReading


@dataclass
class CameraTamper:
    """The tamper checks of one camera as its reader runs them; changes wait in `pending` for the worker.

    Like `CameraZones`: the worker configures it (reference still, thresholds) and drains the changes to write
    them in its own short transaction; the reader thread analyses frames; nothing here touches the database.
    """

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _check: TamperCheck | None = None
    _hysteresis: TamperHysteresis = field(default_factory=TamperHysteresis)
    _key: tuple[str | None, TamperThresholds, float, float] | None = None
    _pending: list[TamperChange] = field(default_factory=list)
    last: TamperReading | None = None

    def configure(self, reference: Grey | None, reference_key: str | None, settings: TamperSettings) -> None:
        """Take the reference still (by its key, e.g. the sha256) and thresholds; a change starts afresh."""
        key = (reference_key, settings.thresholds(), settings.after_seconds, settings.clear_seconds)
        with self._lock:
            if key == self._key:
                return
            self._key = key
            if not settings.enabled:
                self._check = None
                return
            self._check = TamperCheck(reference, settings.thresholds())
            # A new reference judges afresh, but the confirmed state carries over (no alert closed and reopened).
            self._hysteresis = TamperHysteresis(settings.after_seconds, settings.clear_seconds,
                                                state=self._hysteresis.state)

    @property
    def state(self) -> str | None:
        return self._hysteresis.state

    def __bool__(self) -> bool:
        return self._check is not None

    def analyse(self, grey: Grey, at: float, wall: datetime) -> None:
        """Run the checks on one analysed frame (`at` monotonic seconds, `wall` the frame's time)."""
        with self._lock:
            check, hysteresis = self._check, self._hysteresis
        if check is None:
            return
        reading = check.read(grey)
        self.last = reading
        change = hysteresis.update(reading.found, at)
        if change is not None:
            state, began = change
            with self._lock:
                self._pending.append(TamperChange(state, wall - timedelta(seconds=max(0.0, at - began)), reading))

    def has_pending(self) -> bool:
        return bool(self._pending)

    def drain(self) -> list[TamperChange]:
        with self._lock:
            out, self._pending = self._pending, []
        return out

    def give_back(self, changes: list[TamperChange]) -> None:
        with self._lock:
            self._pending = changes + self._pending
