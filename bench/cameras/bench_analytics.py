"""CPU per camera-hour WITH analytics (issue 13, "Accuracy and speed"), beside ingest only, in the same run.

    .venv/bin/python bench/cameras/bench_analytics.py --cameras 16 --seconds 60

End to end: N hall cameras (the demo's drawn hall, 640×360, 10 fps, a key frame a second, staff coming and
going) served by the project's GStreamer RTSP server on loopback and read by `supervision worker` processes,
twice back to back on the same server: with no zones (ingest only) and with the demo's hall zones on every
camera (4 post zones and a queue zone), so the difference is what analytics costs. Figures: CPU-seconds per
camera-hour of the worker processes, the slowest camera's analysed frames per second, load average.

In process: the post detector's own cost on the clip's key frames (luma plane, as ingest hands it): per
analysed frame for the camera's 4 post zones, per zone, and the same detector run on the full frame instead
of the zones' crops. Not a test: figures go to the README ("Benchmarks") and bench/cameras/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet  # noqa: E402
from fleet import cpu_seconds, load_average, proc_tree  # noqa: E402
from sqlmodel import Session, select  # noqa: E402

from tests.cameras.conftest import RtspServer  # noqa: E402

FULL_FRAME = [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0)]


def hall_zones() -> tuple[list[list[tuple[float, float]]], list[tuple[float, float]]]:
    """The demo hall's four post zones and its queue zone (cameras.zones' demo layout)."""
    from cameras.zones import DEMO_POST_BOTTOM, DEMO_POST_TOP, DEMO_POST_WIDTH, DEMO_QUEUE, DEMO_WINDOW_X

    posts = [[(x, DEMO_POST_TOP), (x + DEMO_POST_WIDTH, DEMO_POST_TOP), (x + DEMO_POST_WIDTH, DEMO_POST_BOTTOM),
              (x, DEMO_POST_BOTTOM)] for x in DEMO_WINDOW_X]
    return posts, list(DEMO_QUEUE)


def run_workers(n: int, server: RtspServer, seconds: float, db_url: str, *, zones: bool,
                per_process: int = 32) -> dict[str, float]:
    """Ingest N cameras with or without the hall's zones; CPU of the worker processes over `seconds`."""
    from cameras.models import CameraHealth, Zone, ZoneKind
    from supervision.db import session_scope

    engine, site_id, cams = fleet.seed_cameras(db_url, server, n)
    if zones:
        posts, queue = hall_zones()
        with session_scope(engine, write=True) as s:
            for camera_id in cams:
                for k, polygon in enumerate(posts):
                    s.add(Zone(camera_id=camera_id, site_id=site_id, name=f"post{k + 1}", kind=ZoneKind.POST,
                               polygon_json=json.dumps(polygon)))
                s.add(Zone(camera_id=camera_id, site_id=site_id, name="queue", kind=ZoneKind.QUEUE,
                           polygon_json=json.dumps(queue)))
    load0 = load_average()
    workers = fleet.start_workers(n, db_url, per_process=per_process, decode="keyframes", engine_name="native")
    fleet.wait_online(engine, n)
    time.sleep(8)  # rates settle; the zones' detectors have learnt their backgrounds
    pids = [p for w in workers for p in proc_tree(w.pid)]
    cpu0, t0 = cpu_seconds(pids), time.monotonic()
    time.sleep(seconds)
    cpu1, t1 = cpu_seconds(pids), time.monotonic()
    with Session(engine) as s:
        rates = [h.analysed_fps for h in s.exec(select(CameraHealth)).all()]
        from cameras.models import ZonePresence
        changes = len(s.exec(select(ZonePresence.id)).all())
    fleet.stop_workers(workers)
    engine.dispose()
    return {"cpu_per_cam_hour": (cpu1 - cpu0) / (n * (t1 - t0) / 3600), "min_rate": min(rates, default=0.0),
            "online": float(len(rates)), "load": (load0 + load_average()) / 2, "presence_rows": float(changes)}


def key_frames(path: Path) -> list[np.ndarray]:
    """The clip's key frames as ingest analyses them: the luma plane."""
    out = []
    with av.open(str(path)) as src:
        stream = src.streams.video[0]
        stream.codec_context.skip_frame = "NONKEY"
        for frame in src.decode(stream):
            out.append(frame.to_ndarray(format="gray"))
    return out


def detector_cost(frames: list[np.ndarray], repeat: int = 5) -> dict[str, float]:
    """Process CPU of the post detector per analysed frame: 4 zone crops, one zone, the full frame."""
    from cameras.presence import PostPresence

    posts, queue = hall_zones()

    def per_frame(polygons: list[list[tuple[float, float]]]) -> float:
        best = float("inf")
        for _ in range(repeat):  # the best of a few runs: the machine is shared
            zones = [PostPresence.for_zone(i, p, 2.0, 2.0) for i, p in enumerate(polygons)]
            start = time.process_time()
            for k, grey in enumerate(frames):
                for z in zones:
                    z.update(grey, float(k))
            best = min(best, (time.process_time() - start) / len(frames))
        return best * 1000

    four = per_frame(posts)
    with_queue = per_frame([*posts, queue])
    one = per_frame(posts[:1])
    full = per_frame([FULL_FRAME])
    return {"four_posts_ms": four, "four_posts_and_queue_ms": with_queue, "per_zone_ms": four / 4,
            "one_zone_ms": one, "full_frame_ms": full}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=16)
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--database-url", default="")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-analytics-"))
    from cameras.demo import render_hall_clip

    clip = render_hall_clip(work / "hall.mp4", seed=1, seconds=60)
    frames = key_frames(clip)
    cost = detector_cost(frames)
    print(f"# {platform.node()} · {os.cpu_count()} CPU · {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC", flush=True)
    print(f"detector on {len(frames)} key frames of 640×360 (ms CPU per analysed frame, best of 5): "
          f"4 post zones {cost['four_posts_ms']:.2f} (per zone {cost['per_zone_ms']:.2f}), "
          f"4 posts + queue {cost['four_posts_and_queue_ms']:.2f}, one zone {cost['one_zone_ms']:.2f}, "
          f"full frame {cost['full_frame_ms']:.2f}; at 1 frame/s the 4 zones are "
          f"{cost['four_posts_ms'] * 3.6:.1f} CPU-s per camera-hour", flush=True)
    server = RtspServer({"hall": clip}, {f"cam{i}": "hall" for i in range(1, args.cameras + 1)})
    print("| N | stream | mode | CPU-s per camera-hour | slowest camera analysed/s | cameras online | "
          "presence changes | load avg |", flush=True)
    print("|---|---|---|---|---|---|---|---|", flush=True)
    try:
        for zones in (False, True):
            db = args.database_url or f"sqlite:///{work}/bench-{'zones' if zones else 'ingest'}.db"
            r = run_workers(args.cameras, server, args.seconds, db, zones=zones)
            mode = "4 post zones + queue zone" if zones else "ingest only"
            print(f"| {args.cameras} | 640×360 hall, 10 fps, GOP 1 s | {mode} | {r['cpu_per_cam_hour']:.1f} "
                  f"| {r['min_rate']:.2f} | {r['online']:.0f} | {r['presence_rows']:.0f} | {r['load']:.1f} |",
                  flush=True)
    finally:
        server.close()


if __name__ == "__main__":
    main()
