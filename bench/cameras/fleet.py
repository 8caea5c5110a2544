"""The camera benches' fleet: N cameras of the RTSP server in a database, the ingest processes that read them,
and what those processes cost (from /proc).

Shared by run.py and bench_analytics.py.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlmodel import Session, select

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from tests.cameras.conftest import RtspServer

ROOT = Path(__file__).resolve().parents[2]
TICK = os.sysconf("SC_CLK_TCK")

# One ingest process of the benchmark: `IngestService` as `supervision worker` runs it, with the engine chosen
# here so that the bench works whether or not cameras/worker.py reads `ingest_engine` yet; both engines are
# started the same way (no multiprocessing parent), so their figures compare.
CHILD = """
import os, cameras.worker as w
if os.environ['BENCH_ENGINE'] == 'native':
    import cameras.rtsp_reader as r
    r.POLL_SECONDS = float(os.environ.get('BENCH_NATIVE_POLL', r.POLL_SECONDS))
    r.MODE = os.environ.get('BENCH_NATIVE_MODE', r.MODE)
    w.CameraReader = r.NativeCameraReader
w._child_main(0)
"""


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


def load_average() -> float:
    return float(Path("/proc/loadavg").read_text().split()[0])


def seed_cameras(db_url: str, server: RtspServer, n: int) -> tuple[Engine, int, list[int]]:
    """The database at `db_url` with cam1..camN of `server` as its only cameras (no zones): the engine, the site
    and the cameras' ids."""
    from cameras.models import Camera, CameraHealth, Zone
    from supervision.db import make_engine, session_scope, upgrade
    from supervision.models import Site, SiteKind

    engine = make_engine(db_url)
    upgrade(engine, ("supervision", "cameras"))
    with session_scope(engine, write=True) as s:
        for table in (Zone, CameraHealth, Camera):
            for row in s.exec(select(table)).all():
                s.delete(row)
        site = s.exec(select(Site)).first()
        if site is None:
            site = Site(code="BENCH", name="bench", kind=SiteKind.CITY)
            s.add(site)
            s.flush()
        site_id = int(site.id or 0)
        cams = [Camera(site_id=site_id, name=f"cam{i}", host="127.0.0.1", port=10000 + i,
                       stream_uri_override=server.url(f"cam{i}")) for i in range(1, n + 1)]
        s.add_all(cams)
        s.flush()
        return engine, site_id, [int(c.id or 0) for c in cams]


def start_workers(n: int, db_url: str, *, per_process: int, decode: str, engine_name: str,
                  native_poll: float = 0.1, native_mode: str = "loop") -> list[subprocess.Popen[bytes]]:
    """The ingest processes for N cameras, `per_process` cameras each."""
    processes = max(1, -(-n // per_process))
    env = dict(os.environ, SUPERVISION_DATABASE_URL=db_url, SUPERVISION_CAMERA_DECODE=decode,
               SUPERVISION_CAMERA_MAX_CAMERAS_PER_PROCESS=str(per_process),
               SUPERVISION_CAMERA_CONNECT_STAGGER_SECONDS="0.02", SUPERVISION_CAMERA_LEASE_SECONDS="15",
               SUPERVISION_SECRET_KEY="bench-" + "k" * 40, SUPERVISION_CAMERA_INGEST_ENGINE=engine_name,
               BENCH_ENGINE=engine_name, BENCH_NATIVE_POLL=str(native_poll), BENCH_NATIVE_MODE=native_mode)
    return [subprocess.Popen([sys.executable, "-c", CHILD], env=env, cwd=ROOT) for _ in range(processes)]


def wait_online(engine: Engine, n: int, *, timeout: float = 120.0) -> bool:
    """Whether all N cameras came online within `timeout` seconds."""
    from cameras.models import CameraHealth, CameraStatus

    ends = time.monotonic() + timeout
    while time.monotonic() < ends:
        with Session(engine) as s:
            if sum(h.status == CameraStatus.ONLINE for h in s.exec(select(CameraHealth)).all()) >= n:
                return True
        time.sleep(0.25)
    return False


def stop_workers(workers: list[subprocess.Popen[bytes]]) -> None:
    """Stop the ingest processes as the service would (SIGTERM), killing any that does not end within a minute."""
    for w in workers:
        os.kill(w.pid, signal.SIGTERM)
    for w in workers:
        try:
            w.wait(timeout=60)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait(timeout=10)
