"""Engine, sessions and migrations, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
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


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the pragmas and pool settings each database needs."""
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        database = sqlite_path(url)
        if database is None:
            kwargs["poolclass"] = StaticPool
        else:
            database.parent.mkdir(parents=True, exist_ok=True)
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
        return engine
    # pre_ping lets the pool survive a database restart: a dead connection is replaced, not used.
    # The pool keeps as many connections as requests are usually in flight: connections opened beyond it are
    # closed when returned, and opening one costs PostgreSQL a process (measured: 10 kept, 32 clients on two
    # web processes gave 232 orders/s; 24 kept gave 269).
    settings = get_settings()
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=settings.database_pool_size,
                         max_overflow=settings.database_max_overflow, pool_recycle=1800)


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
    if engine.dialect.name == "sqlite":
        return engine.execution_options(sqlite_immediate=True)
    return engine


@contextmanager
def session_scope(engine: Engine | None = None, *, write: bool = False) -> Iterator[Session]:
    """Open a session that commits on success and rolls back on error."""
    bind = engine or get_engine()
    with Session(writer(bind) if write else bind, expire_on_commit=False) as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


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
