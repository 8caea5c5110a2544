"""City-level score appeal objects for the role × route walk: 张三's appeal of his June 2025 entry (the month
closed and published by the city's manager), refused. County users must never see or decide it."""

from __future__ import annotations

from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from supervision import ledger, scoring
from supervision.db import session_scope
from supervision.scoring import appeals
from supervision.scoring.appeals import AppealCreate, AppealDecision

MONTH = date(2025, 6, 1)  # a month nobody else's targets write into
REASON = "市级考评申诉理由"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        entry = ledger.record_entry(s, actor=org.principals["manager"], day=date(2025, 6, 10), kind="bad_rating",
                                    points=-2, reason="市级差评", source_kind="test", source_id="appeal-walk",
                                    staff_id=org.staff, window_id=org.window)
        close = scoring.close_month(s, actor=org.principals["manager"], month=MONTH)
        scoring.publish_month(s, actor=org.principals["manager"], month=MONTH)
        close.published_at = datetime(2025, 7, 1, 2, tzinfo=UTC)
        s.add(close)
        s.flush()
        appeal = appeals.file_appeal(s, actor=org.principals["staff"], today=date(2025, 7, 2),
                                     body=AppealCreate(ledger_entry_id=entry.id, reason=REASON))
        # Decided at once: an appeal still open would hold up the other targets' closes (the close check).
        appeals.decide_appeal(s, actor=org.principals["manager"], appeal_id=appeal.id or 0,
                              body=AppealDecision(grant=False, reason="市级复核意见"))
        values = {"appeal_id": appeal.id, "month": "2025-06", "site_code": "MY"}
    return values, [REASON, "市级复核意见"]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city's appeal."""
    return {
        ("POST", "/api/v1/appeals"): {"month": "2025-06", "reason": "越权申诉"},
        ("POST", "/me/scores/{month}/appeals"): {"reason": "越权申诉"},
        ("POST", "/api/v1/appeals/{appeal_id}/decision"): {"grant": True, "reason": "越权复核"},
        ("POST", "/scoring/appeals/{appeal_id}/decide"): {"grant": "1", "reason": "越权复核"},
    }
