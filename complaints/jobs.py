"""Scheduler jobs: chase (催办, yellow card) and escalate (督办, red card) orders; purge old guard rows."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from complaints import deadlines, guards
from complaints.deadlines import CARD_RANK, Card
from complaints.models import WorkOrder
from complaints.provisional import sweep_provisional
from complaints.settings import get_complaints_settings
from complaints.workflow import Action, State, allowed
from complaints.workorders import Clock, load_memo_calendar, system_apply
from supervision.access import SYSTEM
from supervision.db import get_engine, session_scope
from supervision.scheduler import JobSpec

logger = logging.getLogger(__name__)


@dataclass
class ChaseReport:
    chased: int = 0  # yellow cards given
    escalated: int = 0  # red cards given
    unanswered: int = 0  # rectifications past their answer day


def chase_orders(session: Session, *, now: datetime | None = None) -> ChaseReport:
    """Give each open order the card it has earned since the last run, once, with an event."""
    settings = get_complaints_settings()
    clock = Clock.at(now)
    calendar = load_memo_calendar(session)
    # Provisional past the years the calendar knows, so the last days of December still see January's due dates.
    horizon = calendar.add_workdays(clock.today, settings.yellow_card_workdays).value
    report = ChaseReport()
    candidates = session.exec(
        select(WorkOrder)
        .where(
            col(WorkOrder.is_open).is_(True),
            col(WorkOrder.state).in_([State.RECEIVED, State.DISPATCHED, State.SIGNED, State.HANDLING, State.RETURNED]),
            or_(
                col(WorkOrder.due_on) <= horizon,
                (col(WorkOrder.respond_by) < clock.today) & col(WorkOrder.responded_at).is_(None),
            ),
        )
        .order_by(col(WorkOrder.due_on))
        .with_for_update()
    ).all()
    for order in candidates:
        card = deadlines.card_for(
            calendar,
            clock.today,
            order.due_on,
            yellow_workdays=settings.yellow_card_workdays,
            red_workdays_late=settings.red_card_workdays_late,
        )
        if CARD_RANK[card] > CARD_RANK[Card(order.card)]:
            action = Action.ESCALATE if card is Card.RED else Action.CHASE
            if allowed(order.state, action):
                order.card = card.value
                system_apply(session, SYSTEM, order, action, reason=f"card:{card.value}", now=clock.now)
                if card is Card.RED:
                    report.escalated += 1
                else:
                    report.chased += 1
                continue
        if (
            order.respond_by is not None
            and order.responded_at is None
            and order.respond_by < clock.today
            and order.card == ""
        ):
            # A rectification not answered in time gets its yellow card (putting it right is due later).
            order.card = Card.YELLOW.value
            system_apply(session, SYSTEM, order, Action.CHASE, reason="unanswered", now=clock.now)
            report.unanswered += 1
    if report.chased or report.escalated or report.unanswered:
        logger.info("chased %d, escalated %d, unanswered %d", report.chased, report.escalated, report.unanswered)
    return report


def run_chase() -> None:
    """The scheduled entry point."""
    # First any provisional due date a calendar change left behind: cards count from the right day.
    sweep_provisional(get_engine())
    with session_scope(write=True) as session:
        chase_orders(session)


def run_purge() -> None:
    with session_scope(write=True) as session:
        hits = guards.purge_hits(session)
        keys = guards.purge_keys(session)
    logger.info("purged %d rate-limit hits and %d idempotency keys", hits, keys)


# Cards change with the working day: twice a day is enough, at the start of the morning and afternoon.
CHASE_JOB = JobSpec("complaints.chase", "complaints.jobs:run_chase", "cron", {"hour": "8,14", "minute": 5})
PURGE_JOB = JobSpec("complaints.purge", "complaints.jobs:run_purge", "cron", {"hour": 3, "minute": 40})
