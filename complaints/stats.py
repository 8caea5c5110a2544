"""Statistics per department, window, channel or month, and their Excel export.

Whole months are summed from the monthly roll-up (complaints/rollup.py: a few thousand rows for a year);
the days of a month only partly inside the period and the open orders past due are counted from the
orders themselves. No per-row work in Python.
"""

from __future__ import annotations

import io
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from complaints.models import Outcome, Rating, RatingMonth, StatsMonth, WorkOrder
from complaints.visibility import viewer_for
from complaints.workflow import State
from complaints.workorders import Clock
from supervision.access import Permission, Principal
from supervision.errors import Forbidden, InvalidInput
from supervision.i18n import translate
from supervision.models import Department, Site, Window


class GroupBy(StrEnum):
    DEPARTMENT = "department"
    WINDOW = "window"
    CHANNEL = "channel"
    MONTH = "month"


class StatRow(BaseModel):
    key: str
    label: str
    received: int = 0
    closed: int = 0
    closed_on_time: int = 0
    overdue: int = 0
    upheld: int = 0
    callbacks: int = 0
    satisfied: int = 0
    satisfaction_rate: float | None = None  # satisfied / callbacks
    on_time_rate: float | None = None  # closed on time / closed
    ratings: dict[int, int] = {}  # level (1–5) → count; voided ratings left out


def _order_key(group: GroupBy) -> Any:
    return {
        GroupBy.DEPARTMENT: func.coalesce(col(WorkOrder.lead_department_id), col(WorkOrder.department_id)),
        GroupBy.WINDOW: col(WorkOrder.window_id),
        GroupBy.CHANNEL: col(WorkOrder.channel),
        GroupBy.MONTH: col(WorkOrder.received_month),
    }[group]


def _rating_key(group: GroupBy) -> Any:
    return {
        GroupBy.DEPARTMENT: col(Rating.department_id),
        GroupBy.WINDOW: col(Rating.window_id),
        GroupBy.MONTH: col(Rating.rated_month),
    }.get(group)


def statistics(
    session: Session,
    actor: Principal,
    *,
    group_by: GroupBy | str,
    since: date,
    until: date,
    site_id: int | None = None,
    today: date | None = None,
    direct: bool = False,
) -> list[StatRow]:
    """The statistics page: per group received, on time, overdue, upheld, satisfaction and ratings.

    Whole months come from the monthly roll-up (complaints/rollup.py); the days of a month only partly
    inside the period, and open orders past their due date, are counted from the orders. `direct=True`
    counts everything from the orders (what the roll-up is checked against).
    """
    if not actor.can(Permission.COMPLAINTS_READ):
        raise Forbidden("error.forbidden_permission", permission=Permission.COMPLAINTS_READ.value)
    try:
        group = GroupBy(group_by)
    except ValueError:
        raise InvalidInput("group_by", "error.choice", choices=", ".join(g.value for g in GroupBy)) from None
    if until < since:
        raise InvalidInput("until", "complaints.error.range")
    if (until - since).days > 3 * 366:
        raise InvalidInput("until", "error.calendar_span")
    today = today or Clock.at().today
    path = actor.site_path
    if site_id is not None:
        anchor = session.get(Site, site_id)
        if anchor is None or not actor.covers_path(anchor.path):
            raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=site_id)
        path = anchor.path
    sites = select(Site.id).where(col(Site.path).startswith(path, autoescape=True))
    confidential = viewer_for(session, actor).confidential
    rows: dict[str, StatRow] = {}
    head, months, tail = (None, None, (since, until)) if direct else split_period(since, until)
    for part in (head, tail):
        if part is not None:
            _orders_live(session, rows, group, part, sites, confidential, today)
            _ratings_live(session, rows, group, part, sites)
    if months is not None:
        _orders_rolled_up(session, rows, group, months, sites, confidential, today)
        _ratings_rolled_up(session, rows, group, months, sites)
    for row in rows.values():
        row.satisfaction_rate = round(row.satisfied / row.callbacks, 4) if row.callbacks else None
        row.on_time_rate = round(row.closed_on_time / row.closed, 4) if row.closed else None
    _label(session, group, rows, actor.locale)
    return sorted(rows.values(), key=lambda r: (r.key == "", r.key if group is GroupBy.MONTH else r.label))


Period = tuple[date, date]


def split_period(since: date, until: date) -> tuple[Period | None, tuple[str, str, Period] | None, Period | None]:
    """The days before the first whole month, the whole months (first, last, their days), the days after."""
    first = since if since.day == 1 else _next_month(since)
    end = until if _next_month(until) - timedelta(days=1) == until else until.replace(day=1) - timedelta(days=1)
    if first > end:
        return None, None, (since, until)
    head = (since, first - timedelta(days=1)) if first > since else None
    tail = (end + timedelta(days=1), until) if end < until else None
    return head, (first.strftime("%Y-%m"), end.strftime("%Y-%m"), (first, end)), tail


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _row(rows: dict[str, StatRow], key: Any) -> StatRow:
    name = "" if key is None or key == 0 else str(key)
    return rows.setdefault(name, StatRow(key=name, label=""))


def _orders_live(
    session: Session,
    rows: dict[str, StatRow],
    group: GroupBy,
    period: Period,
    sites: Any,
    confidential: bool,
    today: date,
) -> None:
    where: list[ColumnElement[bool]] = [
        col(WorkOrder.received_on) >= period[0],
        col(WorkOrder.received_on) <= period[1],
        col(WorkOrder.site_id).in_(sites),
        col(WorkOrder.state) != State.MERGED.value,
    ]
    if not confidential:
        where.append(col(WorkOrder.integrity).is_(False))
    key = _order_key(group)
    one, zero = 1, 0
    overdue = case(
        ((col(WorkOrder.is_open).is_(True)) & (col(WorkOrder.due_on) < today), one),
        (col(WorkOrder.on_time).is_(False), one),
        else_=zero,
    )
    stmt = (
        sa_select(
            key,
            func.count(),
            func.sum(case((col(WorkOrder.state) == State.CLOSED.value, one), else_=zero)),
            func.sum(case((col(WorkOrder.on_time).is_(True), one), else_=zero)),
            func.sum(overdue),
            func.sum(
                case(
                    (col(WorkOrder.outcome).in_([Outcome.UPHELD.value, Outcome.PARTLY.value]), one),
                    else_=zero,
                )
            ),
            func.count(col(WorkOrder.callback_level)),
            func.sum(case((col(WorkOrder.callback_level) >= 3, one), else_=zero)),
        )
        .where(*where)
        .group_by(key)
    )
    for k, received, closed, on_time, late, upheld, callbacks, satisfied in session.execute(stmt).all():
        _add(_row(rows, k), received, closed, on_time, late, upheld, callbacks, satisfied)


def _add(row: StatRow, *values: Any) -> None:
    received, closed, on_time, late, upheld, callbacks, satisfied = (int(v or 0) for v in values)
    row.received += received
    row.closed += closed
    row.closed_on_time += on_time
    row.overdue += late
    row.upheld += upheld
    row.callbacks += callbacks
    row.satisfied += satisfied


def _orders_rolled_up(
    session: Session,
    rows: dict[str, StatRow],
    group: GroupBy,
    months: tuple[str, str, Period],
    sites: Any,
    confidential: bool,
    today: date,
) -> None:
    first, last, (start, end) = months
    where: list[ColumnElement[bool]] = [
        col(StatsMonth.month) >= first,
        col(StatsMonth.month) <= last,
        col(StatsMonth.site_id).in_(sites),
        # Each order counts once per grouping; months sum the channel rows.
        col(StatsMonth.dim) == ("channel" if group is GroupBy.MONTH else group.value),
    ]
    if not confidential:
        where.append(col(StatsMonth.integrity).is_(False))
    key = col(StatsMonth.month) if group is GroupBy.MONTH else col(StatsMonth.value)
    stmt = (
        sa_select(
            key,
            func.sum(col(StatsMonth.received)),
            func.sum(col(StatsMonth.closed)),
            func.sum(col(StatsMonth.closed_on_time)),
            func.sum(col(StatsMonth.closed_late)),
            func.sum(col(StatsMonth.upheld)),
            func.sum(col(StatsMonth.callbacks)),
            func.sum(col(StatsMonth.satisfied)),
        )
        .where(*where)
        .group_by(key)
    )
    for k, *values in session.execute(stmt).all():
        if any(values):
            _add(_row(rows, k), *values)
    # An open order past its due date depends on today: counted live, through ix_work_order_open_due.
    late_where: list[ColumnElement[bool]] = [
        col(WorkOrder.is_open).is_(True),
        col(WorkOrder.due_on) < today,
        col(WorkOrder.received_on) >= start,
        col(WorkOrder.received_on) <= end,
        col(WorkOrder.site_id).in_(sites),
    ]
    if not confidential:
        late_where.append(col(WorkOrder.integrity).is_(False))
    okey = _order_key(group)
    for k, n in session.execute(sa_select(okey, func.count()).where(*late_where).group_by(okey)).all():
        _row(rows, k).overdue += int(n)


def _ratings_live(session: Session, rows: dict[str, StatRow], group: GroupBy, period: Period, sites: Any) -> None:
    rkey = _rating_key(group)
    if rkey is None:
        return
    rstmt = (
        select(rkey, col(Rating.level), func.count())
        .where(
            col(Rating.rated_on) >= period[0],
            col(Rating.rated_on) <= period[1],
            col(Rating.site_id).in_(sites),
            col(Rating.void).is_(False),
        )
        .group_by(rkey, col(Rating.level))
    )
    for k, level, n in session.exec(rstmt).all():
        _count_level(_row(rows, k), int(level), int(n))


def _count_level(row: StatRow, level: int, n: int) -> None:
    if n:
        row.ratings = {**row.ratings, level: row.ratings.get(level, 0) + n}


def _ratings_rolled_up(
    session: Session, rows: dict[str, StatRow], group: GroupBy, months: tuple[str, str, Period], sites: Any
) -> None:
    rkey = {
        GroupBy.DEPARTMENT: col(RatingMonth.department_key),
        GroupBy.WINDOW: col(RatingMonth.window_id),
        GroupBy.MONTH: col(RatingMonth.month),
    }.get(group)
    if rkey is None:
        return
    stmt = (
        sa_select(rkey, col(RatingMonth.level), func.sum(col(RatingMonth.n)))
        .where(
            col(RatingMonth.month) >= months[0],
            col(RatingMonth.month) <= months[1],
            col(RatingMonth.site_id).in_(sites),
        )
        .group_by(rkey, col(RatingMonth.level))
    )
    for k, level, n in session.execute(stmt).all():
        if n:
            _count_level(_row(rows, k), int(level), int(n))


def _label(session: Session, group: GroupBy, rows: dict[str, StatRow], locale: str) -> None:
    ids = [int(k) for k in rows if k.isdigit()]
    names: dict[str, str] = {}
    if group is GroupBy.DEPARTMENT and ids:
        names = {
            str(i): n
            for i, n in session.exec(select(Department.id, Department.name).where(col(Department.id).in_(ids))).all()
        }
    elif group is GroupBy.WINDOW and ids:
        names = {
            str(i): n for i, n in session.exec(select(Window.id, Window.name).where(col(Window.id).in_(ids))).all()
        }
    for key, row in rows.items():
        if key == "":
            row.label = translate("complaints.stats.unassigned", locale)
        elif group is GroupBy.CHANNEL:
            row.label = translate(f"channel.{key}", locale)
        elif group is GroupBy.MONTH:
            row.label = key
        else:
            row.label = names.get(key, key)


COLUMNS = (
    "received",
    "closed",
    "closed_on_time",
    "overdue",
    "upheld",
    "callbacks",
    "satisfied",
    "satisfaction_rate",
    "on_time_rate",
)


def export_statistics(
    rows: list[StatRow], *, group_by: GroupBy | str, since: date, until: date, locale: str = "zh-CN"
) -> bytes:
    """The statistics as an .xlsx workbook (one sheet, a header row, one row per group)."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = translate("complaints.stats.sheet", locale)[:31]
    sheet.append([translate("complaints.stats.period", locale, since=since.isoformat(), until=until.isoformat())])
    header = [translate(f"complaints.stats.by.{GroupBy(group_by).value}", locale)]
    header += [translate(f"complaints.stats.{c}", locale) for c in COLUMNS]
    header += [
        translate(f"level.{n}", locale)
        for n in ("very_satisfied", "satisfied", "basic", "dissatisfied", "very_dissatisfied")
    ]
    sheet.append(header)
    for row in rows:
        values: list[Any] = [row.label] + [getattr(row, c) for c in COLUMNS]
        values += [row.ratings.get(level, 0) for level in (5, 4, 3, 2, 1)]
        sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
