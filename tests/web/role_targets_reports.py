"""City-level objects for the role × route walk of the scoring reports: a closed and published month at the city
with a deduction for 张三 (his trend, the city's bulletin). A county user gets the county's bulletin (none of the
city's names) and never the city's people's trends."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from supervision import ledger, scoring
from supervision.db import session_scope

REASON = "市级通报扣分"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    # Not the scoring walk's month (role_targets_scoring closes 2026-10 and writes into it after this runs).
    month = date(2026, 8, 1)
    manager = org.principals["manager"]
    with session_scope(engine, write=True) as s:
        ledger.record_entry(s, actor=manager, day=month + timedelta(days=3), kind="bad_rating", points=-2,
                            reason=REASON, source_kind="test", source_id="reports-1", staff_id=org.staff,
                            window_id=org.window)
    with session_scope(engine, write=True) as s:
        scoring.close_month(s, actor=manager, month=month)
    with session_scope(engine, write=True) as s:
        scoring.publish_month(s, actor=manager, month=month)
    return {"month": f"{month:%Y-%m}", "kind": "staff", "subject_id": org.staff}, [REASON]
