"""Pure health logic: statistics, frozen detection and the status hysteresis."""

from __future__ import annotations

import random

import numpy as np

from cameras.health import FreezeDetector, StatusTracker, StreamStats
from cameras.ingest import backoff_delay
from cameras.models import CameraStatus


def test_stats_count_every_packet() -> None:
    stats = StreamStats(window_seconds=2.0)
    for i in range(50):
        stats.on_packet(i * 0.04, 1000, keyframe=i % 25 == 0)
    fps, kbps, interval, analysed = stats.figures(2.0)
    assert 24 <= fps <= 25.5
    assert 190 <= kbps <= 205  # 25 packets/s × 8 kbit
    assert interval == 1.0
    assert analysed == 0


def test_freeze_detector_ignores_noise_but_not_change() -> None:
    rng = np.random.default_rng(1)
    base = rng.integers(0, 255, (36, 64), dtype=np.uint8)
    det = FreezeDetector()
    det.update(base, 0.0)
    det.update(base.copy(), 5.0)
    assert det.unchanged_for(5.0) == 5.0
    moved = np.roll(base, 3, axis=1)
    det.update(moved, 6.0)
    assert det.unchanged_for(6.0) == 0.0


def test_status_offline_then_recovers_with_hysteresis() -> None:
    t = StatusTracker(offline_after=10, frozen_after=10, recover_after=2, started_at=0)
    assert t.evaluate(1, 1, 0) == CameraStatus.ONLINE
    assert t.evaluate(10, 1, 0) is None
    assert t.evaluate(11, 1, 0) == CameraStatus.OFFLINE
    assert t.evaluate(12, 12, 0) is None  # back, but not for long enough yet
    assert t.evaluate(14.5, 14.4, 0) == CameraStatus.ONLINE
    assert t.evaluate(30, 29.9, 12) == CameraStatus.FROZEN


def test_never_connected_camera_goes_offline() -> None:
    t = StatusTracker(offline_after=3, frozen_after=3, recover_after=1, started_at=100)
    assert t.evaluate(101, None, 0) is None
    assert t.evaluate(103, None, 0) == CameraStatus.OFFLINE


def test_backoff_grows_with_jitter_and_is_capped() -> None:
    rng = random.Random(3)
    delays = [backoff_delay(a, 1, 30, rng) for a in range(10)]
    assert all(1 <= d <= 30 for d in delays)
    assert max(delays[5:]) > max(delays[:2])
