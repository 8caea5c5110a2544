"""Demo attendance: three months of punches for every demo person (city, counties, parks, townships) with
the noise of a real hall — a late arrival now and then, a forgotten punch, an early leave, a day away — and
the computed days, so the managers' pages are full at every level. Leave and business trips are the leave
demo's (supervision.hours_demo, seeded before): nobody punches on a day they are away.

Deterministic (seeded by person and day) and idempotent: punches have fixed record ids, a day that has its
demo punches is not generated again, and days are computed only when something new was added.
"""

from __future__ import annotations

import logging
import random
import time as _time
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, func, select

from supervision import officehours
from supervision.access import SYSTEM
from supervision.attendance.days import compute_days
from supervision.attendance.models import AttendanceDay, CorrectionRequest, DayStatus, Punch, PunchSource, VerifyMode
from supervision.attendance.punches import _insert
from supervision.db import utcnow
from supervision.leave import LeaveRequest, LeaveStatus
from supervision.models import Site, Staff, User
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

DAYS_BACK = 91
MODES = (VerifyMode.FACE, VerifyMode.FACE, VerifyMode.FINGERPRINT, VerifyMode.CARD)


def _clock(base: time, minutes: int) -> time:
    total = base.hour * 60 + base.minute + minutes
    return time(total // 60 % 24, total % 60)


def seed_attendance_demo(session: Session, *, today: date | None = None) -> int:
    """Punches for the last three months of every active demo person, then their computed days; the count added."""
    started = _time.perf_counter()
    tz = get_settings().tz
    today = today or datetime.now(tz).date()
    start, end = today - timedelta(days=DAYS_BACK), today - timedelta(days=1)
    people = list(session.exec(select(Staff).where(col(Staff.is_demo), col(Staff.active))
                               .order_by(col(Staff.id))).all())
    if not people:
        return 0
    away: set[tuple[int, date]] = set()
    for staff_id, leave_from, leave_to in session.exec(select(col(LeaveRequest.staff_id), col(LeaveRequest.start_day),
                                                     col(LeaveRequest.end_day)).where(
            col(LeaveRequest.status) == LeaveStatus.APPROVED, col(LeaveRequest.end_day) >= start,
            col(LeaveRequest.start_day) <= end)):
        day = leave_from
        while day <= leave_to:
            away.add((staff_id, day))
            day += timedelta(days=1)
    # A day already computed or punched is done: generated days stay as they were (absent ones included).
    done_until: dict[int, date] = {}
    for staff_id, last_day in session.exec(select(col(AttendanceDay.staff_id), func.max(col(AttendanceDay.day)))
                                           .where(col(AttendanceDay.day) >= start)
                                           .group_by(col(AttendanceDay.staff_id))):
        done_until[staff_id] = last_day
    for staff_id, last_day in session.exec(select(col(Punch.staff_id), func.max(col(Punch.local_day))).where(
            col(Punch.source) == PunchSource.DEMO, col(Punch.local_day) >= start).group_by(col(Punch.staff_id))):
        done_until[staff_id] = max(last_day, done_until.get(staff_id, last_day))
    if all(done_until.get(p.id or 0, start) >= end for p in people):
        _seed_demo_corrections(session, today=today)  # once per centre
        return 0  # a restart the same day: everything is there
    codes = {s.id: s.code for s in session.exec(select(Site)).all()}
    hours = {site: officehours.hours_for_range(session, site_id=site, start=start, end=end)
             for site in {p.site_id for p in people}}
    now = utcnow()
    rows: list[dict[str, object]] = []
    for person in people:
        assert person.id is not None
        device = f"DEMO-{codes.get(person.site_id, 'X')}-01"
        rng = random.Random(person.code)  # one stream per person: the same days come out the same each time
        for day, day_hours in hours[person.site_id].items():
            if day <= done_until.get(person.id, start - timedelta(days=1)) or (person.id, day) in away:
                continue
            first, last = day_hours.periods[0][0], day_hours.periods[-1][1]
            roll = rng.random()
            sign_in: time | None = _clock(first, -rng.randint(3, 25))
            sign_out: time | None = _clock(last, rng.randint(0, 20))
            if roll < 0.04:
                sign_in = _clock(first, rng.randint(1, 25))  # late now and then
            elif roll < 0.055:
                sign_out = None  # forgot to punch out
            elif roll < 0.065:
                sign_in = None  # forgot to punch in
            elif roll < 0.075:
                sign_out = _clock(last, -rng.randint(3, 30))  # left early
            elif roll < 0.078:
                continue  # did not come: absent
            mode = MODES[rng.randrange(len(MODES))]
            for n, at in enumerate((sign_in, sign_out)):
                if at is None:
                    continue
                moment = datetime.combine(day, at, tzinfo=tz)
                rows.append({"staff_id": person.id, "site_id": person.site_id, "punched_at": moment, "local_day": day,
                             "device": device, "record_id": f"demo-{person.id}-{day:%Y%m%d}-{n}",
                             "verify_mode": mode, "source": PunchSource.DEMO, "received_at": now})
    _insert(session, Punch, rows)
    if rows:
        # Only from the first new day: a restart a day later computes one day, not three months.
        changed_from = min(d for d in (r["local_day"] for r in rows) if isinstance(d, date))
        compute_days(session, actor=SYSTEM, start=max(start, changed_from), end=end)
    asked = _seed_demo_corrections(session, today=today)
    logger.info("demo attendance: %d punches and %d 补卡 requests added in %.1f s", len(rows), asked,
                _time.perf_counter() - started)
    return len(rows)


def _seed_demo_corrections(session: Session, *, today: date) -> int:
    """A pending 补卡 request at every demo centre that has a recent missed punch, so each manager's queue has work.

    Once per centre: a centre that has any request already (pending or decided) gets none.
    """
    since = today - timedelta(days=25)  # inside the window a request may be asked in (corrections.ASK_WITHIN)
    has_requests = set(session.exec(select(col(CorrectionRequest.site_id)).distinct()).all())
    accounts = {staff_id: f"user:{name}" for staff_id, name in session.exec(
        select(col(User.staff_id), col(User.username)).where(col(User.staff_id).is_not(None)))}
    missed = session.exec(select(AttendanceDay).join(Staff, col(Staff.id) == AttendanceDay.staff_id).where(
        col(Staff.is_demo), col(AttendanceDay.status) == DayStatus.MISSED_PUNCH, col(AttendanceDay.day) >= since,
        col(AttendanceDay.corrected).is_(False)).order_by(col(AttendanceDay.day).desc())).all()
    added = 0
    for day in missed:
        if day.site_id in has_requests:
            continue
        has_requests.add(day.site_id)
        hours = officehours.hours_for(session, site_id=day.site_id, day=day.day)
        if hours is None:
            continue
        # The punch the terminal lacks: the morning's when there is none, else the evening's.
        if day.first_in is None:
            at, reason = _clock(hours.periods[0][0], -7), "早上指纹识别失败,已请窗口负责人证明"
        else:
            at, reason = _clock(hours.periods[-1][1], 12), "下班时考勤机断电未打上卡"
        session.add(CorrectionRequest(staff_id=day.staff_id, site_id=day.site_id, day=day.day, punch_time=at,
                                      reason=reason, asked_by=accounts.get(day.staff_id, "system")))
        added += 1
    session.flush()
    return added
