"""Where the ingest's CPU goes per packet: N readers in one process against the real RTSP server.

    .venv/bin/python bench/cameras/profile_reader.py --cameras 8 --seconds 20 --size 1280x720

Variants (same process, one after the other): demux only; demux + decode key frames; demux + decode +
the thumbnail the analysis uses; the project's CameraReader as deployed.
"""

from __future__ import annotations

import argparse
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

import av

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.cameras.conftest import RtspServer, make_clip  # noqa: E402


def is_idr(head: bytes) -> bool:
    i = 0
    for _ in range(6):
        i = head.find(b"\x00\x00\x01", i)
        if i < 0 or i + 3 >= len(head):
            return False
        kind = head[i + 3] & 0x1F
        if kind in (5, 7):
            return True
        if kind in (1,):
            return False
        i += 3
    return False


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def variant_loop(uri: str, stop: threading.Event, mode: str, counts: list[int]) -> None:
    transport = "udp" if mode.endswith("-udp") else "tcp"
    options = {"rtsp_transport": transport}
    if "noparse" in mode:
        # No AVParser over every byte of the stream; key frames are told from the NAL unit types instead.
        options["fflags"] = "noparse+nofillin"
    if mode.startswith("demux-nopytimeout"):
        # FFmpeg's own socket timeout (microseconds) instead of PyAV's Python interrupt callback.
        options["timeout"] = "5000000"
        container = av.open(uri, options=options)
    else:
        container = av.open(uri, options=options, timeout=(10, 5))
    stream = container.streams.video[0]
    ctx = stream.codec_context
    ctx.thread_count = 1
    ctx.thread_type = "NONE"
    ctx.skip_frame = "NONKEY"
    for packet in container.demux(stream):
        if stop.is_set():
            break
        counts[0] += 1
        if "noparse" in mode and packet.size:
            head = bytes(memoryview(packet)[:64])
            counts.append(1 if is_idr(head) else 0) if len(counts) < 400 else None
            if len(counts) < 60 and packet.is_keyframe:
                counts.append(-1)
        if mode.startswith("demux") or not packet.is_keyframe:
            continue
        for frame in ctx.decode(packet):
            counts[1] += 1
            if mode == "thumb":
                frame.reformat(width=64, height=36, format="gray").to_ndarray()
    container.close()


def measure(label: str, n: int, seconds: float, start: Any) -> None:
    stop = threading.Event()
    counts = [0, 0]
    threads = start(stop, counts)
    time.sleep(4)  # connect and settle
    c0, t0, p0 = cpu(), time.monotonic(), counts[0]
    time.sleep(seconds)
    c1, t1, p1 = cpu(), time.monotonic(), counts[0]
    stop.set()
    for t in threads:
        t.join(10)
    per_cam_hour = (c1 - c0) / (n * (t1 - t0) / 3600)
    print(f"{label:28s} {per_cam_hour:7.1f} CPU-s per camera-hour  ({(p1 - p0) / (t1 - t0) / n:.1f} packets/s/cam)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cameras", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--size", default="1280x720")
    ap.add_argument("--source", default="testsrc2")
    ap.add_argument("--modes", nargs="+", default=["demux", "demux-nopytimeout", "demux-udp",
                                                    "demux-nopytimeout-udp", "keyframes", "thumb"])
    args = ap.parse_args()
    clip = make_clip(ROOT / "var" / "bench" / f"{args.source}-{args.size}.mp4", source=args.source,
                     size=args.size, seconds=10)
    server = RtspServer({"main": clip}, {f"cam{i}": "main" for i in range(1, args.cameras + 1)})
    try:
        uris = [server.url(f"cam{i}") for i in range(1, args.cameras + 1)]
        for mode in args.modes:
            def start(stop: threading.Event, counts: list[int], mode: str = mode) -> list[threading.Thread]:
                ts = [threading.Thread(target=variant_loop, args=(u, stop, mode, counts), daemon=True) for u in uris]
                for t in ts:
                    t.start()
                return ts
            measure(mode, args.cameras, args.seconds, start)

        from cameras.ingest import CameraReader, FrameRegistry
        from tests.cameras.conftest import fast_settings

        def start_readers(stop: threading.Event, counts: list[int]) -> list[Any]:
            registry = FrameRegistry()
            readers = [CameraReader(i, u, fast_settings(), registry) for i, u in enumerate(uris, 1)]
            for r in readers:
                r.start()

            def stopper() -> None:
                stop.wait()
                for r in readers:
                    r.stop()
            t = threading.Thread(target=stopper, daemon=True)
            t.start()
            return [*readers, t]
        measure("CameraReader (deployed)", args.cameras, args.seconds, start_readers)
    finally:
        server.close()


if __name__ == "__main__":
    main()
