"""Tamper checks and queue counting: what they find on the labelled footage and its variants, and their cost.

    .venv/bin/python bench/presence/alerts.py [--footage ../shared/footage/post-dev.mp4] [--json out.json]

Each check sees what ingest gives analytics: one key frame a second, its luma plane (768×432 grey), and the
camera's reference still (the clip's first key frame, as an officer would take it).

- Tamper: on the clip and on compare.py's variants (lights, sunlight, noise, auto-gain, papers, all at once)
  nothing may be found; on the clip made dark (×0.06), covered by tape (uniform grey), blurred (σ 4 and 8 px),
  turned (the picture shifted by a third / turned upside down) every frame must be found. Reported: the share
  of frames judged right, with the production hysteresis (5 s) the alert's delay, and process time per frame.
- Queue counting: the labels' post region as a queue zone (the person standing there is one person waiting),
  person size 0.1 of the picture (the clip is a close view), 2 s hold. Reported: agreement of the count with the
  labels (1 while occupied, 0 else; transit seconds and the 3 s after each change not scored) on the clip and
  its variants, the most people ever counted on the whole picture (one person at a time walks through: more is
  an over-count), and process time per frame and zone — zone crop and whole picture.
The footage: first 48 s of one-by-one-person-detection.mp4, intel-iot-devkit/sample-videos,
© Intel Corporation, CC BY 4.0.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from cameras.geometry import bounding_box  # noqa: E402
from cameras.queue import QueueCounter, QueueSettings  # noqa: E402
from cameras.tamper import TamperCheck, TamperHysteresis  # noqa: E402

_spec = importlib.util.spec_from_file_location("presence_compare", Path(__file__).with_name("compare.py"))
assert _spec is not None and _spec.loader is not None
compare = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(compare)

DEFAULT_FOOTAGE = ROOT.parent / "shared" / "footage" / "post-dev.mp4"
Frame = np.ndarray[Any, Any]
WHOLE = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]

TAMPERED = {
    "dark (×0.06)": ("covered", lambda g: (g * 0.06).astype(np.uint8)),
    "tape (uniform grey)": ("covered", lambda g: np.full_like(g, 170)),
    "blurred σ 4": ("blurred", lambda g: cv2.GaussianBlur(g, (0, 0), 4)),
    "blurred σ 8": ("blurred", lambda g: cv2.GaussianBlur(g, (0, 0), 8)),
    "turned (shift ⅓)": ("turned_away", lambda g: np.roll(g, g.shape[1] // 3, axis=1)),
    "turned (upside down)": ("turned_away", lambda g: np.ascontiguousarray(g[::-1, ::-1])),
}


def tamper_rows(frames: list[tuple[float, Frame]], roi: tuple[int, int, int, int]) -> list[dict[str, Any]]:
    check = TamperCheck(frames[0][1])
    rows = []
    for name, change in compare.VARIANTS.items():
        rng = np.random.default_rng(13)
        cpu = 0.0
        wrong = 0
        for t, grey in frames:
            img = grey if change is None else change(t, grey, rng, roi)
            started = time.process_time()
            found = check.read(img).found
            cpu += time.process_time() - started
            wrong += bool(found)
        rows.append({"case": f"live scene: {name}", "want": "nothing", "right": 1 - wrong / len(frames),
                     "alert_delay_s": None, "cpu_ms_per_frame": 1000 * cpu / len(frames)})
    for name, (want, make) in TAMPERED.items():
        hysteresis = TamperHysteresis(5.0, 5.0, state="")
        cpu = 0.0
        right = 0
        delay = None
        t0 = frames[0][0]
        for t, grey in frames:
            img = make(grey)
            started = time.process_time()
            found = check.read(img).found
            cpu += time.process_time() - started
            right += found == (want,) or (want in [f.value for f in found])
            changed = hysteresis.update(found, t)
            if changed is not None and changed[0] == want and delay is None:
                delay = t - t0
        rows.append({"case": name, "want": want, "right": right / len(frames), "alert_delay_s": delay,
                     "cpu_ms_per_frame": 1000 * cpu / len(frames)})
    return rows


def _agreement(counts: dict[int, int | None], labels: dict[str, Any]) -> float:
    ignored = set(labels["transit_seconds_ignored"])
    late = {a + d for a, _ in labels["occupied_seconds"] for d in (0, 1, 2)} | {
        b + d for _, b in labels["occupied_seconds"] for d in (1, 2, 3)}
    want = {s: int(any(a <= s <= b for a, b in labels["occupied_seconds"])) for s in counts
            if s not in ignored and s not in late and s >= 3}
    return sum(counts[s] == v for s, v in want.items()) / len(want)


def queue_rows(frames: list[tuple[float, Frame]], labels: dict[str, Any], roi: tuple[int, int, int, int]
               ) -> list[dict[str, Any]]:
    polygon = [(float(x), float(y)) for x, y in labels["post_roi_normalized"]]
    settings = QueueSettings(person_share=0.1, hold_seconds=2)
    rows = []
    for name, change in compare.VARIANTS.items():
        out: dict[str, Any] = {"variant": name}
        for zone_name, zone in (("zone", polygon), ("whole picture", WHOLE)):
            rng = np.random.default_rng(13)
            counter = QueueCounter.for_zone(1, zone, settings, frames[0][1])
            counts: dict[int, int | None] = {}
            cpu = 0.0
            for t, grey in frames:
                img = grey if change is None else change(t, grey, rng, roi)
                started = time.process_time()
                counter.update(img, t)
                cpu += time.process_time() - started
                counts[round(t)] = counter.count
            if zone_name == "zone":
                out["agreement"] = _agreement(counts, labels)
                out["cpu_ms_zone"] = 1000 * cpu / len(frames)
            else:
                out["max_count_whole"] = max(c or 0 for c in counts.values())
                out["cpu_ms_whole"] = 1000 * cpu / len(frames)
        rows.append(out)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--footage", type=Path, default=DEFAULT_FOOTAGE)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    labels = json.loads(args.footage.with_name(args.footage.stem + ".labels.json").read_text())
    frames, decode_s = compare.key_frames(args.footage)
    polygon = [(float(x), float(y)) for x, y in labels["post_roi_normalized"]]
    roi = bounding_box(polygon, frames[0][1].shape[1], frames[0][1].shape[0])
    small = [(t, cv2.resize(g, (640, 360), interpolation=cv2.INTER_AREA)) for t, g in frames]
    result = {
        "machine": f"{platform.processor() or platform.machine()}, {platform.python_version()}, "
                   f"OpenCV {cv2.__version__}",
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "frames": len(frames),
        "decode_ms_per_frame": 1000 * decode_s,
        "tamper": tamper_rows(frames, roi),
        "tamper_640x360_cpu_ms": tamper_rows(small, roi)[0]["cpu_ms_per_frame"],
        "queue": queue_rows(frames, labels, roi),
    }
    print(f"{result['machine']} · {result['date']} · {len(frames)} key frames (768×432)")
    print("\nTamper (reference: the first key frame; hysteresis 5 s)")
    print(f"{'case':34} {'want':12} {'right':>7} {'alert after':>12} {'CPU ms':>7}")
    for r in result["tamper"]:
        delay = "—" if r["alert_delay_s"] is None else f"{r['alert_delay_s']:.0f} s"
        print(f"{r['case']:34} {r['want']:12} {r['right']:7.1%} {delay:>12} {r['cpu_ms_per_frame']:7.2f}")
    print(f"tamper CPU per frame at 640×360: {result['tamper_640x360_cpu_ms']:.2f} ms")
    print("\nQueue counting (the post region as a queue zone; person 0.1 of the picture; hold 2 s)")
    print(f"{'variant':14} {'agreement':>10} {'max on whole':>13} {'CPU ms zone':>12} {'CPU ms whole':>13}")
    for r in result["queue"]:
        print(f"{r['variant']:14} {r['agreement']:10.1%} {r['max_count_whole']:13d} {r['cpu_ms_zone']:12.2f} "
              f"{r['cpu_ms_whole']:13.2f}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
