"""Tamper checks on real frames of the labelled footage made dark, uniform, blurred and shifted.

The footage: the first 48 s of one-by-one-person-detection.mp4, intel-iot-devkit/sample-videos,
© Intel Corporation, CC BY 4.0.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
import pytest

from cameras.tamper import Tamper, TamperCheck
from tests.cameras.test_presence import key_frames


@pytest.fixture(scope="module")
def frames() -> list[Any]:
    return [g for _, g in key_frames()]


def test_the_live_scene_is_not_tampered_with_people_lights_and_noise(frames: list[Any]) -> None:
    check = TamperCheck(frames[0])
    rng = np.random.default_rng(1)
    for i, grey in enumerate(frames):  # people come and go; lights at 60–120 %; noise
        gain = 0.6 + 0.6 * (i % 10) / 9
        img = np.clip(grey.astype(np.float32) * gain + rng.normal(0, 6, grey.shape), 0, 255).astype(np.uint8)
        reading = check.read(img)
        assert reading.found == (), (i, reading)


def test_a_covered_lens_is_found(frames: list[Any]) -> None:
    check = TamperCheck(frames[0])
    dark = (frames[10] * 0.05).astype(np.uint8)
    assert check.read(dark).found == (Tamper.COVERED,)
    tape = np.full_like(frames[10], 170)  # tape or paper over the lens: bright but uniform
    assert check.read(tape).found == (Tamper.COVERED,)


def test_a_blurred_lens_is_found(frames: list[Any]) -> None:
    check = TamperCheck(frames[0])
    assert check.read(cv2.GaussianBlur(frames[20], (0, 0), 4)).found == (Tamper.BLURRED,)
    assert check.read(cv2.GaussianBlur(frames[20], (0, 0), 0.6)).found == ()  # a little softer is fine


def test_a_camera_turned_away_is_found(frames: list[Any]) -> None:
    check = TamperCheck(frames[0])
    w = frames[30].shape[1]
    # Turned: the picture shifted by a third of its width (and what comes into view is another scene),
    # then also flipped (a camera turned to face the other way).
    shifted = np.roll(frames[30], w // 3, axis=1)
    assert check.read(shifted).found == (Tamper.TURNED_AWAY,)
    assert check.read(np.ascontiguousarray(frames[30][::-1, ::-1])).found == (Tamper.TURNED_AWAY,)
    # A small nudge (10 px) is not turning away.
    assert check.read(np.roll(frames[30], 10, axis=1)).found == ()


def test_a_new_resolution_is_compared_with_the_same_reference(frames: list[Any]) -> None:
    check = TamperCheck(frames[0])
    smaller = cv2.resize(frames[12], (640, 360), interpolation=cv2.INTER_AREA)
    assert check.read(smaller).found == ()
