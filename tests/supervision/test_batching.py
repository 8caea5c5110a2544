"""Group commit: units of one batch commit together, a failing unit is rolled back alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future
from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from supervision import audit
from supervision.access import SYSTEM
from supervision.batching import Staged, WriteBatcher
from supervision.models import AuditEntry, WorkdayOverride

START = date(2031, 1, 1)


def _add_day(n: int) -> object:
    def unit(session: Session) -> int:
        session.add(WorkdayOverride(day=START + timedelta(days=n), is_workday=True, name=f"d{n}"))
        session.flush()
        audit.record(session, SYSTEM, "calendar.override", object_kind="workday", object_id=n)
        return n

    return unit


def _fail(session: Session) -> None:
    session.add(WorkdayOverride(day=START + timedelta(days=500), is_workday=True, name="doomed"))
    session.flush()
    raise ValueError("refused by the unit")


def test_units_queued_together_commit_as_one_batch_and_a_failure_stays_alone(engine: Engine) -> None:
    batcher = WriteBatcher(engine)
    gate, running = threading.Event(), threading.Event()

    def hold(session: Session) -> bool:  # holds the writer while the rest queue up
        running.set()
        return gate.wait(10)

    try:
        first = batcher.submit(hold)
        assert running.wait(10)
        futures: list[Future[object]] = []
        for n in range(12):
            futures.append(batcher.submit(_fail if n == 5 else _add_day(n)))  # type: ignore[arg-type]
        duplicate = batcher.submit(_add_day(3))  # the same day again: the database refuses it
        gate.set()
        assert first.result(10) is True
        results = []
        for n, future in enumerate(futures):
            if n == 5:
                with pytest.raises(ValueError, match="refused by the unit"):
                    future.result(10)
            else:
                results.append(future.result(10))
        with pytest.raises(IntegrityError):
            duplicate.result(10)
    finally:
        batcher.stop()
    assert results == [n for n in range(12) if n != 5]
    assert batcher.batches == 2  # the first unit alone, then all the queued ones in one transaction
    with Session(engine) as s:
        days = s.exec(select(WorkdayOverride.name).where(col(WorkdayOverride.day) >= START)).all()
        entries = s.exec(select(func.count()).select_from(AuditEntry)
                         .where(col(AuditEntry.action) == "calendar.override")).one()
        assert audit.verify(s) is None  # the chain has no gap where the refused units were rolled back
    assert sorted(days) == sorted(f"d{n}" for n in range(12) if n != 5)  # nothing of the failed units
    assert entries == 11


def test_callers_on_many_threads_each_get_their_own_result(engine: Engine) -> None:
    batcher = WriteBatcher(engine, max_batch=8)
    gate, running = threading.Event(), threading.Event()
    got: dict[int, object] = {}

    def hold(session: Session) -> bool:  # holds the writer until all 40 callers are queued
        running.set()
        return gate.wait(60)

    def caller(n: int) -> None:
        got[n] = batcher.run(_add_day(100 + n))  # type: ignore[arg-type]

    threads = [threading.Thread(target=caller, args=(n,)) for n in range(40)]
    try:
        held = batcher.submit(hold)
        assert running.wait(60)
        for t in threads:
            t.start()
        deadline = time.monotonic() + 60
        while batcher._queue.qsize() < 40:
            assert time.monotonic() < deadline, "the callers never queued"
            time.sleep(0.01)
        gate.set()
        assert held.result(60) is True
        for t in threads:
            t.join(60)
    finally:
        gate.set()
        batcher.stop()
    assert got == {n: 100 + n for n in range(40)}
    # The holder alone, then the 40 queued callers in batches of max_batch: 1 + 40 / 8.
    assert batcher.units == 41 and batcher.batches == 6


def test_a_unit_alone_in_its_batch_fails_alone(engine: Engine) -> None:
    batcher = WriteBatcher(engine)
    try:
        with pytest.raises(ValueError, match="refused by the unit"):
            batcher.run(_fail)
        assert batcher.run(_add_day(300)) == 300  # type: ignore[arg-type]
    finally:
        batcher.stop()
    with Session(engine) as s:
        names = s.exec(select(WorkdayOverride.name).where(col(WorkdayOverride.day) >= START)).all()
    assert names == ["d300"]


def test_staged_units_run_their_first_parts_before_any_finish_and_present_after_commit(engine: Engine) -> None:
    """The hot rows are taken only once every unit of the batch has done its checks and look-ups."""
    batcher = WriteBatcher(engine)
    gate, running = threading.Event(), threading.Event()
    steps: list[str] = []

    def hold(session: Session) -> bool:
        running.set()
        return gate.wait(10)

    def staged(n: int, *, fail_finish: bool = False) -> object:
        def unit(session: Session) -> Staged[str]:
            steps.append(f"check {n}")

            def finish(session: Session) -> int:
                steps.append(f"finish {n}")
                if fail_finish:
                    raise ValueError(f"finish {n} refused")
                return int(_add_day(400 + n)(session))  # type: ignore[operator]

            def present(day: int) -> str:
                # After the commit: the day is already visible to another connection.
                with Session(engine) as other:
                    seen = other.exec(select(WorkdayOverride.name)
                                      .where(col(WorkdayOverride.day) == START + timedelta(days=day))).one()
                return f"presented {seen}"

            return Staged(finish, present)

        return unit

    try:
        first = batcher.submit(hold)
        assert running.wait(10)
        futures = [batcher.submit(staged(n)) for n in range(3)]  # type: ignore[arg-type]
        gate.set()
        assert first.result(10) is True
        assert [f.result(10) for f in futures] == ["presented d400", "presented d401", "presented d402"]
        assert steps == ["check 0", "check 1", "check 2", "finish 0", "finish 1", "finish 2"]

        # A finish that fails: the batch runs again with a savepoint per unit, and only that unit fails.
        steps.clear()
        running.clear()
        gate.clear()
        blocker = batcher.submit(hold)
        assert running.wait(10)
        futures = [batcher.submit(staged(n, fail_finish=(n == 11))) for n in (10, 11, 12)]  # type: ignore[arg-type]
        gate.set()
        assert blocker.result(10) is True
        assert futures[0].result(10) == "presented d410" and futures[2].result(10) == "presented d412"
        with pytest.raises(ValueError, match="finish 11 refused"):
            futures[1].result(10)
        assert steps == ["check 10", "check 11", "check 12", "finish 10", "finish 11",  # straight, then stopped
                         "check 10", "finish 10", "check 11", "finish 11", "check 12", "finish 12"]  # isolated
    finally:
        batcher.stop()
    with Session(engine) as s:
        names = s.exec(select(WorkdayOverride.name).where(col(WorkdayOverride.day) >= START)).all()
        assert audit.verify(s) is None
    assert sorted(names) == ["d400", "d401", "d402", "d410", "d412"]


def test_a_unit_that_fails_after_its_insert_does_not_block_the_next(engine: Engine,
                                                                    org_data: SimpleNamespace) -> None:
    """SQLite gives the rolled-back row's id to the next insert: the session must not hold it against it."""
    import complaints

    sup = org_data.principals["supervisor"]
    order = {"channel": "walk_in", "type": "help", "anonymous": True, "content": "批次内的工单",
             "site_id": org_data.city}
    batcher = WriteBatcher(engine)
    gate, running = threading.Event(), threading.Event()

    def hold(session: Session) -> bool:
        running.set()
        return gate.wait(10)

    kept: list[object] = []  # what a failed unit's traceback keeps alive: its order object

    def create(n: int, *, then_fail: bool = False) -> object:
        def unit(session: Session) -> object:
            staged = complaints.stage_work_order(session, sup, {**order, "content": f"批次内的工单 {n}"})
            if not then_fail:
                return staged
            kept.append(staged.finish(session))
            raise ValueError(f"unit {n} refused after its insert")

        return unit

    try:
        blocker = batcher.submit(hold)
        assert running.wait(10)
        futures = [batcher.submit(create(n, then_fail=(n == 1))) for n in range(3)]  # type: ignore[arg-type]
        gate.set()
        assert blocker.result(10) is True
        views = [futures[0].result(10), futures[2].result(10)]
        with pytest.raises(ValueError, match="refused after its insert"):
            futures[1].result(10)
    finally:
        batcher.stop()
    assert [v.content for v in views] == ["批次内的工单 0", "批次内的工单 2"]  # type: ignore[attr-defined]
    with Session(engine) as s:
        from complaints.models import WorkOrder

        rows = s.exec(select(WorkOrder.content).order_by(col(WorkOrder.id))).all()
        assert audit.verify(s) is None
    assert list(rows) == ["批次内的工单 0", "批次内的工单 2"]
