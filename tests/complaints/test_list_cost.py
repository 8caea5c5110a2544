"""What the officer's order list costs per page (issue 10 §1: four readers beside intake on two cores).

Counted, not timed: how often a page finds the settings (each scans the environment) and decrypts a phone.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session

import complaints
from complaints import visibility, workorders
from supervision import crypto
from tests.complaints.conftest import MONDAY


def test_a_page_finds_its_settings_once_and_decrypts_each_number_once(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with Session(engine) as s:
        for i in range(6):
            complaints.create_work_order(s, world.p["supervisor"], {
                "channel": "hotline", "type": "complaint", "content": f"窗口办事等候过长 {i}", "caller_name": "王先生",
                "phone": f"1391234{i:04d}", "window_id": world.window}, now=MONDAY)
        s.commit()
    calls = {"settings": 0, "decrypt": 0}
    real_settings, real_decrypt = workorders.get_complaints_settings, crypto.decrypt

    def settings() -> Any:
        calls["settings"] += 1
        return real_settings()

    def decrypt(token: str) -> str:
        calls["decrypt"] += 1
        return real_decrypt(token)

    monkeypatch.setattr(workorders, "get_complaints_settings", settings)
    monkeypatch.setattr(crypto, "decrypt", decrypt)
    visibility._masked.cache_clear()  # as after a restart (intake showed the numbers it took)
    with Session(engine) as s:
        rows, count = complaints.list_orders(s, world.p["supervisor"], {}, limit=50)
        assert count == 6 and sorted(r.caller_phone_masked for r in rows) == [
            f"139****{i:04d}" for i in range(6)]
        assert calls == {"settings": 1, "decrypt": 6}
        again, _ = complaints.list_orders(s, world.p["supervisor"], {}, limit=50)
        assert [r.caller_phone_masked for r in again] == [r.caller_phone_masked for r in rows]
        assert calls == {"settings": 2, "decrypt": 6}  # the numbers were masked already


def test_a_newest_first_page_of_a_wide_jurisdiction_is_read_along_the_date_index_not_sorted(
    engine: Engine, world: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A city officer's first page of the newest orders: the same rows whichever way the database finds them, and
    on SQLite found by walking the received-time index (no sort of every order the officer may see)."""
    with Session(engine) as s:
        for i in range(24):
            window = world.window if i % 3 else world.county_window
            complaints.create_work_order(s, world.p["supervisor"], {
                "channel": "hotline", "type": "help", "content": f"咨询办事流程 {i}", "caller_name": "王先生",
                "phone": f"1391234{i:04d}", "window_id": window}, now=MONDAY + timedelta(minutes=i))
        s.commit()
    statements: list[tuple[str, Any]] = []

    def spy(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        if "ORDER BY work_order.received_at DESC" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", spy)
    try:
        pages = {}
        for walk in (True, False):
            monkeypatch.setattr(workorders, "_walk_newest", lambda *a, walk=walk: walk)
            with Session(engine) as s:
                for who in ("officer", "county_officer"):
                    rows, count = complaints.list_orders(s, world.p[who], {}, limit=5)
                    pages[who, walk] = ([r.number for r in rows], count)
        for who in ("officer", "county_officer"):
            assert pages[who, True] == pages[who, False]
        newest, count = pages["officer", True]
        assert count == 24 and len(newest) == 5
        assert pages["county_officer", True][1] == 8
        monkeypatch.undo()
        statements.clear()
        with Session(engine) as s:
            complaints.list_orders(s, world.p["officer"], {}, limit=5)  # 5 × 24 < 24²: walk
            complaints.list_orders(s, world.p["county_officer"], {}, limit=5)  # 5 × 24 < 8²? no: sort
    finally:
        event.remove(engine, "before_cursor_execute", spy)
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL's planner chooses with its statistics
    plans = []
    with engine.connect() as conn:
        for statement, parameters in statements:
            plan = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
            plans.append(" | ".join(str(row[-1]) for row in plan))
    assert len(plans) == 2
    assert "ix_work_order_received_at" in plans[0] and "TEMP B-TREE" not in plans[0], plans[0]
    assert "TEMP B-TREE" in plans[1], plans[1]  # a county's few orders: fetched by site and sorted
