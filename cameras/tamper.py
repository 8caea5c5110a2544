"""Tamper checks on one analysed picture against a reference still (pure, no I/O): covered, blurred, turned away.

Issue 13 §5. Each check is a number with a threshold, so the figures can be shown beside the decision:

- covered: a hand, a bag or tape over the lens leaves a picture that is dark or uniform (little spread);
- blurred: a lens knocked out of focus, smeared or fogged keeps far less fine detail (variance of the
  Laplacian) than the reference still of the same scene;
- turned away: the scene's edges no longer line up with the reference (normalized correlation of the
  gradient pictures), while the brightness may be the same. Comparing edges, not grey levels, keeps lights and
  automatic gain from looking like a turned camera.

Not wired into ingest yet: the reference still an officer takes, its storage and the alerts are the next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import cv2
import numpy as np
import numpy.typing as npt

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
    """A camera's reference still (taken by an officer when the picture is right) and the thresholds."""

    reference: Grey
    thresholds: TamperThresholds = TamperThresholds()

    def __post_init__(self) -> None:
        small = _small(self.reference)
        self._sharpness = max(1e-6, _sharpness(self.reference))
        self._edges = _edges(small)

    def read(self, grey: Grey) -> TamperReading:
        """Measure one picture (any size: the reference's size is not required) and name what is wrong."""
        t = self.thresholds
        small = _small(grey)
        mean, std = float(small.mean()), float(small.std())
        sharp = _sharpness(grey) / self._sharpness
        corr = _correlation(_edges(small), self._edges)
        found: list[Tamper] = []
        if mean < t.dark_mean or std < t.uniform_std:
            found.append(Tamper.COVERED)
        else:
            if sharp < t.sharpness_share:
                found.append(Tamper.BLURRED)
            elif corr < t.scene_correlation:
                # A blurred picture loses its edges too: "turned away" only when detail is still there.
                found.append(Tamper.TURNED_AWAY)
        return TamperReading(mean, std, sharp, corr, tuple(found))
