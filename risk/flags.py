"""Flags on points and measures: what needs an officer's attention today. Pure logic, no I/O.

The register's SQL filters (risk.views) express the same rules as queries; a test checks they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from risk.grading import regrade_prompted
from risk.models import CheckResult


class PointFlag(StrEnum):
    REVIEW_DUE = "review_due"  # within the reminder lead
    REVIEW_OVERDUE = "review_overdue"
    DUTIES_CHANGED = "duties_changed"  # the post's duties changed since the last review
    MEASURES_FAILING = "measures_failing"  # every measure is overdue for a check or not effective
    NO_MEASURES = "no_measures"
    REGRADE = "regrade"  # enough incidents to ask for a re-grading


class MeasureFlag(StrEnum):
    CHECK_DUE = "check_due"
    CHECK_OVERDUE = "check_overdue"
    NOT_EFFECTIVE = "not_effective"


@dataclass(frozen=True)
class MeasureFacts:
    next_check_due: date
    last_result: CheckResult | None
    active: bool = True


@dataclass(frozen=True)
class PointFacts:
    next_review_due: date
    duties_changed: bool
    measures: Sequence[MeasureFacts]
    incident_count: int


def measure_flags(m: MeasureFacts, *, today: date, lead_days: int) -> set[MeasureFlag]:
    """Flags of one measure on `today`."""
    if not m.active:
        return set()
    flags: set[MeasureFlag] = set()
    if m.next_check_due < today:
        flags.add(MeasureFlag.CHECK_OVERDUE)
    elif m.next_check_due <= today + timedelta(days=lead_days):
        flags.add(MeasureFlag.CHECK_DUE)
    if m.last_result is CheckResult.NOT_EFFECTIVE:
        flags.add(MeasureFlag.NOT_EFFECTIVE)
    return flags


def measure_failing(m: MeasureFacts, *, today: date) -> bool:
    """A measure that does not protect its point today: overdue for a check, or found not effective."""
    return m.next_check_due < today or m.last_result is CheckResult.NOT_EFFECTIVE


def point_flags(p: PointFacts, *, today: date, lead_days: int, threshold: int) -> set[PointFlag]:
    """Flags of one point on `today`."""
    flags: set[PointFlag] = set()
    if p.next_review_due < today:
        flags.add(PointFlag.REVIEW_OVERDUE)
    elif p.next_review_due <= today + timedelta(days=lead_days):
        flags.add(PointFlag.REVIEW_DUE)
    if p.duties_changed:
        flags.add(PointFlag.DUTIES_CHANGED)
    active = [m for m in p.measures if m.active]
    if not active:
        flags.add(PointFlag.NO_MEASURES)
    elif all(measure_failing(m, today=today) for m in active):
        flags.add(PointFlag.MEASURES_FAILING)
    if regrade_prompted(p.incident_count, threshold):
        flags.add(PointFlag.REGRADE)
    return flags
