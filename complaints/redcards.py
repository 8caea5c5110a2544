"""Red cards into the ledger: an order past its due date (deadlines.py, card red) costs its window points, once.

The chase job gives the card (complaints/jobs.py); this job books its points against the window concerned, the
window of the lead department that let the order run late (the order's own window). An order without a window
has nobody to book against: it is reported with why, and booked once someone names its window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import and_, exists
from sqlmodel import Session, col, select

from complaints.models import WorkOrder, WorkOrderEvent
from complaints.workflow import Action
from complaints.workorders import Clock
from supervision import ledger, scoring
from supervision.access import SYSTEM
from supervision.db import session_scope
from supervision.errors import Conflict
from supervision.models import LedgerEntry
from supervision.scheduler import JobSpec
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

RED_CARD_KIND = "red_card"  # the ledger kind, scored under the rule item below (scoring.ITEM_OF_KIND)
RED_CARD_ITEM = "workorder.red_card"
SOURCE_KIND = "work_order"


@dataclass
class RedCardReport:
    booked: list[str] = field(default_factory=list)  # numbers of the orders booked this run
    unbooked: dict[str, str] = field(default_factory=dict)  # number -> why not ("no_window", "month_closed")


def red_card_points(session: Session, *, on: date) -> float:
    """The points of a red card on a day, from the rule set in force."""
    return scoring.points(session, RED_CARD_ITEM, on=on)


def _card_day(session: Session, order: WorkOrder, today: date) -> date:
    """The local day the order got its red card (the escalation event), today if no event says so."""
    at = session.exec(
        select(WorkOrderEvent.at)
        .where(col(WorkOrderEvent.order_id) == order.id, col(WorkOrderEvent.action) == Action.ESCALATE.value)
        .order_by(col(WorkOrderEvent.seq))
    ).first()
    return at.astimezone(get_settings().tz).date() if at is not None else today


def book_red_cards(session: Session, *, today: date | None = None) -> RedCardReport:
    """Book one ledger entry for each red-carded order that has none yet (idempotent: once per order)."""
    today = today or Clock.at().today
    booked_already = exists().where(and_(
        col(LedgerEntry.source_kind) == SOURCE_KIND,
        col(LedgerEntry.source_id) == WorkOrder.number,
        col(LedgerEntry.kind) == RED_CARD_KIND,
    ))
    orders = session.exec(
        select(WorkOrder).where(col(WorkOrder.card) == "red", ~booked_already).order_by(col(WorkOrder.id))
    ).all()
    report = RedCardReport()
    for order in orders:
        if order.window_id is None:
            report.unbooked[order.number] = "no_window"
            continue
        day = _card_day(session, order, today)
        try:
            with session.begin_nested():
                _book(session, order, day, day)
        except Conflict:
            # The month of the card is closed: the points fall in the first open day, naming the card's day.
            try:
                with session.begin_nested():
                    _book(session, order, today, day)
            except Conflict:
                report.unbooked[order.number] = "month_closed"
                continue
        report.booked.append(order.number)
    if report.booked or report.unbooked:
        logger.info("red cards booked: %s; not booked: %s", report.booked, report.unbooked)
    return report


def _book(session: Session, order: WorkOrder, day: date, card_day: date) -> None:
    ledger.record_entry(
        session,
        actor=SYSTEM,
        day=day,
        kind=RED_CARD_KIND,
        points=red_card_points(session, on=day),
        reason=ledger.keyed_reason("ledger_reason.red_card", number=order.number, due=order.due_on.isoformat(),
                                   card_day=card_day.isoformat()),
        source_kind=SOURCE_KIND,
        source_id=order.number,
        window_id=order.window_id,
    )


def run_red_cards() -> None:
    """The scheduled entry point."""
    with session_scope(write=True) as session:
        book_red_cards(session)


# After each chase run (08:05 and 14:05), which gives the cards.
RED_CARD_JOB = JobSpec("complaints.red_cards", "complaints.redcards:run_red_cards", "cron",
                       {"hour": "8,14", "minute": 20})
