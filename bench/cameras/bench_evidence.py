"""Evidence benchmark: how soon an event's evidence is written, against the real RTSP test server.

    .venv/bin/python bench/cameras/bench_evidence.py --events 5 --engine native ffmpeg

One camera (640×360, 25 fps, 1-s GOPs from GStreamer's RTSP server on loopback) read by an in-process
`IngestService` with the evidence recorder at its defaults (60-s buffer, clip 20 s before to 20 s after, a poll
every 2 s); after the buffer holds 25 s, events are opened one after another the way a scheduler job opens them (a
`video_event` row) and the delays are read from the evidence log: opening → start still, and the end of the clip's
window (opening + 20 s) → the clip logged; plus the clip's length and size and the buffer's memory.
Not a test: the figures go to the README (Benchmarks → evidence).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlmodel import Session, col, select  # noqa: E402

from tests.cameras.conftest import RtspServer, fast_settings, make_clip  # noqa: E402


def run(engine_name: str, events: int, server: RtspServer, workdir: Path) -> dict[str, float]:
    from cameras.evidence import EvidenceSettings
    from cameras.ingest import FrameRegistry
    from cameras.models import Camera, EvidenceItem, VideoEvent
    from cameras.worker import IngestService
    from supervision.db import make_engine, session_scope, upgrade, utcnow
    from supervision.models import Site

    db = workdir / f"{engine_name}.db"
    engine = make_engine(f"sqlite:///{db}")
    upgrade(engine, ("supervision", "cameras"))
    with session_scope(engine, write=True) as s:
        site = Site(code="B", name="bench", kind="city", path="/")
        s.add(site)
        s.flush()
        site.path = f"/{site.id}/"
        cam = Camera(site_id=int(site.id or 0), name="bench", host="127.0.0.1", port=554,
                     stream_uri_override=server.url("cam1"))
        s.add(cam)
        s.flush()
        site_id, cid = int(site.id or 0), int(cam.id or 0)
    es = EvidenceSettings(dir=workdir / f"evidence-{engine_name}")
    service = IngestService(engine, camera_settings=fast_settings(ingest_engine=engine_name, lease_seconds=15.0),
                            registry=FrameRegistry(), evidence=es)
    service.start()
    try:
        ends = time.monotonic() + 60
        while time.monotonic() < ends:
            held = service.held.get(cid)
            span = held.reader.clip_buffer.span() if held and held.reader.clip_buffer else None
            if span and (span[1] - span[0]).total_seconds() >= 25:
                break
            time.sleep(0.5)
        else:
            raise SystemExit("the buffer never held 25 s")
        start_delays, clip_delays, durations, sizes = [], [], [], []
        for _ in range(events):
            with session_scope(engine, write=True) as s:
                ev = VideoEvent(site_id=site_id, camera_id=cid, started_at=utcnow() - timedelta(minutes=15))
                s.add(ev)
                s.flush()
                eid, opened = int(ev.id or 0), ev.created_at
            deadline = time.monotonic() + es.after_seconds + 30
            got: dict[str, EvidenceItem] = {}
            while time.monotonic() < deadline and not {"start", "clip"} <= set(got):
                time.sleep(0.2)
                with Session(engine) as s:
                    got = {i.label: i for i in s.exec(select(EvidenceItem).where(col(EvidenceItem.event_id) == eid))}
            if not {"start", "clip"} <= set(got):
                raise SystemExit(f"event {eid}: evidence missing ({sorted(got)})")
            start_delays.append((got["start"].created_at - opened).total_seconds())
            clip_delays.append((got["clip"].created_at - opened).total_seconds() - es.after_seconds)
            durations.append(got["clip"].duration_s)
            sizes.append(got["clip"].size / 1e6)
            with session_scope(engine, write=True) as s:
                row = s.get(VideoEvent, eid)
                assert row is not None
                row.ended_at = utcnow()
                s.add(row)
        held = service.held[cid]
        buffer_mb = held.reader.clip_buffer.size / 1e6 if held.reader.clip_buffer else 0.0
    finally:
        service.stop()
        engine.dispose()
    return {"start_median": statistics.median(start_delays), "start_max": max(start_delays),
            "clip_median": statistics.median(clip_delays), "clip_max": max(clip_delays),
            "duration": statistics.median(durations), "size_mb": statistics.median(sizes), "buffer_mb": buffer_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=5)
    parser.add_argument("--engine", nargs="+", default=["native", "ffmpeg"])
    args = parser.parse_args()
    os.environ.setdefault("SUPERVISION_SECRET_KEY", "bench-evidence-key-not-secret-0123456789")
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        os.environ["SUPERVISION_VAR_DIR"] = str(workdir / "var")
        clip = make_clip(workdir / "main.mp4", source="testsrc2", size="640x360", seconds=10)
        server = RtspServer({"main": clip}, {"cam1": "main"})
        try:
            print("| engine | events | start still after opening (median / max) | clip after its window ends "
                  "(median / max) | clip length | clip size | buffer (60 s) | load |")
            print("|---|---|---|---|---|---|---|---|")
            for name in args.engine:
                r = run(name, args.events, server, workdir)
                print(f"| {name} | {args.events} | {r['start_median']:.2f} / {r['start_max']:.2f} s | "
                      f"{r['clip_median']:.2f} / {r['clip_max']:.2f} s | {r['duration']:.1f} s | "
                      f"{r['size_mb']:.2f} MB | {r['buffer_mb']:.1f} MB | {os.getloadavg()[0]:.1f} |", flush=True)
        finally:
            server.close()


if __name__ == "__main__":
    main()
