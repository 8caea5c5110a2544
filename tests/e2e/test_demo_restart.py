"""Starting the demo again on the same var/ (a second `make demo`) brings every virtual camera back online.

The first start registers the virtual cameras; each later start serves them on new ports and probes them again.
The ingest, which claims the cameras at once, must then read the new streams (it read the stored, dead ones
for ever: all six cameras stayed offline after a restart). Also after a kill -9, whose leases only expire, and
whose RTSP server child must not be left running.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cameras.demo import DEMO_FOOTAGE
from tests.e2e.conftest import _free_port

pytestmark = pytest.mark.slow

CAMERAS = 3  # drawn halls asked for; the real-footage camera comes beside them when its clip is there
SHOWN = CAMERAS + (1 if DEMO_FOOTAGE.exists() else 0)


def _transport() -> str:
    from cameras.demo import gstreamer_available

    return "rtsp" if gstreamer_available() else "http"


def _start(var: Path, log: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(var), "SUPERVISION_SCHEDULER_ENABLED": "false",
           "SUPERVISION_INGEST_ENABLED": "true", "SUPERVISION_PASSWORD_HASH_FAST": "true",
           "SUPERVISION_DATABASE_URL": "", "SUPERVISION_CAMERA_DEMO_CAMERAS": str(CAMERAS),
           "SUPERVISION_CAMERA_DEMO_CLIP_SECONDS": "8", "SUPERVISION_CAMERA_DEMO_TRANSPORT": _transport()}
    env.pop("SUPERVISION_SECRET_KEY", None)
    with open(log, "ab") as out:
        return subprocess.Popen([sys.executable, "-m", "web", "serve", "--demo", "--port", str(_free_port())],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def _health(db: Path) -> list[tuple[int, str, str]]:
    if not db.exists():
        return []
    try:
        with sqlite3.connect(db, timeout=10) as conn:
            return list(conn.execute("SELECT h.camera_id, h.status, h.worker_id FROM camera_health h "
                                     "JOIN camera c ON c.id = h.camera_id WHERE c.is_demo ORDER BY 1"))
    except sqlite3.OperationalError:  # tables not migrated yet
        return []


def _wait_all_online(proc: subprocess.Popen[bytes], db: Path, log: Path, limit: float) -> float:
    """Wait until every demo camera is online as read by this server's ingest; return the seconds it took."""
    started = time.monotonic()
    marker = f"-{proc.pid}-"
    rows: list[tuple[int, str, str]] = []
    while time.monotonic() - started < limit:
        assert proc.poll() is None, "server exited: " + log.read_text(errors="replace")[-3000:]
        rows = _health(db)
        if len(rows) == SHOWN and all(status == "ONLINE" and marker in worker for _, status, worker in rows):
            return time.monotonic() - started
        time.sleep(0.5)
    raise AssertionError(f"cameras not all online within {limit} s: {rows}\n"
                         + log.read_text(errors="replace")[-3000:])


def _zones(db: Path) -> tuple[list[tuple[int, str, int]], int]:
    """(camera id, zone kind, zones) of the demo cameras, and how many presence spans ingest has written."""
    with sqlite3.connect(db, timeout=10) as conn:
        zones = list(conn.execute("SELECT z.camera_id, z.kind, count(*) FROM zone z JOIN camera c ON c.id = "
                                  "z.camera_id WHERE c.is_demo GROUP BY 1, 2 ORDER BY 1, 2"))
        spans = int(conn.execute("SELECT count(*) FROM zone_presence").fetchone()[0])
    return zones, spans


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        state = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()  # the server we started, by its handle
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


def test_second_and_third_start_bring_every_camera_back(tmp_path: Path) -> None:
    var, log = tmp_path / "var", tmp_path / "server.log"
    db = var / "supervision.db"
    first = _start(var, log)
    try:
        # The first start renders the clips; a loaded machine takes its time.
        _wait_all_online(first, db, log, 240)
        # Every demo camera got its hall's zones, and ingest writes the posts' presence.
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _zones(db)[1] == 0:
            time.sleep(0.5)
        zones, spans = _zones(db)
        assert len({cid for cid, _, _ in zones}) == SHOWN and ("POST" in {k for _, k, _ in zones}), zones
        assert spans > 0
    finally:
        _stop(first)
    second = _start(var, log)
    try:
        took = _wait_all_online(second, db, log, 90)
        assert took < 60, f"a restart took {took:.0f} s to bring the cameras back"
        helpers = _children(second.pid)
        second.send_signal(signal.SIGKILL)  # a crash: its leases stay behind until they expire
        second.wait(timeout=10)
        # The demo's RTSP server (a child of the killed server) must not keep serving on its own.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and any(_alive(p) for p in helpers):
            time.sleep(0.2)
        assert not any(_alive(p) for p in helpers), [p for p in helpers if _alive(p)]
    finally:
        _stop(second)
    third = _start(var, log)
    try:
        # The killed server's leases expire first (one lease period, 15 s).
        took = _wait_all_online(third, db, log, 90)
        assert took < 60, f"a start after a crash took {took:.0f} s to bring the cameras back"
        assert _zones(db)[0] == zones  # drawn once: restarts neither add nor lose zones
    finally:
        _stop(third)
