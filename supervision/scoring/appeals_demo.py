"""Demo appeals: in each demo manager's jurisdiction (the city and 江油), one appeal granted and one refused in
an earlier published month, and one pending in the latest published month while its deadline allows.

Runs after the scoring demo closed and published the past months; a month it finds open it closes and publishes
itself (as the manager, dated the first working day after the month), so the cycle shows either way.
Idempotent: a centre that has its demo appeals of a month gets none again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import accounts
from supervision.access import ROLE_PERMISSIONS, Principal
from supervision.db import session_scope
from supervision.errors import SupervisionError
from supervision.models import LedgerEntry, Role, Site, Staff, User
from supervision.scoring.appeals import (
    AppealCreate,
    AppealDecision,
    ScoreAppeal,
    appeal_deadline,
    decide_appeal,
    file_appeal,
)
from supervision.scoring.demo import demo_months
from supervision.scoring.models import MonthClose
from supervision.scoring.monthly import close_month, closing_for, month_end, publish_month
from supervision.settings import get_settings
from supervision.workdays import load_calendar

logger = logging.getLogger(__name__)

# The demo's managers and the staff account whose person appeals at the city (so `staff` sees it on /me/scores).
MANAGERS = ("manager", "manager_jy")
STAFF_ACCOUNT = "staff"


@dataclass(frozen=True)
class _Plan:
    granted: str
    refused: str
    pending: str


REASONS = _Plan(
    granted="当天系系统故障未能打卡,已附信息中心证明",
    refused="认为扣分过重,请求复核",
    pending="该项扣分所涉办件非本人经办",
)
DECISIONS = _Plan(granted="经核实情况属实,予以撤销该项扣分", refused="扣分事实清楚、依据充分,不予支持", pending="")


def seed_appeals_demo(engine: Engine, *, today: date) -> int:
    """Seed the demo appeals; the number added."""
    added = 0
    for username in MANAGERS:
        with session_scope(engine, write=True) as session:
            added += _seed_for(session, username, today)
    if added:
        logger.info("demo score appeals: %d added", added)
    return added


def _seed_for(session: Session, username: str, today: date) -> int:
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None:
        return 0
    manager = accounts.principal_for_user(session, user)
    site = session.get(Site, user.site_id)
    if site is None:
        return 0
    months = demo_months(today)
    for month in months:
        try:
            with session.begin_nested():
                _ensure_published(session, manager, site, month)
        except SupervisionError as exc:
            logger.warning("demo month %s of %s not closed: %s", month, site.code, exc)
    added = 0
    earlier, latest = months[-2], months[-1]
    if not _has_appeals(session, site, earlier):
        added += _granted_and_refused(session, manager, site, earlier)
    close = closing_for(session, month=latest, site_path=site.path)
    deadline = appeal_deadline(session, close) if close is not None else None
    if deadline is not None and today <= deadline and not _has_appeals(session, site, latest):
        added += _pending(session, site, latest, today)
    return added


def _ensure_published(session: Session, manager: Principal, site: Site, month: date) -> None:
    close = closing_for(session, month=month, site_path=site.path)
    if close is None:
        close = close_month(session, actor=manager, month=month, force=True)
    if close.published_at is None:
        close_site = session.get(Site, close.site_id)
        if close_site is None or not manager.covers_path(close_site.path):
            return  # closed above this manager: the one who closed it publishes
        publish_month(session, actor=manager, month=month, site_id=close.site_id)
        # As if published on the first working day after the month, at ten.
        first_workday = load_calendar(session).add_workdays(month_end(month), 1).value
        close.published_at = datetime.combine(first_workday, time(10), tzinfo=get_settings().tz)
        session.add(close)
        session.flush()


def _has_appeals(session: Session, site: Site, month: date) -> bool:
    return session.exec(select(ScoreAppeal.id).where(col(ScoreAppeal.site_id) == site.id,
                                                     col(ScoreAppeal.month) == month)).first() is not None


def _entries(session: Session, site: Site, month: date) -> list[LedgerEntry]:
    """Deductions of the centre's own people in the month that nobody reversed or appealed, the staff account's
    person first."""
    reversed_ids = set(session.exec(select(LedgerEntry.reverses_id).where(col(LedgerEntry.reverses_id).is_not(None),
                                                                         col(LedgerEntry.site_id) == site.id)).all())
    rows = session.exec(select(LedgerEntry).where(
        col(LedgerEntry.site_id) == site.id, col(LedgerEntry.staff_id).is_not(None), col(LedgerEntry.points) < 0,
        col(LedgerEntry.reverses_id).is_(None), col(LedgerEntry.day) >= month, col(LedgerEntry.day) <= month_end(month))
        .order_by(col(LedgerEntry.day), col(LedgerEntry.id))).all()
    own = session.exec(select(User.staff_id).where(col(User.username) == STAFF_ACCOUNT)).first()
    free = [e for e in rows if e.id not in reversed_ids]
    return sorted(free, key=lambda e: (e.staff_id != own, e.day, e.id))


def _person(session: Session, staff_id: int) -> Principal:
    """The person as they would file: their own account when they have one."""
    user = session.exec(select(User).where(col(User.staff_id) == staff_id, col(User.role) == Role.STAFF)).first()
    if user is not None:
        return accounts.principal_for_user(session, user)
    staff = session.get(Staff, staff_id)
    site = session.get(Site, staff.site_id) if staff is not None else None
    assert staff is not None and site is not None
    return Principal(kind="user", id=None, name=staff.name, site_id=site.id, site_path=site.path, role=Role.STAFF,
                     staff_id=staff_id, permissions=ROLE_PERMISSIONS[Role.STAFF])


def _file(session: Session, entry: LedgerEntry, reason: str, close: MonthClose, *, whole: bool = False,
          today: date | None = None) -> ScoreAppeal | None:
    assert entry.staff_id is not None
    filed_on = today or (close.published_at.astimezone(get_settings().tz).date() if close.published_at else None)
    try:
        with session.begin_nested():
            return file_appeal(session, actor=_person(session, entry.staff_id), today=filed_on, body=AppealCreate(
                ledger_entry_id=None if whole else entry.id, month=entry.day.strftime("%Y-%m"), reason=reason))
    except SupervisionError as exc:
        logger.warning("demo appeal of entry %s not filed: %s", entry.id, exc)
        return None


def _granted_and_refused(session: Session, manager: Principal, site: Site, month: date) -> int:
    close = closing_for(session, month=month, site_path=site.path)
    entries = _entries(session, site, month)
    if close is None or not entries:
        return 0
    added = 0
    granted = _file(session, entries[0], REASONS.granted, close)
    if granted is not None:
        decide_appeal(session, actor=manager, appeal_id=granted.id or 0,
                      body=AppealDecision(grant=True, reason=DECISIONS.granted))
        added += 1
    # The refused one: another entry when there is one, else the whole month's score.
    second = next((e for e in entries[1:] if e.id != entries[0].id), None)
    refused = _file(session, second or entries[0], REASONS.refused, close, whole=second is None)
    if refused is not None:
        decide_appeal(session, actor=manager, appeal_id=refused.id or 0,
                      body=AppealDecision(grant=False, reason=DECISIONS.refused))
        added += 1
    return added


def _pending(session: Session, site: Site, month: date, today: date) -> int:
    close = closing_for(session, month=month, site_path=site.path)
    entries = _entries(session, site, month)
    if close is None or not entries:
        return 0
    return 1 if _file(session, entries[0], REASONS.pending, close, today=today) is not None else 0
