"""Engine, sessions and migrations, for SQLite (default) and PostgreSQL."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import DateTime, Table, event, text
from sqlalchemy.engine import Dialect, Engine
from sqlalchemy.pool import StaticPool
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel, create_engine

from supervision.settings import get_settings

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


def make_engine(url: str, *, echo: bool = False) -> Engine:
    """Create an engine with the pragmas and pool settings each database needs."""
    if url.startswith("sqlite"):
        kwargs: dict[str, Any] = {"connect_args": {"check_same_thread": False, "timeout": 30}}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs["poolclass"] = StaticPool
        else:
            path = url.split("///", 1)[1]
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
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

        # Writers of this process queue on a lock of ours rather than in SQLite's busy handler, which
        # sleeps in steps of up to 100 ms and so makes a tail of slow requests under concurrent writes.
        # A plain Lock, not an RLock: a request's transaction may begin in one pool thread and end in another.
        write_lock = threading.Lock()

        def _sqlite_begin(conn: Any) -> None:
            # A transaction that reads and then writes in WAL mode fails at once (SQLITE_BUSY_SNAPSHOT)
            # if another writer committed in between; BEGIN IMMEDIATE takes the write lock first instead.
            immediate = conn.get_execution_options().get("sqlite_immediate", False)
            if not immediate:
                conn.exec_driver_sql("BEGIN")
                return
            if not write_lock.acquire(timeout=30):
                raise TimeoutError("another write transaction held the SQLite database for 30 s")
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
    return create_engine(url, echo=echo, pool_pre_ping=True, pool_size=10, max_overflow=20, pool_recycle=1800)


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
