"""Leave requests: asked by staff for themselves, approved by their manager (and a second level), cancelled before.

Approval levels (README "Design"): the first level is any manager whose jurisdiction holds the staff member's
site. A request of more than `SUPERVISION_LEAVE_SECOND_LEVEL_DAYS` working days then needs a second,
different manager whose jurisdiction lies strictly above that site (a manager of the parent site or of the
city); for staff of the city centre itself, whose site has no parent, any other city-level manager. Nobody
decides their own request.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from sqlalchemy import and_
from sqlmodel import Session, col, select

from supervision import audit, crypto
from supervision.access import Permission, Principal
from supervision.db import utcnow
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.leave.counting import annual_entitlement, half_days, working_days
from supervision.leave.models import HOLDING, LeaveKind, LeaveProfile, LeaveRequest, LeaveStatus
from supervision.leave.settings import get_leave_settings
from supervision.models import Role, Site, Staff
from supervision.settings import get_settings
from supervision.workdays import load_calendar

MAX_SPAN_DAYS = 200  # maternity leave (158 days and more) is the longest kind
MAX_PAST_DAYS = 92  # sick leave is often entered afterwards, but not from another quarter
MAX_AHEAD_DAYS = 366
REASON_MAX = 500


@dataclass(frozen=True)
class Absence:
    staff_id: int
    day: date
    kind: LeaveKind
    request_id: int
    half: Literal["am", "pm"] | None  # None = the whole day


@dataclass(frozen=True)
class Balance:
    """Annual leave of one year: the entitlement, the days taken or approved, the days asked and pending."""

    year: int
    service_start: date | None
    entitled: float
    approved: float
    pending: float

    @property
    def remaining(self) -> float:
        return self.entitled - self.approved - self.pending


def local_today() -> date:
    return datetime.now(get_settings().tz).date()


def month_is_closed(session: Session, month: date, *, site_id: int | None = None) -> bool:
    """Whether the month holding `month` is closed (its scores frozen) for a site: leave in it is then refused.

    Without a site: whether it is closed anywhere. The one place leave asks the month close (supervision.scoring).
    """
    from supervision.scoring import closing_for

    if site_id is None:
        from supervision.scoring import MonthClose

        return session.exec(select(MonthClose.id).where(col(MonthClose.month) == month.replace(day=1),
                                                        col(MonthClose.status) == "closed")).first() is not None
    site = session.get(Site, site_id)
    return site is not None and closing_for(session, month=month, site_path=site.path) is not None


def second_level_days() -> float:
    """Requests of more working days than this need the second level (SUPERVISION_LEAVE_SECOND_LEVEL_DAYS)."""
    return get_leave_settings().second_level_days


# --- asking -------------------------------------------------------------------------------------


def _months(start: date, end: date) -> list[date]:
    out, current = [], start.replace(day=1)
    while current <= end:
        out.append(current)
        current = (current + timedelta(days=32)).replace(day=1)
    return out


def _slots(row: LeaveRequest) -> tuple[tuple[date, int], tuple[date, int]]:
    """The first and last half-day slot of a request (0 = morning, 1 = afternoon)."""
    return (row.start_day, 1 if row.start_pm else 0), (row.end_day, 0 if row.end_am else 1)


def _overlapping(session: Session, staff_id: int, start: date, end: date) -> list[LeaveRequest]:
    return list(session.exec(select(LeaveRequest).where(
        LeaveRequest.staff_id == staff_id, col(LeaveRequest.status).in_(HOLDING),
        col(LeaveRequest.start_day) <= end, col(LeaveRequest.end_day) >= start)).all())


def _validate_dates(start: date, start_pm: bool, end: date, end_am: bool, today: date) -> None:
    if end < start:
        raise InvalidInput("end_day", "error.range_order")
    if start == end and start_pm and end_am:
        raise InvalidInput("end_am", "error.leave_half_both")
    if (end - start).days > MAX_SPAN_DAYS:
        raise InvalidInput("end_day", "error.leave_span", days=MAX_SPAN_DAYS)
    if start < today - timedelta(days=MAX_PAST_DAYS):
        raise InvalidInput("start_day", "error.leave_too_old", days=MAX_PAST_DAYS)
    if start > today + timedelta(days=MAX_AHEAD_DAYS):
        raise InvalidInput("start_day", "error.leave_too_far", days=MAX_AHEAD_DAYS)


def request_leave(session: Session, actor: Principal, *, kind: LeaveKind, start_day: date, end_day: date,
                  start_pm: bool = False, end_am: bool = False, reason: str = "", is_demo: bool = False,
                  ip: str = "") -> LeaveRequest:
    """Ask for leave for oneself (the staff member linked to the account); refused when it overlaps or is empty."""
    if actor.staff_id is None:
        raise Forbidden("error.leave_no_staff")
    staff = session.get(Staff, actor.staff_id)
    if staff is None or not staff.active:
        raise Forbidden("error.leave_no_staff")
    _validate_dates(start_day, start_pm, end_day, end_am, local_today())
    if len(reason) > REASON_MAX:
        raise InvalidInput("reason", "error.too_long", max=REASON_MAX)
    for month in _months(start_day, end_day):
        if month_is_closed(session, month, site_id=staff.site_id):
            raise Conflict("error.leave_month_closed", month=month.strftime("%Y-%m"))
    calendar = load_calendar(session)
    count = half_days(calendar, start_day, start_pm, end_day, end_am)
    if count == 0:
        raise InvalidInput("end_day", "error.leave_no_workdays")
    new = LeaveRequest(staff_id=actor.staff_id, site_id=staff.site_id, kind=kind, start_day=start_day,
                       start_pm=start_pm, end_day=end_day, end_am=end_am, half_days=count)
    first, last = _slots(new)
    for other in _overlapping(session, actor.staff_id, start_day, end_day):
        o_first, o_last = _slots(other)
        if first <= o_last and o_first <= last:
            raise Conflict("error.leave_overlap", id=other.id, start=other.start_day.isoformat(),
                           end=other.end_day.isoformat(), kind=f"leave_kind.{other.kind.value}")
    if kind == LeaveKind.ANNUAL:
        _check_balance(session, staff_id=actor.staff_id, new=new)
    new.reason_enc = crypto.encrypt(reason.strip()) if reason.strip() else ""
    new.needs_second = count / 2 > get_leave_settings().second_level_days
    new.requested_by_id = actor.id if actor.kind == "user" else None
    new.is_demo = is_demo
    session.add(new)
    session.flush()
    audit.record(session, actor, "leave.request", object_kind="leave_request", object_id=new.id,
                 site_id=new.site_id, summary=f"{kind.value} {start_day}..{end_day} {count / 2:g}",
                 ip=ip)
    return new


def _check_balance(session: Session, *, staff_id: int, new: LeaveRequest) -> None:
    calendar = load_calendar(session)
    by_year: dict[int, int] = {}
    for day, half in working_days(calendar, new.start_day, new.start_pm, new.end_day, new.end_am):
        by_year[day.year] = by_year.get(day.year, 0) + (1 if half else 2)
    for year, asked in sorted(by_year.items()):
        balance = annual_balance(session, staff_id=staff_id, year=year)
        if balance.service_start is None:
            raise Conflict("error.leave_no_service_start")
        if asked / 2 > balance.remaining:
            raise Conflict("error.leave_over_balance", year=year, remaining=f"{balance.remaining:g}",
                           asked=f"{asked / 2:g}")


# --- deciding -----------------------------------------------------------------------------------


def _site_path(session: Session, site_id: int) -> str:
    site = session.get(Site, site_id)
    return "/" if site is None else site.path


def _visible(session: Session, actor: Principal, request_id: int) -> tuple[LeaveRequest, str]:
    row = session.get(LeaveRequest, request_id)
    if row is None:
        raise NotFound("error.not_found_kind", kind="kind.leave_request", id=request_id)
    path = _site_path(session, row.site_id)
    mine = actor.staff_id is not None and row.staff_id == actor.staff_id
    if not mine and not (actor.can(Permission.LEAVE_APPROVE) and actor.covers_path(path)):
        raise NotFound("error.not_found_kind", kind="kind.leave_request", id=request_id)
    return row, path


def may_decide(actor: Principal, row: LeaveRequest, site_path: str) -> bool:
    """Whether `actor` may approve or reject the request at the level it waits for."""
    if not actor.can(Permission.LEAVE_APPROVE) or (actor.staff_id is not None and actor.staff_id == row.staff_id):
        return False
    if row.status == LeaveStatus.PENDING:
        return actor.covers_path(site_path)
    if row.status == LeaveStatus.PENDING_SECOND:
        if actor.id is not None and actor.id == row.first_by_id:
            return False
        above = actor.covers_path(site_path) and actor.site_path != site_path
        at_root = site_path.count("/") <= 2 and actor.site_path == site_path
        return above or at_root
    return False


def decide(session: Session, actor: Principal, *, request_id: int, approve: bool, note: str = "",
           ip: str = "") -> LeaveRequest:
    """Approve or reject at the level the request waits for (audited)."""
    row, path = _visible(session, actor, request_id)
    if row.status not in (LeaveStatus.PENDING, LeaveStatus.PENDING_SECOND):
        raise Conflict("error.leave_not_pending", status=f"leave_status.{row.status.value}")
    if actor.staff_id is not None and actor.staff_id == row.staff_id:
        raise Forbidden("error.leave_own")
    if not may_decide(actor, row, path):
        raise Forbidden("error.leave_second_level" if row.status == LeaveStatus.PENDING_SECOND
                        else "error.forbidden")
    if len(note) > 400:
        raise InvalidInput("note", "error.too_long", max=400)
    if approve:
        for month in _months(row.start_day, row.end_day):
            if month_is_closed(session, month, site_id=row.site_id):
                raise Conflict("error.leave_month_closed", month=month.strftime("%Y-%m"))
    before = row.status
    now = utcnow()
    if row.status == LeaveStatus.PENDING:
        row.first_by_id, row.first_at = actor.id, now
        if not approve:
            row.status = LeaveStatus.REJECTED
        else:
            row.status = LeaveStatus.PENDING_SECOND if row.needs_second else LeaveStatus.APPROVED
    else:
        row.second_by_id, row.second_at = actor.id, now
        row.status = LeaveStatus.APPROVED if approve else LeaveStatus.REJECTED
    row.decision_note = note.strip()
    session.add(row)
    session.flush()
    audit.record(session, actor, "leave.approve" if approve else "leave.reject", object_kind="leave_request",
                 object_id=row.id, site_id=row.site_id, summary=note[:200],
                 detail={"before": before.value, "after": row.status.value}, ip=ip)
    return row


def cancel(session: Session, actor: Principal, *, request_id: int, ip: str = "") -> LeaveRequest:
    """The requester withdraws a pending or approved request before its first day (audited)."""
    row, _ = _visible(session, actor, request_id)
    if actor.staff_id is None or row.staff_id != actor.staff_id:
        raise Forbidden("error.leave_cancel_own")
    if row.status not in HOLDING:
        raise Conflict("error.leave_not_cancellable", status=f"leave_status.{row.status.value}")
    if row.start_day <= local_today():
        raise Conflict("error.leave_started", start=row.start_day.isoformat())
    before = row.status
    row.status, row.cancelled_at = LeaveStatus.CANCELLED, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "leave.cancel", object_kind="leave_request", object_id=row.id,
                 site_id=row.site_id, detail={"before": before.value}, ip=ip)
    return row


# --- reading ------------------------------------------------------------------------------------


def get_request(session: Session, actor: Principal, *, request_id: int) -> LeaveRequest:
    """One request, for its requester or a manager of its site."""
    row, _ = _visible(session, actor, request_id)
    return row


def reason_of(session: Session, actor: Principal, row: LeaveRequest) -> str:
    """The decrypted reason; a manager reading another's reason is audited (it may be about health)."""
    if not row.reason_enc:
        return ""
    if actor.staff_id != row.staff_id:
        audit.record(session, actor, "leave.view_reason", object_kind="leave_request", object_id=row.id,
                     site_id=row.site_id)
    return crypto.decrypt(row.reason_enc)


def own_requests(session: Session, actor: Principal, *, limit: int = 100) -> list[LeaveRequest]:
    """The actor's own requests, newest first."""
    if actor.staff_id is None:
        return []
    return list(session.exec(select(LeaveRequest).where(LeaveRequest.staff_id == actor.staff_id)
                             .order_by(col(LeaveRequest.start_day).desc(), col(LeaveRequest.id).desc())
                             .limit(limit)).all())


def requests_in_jurisdiction(session: Session, actor: Principal, *, statuses: Collection[LeaveStatus] | None = None,
                             staff_id: int | None = None, limit: int = 200) -> list[tuple[LeaveRequest, Staff]]:
    """Requests of staff in the manager's jurisdiction, newest first."""
    actor.require(Permission.LEAVE_APPROVE)
    stmt = (select(LeaveRequest, Staff).join(Staff, col(Staff.id) == LeaveRequest.staff_id)
            .join(Site, col(Site.id) == LeaveRequest.site_id)
            .where(col(Site.path).startswith(actor.site_path, autoescape=True)))
    if statuses:
        stmt = stmt.where(col(LeaveRequest.status).in_(list(statuses)))
    if staff_id is not None:
        stmt = stmt.where(LeaveRequest.staff_id == staff_id)
    stmt = stmt.order_by(col(LeaveRequest.created_at).desc(), col(LeaveRequest.id).desc()).limit(limit)
    return [(r, s) for r, s in session.exec(stmt).all()]


def queue(session: Session, actor: Principal) -> list[tuple[LeaveRequest, Staff]]:
    """The requests waiting for this manager's decision, oldest first."""
    rows = requests_in_jurisdiction(session, actor,
                                    statuses=(LeaveStatus.PENDING, LeaveStatus.PENDING_SECOND), limit=500)
    paths = {s.id: s.path for s in session.exec(select(Site).where(
        col(Site.id).in_({r.site_id for r, _ in rows}))).all()}
    out = [(r, s) for r, s in rows if may_decide(actor, r, paths.get(r.site_id, "/"))]
    return sorted(out, key=lambda pair: (pair[0].created_at, pair[0].id or 0))


def absences(session: Session, *, staff_ids: Collection[int] | None, start: date, end: date,
             ) -> dict[tuple[int, date], Absence]:
    """Approved (not cancelled) leave covering each working day in [start, end], by (staff, day)."""
    stmt = select(LeaveRequest).where(LeaveRequest.status == LeaveStatus.APPROVED,
                                      col(LeaveRequest.start_day) <= end, col(LeaveRequest.end_day) >= start)
    if staff_ids is not None:
        ids = list(staff_ids)
        if not ids:
            return {}
        stmt = stmt.where(col(LeaveRequest.staff_id).in_(ids))
    calendar = load_calendar(session)
    out: dict[tuple[int, date], Absence] = {}
    for row in session.exec(stmt.order_by(col(LeaveRequest.id))).all():
        assert row.id is not None
        for day, half in working_days(calendar, row.start_day, row.start_pm, row.end_day, row.end_am):
            if start <= day <= end:
                key = (row.staff_id, day)
                if key in out and out[key].half != half and half is not None and out[key].half is not None:
                    half = None  # a morning and an afternoon of two requests: away all day
                out[key] = Absence(row.staff_id, day, row.kind, row.id, half)
    return out


# --- annual balance -----------------------------------------------------------------------------


def service_start(session: Session, *, staff_id: int) -> date | None:
    profile = session.get(LeaveProfile, staff_id)
    return None if profile is None else profile.service_start


def set_service_start(session: Session, actor: Principal, *, staff_id: int, day: date, ip: str = "") -> LeaveProfile:
    """Record a staff member's service start date (参加工作时间); a manager or admin over their site (audited)."""
    if actor.role not in (Role.MANAGER, Role.ADMIN) and actor.kind != "system":
        raise Forbidden("error.forbidden")
    staff = session.get(Staff, staff_id)
    if staff is None or not actor.covers_path(_site_path(session, staff.site_id)):
        raise NotFound("error.not_found_kind", kind="kind.staff", id=staff_id)
    if not date(1950, 1, 1) <= day <= local_today():
        raise InvalidInput("service_start", "error.invalid_value", detail="1950-01-01 … today")
    existing = session.get(LeaveProfile, staff_id)
    before = None if existing is None else existing.service_start
    profile = existing or LeaveProfile(staff_id=staff_id, service_start=day)
    profile.service_start, profile.updated_by_id, profile.updated_at = (
        day, actor.id if actor.kind == "user" else None, utcnow())
    session.add(profile)
    session.flush()
    audit.record(session, actor, "leave.service_start", object_kind="staff", object_id=staff_id,
                 site_id=staff.site_id, detail={"before": None if before is None else before.isoformat(),
                                                "after": day.isoformat()}, ip=ip)
    return profile


def balance_target(session: Session, actor: Principal, *, staff_id: int | None) -> int:
    """Whose balance the actor may read: their own (no id), or a staff member of a manager's jurisdiction."""
    if staff_id is None or staff_id == actor.staff_id:
        if actor.staff_id is None:
            raise Forbidden("error.leave_no_staff")
        return actor.staff_id
    staff = session.get(Staff, staff_id)
    if (staff is None or not actor.can(Permission.LEAVE_APPROVE)
            or not actor.covers_path(_site_path(session, staff.site_id))):
        raise NotFound("error.not_found_kind", kind="kind.staff", id=staff_id)
    return staff_id


def annual_balance(session: Session, *, staff_id: int, year: int) -> Balance:
    """The annual leave of one year: entitlement by years of service, less approved and pending annual leave."""
    start = service_start(session, staff_id=staff_id)
    first, last = date(year, 1, 1), date(year, 12, 31)
    rows = session.exec(select(LeaveRequest).where(
        LeaveRequest.staff_id == staff_id, LeaveRequest.kind == LeaveKind.ANNUAL,
        col(LeaveRequest.status).in_(HOLDING),
        and_(col(LeaveRequest.start_day) <= last, col(LeaveRequest.end_day) >= first))).all()
    calendar = load_calendar(session)
    approved = pending = 0
    for row in rows:
        halves = sum(1 if h else 2 for d, h in working_days(calendar, row.start_day, row.start_pm, row.end_day,
                                                             row.end_am) if d.year == year)
        if row.status == LeaveStatus.APPROVED:
            approved += halves
        else:
            pending += halves
    return Balance(year, start, float(annual_entitlement(start, year)), approved / 2, pending / 2)


__all__ = [
    "Absence",
    "Balance",
    "absences",
    "annual_balance",
    "balance_target",
    "cancel",
    "decide",
    "get_request",
    "month_is_closed",
    "own_requests",
    "queue",
    "reason_of",
    "request_leave",
    "requests_in_jurisdiction",
    "second_level_days",
    "service_start",
    "set_service_start",
]
