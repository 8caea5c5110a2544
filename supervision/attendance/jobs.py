"""The scheduler's daily attendance run (listed in `CORE_JOBS`, supervision/scheduler.py)."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

from supervision.access import SYSTEM
from supervision.attendance.days import ComputeSummary, compute_days
from supervision.db import session_scope
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

# Late imports, approved leave and 补卡 reach back a few days: the run looks at a week, rewriting only changes.
LOOK_BACK_DAYS = 7


def run_daily(today: date | None = None) -> ComputeSummary:
    """Compute the past week's days for everyone (after the 04:00 day boundary, so yesterday is complete)."""
    today = today or datetime.now(get_settings().tz).date()
    with session_scope(write=True) as session:
        summary = compute_days(session, actor=SYSTEM, start=today - timedelta(days=LOOK_BACK_DAYS),
                               end=today - timedelta(days=1))
    logger.info("attendance: %d days computed, %d changed, %d ledger rows", summary.days, summary.changed,
                summary.ledger_entries)
    return summary
