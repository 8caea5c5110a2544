"""Demo office hours and leave: timetables for the city and two counties, service start dates, and leave
requests (approved, pending, a business trip) at every demo centre. Each part runs once; a restart adds nothing."""

from __future__ import annotations

import dataclasses
import logging
from datetime import date, time, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from supervision import leave, officehours
from supervision.access import SYSTEM, Principal
from supervision.db import session_scope
from supervision.demo_data import CITY_CODE
from supervision.errors import SupervisionError
from supervision.leave import LeaveKind, LeaveProfile, LeaveRequest
from supervision.models import Site, SiteKind, Staff, User
from supervision.officehours import OfficeTimetable, PeriodSpec, Season
from supervision.workdays import load_calendar

logger = logging.getLogger(__name__)

W, S = Season.WINTER, Season.SUMMER
JY_CODE = f"{CITY_CODE}-JY"  # 江油市: its own summer (June to August) with a later afternoon
FC_CODE = f"{CITY_CODE}-FC"  # 涪城区: the city's hours plus a Wednesday evening of extended service


def _weekdays(season: Season, *periods: tuple[time, time], extended: bool = False) -> list[PeriodSpec]:
    return [PeriodSpec(season, d, s, e, extended) for d in range(5) for s, e in periods]


def _timetables() -> dict[str, tuple[tuple[tuple[int, int], tuple[int, int]] | None, list[PeriodSpec], str]]:
    city = list(officehours.DEFAULT_PERIODS)
    return {
        CITY_CODE: (officehours.DEFAULT_SUMMER, city, "市政务服务中心作息(夏季 5 月 1 日至 9 月 30 日)"),
        JY_CODE: (((6, 1), (8, 31)),
                  _weekdays(W, (time(8, 30), time(12)), (time(13, 30), time(17, 30)))
                  + _weekdays(S, (time(8, 30), time(12)), (time(14, 30), time(18))),
                  "江油市夏季作息(6 月 1 日至 8 月 31 日)"),
        FC_CODE: (officehours.DEFAULT_SUMMER,
                  [*city, PeriodSpec(W, 2, time(17), time(19), True), PeriodSpec(S, 2, time(17, 30), time(19), True)],
                  "涪城区每周三延时服务至 19:00"),
    }


def seed_timetables(session: Session) -> int:
    """The city's, 江油's and 涪城's own timetables; the others inherit the city's. Runs once."""
    if session.exec(select(OfficeTimetable.id).where(col(OfficeTimetable.is_demo))).first() is not None:
        return 0
    made = 0
    for code, (summer, periods, note) in _timetables().items():
        site = session.exec(select(Site).where(Site.code == code)).first()
        if site is None or site.id is None:
            continue
        officehours.set_timetable(session, SYSTEM, site_id=site.id, summer=summer, periods=periods, note=note,
                                  is_demo=True)
        made += 1
    return made


def _service_start(staff_id: int, today: date) -> date:
    """A spread of years of service (0 to 24), so the balances differ: 0, 5, 10 and 15 days all occur."""
    years = (staff_id * 7) % 25
    return date(today.year - years, 1 + staff_id % 12, 1 + staff_id % 28) if years else date(today.year, 1, 2)


def seed_service_starts(session: Session, today: date) -> int:
    known = set(session.exec(select(LeaveProfile.staff_id)).all())
    made = 0
    for staff_id in session.exec(select(Staff.id).where(col(Staff.is_demo))).all():
        if staff_id is None or staff_id in known:
            continue
        session.add(LeaveProfile(staff_id=staff_id, service_start=_service_start(staff_id, today)))
        made += 1
    return made


def _workday(session: Session, start: date, step: int) -> date:
    calendar = load_calendar(session)
    day = start
    while not calendar.is_workday(day).value:
        day += timedelta(days=step)
    return day


def _as(staff: Staff) -> Principal:
    return dataclasses.replace(SYSTEM, kind="user", id=None, name=f"demo:{staff.code}", staff_id=staff.id)


def seed_site_leave(session: Session, site: Site, today: date) -> int:
    """Three people of a centre: leave approved last week, a request waiting, a business trip this week."""
    # People with a demo account first, so they find their own leave on /me.
    with_account = set(session.exec(select(User.staff_id).where(col(User.staff_id).is_not(None))).all())
    candidates = session.exec(select(Staff).where(Staff.site_id == site.id, col(Staff.active), col(Staff.is_demo))
                              .order_by(col(Staff.id)).limit(50)).all()
    people = sorted(candidates, key=lambda p: (p.id not in with_account, p.id or 0))[:3]
    plans = [
        (LeaveKind.PERSONAL, _workday(session, today - timedelta(days=8), -1), 1, True, "家中有事(演示)"),
        (LeaveKind.SICK, _workday(session, today + timedelta(days=9), 1), 0, False, "预约复诊(演示)"),
        (LeaveKind.TRIP, _workday(session, today + timedelta(days=1), 1), 1, True, "赴省政务服务中心学习(演示)"),
    ]
    made = 0
    for person, (kind, start, extra, approve, reason) in zip(people, plans, strict=False):
        end = _workday(session, start + timedelta(days=extra), 1)
        try:
            row = leave.request_leave(session, _as(person), kind=kind, start_day=start, end_day=end,
                                      reason=reason, is_demo=True)
            if approve:
                leave.decide(session, SYSTEM, request_id=row.id or 0, approve=True, note="同意(演示)")
                if row.status != leave.LeaveStatus.APPROVED:
                    leave.decide(session, SYSTEM, request_id=row.id or 0, approve=True, note="同意(演示)")
        except SupervisionError as exc:  # an organisation edited by hand: that person is skipped
            logger.info("demo leave for %s skipped: %s", person.code, exc)
            continue
        made += 1
    return made


def seed_demo(engine: Engine, *, today: date, full: bool = False) -> None:
    """Timetables, service starts and each demo centre's leave, each centre in a short transaction of its own."""
    with session_scope(engine, write=True) as session:
        timetables = seed_timetables(session)
        starts = seed_service_starts(session, today)
    with session_scope(engine) as session:
        if session.exec(select(LeaveRequest.id).where(col(LeaveRequest.is_demo))).first() is not None:
            return
        kinds = [SiteKind.CITY, SiteKind.COUNTY, SiteKind.PARK] + ([] if full else [SiteKind.TOWNSHIP])
        site_ids = [s for s in session.exec(select(Site.id).where(col(Site.is_demo), col(Site.kind).in_(kinds))
                                            .order_by(col(Site.path))).all() if s is not None]
    made = 0
    for site_id in site_ids:
        with session_scope(engine, write=True) as session:
            site = session.get(Site, site_id)
            if site is not None:
                made += seed_site_leave(session, site, today)
    logger.info("demo office hours (%d timetables), %d service starts and %d leave requests seeded",
                timetables, starts, made)
