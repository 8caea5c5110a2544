"""Ingest benchmark: N cameras served by the GStreamer RTSP server on loopback, read by `supervision worker`.

    .venv/bin/python bench/cameras/run.py --cameras 8 32 64 128 --size 1280x720 --seconds 60

For each N it runs the worker processes twice — key frames only (ours) and full decoding (the baseline) —
and prints one Markdown row per run: CPU-seconds per camera-hour of the ingest processes, memory per
camera, the minimum analysed-frame rate over cameras, the time to open all streams and the delay to
notice a dropped stream. Not a test: results go to bench/cameras/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, col, select  # noqa: E402

from tests.cameras.conftest import RtspServer, make_clip  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")


def proc_tree(pid: int) -> list[int]:
    out = [pid]
    for child in Path(f"/proc/{pid}/task").glob("*/children"):
        for c in child.read_text().split():
            out += proc_tree(int(c))
    return out


def cpu_seconds(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / TICK
        except (OSError, IndexError):
            pass
    return total


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


def run_once(n: int, server: RtspServer, decode: str, seconds: float, per_process: int,
             db_url: str) -> dict[str, float]:
    from cameras.models import Camera, CameraHealth, CameraStatus
    from supervision.db import make_engine, session_scope, upgrade

    engine = make_engine(db_url)
    upgrade(engine, ("supervision", "cameras"))
    from supervision.models import Site

    with session_scope(engine, write=True) as s:
        for table in (CameraHealth, Camera):
            for row in s.exec(select(table)).all():
                s.delete(row)
        site = s.exec(select(Site)).first()
        if site is None:
            site = Site(code="BENCH", name="bench", kind="city")
            s.add(site)
            s.flush()
        s.add_all([Camera(site_id=int(site.id or 0), name=f"cam{i}", host="127.0.0.1", port=10000 + i,
                          stream_uri_override=server.url(f"cam{i}")) for i in range(1, n + 1)])
    processes = max(1, -(-n // per_process))
    env = dict(os.environ, SUPERVISION_DATABASE_URL=db_url, SUPERVISION_CAMERA_DECODE=decode,
               SUPERVISION_CAMERA_MAX_CAMERAS_PER_PROCESS=str(per_process),
               SUPERVISION_CAMERA_CONNECT_STAGGER_SECONDS="0.02", SUPERVISION_CAMERA_LEASE_SECONDS="15",
               SUPERVISION_SECRET_KEY="bench-" + "k" * 40)
    started = time.monotonic()
    worker = subprocess.Popen([sys.executable, "-c", f"from cameras.worker import run_worker; "
                               f"raise SystemExit(run_worker({processes}))"], env=env, cwd=ROOT)

    def statuses() -> list[CameraHealth]:
        with Session(engine) as s:
            return list(s.exec(select(CameraHealth)).all())

    opened = float("nan")
    for _ in range(int(120 / 0.25)):
        if sum(h.status == CameraStatus.ONLINE for h in statuses()) >= n:
            opened = time.monotonic() - started
            break
        time.sleep(0.25)
    time.sleep(5)  # let the rates settle
    pids = proc_tree(worker.pid)
    server_pids = proc_tree(server.proc.pid)
    cpu0, s0, t0 = cpu_seconds(pids), cpu_seconds(server_pids), time.monotonic()
    time.sleep(seconds)
    cpu1, s1, t1 = cpu_seconds(pids), cpu_seconds(server_pids), time.monotonic()
    mem = rss_mb(pids)
    rows = statuses()
    min_rate = min((h.analysed_fps for h in rows), default=0.0)
    # Offline detection: drop one stream and time until the database says offline.
    with Session(engine) as s:
        first = s.exec(select(Camera.id).where(col(Camera.name) == "cam1")).one()
    server.command("drop cam1")
    dropped = time.monotonic()
    delay = float("nan")
    for _ in range(int(60 / 0.2)):
        with Session(engine) as s:
            h = s.get(CameraHealth, first)
            if h is not None and h.status == CameraStatus.OFFLINE:
                delay = time.monotonic() - dropped
                break
        time.sleep(0.2)
    server.command("resume cam1")
    os.kill(worker.pid, signal.SIGTERM)
    worker.wait(timeout=60)
    engine.dispose()
    cam_hours = n * (t1 - t0) / 3600
    return {"cpu_per_cam_hour": (cpu1 - cpu0) / cam_hours, "mem_per_cam_mb": mem / n, "min_rate": min_rate,
            "open_s": opened, "offline_s": delay, "processes": processes,
            "cpu_util": (cpu1 - cpu0) / (t1 - t0), "server_util": (s1 - s0) / (t1 - t0)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--per-process", type=int, default=32)
    ap.add_argument("--decode", nargs="+", default=["keyframes", "all"])
    ap.add_argument("--database-url", default="")
    ap.add_argument("--shared-feed", action="store_true",
                    help="cameras 2..N share one server feed, so the server's CPU does not crowd out the ingest")
    ap.add_argument("--bitrate", default="", help="encode the clip at this rate (e.g. 512k) instead of CRF")
    ap.add_argument("--source", default="testsrc2",
                    help="testsrc2 (a busy test pattern) or hall (the demo's synthetic hall, like a real camera)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-cameras-"))
    if args.source == "hall":
        from cameras.demo import render_hall_clip

        w, h = (int(v) for v in args.size.split("x"))
        clip = render_hall_clip(work / f"hall-{args.size}.mp4", seed=1, seconds=10, size=(w, h), fps=25)
    elif args.bitrate:
        # A camera-like rate: substreams are typically 256–768 kbit/s, 720p main streams 1–2 Mbit/s.
        clip = work / f"{args.source}-{args.size}-{args.bitrate}.mp4"
        subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-f", "lavfi", "-i",
                        f"{args.source}=size={args.size}:rate=25", "-t", "10", "-c:v", "libx264", "-preset",
                        "veryfast", "-g", "25", "-bf", "0", "-b:v", args.bitrate, "-maxrate", args.bitrate,
                        "-bufsize", "1M", "-pix_fmt", "yuv420p", str(clip)], check=True, timeout=300)
    else:
        clip = make_clip(work / f"clip-{args.size}.mp4", source=args.source, size=args.size, seconds=10)
    print("| N | stream | decode | procs | CPU-s per camera-hour | ingest CPU (cores) | MB per camera "
          "| min analysed fps | open all (s) | offline noticed (s) | RTSP server CPU (cores) |", flush=True)
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for n in args.cameras:
        if args.shared_feed:
            # cam1 keeps its own feed (the offline test drops it); cam2..camN share one feed.
            server = RtspServer({"main": clip}, {"cam1": "main"},
                                ("--count", str(n), "--prefix", "cam", "--shared-count"))
        else:
            server = RtspServer({"main": clip}, {f"cam{i}": "main" for i in range(1, n + 1)})
        try:
            for decode in args.decode:
                db = args.database_url or f"sqlite:///{work}/bench-{n}-{decode}.db"
                r = run_once(n, server, decode, args.seconds, args.per_process, db)
                stream = f"{args.size} {args.source} {args.bitrate}".strip()
                print(f"| {n} | {stream} | {decode} | {r['processes']} | {r['cpu_per_cam_hour']:.1f} "
                      f"| {r['cpu_util']:.2f} | {r['mem_per_cam_mb']:.1f} | {r['min_rate']:.2f} "
                      f"| {r['open_s']:.1f} | {r['offline_s']:.1f} | {r['server_util']:.2f} |", flush=True)
        finally:
            server.close()


if __name__ == "__main__":
    main()
