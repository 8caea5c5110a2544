"""Several processes writing one SQLite file (web workers, `supervision worker`) queue, none fails."""

from __future__ import annotations

import multiprocessing
import threading
import time
from multiprocessing.synchronize import Event
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlmodel import Session

from supervision.db import (
    WriteInReadTransaction,
    after_read,
    make_engine,
    session_scope,
    write_transaction_open,
)

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


# --- the rule: reads never write, writes are short ------------------------------------------------------


def test_a_read_session_refuses_to_write_and_queues_its_record_for_a_short_write(tmp_path: Path) -> None:
    """On SQLite a write in a read transaction upgrades it behind the write lock's back and fails
    whenever another writer committed since the read began; a read queues what it must record instead."""
    engine = make_engine(_prepare(tmp_path))
    with pytest.raises(WriteInReadTransaction), session_scope(engine) as session:
        session.execute(text("INSERT INTO counter (n, tag) VALUES (1, 'in a read')"))
    seen: list[bool] = []

    def record(write: Session) -> None:
        write.execute(text("INSERT INTO counter (n, tag) VALUES (2, 'after the read')"))
        seen.append(write_transaction_open())

    with session_scope(engine) as session:
        session.execute(text("SELECT count(*) FROM counter")).one()
        assert after_read(session, record)
        assert not seen  # not while the read is open
    assert seen == [True]
    with pytest.raises(RuntimeError), session_scope(engine) as session:
        after_read(session, record)
        raise RuntimeError("the read failed: nothing was shown, nothing is recorded")
    with session_scope(engine, write=True) as session:
        assert not after_read(session, record)  # a write session writes at once
        assert [tuple(r) for r in session.execute(text("SELECT n, tag FROM counter"))] == [(2, "after the read")]


def test_an_open_write_is_counted_for_its_thread_only(tmp_path: Path) -> None:
    engine = make_engine(_prepare(tmp_path))
    elsewhere: list[bool] = []
    with session_scope(engine, write=True) as session:
        assert not write_transaction_open()  # nothing begun yet
        session.execute(text("INSERT INTO counter (n, tag) VALUES (1, 'x')"))
        assert write_transaction_open()
        probe = threading.Thread(target=lambda: elsewhere.append(write_transaction_open()))
        probe.start()
        probe.join(30)
    assert elsewhere == [False]
    assert not write_transaction_open()
