"""APScheduler (3.x) with a persistent job store; exactly one scheduler runs across all processes.

The scheduler runs the jobs it is given: `web/composition.py` (`scheduled_jobs`) lists the core's
(`CORE_JOBS`, below) and each domain's; nothing registers a job by being imported. The runtime starts the
scheduler when `scheduler_enabled` is set. On PostgreSQL an advisory lock elects the one process that runs jobs,
on a SQLite file an flock beside it; the others wait on standby and take over if it goes away.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

from supervision.db import sqlite_path, writer
from supervision.settings import Settings

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per SQLite file
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

SCHEDULER_LOCK_KEY = 804_196_196  # any constant shared by all processes of one installation


@dataclass(frozen=True)
class JobSpec:
    """A job the scheduler runs: `func` is a textual reference "module:function" (the store keeps it)."""

    id: str
    func: str
    trigger: str  # "interval" | "cron"
    trigger_args: dict[str, Any] = field(default_factory=dict)


class Scheduler:
    """Owns the APScheduler instance and the leadership lock (PostgreSQL advisory lock or SQLite file lock)."""

    def __init__(self, engine: Engine, settings: Settings, stop_event: threading.Event,
                 jobs: Sequence[JobSpec]) -> None:
        self.engine = engine
        self.settings = settings
        self.stop_event = stop_event
        self.jobs = tuple(jobs)
        self._scheduler: BackgroundScheduler | None = None
        self._lock_conn: Connection | None = None
        self._lock_file: BinaryIO | None = None
        self.retry_seconds = 15.0  # how often a standby tries to become the leader
        self._thread: threading.Thread | None = None

    @property
    def running(self) -> bool:
        return self._scheduler is not None and bool(self._scheduler.running)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="scheduler-leader", daemon=True)
        self._thread.start()

    def _try_lead(self) -> bool:
        if self.engine.dialect.name == "sqlite":
            return self._try_lead_file()
        if self.engine.dialect.name != "postgresql":
            return True
        try:
            # Autocommit: the session holds the lock between statements without a transaction open, so it
            # is "idle" — not "idle in transaction", which held back VACUUM and which managed PostgreSQL
            # ends after idle_in_transaction_session_timeout, losing the lock to a standby (two leaders).
            conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            got = conn.execute(text("SELECT pg_try_advisory_lock(:k)"), {"k": SCHEDULER_LOCK_KEY}).scalar()
            if got:
                self._lock_conn = conn
                return True
            conn.close()
        except Exception:
            logger.exception("cannot reach the database to elect the scheduler")
        return False

    def _try_lead_file(self) -> bool:
        """SQLite: the processes sharing a database file (web workers) elect by an flock beside it."""
        database = sqlite_path(self.engine.url.render_as_string(hide_password=False))
        if database is None or fcntl is None:
            return True
        handle = open(database.with_name(database.name + "-scheduler.lock"), "a+b")  # noqa: SIM115 - held
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._lock_file = handle
        return True

    def _run(self) -> None:
        while not self.stop_event.is_set():
            if self._try_lead():
                break
            self.stop_event.wait(self.retry_seconds)
        if self.stop_event.is_set():
            return
        tz = self.settings.tz
        scheduler = BackgroundScheduler(
            # The job store reads then writes: on SQLite that needs BEGIN IMMEDIATE (the writer engine).
            jobstores={"default": SQLAlchemyJobStore(engine=writer(self.engine), tablename="scheduler_job")},
            executors={"default": ThreadPoolExecutor(4)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
            timezone=tz,
        )
        for spec in self.jobs:
            scheduler.add_job(spec.func, spec.trigger, id=spec.id, replace_existing=True, **spec.trigger_args)
        scheduler.start()
        self._scheduler = scheduler
        logger.info("scheduler running %d jobs", len(self.jobs))
        # Check the lock twice as often as a standby tries to take it: a leader whose session ended (the
        # database restarted, the connection was killed) steps down before a standby can start beside it.
        while not self.stop_event.wait(self.retry_seconds / 2):
            if self._lock_conn is not None and not self._still_holds_lock():
                logger.warning("lost the scheduler lock; stepping down")
                self._step_down()
                self._run()
                return

    def _still_holds_lock(self) -> bool:
        """True while our session still holds the advisory lock (asked of pg_locks, not assumed)."""
        assert self._lock_conn is not None
        try:
            held = self._lock_conn.execute(text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() "
                "AND granted AND objsubid = 1 AND ((classid::bigint << 32) | objid::bigint) = :k"),
                {"k": SCHEDULER_LOCK_KEY}).scalar()
        except Exception:
            return False
        return bool(held)

    def _step_down(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
            self._scheduler = None
        self._release_lock()

    def _release_lock(self) -> None:
        """Unlock and drop the lock's connection: a pooled connection would keep the lock alive."""
        handle, self._lock_file = self._lock_file, None
        if handle is not None:
            handle.close()  # closing the file releases its flock
        conn, self._lock_conn = self._lock_conn, None
        if conn is None:
            return
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": SCHEDULER_LOCK_KEY})
        except Exception:
            logger.debug("lock connection already gone")
        conn.invalidate()
        conn.close()

    def stop(self) -> None:
        self.stop_event.set()
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=True)
            self._scheduler = None
        self._release_lock()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def job_ids(self) -> list[str]:
        return [j.id for j in self._scheduler.get_jobs()] if self._scheduler else []


# --- the core's own jobs ----------------------------------------------------------------------


def purge_expired_sessions() -> None:
    """Delete sessions and login attempts that no longer matter."""
    from datetime import timedelta

    from sqlmodel import col, delete

    from supervision.db import session_scope, utcnow
    from supervision.models import AuthSession, LoginAttempt

    now = utcnow()
    with session_scope(write=True) as session:
        session.exec(delete(AuthSession).where(col(AuthSession.expires_at) < now - timedelta(days=7)))
        session.exec(delete(LoginAttempt).where(col(LoginAttempt.at) < now - timedelta(days=30)))


def verify_audit_chain() -> None:
    """Check the audit chain every night and shout in the log if it is broken."""
    from supervision import audit
    from supervision.db import session_scope

    with session_scope() as session:
        broken = audit.verify(session)
    if broken is not None:
        logger.error("AUDIT CHAIN BROKEN at %s", broken)
    else:
        logger.info("audit chain verified")


CORE_JOBS: tuple[JobSpec, ...] = (
    JobSpec("core.purge_sessions", "supervision.scheduler:purge_expired_sessions", "cron", {"hour": 3, "minute": 10}),
    JobSpec("core.verify_audit", "supervision.scheduler:verify_audit_chain", "cron", {"hour": 2, "minute": 30}),
    # After the 04:00 attendance-day boundary, so yesterday's evening punches are in.
    JobSpec("attendance.daily", "supervision.attendance.jobs:run_daily", "cron", {"hour": 4, "minute": 30}),
)
