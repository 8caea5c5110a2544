from __future__ import annotations

import threading
import time

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from supervision.runtime import Runtime
from supervision.scheduler import Scheduler
from supervision.settings import get_settings


def _wait(predicate: object, seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_runtime_runs_the_scheduler_with_jobs_kept_in_the_database(engine: Engine) -> None:
    runtime = Runtime(engine, get_settings(), scheduler=True)
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
    runtime = Runtime(engine, get_settings())  # the test settings switch it off
    runtime.start()
    runtime.stop()
    assert runtime.scheduler is None


def test_only_one_scheduler_leads(engine: Engine) -> None:
    """PostgreSQL elects by an advisory lock, a SQLite file by an flock beside it (several web workers)."""
    first = Scheduler(engine, get_settings(), threading.Event())
    second = Scheduler(engine, get_settings(), threading.Event())
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
