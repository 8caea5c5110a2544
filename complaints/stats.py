"""Statistics per department, window, channel or month, and their Excel export.

One GROUP BY over the orders of the period (index ix_work_order_received) and one over the ratings;
no per-row work in Python, so 100,000 orders stay well under the page's budget.
"""

from __future__ import annotations

import io
from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel
from sqlalchemy import ColumnElement, case, func
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from complaints.models import Outcome, Rating, WorkOrder
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
) -> list[StatRow]:
    """The statistics page: per group received, on time, overdue, upheld, satisfaction and ratings."""
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
    where: list[ColumnElement[bool]] = [
        col(WorkOrder.received_on) >= since,
        col(WorkOrder.received_on) <= until,
        col(WorkOrder.site_id).in_(sites),
        col(WorkOrder.state) != State.MERGED.value,
    ]
    if not viewer_for(session, actor).confidential:
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
    rows: dict[str, StatRow] = {}
    for k, received, closed, on_time, late, upheld, callbacks, satisfied in session.execute(stmt).all():
        name = "" if k is None else str(k)
        rows[name] = StatRow(
            key=name,
            label="",
            received=int(received),
            closed=int(closed or 0),
            closed_on_time=int(on_time or 0),
            overdue=int(late or 0),
            upheld=int(upheld or 0),
            callbacks=int(callbacks or 0),
            satisfied=int(satisfied or 0),
        )
    rkey = _rating_key(group)
    if rkey is not None:
        rstmt = (
            select(rkey, col(Rating.level), func.count())
            .where(
                col(Rating.rated_on) >= since,
                col(Rating.rated_on) <= until,
                col(Rating.site_id).in_(sites),
                col(Rating.void).is_(False),
            )
            .group_by(rkey, col(Rating.level))
        )
        for k, level, n in session.exec(rstmt).all():
            name = "" if k is None else str(k)
            row = rows.setdefault(name, StatRow(key=name, label=""))
            row.ratings = {**row.ratings, int(level): int(n)}
    for row in rows.values():
        row.satisfaction_rate = round(row.satisfied / row.callbacks, 4) if row.callbacks else None
        row.on_time_rate = round(row.closed_on_time / row.closed, 4) if row.closed else None
    _label(session, group, rows, actor.locale)
    return sorted(rows.values(), key=lambda r: (r.key == "", r.key if group is GroupBy.MONTH else r.label))


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
