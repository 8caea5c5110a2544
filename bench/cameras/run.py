"""Ingest benchmark: N cameras served by the GStreamer RTSP server on loopback, read by `supervision worker`.

    .venv/bin/python bench/cameras/run.py --cameras 8 32 64 128 --size 1280x720 --seconds 60
    .venv/bin/python bench/cameras/run.py --cameras 128 256 --size 640x360 --bitrate 512k --shared-feed \
        --decode keyframes --engine ffmpeg native --seconds 30

For each N it runs the worker processes once per decode mode (key frames only, or full decoding as the
baseline) and per ingest engine (`--engine ffmpeg native`: FFmpeg's RTSP demuxer, or cameras/rtsp.py on one
asyncio loop per process), the engines back to back on the same server, and prints one Markdown row per
run: CPU-seconds per camera-hour of the ingest processes, memory per camera, the minimum analysed-frame rate
over cameras, the time to open all streams, the delay to notice a dropped stream and the load average.
Not a test: results go to bench/cameras/RESULTS.md.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import fleet  # noqa: E402
from fleet import TICK, cpu_seconds, load_average, proc_tree  # noqa: E402
from sqlmodel import Session, col, select  # noqa: E402

from tests.cameras.conftest import RtspServer, make_clip  # noqa: E402


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


def machine_busy_seconds() -> float:
    """CPU-seconds all cores spent not idle (user+nice+system+irq+softirq+steal) since boot."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / TICK


def run_once(n: int, server: RtspServer, decode: str, seconds: float, per_process: int,
             db_url: str, engine_name: str = "ffmpeg", native_poll: float = 0.1,
             native_mode: str = "loop") -> dict[str, float]:
    from cameras.models import Camera, CameraHealth, CameraStatus

    engine, _site, _cameras = fleet.seed_cameras(db_url, server, n)
    load = load_average()
    started = time.monotonic()
    workers = fleet.start_workers(n, db_url, per_process=per_process, decode=decode, engine_name=engine_name,
                            native_poll=native_poll, native_mode=native_mode)

    def statuses() -> list[CameraHealth]:
        with Session(engine) as s:
            return list(s.exec(select(CameraHealth)).all())

    opened = time.monotonic() - started if fleet.wait_online(engine, n) else float("nan")
    time.sleep(5)  # let the rates settle
    pids = [p for w in workers for p in proc_tree(w.pid)]
    server_pids = proc_tree(server.proc.pid)
    cpu0, s0, m0, t0 = cpu_seconds(pids), cpu_seconds(server_pids), machine_busy_seconds(), time.monotonic()
    time.sleep(seconds)
    cpu1, s1, m1, t1 = cpu_seconds(pids), cpu_seconds(server_pids), machine_busy_seconds(), time.monotonic()
    mem = rss_mb(pids)
    threads = sum(len(list(Path(f"/proc/{p}/task").iterdir())) for p in pids if Path(f"/proc/{p}").exists())
    rows = statuses()
    min_rate = min((h.analysed_fps for h in rows), default=0.0)
    slow = sorted((h.analysed_fps, h.camera_id) for h in rows)[:5]
    print(f"# {engine_name} N={n}: slowest cameras (analysed fps, id) {slow}", file=sys.stderr, flush=True)
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
    fleet.stop_workers(workers)
    engine.dispose()
    cam_hours = n * (t1 - t0) / 3600
    return {"cpu_per_cam_hour": (cpu1 - cpu0) / cam_hours, "mem_per_cam_mb": mem / n, "min_rate": min_rate,
            "open_s": opened, "offline_s": delay, "processes": len(workers),
            "cpu_util": (cpu1 - cpu0) / (t1 - t0), "server_util": (s1 - s0) / (t1 - t0),
            "load": load, "threads": threads,
            "others": ((m1 - m0) - (cpu1 - cpu0) - (s1 - s0)) / (t1 - t0)}


def run_in_process(n: int, server: RtspServer, seconds: float, engine_name: str, native_poll: float,
                   native_mode: str, stub_decoder: bool) -> dict[str, float]:
    """N readers in this process, no database or service: the reader's own cost (the design comparison)."""
    import resource

    from cameras import rtsp_reader
    from cameras.ingest import CameraReader, FrameRegistry
    from tests.cameras.conftest import fast_settings

    rtsp_reader.POLL_SECONDS, rtsp_reader.MODE = native_poll, native_mode
    saved = rtsp_reader.NativeCameraReader._decode
    if stub_decoder:
        rtsp_reader.NativeCameraReader._decode = lambda *a: None  # type: ignore[method-assign]
    registry = FrameRegistry()
    cls = rtsp_reader.NativeCameraReader if engine_name == "native" else CameraReader
    readers = [cls(i, server.url(f"cam{i}"), fast_settings(), registry) for i in range(1, n + 1)]
    try:
        for r in readers:
            r.start()
        time.sleep(6)
        c0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        time.sleep(seconds)
        c1, t1 = resource.getrusage(resource.RUSAGE_SELF), time.monotonic()
        rates = [r.state.stats.figures(t1)[3] for r in readers]
    finally:
        for r in readers:
            r.stop()
        for r in readers:
            r.join(10)
        rtsp_reader.NativeCameraReader._decode = saved  # type: ignore[method-assign]
    cpu = (c1.ru_utime - c0.ru_utime) + (c1.ru_stime - c0.ru_stime)
    return {"cpu_per_cam_hour": cpu / (n * (t1 - t0) / 3600), "min_rate": min(rates),
            "switches": (c1.ru_nvcsw - c0.ru_nvcsw) + (c1.ru_nivcsw - c0.ru_nivcsw)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, nargs="+", default=[8, 32])
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--seconds", type=float, default=60)
    ap.add_argument("--per-process", type=int, default=32)
    ap.add_argument("--decode", nargs="+", default=["keyframes", "all"])
    ap.add_argument("--engine", nargs="+", default=["ffmpeg"], choices=["ffmpeg", "native"],
                    help="ingest engines to run, back to back on the same server for each N and decode mode")
    ap.add_argument("--native-poll", type=float, default=0.1, help="native engine: seconds between socket drains")
    ap.add_argument("--native-mode", default="loop", choices=["loop", "threads"],
                    help="native engine: one asyncio loop per process, or a thread per camera (for comparison)")
    ap.add_argument("--database-url", default="")
    ap.add_argument("--shared-feed", action="store_true",
                    help="cameras 2..N share one server feed, so the server's CPU does not crowd out the ingest")
    ap.add_argument("--bitrate", default="", help="encode the clip at this rate (e.g. 512k) instead of CRF")
    ap.add_argument("--source", default="testsrc2",
                    help="testsrc2 (a busy test pattern) or hall (the demo's synthetic hall, like a real camera)")
    ap.add_argument("--in-process", action="store_true",
                    help="readers in this process without the service (reader cost only; --engine, --native-*)")
    ap.add_argument("--stub-decoder", action="store_true", help="--in-process native: skip decoding (transport only)")
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
    if args.in_process:
        print("| N | stream | engine | decoder | CPU-s per camera-hour | context switches | min analysed fps |",
              flush=True)
        print("|---|---|---|---|---|---|---|", flush=True)
        for n in args.cameras:
            server = RtspServer({"main": clip}, {"cam1": "main"},
                                ("--count", str(n), "--prefix", "cam", "--shared-count"))
            try:
                for engine_name in args.engine:
                    r = run_in_process(n, server, args.seconds, engine_name, args.native_poll, args.native_mode,
                                       args.stub_decoder and engine_name == "native")
                    label = engine_name if engine_name == "ffmpeg" else \
                        f"native ({args.native_mode}, {args.native_poll:g} s)"
                    decoder = "stubbed" if args.stub_decoder and engine_name == "native" else "key frames"
                    print(f"| {n} | {args.size} {args.bitrate} | {label} | {decoder} | {r['cpu_per_cam_hour']:.1f} "
                          f"| {r['switches']:.0f} | {r['min_rate']:.2f} |", flush=True)
            finally:
                server.close()
        return
    print("| N | stream | decode | engine | procs | threads | CPU-s per camera-hour | ingest CPU (cores) "
          "| MB per camera | min analysed fps | open all (s) | offline noticed (s) | RTSP server CPU (cores) "
          "| other CPU (cores) | load avg (1 min) |", flush=True)
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    for n in args.cameras:
        if args.shared_feed:
            # cam1 keeps its own feed (the offline test drops it); cam2..camN share one feed.
            server = RtspServer({"main": clip}, {"cam1": "main"},
                                ("--count", str(n), "--prefix", "cam", "--shared-count"))
        else:
            server = RtspServer({"main": clip}, {f"cam{i}": "main" for i in range(1, n + 1)})
        try:
            for decode in args.decode:
                for engine_name in args.engine:
                    db = args.database_url or f"sqlite:///{work}/bench-{n}-{decode}-{engine_name}.db"
                    r = run_once(n, server, decode, args.seconds, args.per_process, db, engine_name,
                                 args.native_poll, args.native_mode)
                    stream = f"{args.size} {args.source} {args.bitrate}".strip()
                    label = engine_name
                    if engine_name == "native":
                        label += f" ({args.native_mode}" + (f", {args.native_poll:g} s" if args.native_mode == "loop"
                                                            else "") + ")"
                    print(f"| {n} | {stream} | {decode} | {label} | {r['processes']} | {r['threads']} "
                          f"| {r['cpu_per_cam_hour']:.1f} | {r['cpu_util']:.2f} | {r['mem_per_cam_mb']:.1f} "
                          f"| {r['min_rate']:.2f} | {r['open_s']:.1f} | {r['offline_s']:.1f} "
                          f"| {r['server_util']:.2f} | {r['others']:.2f} | {r['load']:.2f} |", flush=True)
        finally:
            server.close()


if __name__ == "__main__":
    main()
