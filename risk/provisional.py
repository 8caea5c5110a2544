"""Provisional review and check dates: recomputed, audited, when the calendar learns their year.

A review or check falls due on a working day. When that day lies in a year nobody has entered yet, the
date is counted provisionally (weekends and the fixed-date holidays) and flagged; every calendar change an
admin makes recomputes the flagged dates from the day counted before moving to a working day, in short
transactions of their own after the change has committed, as the complaints' due dates are
(complaints.provisional). Each change is an audit entry on the point or measure, and the point's page
lists them with their cause.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Generic, TypeVar

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from risk import deadlines
from risk.models import CheckFrequency, Countermeasure, RiskPoint
from risk.scope import local_date_of
from risk.settings import get_risk_settings
from supervision import audit
from supervision.access import SYSTEM, Principal
from supervision.db import session_scope
from supervision.models import AuditEntry, Post
from supervision.workdays import CalendarChange, WorkCalendar, follow_changes, load_calendar

logger = logging.getLogger(__name__)

POINT_ACTION = "risk.point.recompute_due"
MEASURE_ACTION = "risk.measure.recompute_due"


def set_review_due(point: RiskPoint, due: deadlines.DueDate) -> None:
    """Store a point's next review date with whether it is provisional and what it counted from."""
    point.next_review_due, point.review_due_provisional, point.review_due_counted = (
        due.day, due.provisional, due.counted)


def set_check_due(measure: Countermeasure, due: deadlines.DueDate) -> None:
    """Store a measure's next check date with whether it is provisional and what it counted from."""
    measure.next_check_due, measure.check_due_provisional, measure.check_due_counted = (
        due.day, due.provisional, due.counted)


def _point_counted(point: RiskPoint) -> date:
    """The day a point's review date counted from (rows flagged before the count was stored: from its basis)."""
    if point.review_due_counted is not None:
        return point.review_due_counted
    last = point.last_reviewed_on or local_date_of(point.created_at)
    return last + timedelta(days=get_risk_settings().review_days(point.level))


def _measure_counted(measure: Countermeasure) -> date:
    if measure.check_due_counted is not None:
        return measure.check_due_counted
    last = measure.last_checked_on or local_date_of(measure.created_at)
    return deadlines.check_due(last, CheckFrequency(measure.check_frequency), None).day


def _detail(change: CalendarChange, previous: date, due: deadlines.DueDate) -> dict[str, Any]:
    return {
        "cause": change.cause,
        "year": min(change.years) if change.years else due.day.year,
        "reason": change.reason,
        "due_on": due.day.isoformat(),
        "previous_due_on": previous.isoformat(),
        "provisional": due.provisional,
    }


_Row = TypeVar("_Row", RiskPoint, Countermeasure)


@dataclass(frozen=True)
class _DatedRows(Generic[_Row]):
    """What differs between recomputing the points' review dates and the measures' check dates."""

    table: type[_Row]
    flagged: Any  # the provisional flag's column
    action: str
    object_kind: str
    stored: Callable[[_Row], tuple[date, bool]]  # the due date and its flag as they are now
    counted: Callable[[_Row], date]
    store: Callable[[_Row, deadlines.DueDate], None]
    sites: Callable[[Session, list[_Row]], list[int | None]]  # each row's site, for its audit entry


def _point_sites(session: Session, points: list[RiskPoint]) -> list[int | None]:
    """A point's site is its post's."""
    post_sites = dict(session.exec(select(Post.id, Post.site_id).where(
        col(Post.id).in_({p.post_id for p in points}))).all())
    return [post_sites.get(p.post_id) for p in points]


_POINTS = _DatedRows(RiskPoint, col(RiskPoint.review_due_provisional), POINT_ACTION, "risk_point",
                     lambda p: (p.next_review_due, p.review_due_provisional), _point_counted, set_review_due,
                     _point_sites)
_MEASURES = _DatedRows(Countermeasure, col(Countermeasure.check_due_provisional), MEASURE_ACTION, "countermeasure",
                       lambda m: (m.next_check_due, m.check_due_provisional), _measure_counted, set_check_due,
                       lambda _session, measures: [m.site_id for m in measures])
_ALL_DATED: tuple[_DatedRows[Any], ...] = (_POINTS, _MEASURES)


def _recompute(session: Session, actor: Principal, change: CalendarChange, calendar: WorkCalendar,
               dated: _DatedRows[_Row], rows: list[_Row]) -> int:
    changed = 0
    for row, site_id in zip(rows, dated.sites(session, rows), strict=True):
        due = deadlines.on_workday(dated.counted(row), calendar)
        previous, provisional = dated.stored(row)
        if (due.day, due.provisional) == (previous, provisional):
            continue
        dated.store(row, due)
        session.add(row)
        detail = _detail(change, previous, due)
        audit.record(session, actor, dated.action, object_kind=dated.object_kind, object_id=row.id,
                     site_id=site_id, summary=f"{row.code} {previous}→{due.day}", detail=detail)
        changed += 1
    return changed


def recompute_provisional(engine: Engine, actor: Principal, change: CalendarChange, *, chunk: int = 50) -> int:
    """Recompute every provisional review and check date with the calendar as it now is; how many changed.

    In transactions of `chunk` rows each, so intake never waits behind a long one.
    """
    changed = 0
    for dated in _ALL_DATED:
        last = 0
        while True:  # ids only grow, so this ends after the last flagged row
            with session_scope(engine, write=True) as session:
                rows: list[Any] = list(session.exec(
                    select(dated.table).where(dated.flagged, col(dated.table.id) > last)
                    .order_by(col(dated.table.id)).limit(chunk).with_for_update()
                ).all())
                if not rows:
                    break
                changed += _recompute(session, actor, change, load_calendar(session), dated, rows)
                last = rows[-1].id or 0
    if changed:
        logger.info("calendar %s %s: %d provisional review and check dates recomputed", change.cause,
                    sorted(change.years), changed)
    return changed


def sweep_provisional(engine: Engine) -> int:
    """Catch up on a calendar change whose follow-up did not finish (the process stopped): safe any time."""
    return recompute_provisional(engine, SYSTEM, CalendarChange(frozenset(), "calendar", ""))


def due_changes(session: Session, kind: str, object_id: int) -> list[AuditEntry]:
    """The recomputed due dates of one point (`risk_point`) or measure (`countermeasure`), oldest first."""
    action = POINT_ACTION if kind == "risk_point" else MEASURE_ACTION
    return list(session.exec(
        select(AuditEntry)
        .where(col(AuditEntry.action) == action, col(AuditEntry.object_kind) == kind,
               col(AuditEntry.object_id) == str(object_id))
        .order_by(col(AuditEntry.seq))
    ).all())


follow_changes("risk.due_dates", recompute_provisional)
