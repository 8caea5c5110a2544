"""Group commit: many small write units in one transaction, each in a savepoint of its own.

The intake of the hotline, the rating pads and the telephony system is many small, independent writes.
Run one by one, each pays for taking the write lock, its commit, and — on SQLite, where writers take turns —
the time the lock holder spends waiting for Python's GIL while request threads parse and answer HTTP.
A `WriteBatcher` gives the writes of a process to one thread: it takes what is queued (up to `max_batch`),
runs each unit in a savepoint (a unit that fails is rolled back alone and its caller gets the error), commits
once, and then answers every caller. A caller waits no longer than its own unit plus those queued before it.

Each unit sees the effects of the units before it in the same batch (idempotency keys, numbers, the audit
chain), exactly as if they had committed one after the other.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session

from supervision.db import writer

logger = logging.getLogger(__name__)

T = TypeVar("T")
Unit = Callable[[Session], Any]
_STOP = object()


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

    def submit(self, unit: Callable[[Session], T]) -> Future[T]:
        """Queue `unit(session)` for the next batch; the future holds its result once committed, or its error."""
        self._ensure_started()
        future: Future[T] = Future()
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
        done: list[tuple[Future[Any], Any]] = []
        failed: list[tuple[Future[Any], BaseException]] = []
        try:
            with Session(writer(self.engine), expire_on_commit=False) as session:
                live = [(unit, future) for unit, future in batch if future.set_running_or_notify_cancel()]
                if len(live) == 1:
                    # Alone in its batch: no savepoint needed, its failure rolls back the transaction.
                    unit, future = live[0]
                    try:
                        done.append((future, unit(session)))
                    except BaseException as exc:
                        session.rollback()
                        failed.append((future, exc))
                    live = []
                for unit, future in live:
                    try:
                        # The context manager rolls the savepoint back on any error, a failed flush included.
                        with session.begin_nested():
                            result = unit(session)
                    except BaseException as exc:  # the unit's error is its caller's, not the batch's
                        failed.append((future, exc))
                        continue
                    done.append((future, result))
                session.commit()
        except BaseException as exc:
            # The commit itself failed (database gone, disk full): nobody's unit was kept.
            logger.warning("a batch of %d writes failed to commit: %s", len(batch), exc)
            for future, _ in done:
                future.set_exception(exc)
            for future, error in failed:
                future.set_exception(error)
            return
        self.batches += 1
        self.units += len(batch)
        for future, result in done:
            future.set_result(result)
        for future, error in failed:
            future.set_exception(error)


__all__ = ["WriteBatcher"]
