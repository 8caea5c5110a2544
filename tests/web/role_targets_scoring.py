"""City-level scoring objects for the role × route walk: October 2026 closed at the city with 张三's frozen
score (a ledger entry of his in it, with a reason only the city's people carry). County users must never see them."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from supervision import ledger, scoring
from supervision.db import session_scope
from tests.conftest import SYSTEM

REASON = "市级考评扣分理由"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        ledger.record_entry(s, actor=SYSTEM, day=date(2026, 10, 14), kind="missed_sign_in", points=-2,
                            reason=REASON, source_kind="manual", source_id="score-walk", staff_id=org.staff,
                            window_id=org.window)
        scoring.close_month(s, actor=org.principals["manager"], month=date(2026, 10, 1))
    return {"month": "2026-10", "kind": "staff", "subject_id": org.staff}, [REASON]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city."""
    rules = {"version": "越权规则", "effective_from": "2027-02-01",
             "items": [{"key": "praise", "points": 2, "applies_to": "staff"}]}
    return {
        ("POST", "/api/v1/scoring-rules"): rules,
        ("POST", "/api/v1/months/{month}/close"): {"site_id": org.city},
        ("POST", "/api/v1/months/{month}/publish"): {"site_id": org.city},
        ("POST", "/api/v1/months/{month}/reopen"): {"site_id": org.city, "reason": "越权重开"},
        ("POST", "/scoring/{month}/close"): {"site_id": org.city},
        ("POST", "/scoring/{month}/publish"): {"site_id": org.city},
        ("POST", "/scoring/{month}/reopen"): {"site_id": org.city, "reason": "越权重开"},
        ("POST", "/scoring/rules"): {"version": "越权规则", "effective_from": "2027-02", "base": "100",
                                     **{f"points.{k}": str(v.points) for k, v in scoring.ITEM_SPECS.items()},
                                     **{f"applies.{k}.staff": "1" for k in scoring.ITEM_SPECS}},
    }
