"""Engine, sessions and migrations, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import re
import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Table, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from supervision.settings import get_settings

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger(__name__)

CORE_MIGRATIONS = "supervision"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Store timestamps as UTC; SQLite forgets the zone, so we put it back on the way out."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL, or None for an in-memory database."""
    if url in ("sqlite://", "sqlite:///:memory:") or "///" not in url:
        return None
    return Path(url.split("///", 1)[1].split("?", 1)[0])


class WriteLock:
    """One SQLite writer at a time: a thread lock, plus an flock beside the file for other processes.

    Only the thread holding the thread lock asks for the file lock, so a process competes with one
    thread. SQLite's own busy handler would instead sleep in steps of up to 100 ms.
    Where fcntl is missing (Windows), the thread lock alone remains and SQLite's busy handler
    arbitrates between processes.
    """

    def __init__(self, database: Path | None) -> None:
        self._thread_lock = threading.Lock()
        self._file: Any = None
        if database is not None and fcntl is not None:
            self._file = open(database.with_name(database.name + "-writer.lock"), "a+b")  # noqa: SIM115 - held open

    def acquire(self, timeout: float) -> None:
        if not self._thread_lock.acquire(timeout=timeout):
            raise TimeoutError(f"another write transaction held the SQLite database for {timeout:.0f} s")
        if self._file is None or fcntl is None:
            return
        try:
            # Blocking, in the kernel: woken as soon as the holder lets go, or dies (the lock goes with its
            # process). Polling with LOCK_NB was measured: the releasing process re-took the lock before the
            # sleeping one woke, p99 573 ms against 95 ms blocking (2 web workers, 8 connections).
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX)
        except BaseException:
            self._thread_lock.release()
            raise

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_UN)
        self._thread_lock.release()


# --- the rule: a write transaction is short ---------------------------------------------------------
# No transaction that writes is open across network I/O, a sleep or an await on anything but the database:
# on SQLite the write lock is global, so whatever a writer waits for, every writer of the service waits for.
# Reads that must leave a record (an audited view) queue it with `after_read`; it is written in a short write
# transaction of its own once the read has ended. The helpers below let tests check the rule.

WRITE_OPTION = "supervision_write"
READ_OPTION = "supervision_read"
_WRITE_SQL = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@dataclass
class OpenWrites:
    """How many write transactions a request (or a thread) has open."""

    count: int = 0


# A request's count lives in a context variable, which its pool threads and tasks inherit; outside a request
# each thread counts for itself (a context copied from a thread must not see that thread's later writes).
_request_writes: ContextVar[OpenWrites | None] = ContextVar("supervision_request_writes", default=None)
_thread_writes = threading.local()


def track_write_transactions() -> OpenWrites:
    """Start counting the write transactions of this request (call where the request begins)."""
    tracker = OpenWrites()
    _request_writes.set(tracker)
    return tracker


def _current_writes() -> OpenWrites:
    tracker = _request_writes.get()
    if tracker is None:
        tracker = getattr(_thread_writes, "tracker", None)
        if tracker is None:
            tracker = _thread_writes.tracker = OpenWrites()
    return tracker


def write_transaction_open() -> bool:
    """Whether the current request (or, outside one, the current thread) holds a write transaction open."""
    return _current_writes().count > 0


class WriteInReadTransaction(RuntimeError):
    """A statement that writes ran in a transaction opened for reading."""


# "log" in production (a missed case must not break a page), "raise" in the test suite.
READ_GUARD = "log"


def _writes_begin(conn: Any) -> None:
    if not conn.get_execution_options().get(WRITE_OPTION, False):
        return
    tracker = _current_writes()
    tracker.count += 1
    # The transaction may end in another thread of the same request: remember whose count to lower. On the
    # Connection itself, not in its `info`, which an invalidated connection refuses to show until rolled back.
    conn.__dict__["_supervision_open_writes"] = tracker


def _writes_end(conn: Any) -> None:
    tracker = conn.__dict__.pop("_supervision_open_writes", None)
    if tracker is not None:
        tracker.count -= 1


def _refuse_write_in_read(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
    if conn.get_execution_options().get(READ_OPTION, False) and _WRITE_SQL.match(statement):
        # On SQLite such a statement upgrades a read to a write behind the write lock's back, and fails
        # ("database is locked") whenever another writer committed since the read began.
        if READ_GUARD == "raise":
            raise WriteInReadTransaction(f"a read transaction wrote: {statement[:120]}")
        logger.warning("a read transaction wrote (queue it with after_read): %s", statement[:120])


def _install_rule_listeners(engine: Engine) -> None:
    event.listen(engine, "begin", _writes_begin)
    event.listen(engine, "commit", _writes_end)
    event.listen(engine, "rollback", _writes_end)
    event.listen(engine, "before_cursor_execute", _refuse_write_in_read)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the pragmas and pool settings each database needs."""
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        database = sqlite_path(url)
        if database is None:
            kwargs["poolclass"] = StaticPool
        else:
            database.parent.mkdir(parents=True, exist_ok=True)
            # As many kept connections as requests in flight: one opened beyond the pool is closed when
            # returned, and the next request opens another and runs the pragmas again (3 % of a busy web
            # process's CPU with SQLAlchemy's default of 5, beside four readers, four intake clients and ingest).
            settings = get_settings()
            kwargs.update(pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow)
        engine = create_engine(url, echo=echo, **kwargs)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # We issue BEGIN ourselves (below), so a write transaction can take the lock up front.
            dbapi_connection.isolation_level = None

        # Writers queue on a lock of ours rather than in SQLite's busy handler, which sleeps in steps of up
        # to 100 ms and so makes a tail of slow requests under concurrent writes: a thread lock within the
        # process and, for a database file, an flock on a file beside it across processes (web workers,
        # `supervision worker`). A plain Lock, not an RLock: a request's transaction may begin in one pool
        # thread and end in another.
        write_lock = WriteLock(database)
        weakref.finalize(engine, write_lock.close)

        def _sqlite_begin(conn: Any) -> None:
            # A transaction that reads and then writes in WAL mode fails at once (SQLITE_BUSY_SNAPSHOT)
            # if another writer committed in between; BEGIN IMMEDIATE takes the write lock first instead.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            if not immediate:
                conn.exec_driver_sql("BEGIN")
                return
            write_lock.acquire(timeout=30)
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            except BaseException:
                write_lock.release()
                raise
            conn.info["sqlite_write_lock"] = True

        def _sqlite_end(conn: Any) -> None:
            if conn.info.pop("sqlite_write_lock", False):
                write_lock.release()

        event.listen(engine, "begin", _sqlite_begin)
        event.listen(engine, "commit", _sqlite_end)
        event.listen(engine, "rollback", _sqlite_end)
        _install_rule_listeners(engine)
        return engine
    # pre_ping lets the pool survive a database restart: a dead connection is replaced, not used.
    # The pool keeps as many connections as requests are usually in flight: connections opened beyond it are
    # closed when returned, and opening one costs PostgreSQL a process (measured: 10 kept, 32 clients on two
    # web processes gave 232 orders/s; 24 kept gave 269).
    settings = get_settings()
    engine = create_engine(url, echo=echo, pool_pre_ping=True, pool_size=settings.database_pool_size,
                           max_overflow=settings.database_max_overflow, pool_recycle=1800)
    _install_rule_listeners(engine)
    return engine


@lru_cache
def get_engine() -> Engine:
    """Return the process-wide engine for the configured database."""
    return make_engine(get_settings().effective_database_url)


def table_of(model: type[SQLModel]) -> Table:
    """The Core table of a table model, for statements built once and run with parameters."""
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


def writer(engine: Engine) -> Engine:
    """The same engine, for a transaction that will write (SQLite: BEGIN IMMEDIATE)."""
    options: dict[str, Any] = {WRITE_OPTION: True, READ_OPTION: False}
    if engine.dialect.name == "sqlite":
        options["sqlite_immediate"] = True
    return engine.execution_options(**options)


def reader(engine: Engine) -> Engine:
    """The same engine, for a transaction that only reads (a statement that writes is refused in tests)."""
    return engine.execution_options(**{READ_OPTION: True, WRITE_OPTION: False, "sqlite_immediate": False})


_AFTER_READ = "supervision_after_read"


def read_session(engine: Engine) -> Session:
    """A session for reading; writes it must leave behind are queued with `after_read`."""
    return Session(reader(engine), expire_on_commit=False, info={_AFTER_READ: []})


def after_read(session: Session, unit: Callable[[Session], object]) -> bool:
    """Queue a write for after this read session ends (False: the session may write, do it now)."""
    pending = session.info.get(_AFTER_READ)
    if pending is None:
        return False
    pending.append(unit)
    return True


def queued_after_read(session: Session) -> list[Callable[[Session], object]]:
    """Take the writes a read session queued (to run them once its transaction has ended)."""
    pending: list[Callable[[Session], object]] = session.info.get(_AFTER_READ) or []
    units = list(pending)
    pending.clear()
    return units


def write_after_read(session: Session, engine: Engine) -> None:
    """Run the writes a read session queued, in one short write transaction (call after it committed)."""
    units = queued_after_read(session)
    if not units:
        return
    with session_scope(engine, write=True) as write:
        for unit in units:
            unit(write)


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error.

    A read session (write=False) runs what it queued with `after_read` in a short write once it committed.
    """
    bind = engine or get_engine()
    with Session(writer(bind), expire_on_commit=False) if write else read_session(bind) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        if not write:
            write_after_read(session, bind)


def database_name(engine: Engine) -> str:
    """Name the database an engine reaches, without its password."""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        return f"sqlite:{url.database or ':memory:'}"
    return f"{url.get_backend_name()}://{url.host}:{url.port or ''}/{url.database}"


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def alembic_config(engine: Engine, packages: Sequence[str] = (CORE_MIGRATIONS,)) -> Config:
    """Build an Alembic config whose version locations are each package's `migrations/versions`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("supervision") / "migrations"))
    locations = [
        str(resources.files(pkg) / "migrations" / "versions")
        for pkg in packages
        if (resources.files(pkg) / "migrations" / "versions").is_dir()
    ]
    cfg.set_main_option("version_locations", " ".join(locations))
    cfg.set_main_option("path_separator", "space")
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, packages: Sequence[str] = (CORE_MIGRATIONS,)) -> None:
    """Apply every migration of the given packages (all heads)."""
    command.upgrade(alembic_config(engine, packages), "heads")
    logger.info("database %s is at the newest schema", database_name(engine))
