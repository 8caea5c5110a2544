"""Provisional due dates: recomputed, with an event and an audit entry, when the calendar learns their year.

An order is registered whatever the calendar knows (a complaint on 14 December has its 15th working day
in a year nobody has entered yet); its due date is then provisional. Every change an admin makes to the
calendar recomputes every provisional due date in the same transaction, from the order's own history:
the day it was received (or last reopened) and its time limit, plus the extensions approved since.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select as sa_select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from complaints import deadlines, rollup
from complaints.models import WorkOrder, WorkOrderEvent
from complaints.settings import get_complaints_settings
from complaints.workflow import Action, State
from complaints.workorders import Clock, _event, load_memo_calendar
from supervision import audit
from supervision.access import SYSTEM, Principal
from supervision.db import session_scope
from supervision.settings import get_settings
from supervision.workdays import CalendarChange, WorkCalendar, follow_changes

logger = logging.getLogger(__name__)

_CHUNK = 500  # ids per IN list: well under SQLite's and PostgreSQL's limits on bound parameters
_BASIS_ACTIONS = (Action.REOPEN.value, Action.APPROVE_EXTENSION.value)


@dataclass(frozen=True)
class Basis:
    """What a due date counts from: `workdays` working days after `start`."""

    start: date
    workdays: int


def basis(order: WorkOrder, events: Sequence[tuple[str, date, int]]) -> Basis:
    """The order's current count, from its reopenings and approved extensions (action, local day, days) in order.

    An extension adds its days to the due day, which is itself a working day: the same as adding them to
    the count from the start.
    """
    start, workdays = order.received_on, order.time_limit_days
    for action, day, days in events:
        if action == Action.REOPEN.value:
            start, workdays = day, order.time_limit_days
        elif action == Action.APPROVE_EXTENSION.value:
            workdays += days
    return Basis(start, workdays)


def _history(session: Session, ids: list[int]) -> dict[int, list[tuple[str, date, int]]]:
    tz = get_settings().tz
    out: dict[int, list[tuple[str, date, int]]] = {i: [] for i in ids}
    ev = WorkOrderEvent
    for start in range(0, len(ids), _CHUNK):
        rows = session.connection().execute(
            sa_select(col(ev.order_id), col(ev.action), col(ev.at), col(ev.detail))
            .where(col(ev.order_id).in_(ids[start : start + _CHUNK]), col(ev.action).in_(_BASIS_ACTIONS))
            .order_by(col(ev.order_id), col(ev.seq))
        )
        for order_id, action, at, detail in rows:
            days = int(json.loads(detail or "{}").get("days") or 0)
            out[order_id].append((action, at.astimezone(tz).date(), days))
    return out


def recompute_provisional(engine: Engine, actor: Principal, change: CalendarChange, *, chunk: int = 20) -> int:
    """Recompute every provisional due date with the calendar as it now is; the number of orders changed.

    In transactions of `chunk` orders each (about 2 ms an order on SQLite): intake waits for one chunk at most.
    """
    changed = total = 0
    last = 0
    while True:  # ids only grow, so this ends after the last provisional order
        with session_scope(engine, write=True) as session:
            orders = list(session.exec(
                select(WorkOrder)
                .where(col(WorkOrder.due_provisional), col(WorkOrder.id) > last)
                .order_by(col(WorkOrder.id))
                .limit(chunk)
                .with_for_update()
            ).all())
            if not orders:
                break
            changed += _recompute(session, actor, change, orders)
            total += len(orders)
            last = orders[-1].id or 0
    if total:
        logger.info("calendar %s %s: %d of %d provisional due dates recomputed", change.cause,
                    sorted(change.years), changed, total)
    return changed


def _recompute(session: Session, actor: Principal, change: CalendarChange, orders: list[WorkOrder]) -> int:
    calendar: WorkCalendar = load_memo_calendar(session)
    history = _history(session, [o.id or 0 for o in orders])
    now = Clock.at().now
    changed = 0
    answer_days = get_complaints_settings().rating_answer_workdays
    for order in orders:
        count = basis(order, history[order.id or 0])
        due = deadlines.due_date(calendar, count.start, count.workdays)
        respond_by = order.respond_by
        if respond_by is not None and order.responded_at is None:
            # A bad rating's first answer (1 working day) counts from the day it came in, like the due date;
            # when that day is provisional, so is the due date (it is later), so the order is found here.
            respond_by = deadlines.due_date(calendar, order.received_on, answer_days).due_on
        if (due.due_on, due.provisional, respond_by) == (order.due_on, order.due_provisional, order.respond_by):
            continue
        previous_respond_by = order.respond_by
        order.respond_by = respond_by
        counted = rollup.contribution(order)
        previous = order.due_on
        order.due_on, order.due_provisional, order.due_source = due.due_on, due.provisional, due.source
        if due.due_on > previous or (respond_by and previous_respond_by and respond_by > previous_respond_by):
            order.card = ""  # a card given against the earlier day is no longer earned, as after an extension
        if order.on_time is not None and order.closed_on is not None:
            order.on_time = order.closed_on <= due.due_on
        order.version += 1
        session.add(order)
        session.flush()
        rollup.shift(session, counted, rollup.contribution(order))
        detail = {
            "cause": change.cause,
            "year": min(change.years) if change.years else due.due_on.year,
            "due_on": due.due_on.isoformat(),
            "previous_due_on": previous.isoformat(),
            "provisional": due.provisional,
        }
        if respond_by != previous_respond_by:
            assert respond_by is not None and previous_respond_by is not None
            detail.update(respond_by=respond_by.isoformat(), previous_respond_by=previous_respond_by.isoformat())
        _event(session, actor, order, "recompute_due", order.state, State(order.state), now,
               reason=change.reason, detail=detail)
        audit.record(session, actor, "work_order.recompute_due", object_kind="work_order", object_id=order.id,
                     site_id=order.site_id, summary=f"{order.number} {previous}→{due.due_on}", detail=detail)
        changed += 1
    return changed


def sweep_provisional(engine: Engine) -> int:
    """Catch up on a calendar change whose follow-up did not finish (the process stopped): safe to run any time."""
    return recompute_provisional(engine, SYSTEM, CalendarChange(frozenset(), "calendar", ""))


follow_changes("complaints.due_dates", recompute_provisional)
