from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from supervision.runtime import Runtime
from supervision.scheduler import SCHEDULER_LOCK_KEY, Scheduler
from supervision.settings import get_settings
from web.composition import scheduled_jobs


def _wait(predicate: object, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_runtime_runs_the_scheduler_with_jobs_kept_in_the_database(engine: Engine) -> None:
    runtime = Runtime(engine, get_settings(), jobs=scheduled_jobs(), scheduler=True)
    runtime.start()
    try:
        assert runtime.scheduler is not None
        assert _wait(lambda: runtime.scheduler is not None and runtime.scheduler.running)
        assert {"core.purge_sessions", "core.verify_audit"} <= set(runtime.scheduler.job_ids())
        with engine.connect() as conn:
            stored = {r[0] for r in conn.execute(sa.text("SELECT id FROM scheduler_job"))}
        assert {"core.purge_sessions", "core.verify_audit"} <= stored
    finally:
        runtime.stop()
    assert not runtime.scheduler.running


def test_the_scheduler_can_be_switched_off(engine: Engine) -> None:
    runtime = Runtime(engine, get_settings(), jobs=scheduled_jobs())  # the test settings switch it off
    runtime.start()
    runtime.stop()
    assert runtime.scheduler is None


def test_only_one_scheduler_leads(engine: Engine) -> None:
    """PostgreSQL elects by an advisory lock, a SQLite file by an flock beside it (several web workers)."""
    first = Scheduler(engine, get_settings(), threading.Event(), scheduled_jobs())
    second = Scheduler(engine, get_settings(), threading.Event(), scheduled_jobs())
    second.retry_seconds = 0.5
    first.start()
    assert _wait(lambda: first.running)
    second.start()
    time.sleep(1.0)
    try:
        assert first.running and not second.running
        first.stop()
        assert _wait(lambda: second.running), "the standby did not take over"
    finally:
        first.stop()
        second.stop()


def test_leader_keeps_its_lock_idle_under_idle_in_transaction_timeout(engine: Engine) -> None:
    """Managed PostgreSQL ends sessions idle in a transaction: the lock's session must sit 'idle', and two
    schedulers must never lead at once."""
    if engine.dialect.name != "postgresql":
        pytest.skip("the advisory lock is PostgreSQL's")
    url = engine.url.render_as_string(hide_password=False)
    # As a role or database setting would: every session of these engines is ended after 1 s idle in a transaction.
    strict = [sa.create_engine(url, connect_args={"options": "-c idle_in_transaction_session_timeout=1000"})
              for _ in range(2)]
    # The election only: no jobs, so none touches other databases.
    first = Scheduler(strict[0], get_settings(), threading.Event(), jobs=())
    second = Scheduler(strict[1], get_settings(), threading.Event(), jobs=())
    first.retry_seconds = second.retry_seconds = 1.0
    both: list[float] = []
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            if first.running and second.running:
                both.append(time.monotonic())
            time.sleep(0.02)

    def lock_sessions() -> list[str]:
        with engine.connect() as conn:
            return [str(r[0]) for r in conn.execute(sa.text(
                "SELECT a.state FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.objid = :k"), {"k": SCHEDULER_LOCK_KEY})]

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    first.start()
    try:
        assert _wait(lambda: first.running, 20)
        second.start()
        # Several timeouts and several checks of the lock pass: the leader keeps it, the standby stays one.
        ends = time.monotonic() + 6
        while time.monotonic() < ends:
            assert first.running and not second.running, "leadership moved while the leader lived"
            assert lock_sessions() == ["idle"], lock_sessions()
            time.sleep(0.5)
        first.stop()
        assert _wait(lambda: second.running, 20), "the standby did not take over"
        assert _wait(lambda: lock_sessions() == ["idle"], 5), lock_sessions()
    finally:
        watching.set()
        watcher.join(2)
        first.stop()
        second.stop()
        for e in strict:
            e.dispose()
    assert both == [], f"two schedulers led at once ({len(both)} samples)"
