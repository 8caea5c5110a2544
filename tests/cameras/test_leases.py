"""Leases: two workers share cameras, never read one twice, and take over a stopped worker's cameras."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from cameras.ingest import FrameRegistry
from cameras.models import CameraHealth, CameraStatus, IngestLease
from cameras.worker import IngestService
from tests.cameras.conftest import RtspServer, fast_settings, wait_for
from tests.cameras.test_ingest import add_cameras


def leases(engine: Engine) -> dict[int, str]:
    with Session(engine) as s:
        return {lease.camera_id: lease.worker_id for lease in s.exec(select(IngestLease)).all()}


@pytest.mark.slow
def test_two_workers_share_and_fail_over(engine: Engine, org_data: SimpleNamespace, rtsp: RtspServer) -> None:
    cids = add_cameras(engine, org_data.city, [rtsp.url(f"cam{i}") for i in range(1, 5)])
    settings = fast_settings(lease_seconds=6.0, max_cameras_per_process=4)
    a = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-a")
    b = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-b")
    overlap: list[set[int]] = []
    watching = threading.Event()

    def watch() -> None:
        # No camera may ever be read by both workers at once.
        while not watching.is_set():
            reading_a = {c for c, h in list(a.held.items()) if h.reader.state.opened}
            reading_b = {c for c, h in list(b.held.items()) if h.reader.state.opened}
            if reading_a & reading_b:
                overlap.append(reading_a & reading_b)
            time.sleep(0.02)

    a.start()
    b.start()
    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        assert wait_for(lambda: len(leases(engine)) == 4, 10)
        # A fair share: each holds half (2 of 4) once both are alive; whoever started first hands back its surplus.
        def shares() -> list[int]:
            held = list(leases(engine).values())
            return sorted(held.count(w) for w in ("worker-a", "worker-b"))

        assert wait_for(lambda: shares() == [2, 2], 3 * settings.lease_seconds + 10), (shares(), leases(engine))
        assert wait_for(lambda: len(a.held) == len(b.held) == 2 and set(a.held) | set(b.held) == set(cids), 10)
        def statuses() -> list[CameraStatus | None]:
            with Session(engine) as s:
                return [(h.status if (h := s.get(CameraHealth, c)) else None) for c in cids]

        assert wait_for(lambda: statuses() == [CameraStatus.ONLINE] * 4, 15), (statuses(), leases(engine))
        stopped_at = time.monotonic()
        a.stop()  # a graceful stop releases at once; a crash is covered by expiry below
        assert wait_for(lambda: set(leases(engine).values()) == {"worker-b"} and len(leases(engine)) == 4, 10)
        assert time.monotonic() - stopped_at < settings.lease_seconds + 3
        # Now kill b without releasing (a crash): a new worker takes over after expiry.
        b._own_stop.set()
        assert b._thread is not None
        b._thread.join(5)
        b._stop_readers(list(b.held))  # the readers die with the process; the leases stay behind
        c = IngestService(engine, camera_settings=settings, registry=FrameRegistry(), worker_id="worker-c")
        crashed_at = time.monotonic()
        c.start()
        try:
            assert wait_for(lambda: set(leases(engine).values()) == {"worker-c"}, settings.lease_seconds + 8)
            assert time.monotonic() - crashed_at >= settings.lease_seconds - 1.5  # not before expiry
        finally:
            c.stop()
    finally:
        watching.set()
        watcher.join(2)
        a.stop() if a.held else None
        b.stop()
    assert overlap == []


@pytest.mark.slow
def test_reader_that_lapsed_reads_again_once_its_lease_is_renewed(engine: Engine, org_data: SimpleNamespace,
                                                                   rtsp: RtspServer) -> None:
    """A stalled lease round makes a reader stop itself; the next renewal starts it again (it stayed dead)."""
    [cid] = add_cameras(engine, org_data.city, [rtsp.url("cam1")])
    svc = IngestService(engine, camera_settings=fast_settings(lease_seconds=6.0), registry=FrameRegistry())
    svc.start()
    try:
        assert wait_for(lambda: cid in svc.held and svc.held[cid].reader.state.opened, 15)
        first = svc.held[cid].reader
        svc.held[cid].valid_until = 0.0  # as if the renewal came too late: the reader sees its lease gone
        assert wait_for(lambda: not first.is_alive(), 10)
        assert wait_for(lambda: svc.held[cid].reader is not first and svc.held[cid].reader.state.opened, 15)
    finally:
        svc.stop()


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


def _running(pid: int) -> bool:
    try:
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_worker_logs_in_our_format_and_its_child_dies_with_its_killed_parent(tmp_path: Path) -> None:
    """`supervision worker` logs with timestamps; kill -9 of it leaves no ingest process running under PID 1."""
    env = {**os.environ, "SUPERVISION_VAR_DIR": str(tmp_path / "var"), "SUPERVISION_DATABASE_URL": "",
           "SUPERVISION_PASSWORD_HASH_FAST": "true"}
    env.pop("SUPERVISION_SECRET_KEY", None)
    log = tmp_path / "worker.log"
    with open(log, "wb") as out:
        parent = subprocess.Popen([sys.executable, "-m", "web", "worker", "--processes", "1"], env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    child = 0
    try:
        # The ingest child is the spawned python running cameras.worker (not multiprocessing's resource tracker).
        def ingest_children() -> list[int]:
            return [p for p in _children(parent.pid)
                    if b"spawn_main" in (Path("/proc") / str(p) / "cmdline").read_bytes()]

        assert wait_for(lambda: len(ingest_children()) == 1 and "ingest worker" in log.read_text(errors="replace"),
                        90), log.read_text(errors="replace")[-3000:]
        [child] = ingest_children()
        # Our log format in the parent and in the spawned child, though onvif's import set up another.
        text = log.read_text(errors="replace")
        stamp = r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO cameras\.worker: "
        assert re.search(stamp + r"supervision worker: 1 ingest processes", text, re.M), text[-3000:]
        assert re.search(stamp + r"ingest worker \S+ started", text, re.M), text[-3000:]
        assert not re.search(r"^(DEBUG|INFO|WARNING|ERROR):", text, re.M), text[-3000:]
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=10)
        assert wait_for(lambda: not _running(child), 30), f"ingest child {child} outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=10)
        if child and _running(child):
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)  # only when the test failed: the child we caused to start
