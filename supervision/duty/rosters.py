"""The roster as a service: the pool per site, blocked days, wishes, generation, manual edits, today's pair.

Generation reads in one session, solves with no transaction open (CP-SAT takes seconds), then writes in
a short one: `generate_roster` takes the engine for that reason; everything else is a function over a session.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from supervision import audit
from supervision.access import Permission, Principal, check_site, site_path_clause
from supervision.db import session_scope, utcnow
from supervision.duty.models import (
    AssignmentSource,
    DutyAssignment,
    DutyBlockedDay,
    DutyPoolMember,
    DutyRole,
    DutySwap,
    DutyWish,
    SwapStatus,
    WishKind,
)
from supervision.duty.settings import DutySettings, get_duty_settings
from supervision.duty.solver import (
    Infeasible,
    Person,
    Roster,
    RosterProblem,
    SolverOptions,
    Unavailability,
    solve,
)
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.leave import LeaveKind, absences
from supervision.models import Site, Staff, StaffRank
from supervision.workdays import WorkCalendar, load_calendar

logger = logging.getLogger(__name__)

RANK_ROLE: dict[StaffRank, DutyRole] = {
    StaffRank.BUREAU_LEADER: DutyRole.LEADER,
    StaffRank.SECTION_LEVEL: DutyRole.CADRE,
}


# --- who takes part ----------------------------------------------------------------------------


def _require_read(actor: Principal) -> None:
    actor.require(Permission.DUTY_READ)


def _require_write(actor: Principal) -> None:
    actor.require(Permission.DUTY_WRITE)


@dataclass(frozen=True)
class PoolEntry:
    staff_id: int
    name: str
    title: str
    role: DutyRole


def pool(session: Session, actor: Principal, *, site_id: int) -> list[PoolEntry]:
    """The people who take part in a site's roster, leaders first."""
    _require_read(actor)
    check_site(session, actor, site_id)
    return _pool(session, site_id)


def _pool(session: Session, site_id: int) -> list[PoolEntry]:
    rows = session.exec(
        select(DutyPoolMember, Staff).join(Staff, col(Staff.id) == DutyPoolMember.staff_id)
        .where(DutyPoolMember.site_id == site_id).order_by(col(DutyPoolMember.role), col(Staff.code)))
    return [PoolEntry(int(staff.id or 0), staff.name, staff.title, member.role) for member, staff in rows
            if staff.active]


def set_pool(session: Session, actor: Principal, *, site_id: int, staff_ids: Sequence[int], ip: str = "") -> None:
    """Make these people the site's pool: bureau leaders lead, section-level cadres stand duty."""
    _require_write(actor)
    site = check_site(session, actor, site_id)
    wanted = list(dict.fromkeys(staff_ids))
    people = {s.id: s for s in session.exec(select(Staff).where(col(Staff.id).in_(wanted)))} if wanted else {}
    for staff_id in wanted:
        staff = people.get(staff_id)
        owner = session.get(Site, staff.site_id) if staff is not None else None
        if staff is None or owner is None or not owner.path.startswith(site.path) or not staff.active:
            raise InvalidInput("staff_ids", "error.unknown_ref", kind="kind.staff", value=staff_id)
        if staff.rank not in RANK_ROLE:
            raise InvalidInput("staff_ids", "error.duty_rank", name=staff.name)
    current = {m.staff_id: m for m in session.exec(select(DutyPoolMember).where(DutyPoolMember.site_id == site_id))}
    for staff_id, member in current.items():
        if staff_id not in people:
            session.delete(member)
    for staff_id in wanted:
        if staff_id not in current:
            session.add(DutyPoolMember(site_id=site_id, staff_id=staff_id, role=RANK_ROLE[people[staff_id].rank]))
    audit.record(session, actor, "duty.pool", object_kind="site", object_id=site_id, site_id=site_id, ip=ip,
                 summary=f"duty pool of {site.code}: {len(wanted)} people", detail={"staff_ids": wanted})


def roster_sites(session: Session, actor: Principal) -> list[Site]:
    """The sites in the actor's jurisdiction that run a roster (someone takes part)."""
    _require_read(actor)
    ids = select(DutyPoolMember.site_id).distinct()
    return list(session.exec(select(Site).where(col(Site.id).in_(ids), site_path_clause(actor))
                             .order_by(col(Site.path))))


# --- blocked days and wishes ---------------------------------------------------------------------


def _check_person(session: Session, actor: Principal, staff_id: int) -> Staff:
    """The person themself, or a manager over them; anyone else sees nothing."""
    staff = session.get(Staff, staff_id)
    site = session.get(Site, staff.site_id) if staff is not None else None
    if staff is None or site is None:
        raise NotFound("error.not_found_kind", kind="kind.staff", id=staff_id)
    if actor.staff_id == staff_id:
        return staff
    if not actor.can(Permission.DUTY_WRITE) or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.staff", id=staff_id)
    return staff


def set_blocked_day(session: Session, actor: Principal, *, staff_id: int, day: date, blocked: bool,
                    note: str = "", ip: str = "") -> None:
    """Mark (or clear) a day the person cannot be on duty."""
    _check_person(session, actor, staff_id)
    row = session.exec(select(DutyBlockedDay).where(DutyBlockedDay.staff_id == staff_id,
                                                    DutyBlockedDay.day == day)).first()
    if blocked and row is None:
        session.add(DutyBlockedDay(staff_id=staff_id, day=day, note=note.strip()[:200]))
    elif not blocked and row is not None:
        session.delete(row)
    audit.record(session, actor, "duty.blocked_day", object_kind="staff", object_id=staff_id, ip=ip,
                 detail={"day": day.isoformat(), "blocked": blocked})


def set_wish(session: Session, actor: Principal, *, staff_id: int, day: date, kind: WishKind | None,
             ip: str = "") -> None:
    """Record a wish (prefer or avoid a day), or clear it with None."""
    _check_person(session, actor, staff_id)
    row = session.exec(select(DutyWish).where(DutyWish.staff_id == staff_id, DutyWish.day == day)).first()
    if row is not None:
        session.delete(row)
        session.flush()
    if kind is not None:
        session.add(DutyWish(staff_id=staff_id, day=day, kind=kind))
    audit.record(session, actor, "duty.wish", object_kind="staff", object_id=staff_id, ip=ip,
                 detail={"day": day.isoformat(), "kind": kind.value if kind else None})


# --- generation ------------------------------------------------------------------------------------


def heavy_days(calendar: WorkCalendar, days: Sequence[date], *, long_holiday: int) -> set[date]:
    """Working days right before or after a run of at least `long_holiday` days off (春节, 国庆…)."""
    def run_off(day: date, step: int) -> int:
        count, current = 0, day + timedelta(days=step)
        while count < 40 and not calendar.is_workday(current).value:
            count += 1
            current += timedelta(days=step)
        return count

    return {d for d in days if run_off(d, 1) >= long_holiday or run_off(d, -1) >= long_holiday}


def working_days(calendar: WorkCalendar, start: date, end: date) -> list[date]:
    out, day = [], start
    while day <= end:
        if calendar.is_workday(day).value:
            out.append(day)
        day += timedelta(days=1)
    return out


def unavailable_days(session: Session, *, staff_ids: Sequence[int], start: date,
                     end: date) -> dict[tuple[int, date], Unavailability]:
    """The (person, day) pairs nobody may put on the roster: approved leave, trips and blocked days.

    Half a day of leave counts as the whole day: the people on duty stand the whole day in the hall.
    """
    out: dict[tuple[int, date], Unavailability] = {}
    if not staff_ids:
        return out
    for key, absence in absences(session, staff_ids=staff_ids, start=start, end=end).items():
        out[key] = Unavailability.TRIP if absence.kind == LeaveKind.TRIP else Unavailability.LEAVE
    for row in session.exec(select(DutyBlockedDay).where(col(DutyBlockedDay.staff_id).in_(staff_ids),
                                                         col(DutyBlockedDay.day) >= start,
                                                         col(DutyBlockedDay.day) <= end)):
        out.setdefault((row.staff_id, row.day), Unavailability.BLOCKED)
    return out


@dataclass(frozen=True)
class GenerationInput:
    site_id: int
    start: date
    end: date
    problem: RosterProblem


def _validate_period(start: date, end: date, today: date, settings: DutySettings) -> None:
    for name, value in (("start", start), ("end", end)):
        if not 2000 <= value.year <= 2100:  # the calendar's range; and no date arithmetic overflows near 9999
            raise InvalidInput(name, "error.duty_year_range")
    if end < start:
        raise InvalidInput("end", "error.duty_end_before_start")
    if (end - start).days + 1 > settings.max_period_days:
        raise InvalidInput("end", "error.duty_period_too_long", days=settings.max_period_days)
    if start < today:
        raise InvalidInput("start", "error.duty_replan_past", today=today.isoformat())


def generation_input(session: Session, actor: Principal, *, site_id: int, start: date, end: date, today: date,
                     settings: DutySettings | None = None) -> GenerationInput:
    """Read what the solver needs for a site and period (re-planning from `start` keeps what lies before)."""
    _require_write(actor)
    settings = settings or get_duty_settings()
    check_site(session, actor, site_id)
    _validate_period(start, end, today, settings)
    calendar = load_calendar(session)
    days = working_days(calendar, start, end)
    members = _pool(session, site_id)
    staff_ids = [m.staff_id for m in members]
    unavailable = unavailable_days(session, staff_ids=staff_ids, start=start, end=end)
    wishes = {(w.staff_id, w.day): w.kind for w in session.exec(
        select(DutyWish).where(col(DutyWish.staff_id).in_(staff_ids), col(DutyWish.day) >= start,
                               col(DutyWish.day) <= end))} if staff_ids else {}
    heavy = heavy_days(calendar, days, long_holiday=settings.long_holiday_days)
    # The duties just before the period, counted in working days back from its start.
    look_back = start - timedelta(days=settings.min_gap_days * 3 + 14)
    before = working_days(calendar, look_back, start - timedelta(days=1))
    ago_of_day = {d: len(before) - i for i, d in enumerate(before)}
    last_duty_ago: dict[int, int] = {}
    for row in session.exec(select(DutyAssignment).where(DutyAssignment.site_id == site_id,
                                                         col(DutyAssignment.day) >= look_back,
                                                         col(DutyAssignment.day) < start)):
        ago = ago_of_day.get(row.day)
        if ago is not None:
            last_duty_ago[row.staff_id] = min(ago, last_duty_ago.get(row.staff_id, ago))
    problem = RosterProblem(
        days=days, people=[Person(m.staff_id, m.role) for m in members], unavailable=unavailable,
        weights={d: settings.heavy_day_weight for d in heavy}, wishes=wishes, last_duty_ago=last_duty_ago,
        min_gap=settings.min_gap_days)
    return GenerationInput(site_id, start, end, problem)


def solve_roster(data: GenerationInput, settings: DutySettings | None = None) -> Roster:
    """Solve (no database); a roster that cannot be made raises InvalidInput naming the day and the reason."""
    settings = settings or get_duty_settings()
    options = SolverOptions(time_limit_seconds=settings.solver_time_limit_seconds, workers=settings.solver_workers)
    result = solve(data.problem, options)
    if isinstance(result, Infeasible):
        raise infeasible_error(result, data.problem.min_gap)
    return result


def infeasible_error(result: Infeasible, min_gap: int) -> InvalidInput:
    """The user's message: the day (MM-DD) and why, for the role that cannot be covered."""
    role = f"duty_role.{result.role.value}" if result.role else "duty_role.any"
    if result.day is None:
        return InvalidInput("start", f"error.duty_infeasible.{result.reason.value}", gap=min_gap)
    return InvalidInput("start", f"error.duty_infeasible.{result.reason.value}", day=result.day.strftime("%m-%d"),
                        role=role, gap=min_gap)


def save_roster(session: Session, actor: Principal, data: GenerationInput, roster: Roster, *, ip: str = "") -> int:
    """Write a solved roster over [start, end], keeping row ids (swaps refer to them); the number of days."""
    _require_write(actor)
    check_site(session, actor, data.site_id)
    existing = {(a.day, a.role): a for a in session.exec(
        select(DutyAssignment).where(DutyAssignment.site_id == data.site_id, col(DutyAssignment.day) >= data.start,
                                     col(DutyAssignment.day) <= data.end))}
    now = utcnow()
    changed_ids: list[int] = []
    for (day, role), staff_id in roster.assignments.items():
        row = existing.pop((day, role), None)
        if row is None:
            session.add(DutyAssignment(site_id=data.site_id, day=day, role=role, staff_id=staff_id,
                                       source=AssignmentSource.GENERATED, changed_at=now))
        elif row.staff_id != staff_id:
            changed_ids.append(int(row.id or 0))
            row.staff_id, row.source, row.changed_at = staff_id, AssignmentSource.GENERATED, now
            session.add(row)
    # Days no longer worked (the calendar changed): their rows go, with the swaps that name them.
    for row in existing.values():
        changed_ids.append(int(row.id or 0))
    _withdraw_swaps(session, changed_ids)
    session.flush()
    for row in existing.values():
        for swap in session.exec(select(DutySwap).where(
                (col(DutySwap.assignment_id) == row.id) | (col(DutySwap.counterpart_assignment_id) == row.id))):
            session.delete(swap)
        session.flush()
        session.delete(row)
    days = len({day for day, _role in roster.assignments})
    audit.record(session, actor, "duty.generate", object_kind="site", object_id=data.site_id, site_id=data.site_id,
                 ip=ip, summary=f"roster {data.start}–{data.end}: {days} working days",
                 detail={"start": data.start.isoformat(), "end": data.end.isoformat(), "days": days})
    return days


def _withdraw_swaps(session: Session, assignment_ids: Sequence[int]) -> None:
    """Swaps still open on duties that changed under them are moot."""
    if not assignment_ids:
        return
    for swap in session.exec(select(DutySwap).where(
            col(DutySwap.status).in_([SwapStatus.ASKED, SwapStatus.ACCEPTED]),
            col(DutySwap.assignment_id).in_(assignment_ids) | col(DutySwap.counterpart_assignment_id).in_(
                assignment_ids))):
        swap.status, swap.decided_at = SwapStatus.WITHDRAWN, utcnow()
        session.add(swap)


def generate_roster(engine: Engine, actor: Principal, *, site_id: int, start: date, end: date, today: date,
                    ip: str = "", settings: DutySettings | None = None) -> int:
    """Read, solve with no transaction open, write in a short transaction; the number of days planned."""
    with session_scope(engine) as read:
        data = generation_input(read, actor, site_id=site_id, start=start, end=end, today=today, settings=settings)
    roster = solve_roster(data, settings)
    with session_scope(engine, write=True) as write:
        return save_roster(write, actor, data, roster, ip=ip)


# --- reading and editing the roster --------------------------------------------------------------


@dataclass(frozen=True)
class DutyDay:
    day: date
    leader: Staff | None
    cadre: Staff | None
    leader_assignment_id: int | None = None
    cadre_assignment_id: int | None = None
    # Leave, a trip or a blocked day that came after the person was put on duty: the day needs someone else.
    leader_away: Unavailability | None = None
    cadre_away: Unavailability | None = None


def roster_days(session: Session, actor: Principal, *, site_id: int, start: date, end: date) -> list[DutyDay]:
    """The roster of a site over [start, end], one entry per day that has someone on duty."""
    _require_read(actor)
    check_site(session, actor, site_id)
    return _roster_days(session, site_id, start, end)


def _roster_days(session: Session, site_id: int, start: date, end: date) -> list[DutyDay]:
    rows = session.exec(select(DutyAssignment, Staff).join(Staff, col(Staff.id) == DutyAssignment.staff_id).where(
        DutyAssignment.site_id == site_id, col(DutyAssignment.day) >= start, col(DutyAssignment.day) <= end))
    by_day: dict[date, dict[DutyRole, tuple[Staff, int]]] = defaultdict(dict)
    for assignment, staff in rows:
        by_day[assignment.day][assignment.role] = (staff, int(assignment.id or 0))
    people = sorted({int(staff.id or 0) for pair in by_day.values() for staff, _ in pair.values()})
    away = unavailable_days(session, staff_ids=people, start=start, end=end)
    out = []
    for day in sorted(by_day):
        leader, cadre = by_day[day].get(DutyRole.LEADER), by_day[day].get(DutyRole.CADRE)
        out.append(DutyDay(day, leader[0] if leader else None, cadre[0] if cadre else None,
                           leader[1] if leader else None, cadre[1] if cadre else None,
                           away.get((int(leader[0].id or 0), day)) if leader else None,
                           away.get((int(cadre[0].id or 0), day)) if cadre else None))
    return out


def counts(session: Session, actor: Principal, *, site_id: int, start: date, end: date) -> dict[int, int]:
    """Duties per person at a site over [start, end]."""
    _require_read(actor)
    check_site(session, actor, site_id)
    out: dict[int, int] = defaultdict(int)
    for staff_id in session.exec(select(DutyAssignment.staff_id).where(
            DutyAssignment.site_id == site_id, col(DutyAssignment.day) >= start, col(DutyAssignment.day) <= end)):
        out[int(staff_id)] += 1
    return dict(out)


def assign(session: Session, actor: Principal, *, site_id: int, day: date, role: DutyRole, staff_id: int,
           ip: str = "") -> DutyAssignment:
    """Put a person on duty by hand (a manager's edit, audited); they must take part and be free that day."""
    _require_write(actor)
    check_site(session, actor, site_id)
    member = session.exec(select(DutyPoolMember).where(DutyPoolMember.site_id == site_id,
                                                       DutyPoolMember.staff_id == staff_id)).first()
    if member is None or member.role != role:
        raise InvalidInput("staff_id", "error.duty_not_in_pool")
    if unavailable_days(session, staff_ids=[staff_id], start=day, end=day):
        raise InvalidInput("staff_id", "error.duty_unavailable", day=day.isoformat())
    if not load_calendar(session).is_workday(day).value:
        raise InvalidInput("day", "error.duty_not_workday", day=day.isoformat())
    row = session.exec(select(DutyAssignment).where(DutyAssignment.site_id == site_id, DutyAssignment.day == day,
                                                    DutyAssignment.role == role)).first()
    before = row.staff_id if row is not None else None
    if row is None:
        row = DutyAssignment(site_id=site_id, day=day, role=role, staff_id=staff_id, source=AssignmentSource.MANUAL)
    else:
        if row.staff_id != staff_id:
            _withdraw_swaps(session, [int(row.id or 0)])
        row.staff_id, row.source, row.changed_at = staff_id, AssignmentSource.MANUAL, utcnow()
    session.add(row)
    session.flush()
    audit.record(session, actor, "duty.assign", object_kind="duty_assignment", object_id=row.id, site_id=site_id,
                 ip=ip, summary=f"{day} {role.value}: {before} → {staff_id}",
                 detail={"day": day.isoformat(), "role": role.value, "before": before, "after": staff_id})
    return row


def get_assignment(session: Session, actor: Principal, assignment_id: int) -> DutyAssignment:
    row = session.get(DutyAssignment, assignment_id)
    site = session.get(Site, row.site_id) if row is not None else None
    if row is None or site is None or not (actor.covers_path(site.path) or actor.staff_id == row.staff_id):
        raise NotFound("error.not_found_kind", kind="kind.duty_assignment", id=assignment_id)
    return row


# --- today's pair ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TodayPair:
    site_id: int
    site_name: str
    leader_name: str
    leader_title: str
    cadre_name: str
    cadre_title: str


def today_pairs(session: Session, *, site_ids: Sequence[int], day: date) -> list[TodayPair]:
    """Who is on duty today at these sites (names and titles only: the hall screen shows this publicly)."""
    if not site_ids:
        return []
    rows = session.exec(select(DutyAssignment, Staff, Site)
                        .join(Staff, col(Staff.id) == DutyAssignment.staff_id)
                        .join(Site, col(Site.id) == DutyAssignment.site_id)
                        .where(col(DutyAssignment.site_id).in_(site_ids), DutyAssignment.day == day)
                        .order_by(col(Site.path)))
    pairs: dict[int, dict[str, str]] = {}
    for assignment, staff, site in rows:
        entry = pairs.setdefault(site.id or 0, {"site": site.name})
        entry[f"{assignment.role.value}_name"] = staff.name
        entry[f"{assignment.role.value}_title"] = staff.title
    return [TodayPair(site_id, e["site"], e.get("leader_name", ""), e.get("leader_title", ""),
                      e.get("cadre_name", ""), e.get("cadre_title", "")) for site_id, e in pairs.items()]


def today_for(session: Session, actor: Principal, *, day: date) -> list[TodayPair]:
    """Today's pairs at the sites of the actor's jurisdiction (their own site first), for the home page."""
    return next_duty_for(session, actor, day=day, within_days=0)[1]


def next_duty_for(session: Session, actor: Principal, *, day: date,
                  within_days: int = 14) -> tuple[date | None, list[TodayPair]]:
    """The first day from `day` on (at most `within_days` later) with a duty in the jurisdiction, and its pairs.

    On a weekend or a holiday the home page shows who is on duty next, not nothing.
    """
    if actor.site_id is None:
        return None, []
    ids = [i for i in session.exec(select(Site.id).where(site_path_clause(actor))) if i is not None]
    if not ids:
        return None, []
    first = session.exec(select(func.min(DutyAssignment.day)).where(
        col(DutyAssignment.site_id).in_(ids), col(DutyAssignment.day) >= day,
        col(DutyAssignment.day) <= day + timedelta(days=within_days))).one()
    if first is None:
        return None, []
    pairs = today_pairs(session, site_ids=ids, day=first)
    return first, sorted(pairs, key=lambda p: p.site_id != actor.site_id)[:6]


def require_roster_change_ok(row: DutyAssignment, staff_id: int) -> None:
    if row.staff_id != staff_id:
        raise Conflict("error.duty_changed")



# --- a person's own view ---------------------------------------------------------------------------


def own_duties(session: Session, actor: Principal, *, start: date, end: date) -> list[tuple[DutyAssignment, Site]]:
    """The actor's own duties over [start, end], at any site."""
    if actor.staff_id is None:
        return []
    return [(a, s) for a, s in session.exec(
        select(DutyAssignment, Site).join(Site, col(Site.id) == DutyAssignment.site_id).where(
            DutyAssignment.staff_id == actor.staff_id, col(DutyAssignment.day) >= start,
            col(DutyAssignment.day) <= end).order_by(col(DutyAssignment.day)))]


def colleagues(session: Session, actor: Principal) -> dict[tuple[int, DutyRole], list[PoolEntry]]:
    """For each pool the actor is in: the others of the same role (whom a swap may go to)."""
    if actor.staff_id is None:
        return {}
    out: dict[tuple[int, DutyRole], list[PoolEntry]] = {}
    for member in session.exec(select(DutyPoolMember).where(DutyPoolMember.staff_id == actor.staff_id)):
        out[(member.site_id, member.role)] = [p for p in _pool(session, member.site_id)
                                              if p.role == member.role and p.staff_id != actor.staff_id]
    return out


def staff_names(session: Session, staff_ids: Sequence[int]) -> dict[int, str]:
    ids = sorted(set(staff_ids))
    if not ids:
        return {}
    return {int(s.id or 0): s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(ids)))}


def public_site(session: Session, *, site_id: int) -> Site:
    """A site that runs a roster, for the public hall screen (others do not exist there)."""
    site = session.get(Site, site_id)
    runs = session.exec(select(DutyPoolMember.id).where(DutyPoolMember.site_id == site_id)).first()
    if site is None or runs is None:
        raise NotFound("error.not_found")
    return site
