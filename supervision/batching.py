"""Group commit: many small write units in one transaction, each in a savepoint of its own.

The intake of the hotline, the rating pads and the telephony system is many small, independent writes.
Run one by one, each pays for taking the write lock, its commit, and — on SQLite, where writers take turns —
the time the lock holder spends waiting for Python's GIL while request threads parse and answer HTTP.
A `WriteBatcher` gives the writes of a process to one thread: it takes what is queued (up to `max_batch`),
runs each unit in a savepoint (a unit that fails is rolled back alone and its caller gets the error), commits
once, and then answers every caller. A caller waits no longer than its own unit plus those queued before it.

Each unit sees the effects of the units before it in the same batch (idempotency keys, numbers, the audit
chain), exactly as if they had committed one after the other.

A batch first runs straight, without savepoints: on PostgreSQL each savepoint and its release are two round
trips, a third of a unit's. If a unit fails, the transaction is rolled back and the batch runs again with
a savepoint around each unit, so only that unit fails. Units therefore must act on the database only
(no message sent, no file written): a unit may run twice, and only its committed run counts.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision.db import writer

logger = logging.getLogger(__name__)

T = TypeVar("T")
Unit = Callable[[Session], Any]
_STOP = object()


@dataclass(frozen=True)
class Staged(Generic[T]):
    """What a unit returns when its work has three parts, so that the hot rows are held only briefly.

    The unit itself did the checks and the writes nobody else waits for (validation, look-ups, its
    idempotency key). `finish(session)` takes the rows every writer queues on (the day's number, the
    audit chain's head, the statistics row) and returns the result. `present(result)` shapes the answer
    after the commit, outside the transaction. In a batch run straight, every unit's first part runs
    before any unit's `finish`: the first parts of a batch overlap the other processes' locks.
    """

    finish: Callable[[Session], Any]
    present: Callable[[Any], T] | None = None

    def complete(self, session: Session) -> T:
        """All three parts at once, for a caller that is not in a batch."""
        result = self.finish(session)
        return self.present(result) if self.present is not None else result


class WriteBatcher:
    """One writer thread per process that commits queued write units in batches."""

    def __init__(self, engine: Engine, *, max_batch: int = 32, name: str = "write-batcher") -> None:
        self.engine = engine
        self.max_batch = max_batch
        self.name = name
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()
        self.batches = 0
        self.units = 0

    @overload
    def submit(self, unit: Callable[[Session], Staged[T]]) -> Future[T]: ...

    @overload
    def submit(self, unit: Callable[[Session], T]) -> Future[T]: ...

    def submit(self, unit: Callable[[Session], Any]) -> Future[Any]:
        """Queue `unit(session)` for the next batch; the future holds its result once committed, or its error."""
        self._ensure_started()
        future: Future[Any] = Future()
        self._queue.put((unit, future))
        return future

    def run(self, unit: Callable[[Session], T], timeout: float = 60.0) -> T:
        """Run `unit(session)` in the next batch and return its result once committed (or raise its error)."""
        return self.submit(unit).result(timeout=timeout)

    def stop(self) -> None:
        thread = self._thread
        if thread is not None:
            self._queue.put(_STOP)
            thread.join(timeout=10)
            self._thread = None

    def _ensure_started(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
                self._thread.start()

    def _loop(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            batch = [first]
            stop = False
            while len(batch) < self.max_batch:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if item is _STOP:
                    stop = True
                    break
                batch.append(item)
            self._commit(batch)
            if stop:
                return

    def _commit(self, batch: list[tuple[Unit, Future[Any]]]) -> None:
        live = [(unit, future) for unit, future in batch if future.set_running_or_notify_cancel()]
        if not live:
            return
        outcome = self._run_straight(live)
        if outcome is None:
            # A unit failed: run the batch again, each unit in a savepoint, so it fails alone.
            outcome = self._run_isolated(live)
        done, failed = outcome
        self.batches += 1
        self.units += len(live)
        for future, result in done:
            future.set_result(result)
        for future, error in failed:
            future.set_exception(error)

    def _run_straight(self, live: list[tuple[Unit, Future[Any]]]) -> _Outcome | None:
        """Every unit in one transaction without savepoints (two round trips fewer each); None if one failed.

        A lone unit's failure is final and returned as its result; with others in the batch the
        transaction is rolled back and nothing is answered yet.
        """
        try:
            with Session(writer(self.engine), expire_on_commit=False) as session:
                try:
                    firsts = [unit(session) for unit, _ in live]  # every unit's checks before any hot row
                    results = [_finish(session, value) for value in firsts]
                except BaseException as exc:  # the unit's error is its caller's, not the batch's
                    session.rollback()
                    return ([], [(live[0][1], exc)]) if len(live) == 1 else None
                session.commit()
                # Inside the session's block: should a presentation read anything, its transaction ends here.
                return _present([(future, result) for (_, future), result in zip(live, results, strict=True)])
        except BaseException as exc:
            return self._commit_failed(live, exc)

    def _run_isolated(self, live: list[tuple[Unit, Future[Any]]]) -> _Outcome:
        done: list[tuple[Future[Any], Any]] = []
        failed: list[tuple[Future[Any], BaseException]] = []
        try:
            with Session(writer(self.engine), expire_on_commit=False) as session:
                for unit, future in live:
                    try:
                        # The context manager rolls the savepoint back on any error, a failed flush included.
                        with session.begin_nested():
                            result = _finish(session, unit(session))
                    except BaseException as exc:
                        failed.append((future, exc))
                        continue
                    done.append((future, result))
                session.commit()
                presented, unpresentable = _present(done)
                return presented, unpresentable + failed
        except BaseException as exc:
            return self._commit_failed(live, exc)

    def _commit_failed(self, live: list[tuple[Unit, Future[Any]]], exc: BaseException) -> _Outcome:
        # The commit itself failed (database gone, disk full): nobody's unit was kept.
        logger.warning("a batch of %d writes failed to commit: %s", len(live), exc)
        return [], [(future, exc) for _, future in live]


_Outcome = tuple[list[tuple[Future[Any], Any]], list[tuple[Future[Any], BaseException]]]


class _Finished:
    """A staged unit's result before its presentation."""

    __slots__ = ("present", "value")

    def __init__(self, value: Any, present: Callable[[Any], Any] | None) -> None:
        self.value = value
        self.present = present


def _finish(session: Session, value: Any) -> Any:
    if isinstance(value, Staged):
        return _Finished(value.finish(session), value.present)
    return value


def _present(done: list[tuple[Future[Any], Any]]) -> _Outcome:
    """After the commit: shape each staged result (a failure here is its caller's alone)."""
    presented: list[tuple[Future[Any], Any]] = []
    failed: list[tuple[Future[Any], BaseException]] = []
    for future, value in done:
        if isinstance(value, _Finished):
            try:
                value = value.present(value.value) if value.present is not None else value.value
            except BaseException as exc:
                failed.append((future, exc))
                continue
        presented.append((future, value))
    return presented, failed


__all__ = ["Staged", "WriteBatcher"]
