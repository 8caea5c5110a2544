"""Several processes writing one SQLite file (web workers, `supervision worker`) queue, none fails."""

from __future__ import annotations

import multiprocessing
import time
from multiprocessing.synchronize import Event
from pathlib import Path

from sqlalchemy import text

from supervision.db import make_engine, session_scope

WRITES = 150


def _writer(url: str, tag: str, ready: Event) -> None:
    engine = make_engine(url)
    ready.wait(10)
    for n in range(WRITES):
        with session_scope(engine, write=True) as session:
            # Read then write in one transaction: without the write lock up front, SQLite refuses the
            # second writer at once (SQLITE_BUSY_SNAPSHOT) instead of letting it wait.
            last = session.execute(text("SELECT coalesce(max(n), 0) FROM counter")).scalar_one()
            session.execute(text("INSERT INTO counter (n, tag) VALUES (:n, :tag)"), {"n": last + 1, "tag": f"{tag}{n}"})


def _holder(url: str, held: Event) -> None:
    engine = make_engine(url)
    with session_scope(engine, write=True) as session:
        session.execute(text("INSERT INTO counter (n, tag) VALUES (0, 'holder')"))
        held.set()
        time.sleep(1.0)


def _prepare(tmp_path: Path) -> str:
    url = f"sqlite:///{(tmp_path / 'shared.db').as_posix()}"
    with session_scope(make_engine(url), write=True) as session:
        session.execute(text("CREATE TABLE counter (n INTEGER NOT NULL, tag TEXT NOT NULL UNIQUE)"))
    return url


def test_processes_sharing_a_file_take_turns(tmp_path: Path) -> None:
    url = _prepare(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(url, tag, ready)) for tag in ("a", "b", "c")]
    for proc in procs:
        proc.start()
    ready.set()
    for proc in procs:
        proc.join(120)
    assert [proc.exitcode for proc in procs] == [0, 0, 0]
    with session_scope(make_engine(url)) as session:
        count, distinct, top = session.execute(text("SELECT count(*), count(DISTINCT n), max(n) FROM counter")).one()
    # Every write landed, and each saw the one before it (no two read the same maximum).
    assert count == distinct == top == 3 * WRITES


def test_a_writer_waits_for_another_process_instead_of_failing(tmp_path: Path) -> None:
    url = _prepare(tmp_path)
    ctx = multiprocessing.get_context("spawn")
    held = ctx.Event()
    holder = ctx.Process(target=_holder, args=(url, held))
    holder.start()
    try:
        assert held.wait(30)
        engine = make_engine(url)
        started = time.monotonic()
        with session_scope(engine, write=True) as session:
            session.execute(text("INSERT INTO counter (n, tag) VALUES (1, 'waiter')"))
        waited = time.monotonic() - started
    finally:
        holder.join(30)
    assert holder.exitcode == 0
    # It waited for the holder's transaction (about a second), then wrote.
    assert 0.5 < waited < 1.5
