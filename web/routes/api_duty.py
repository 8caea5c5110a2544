"""The JSON API of duty rosters (/api/v1/duty-rosters, + generate, pool, assignments, swaps) and the duty log."""

from __future__ import annotations

from datetime import date, datetime
from enum import Enum
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from supervision import duty
from supervision.access import Permission, Principal
from supervision.duty import DutyLogCreate, DutyLogEntry, DutyRole, DutySwap, SwapStatus
from supervision.errors import InvalidInput
from supervision.models import Staff
from web.deps import EngineDep, SessionDep, SettingsDep, client_ip, needs
from web.duty_orders import work_order_from_log
from web.routes.api_org import Page
from web.routes.home import local_today

router = APIRouter(prefix="/api/v1")

Reader = Annotated[Principal, needs(Permission.DUTY_READ)]
Writer = Annotated[Principal, needs(Permission.DUTY_WRITE)]
Own = Annotated[Principal, needs(Permission.OWN_RECORDS)]
TAGS: list[str | Enum] = ["duty"]


class PersonOut(BaseModel):
    staff_id: int
    name: str
    title: str


class DutyDayOut(BaseModel):
    day: date
    leader: PersonOut | None
    cadre: PersonOut | None
    leader_assignment_id: int | None
    cadre_assignment_id: int | None


class RosterOut(BaseModel):
    site_id: int
    start: date
    end: date
    days: list[DutyDayOut]
    counts: dict[int, int] = Field(description="Duties per staff id over the period")


def _person(staff: Staff | None) -> PersonOut | None:
    return None if staff is None else PersonOut(staff_id=staff.id or 0, name=staff.name, title=staff.title)


def check_span(start: date, end: date) -> None:
    for name, value in (("start", start), ("end", end)):
        if not 2000 <= value.year <= 2100:
            raise InvalidInput(name, "error.duty_year_range")
    if end < start:
        raise InvalidInput("end", "error.duty_end_before_start")
    if (end - start).days > 400:
        raise InvalidInput("end", "error.duty_period_too_long", days=400)


@router.get("/duty-rosters", response_model=RosterOut, tags=TAGS)
def get_roster(session: SessionDep, actor: Reader, site_id: int, start: date, end: date) -> RosterOut:
    """The roster of a site between `start` and `end` (local dates, at most 400 days)."""
    check_span(start, end)
    days = duty.roster_days(session, actor, site_id=site_id, start=start, end=end)
    return RosterOut(site_id=site_id, start=start, end=end, counts=duty.counts(
        session, actor, site_id=site_id, start=start, end=end), days=[
        DutyDayOut(day=d.day, leader=_person(d.leader), cadre=_person(d.cadre),
                   leader_assignment_id=d.leader_assignment_id, cadre_assignment_id=d.cadre_assignment_id)
        for d in days])


class GenerateIn(BaseModel):
    site_id: int
    start: date
    end: date


class GenerateOut(BaseModel):
    site_id: int
    start: date
    end: date
    working_days: int


@router.post("/duty-rosters/generate", response_model=GenerateOut, tags=TAGS)
def generate(request: Request, engine: EngineDep, settings: SettingsDep, actor: Writer,
             body: Annotated[GenerateIn, Body()]) -> GenerateOut:
    """Plan a month, a quarter or a year from `start` (today or later; what lies before is kept).

    A roster that cannot be made is refused (422) with the first day that cannot be covered and why.
    """
    days = duty.generate_roster(engine, actor, site_id=body.site_id, start=body.start, end=body.end,
                                today=local_today(settings), ip=client_ip(request))
    return GenerateOut(site_id=body.site_id, start=body.start, end=body.end, working_days=days)


class PoolIn(BaseModel):
    staff_ids: list[int] = Field(max_length=500)


class PoolMemberOut(BaseModel):
    staff_id: int
    name: str
    title: str
    role: DutyRole


@router.get("/duty-rosters/{site_id}/pool", response_model=list[PoolMemberOut], tags=TAGS)
def get_pool(session: SessionDep, actor: Reader, site_id: int) -> list[PoolMemberOut]:
    """Who takes part in a site's roster: bureau leaders lead, section-level cadres stand duty."""
    return [PoolMemberOut(staff_id=p.staff_id, name=p.name, title=p.title, role=p.role)
            for p in duty.pool(session, actor, site_id=site_id)]


@router.put("/duty-rosters/{site_id}/pool", response_model=list[PoolMemberOut], tags=TAGS)
def put_pool(request: Request, session: SessionDep, actor: Writer, site_id: int,
             body: Annotated[PoolIn, Body()]) -> list[PoolMemberOut]:
    """Set who takes part (people of the site or below it, bureau leaders and section-level cadres)."""
    duty.set_pool(session, actor, site_id=site_id, staff_ids=body.staff_ids, ip=client_ip(request))
    session.flush()
    return get_pool(session, actor, site_id)


class AssignIn(BaseModel):
    site_id: int
    day: date
    role: DutyRole
    staff_id: int


class AssignmentOut(BaseModel):
    id: int
    site_id: int
    day: date
    role: DutyRole
    staff_id: int
    source: str


@router.put("/duty-rosters/assignments", response_model=AssignmentOut, tags=TAGS)
def put_assignment(request: Request, session: SessionDep, actor: Writer,
                   body: Annotated[AssignIn, Body()]) -> AssignmentOut:
    """Put a person on duty by hand (audited): they must take part in the role and be free that day."""
    row = duty.assign(session, actor, site_id=body.site_id, day=body.day, role=body.role, staff_id=body.staff_id,
                      ip=client_ip(request))
    return AssignmentOut(id=row.id or 0, site_id=row.site_id, day=row.day, role=row.role, staff_id=row.staff_id,
                         source=row.source.value)


class SwapIn(BaseModel):
    assignment_id: int
    counterpart_id: int
    counterpart_assignment_id: int | None = None
    reason: str = Field("", max_length=400)


class SwapOut(BaseModel):
    id: int
    site_id: int
    assignment_id: int
    requester_id: int
    counterpart_id: int
    counterpart_assignment_id: int | None
    reason: str
    status: SwapStatus
    asked_at: datetime
    decided_at: datetime | None


def _swap_out(swap: DutySwap) -> SwapOut:
    return SwapOut(id=swap.id or 0, site_id=swap.site_id, assignment_id=swap.assignment_id,
                   requester_id=swap.requester_id, counterpart_id=swap.counterpart_id,
                   counterpart_assignment_id=swap.counterpart_assignment_id, reason=swap.reason, status=swap.status,
                   asked_at=swap.asked_at, decided_at=swap.decided_at)


@router.get("/duty-rosters/swaps", response_model=Page[SwapOut], tags=TAGS)
def get_swaps(session: SessionDep, actor: Own, open_only: bool = False) -> Page[SwapOut]:
    """Swaps: a person's own; with duty:read every swap of the jurisdiction."""
    rows = [_swap_out(s) for s in duty.list_swaps(session, actor, open_only=open_only)]
    return Page[SwapOut](data=rows, count=len(rows))


@router.post("/duty-rosters/swaps", response_model=SwapOut, status_code=201, tags=TAGS)
def post_swap(request: Request, session: SessionDep, settings: SettingsDep, actor: Own,
              body: Annotated[SwapIn, Body()]) -> SwapOut:
    """Ask to hand one's own duty to a colleague of the same role (or exchange it for one of theirs)."""
    swap = duty.ask_swap(session, actor, assignment_id=body.assignment_id, counterpart_id=body.counterpart_id,
                         counterpart_assignment_id=body.counterpart_assignment_id, reason=body.reason,
                         today=local_today(settings), ip=client_ip(request))
    return _swap_out(swap)


class SwapActionIn(BaseModel):
    action: Literal["accept", "decline", "withdraw", "approve", "reject"] = Field(
        description="accept/decline: the colleague asked; withdraw: the one who asked; approve/reject: a manager")


@router.post("/duty-rosters/swaps/{swap_id}/actions", response_model=SwapOut, tags=TAGS)
def post_swap_action(request: Request, session: SessionDep, actor: Own, swap_id: int,
                     body: Annotated[SwapActionIn, Body()]) -> SwapOut:
    """Move a swap on: approving it changes the roster."""
    return _swap_out(duty.act_on_swap(session, actor, swap_id=swap_id, action=body.action, ip=client_ip(request)))


# --- the duty log ---------------------------------------------------------------------------------


class LogOut(BaseModel):
    id: int
    site_id: int
    occurred_at: datetime
    window_id: int | None
    problem: str
    handling: str
    result: str
    work_order: str = Field(description="The number of the work order the entry became; empty: none")


def _log_out(entry: DutyLogEntry) -> LogOut:
    return LogOut(id=entry.id or 0, site_id=entry.site_id, occurred_at=entry.occurred_at, window_id=entry.window_id,
                  problem=entry.problem, handling=entry.handling, result=entry.result,
                  work_order=entry.work_order_ref)


@router.get("/duty-log", response_model=Page[LogOut], tags=TAGS)
def get_log(session: SessionDep, actor: Reader, site_id: int | None = None,
            since: Annotated[datetime | None, Query(description="From this moment (ISO, with its offset)")] = None,
            until: Annotated[datetime | None, Query(description="Before this moment")] = None,
            limit: Annotated[int, Query(ge=1, le=500)] = 100,
            offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0) -> Page[LogOut]:
    """Entries of the duty log in the jurisdiction, newest first."""
    rows = duty.list_entries(session, actor, site_id=site_id, start=since, end=until, limit=limit, offset=offset)
    return Page[LogOut](data=[_log_out(e) for e in rows], count=len(rows))


@router.post("/duty-log", response_model=LogOut, status_code=201, tags=TAGS)
def post_log(request: Request, session: SessionDep, settings: SettingsDep, actor: Own,
             body: Annotated[DutyLogCreate, Body()]) -> LogOut:
    """Record a problem coordinated on the spot (the people on duty that day, or a manager).

    `occurred_at` without an offset is the centre's local time.
    """
    now = datetime.now(settings.tz)
    return _log_out(duty.record_log_entry(session, actor, body, tz=settings.tz, now=now, ip=client_ip(request)))


class MonthCountOut(BaseModel):
    month: str
    entries: int
    work_orders: int


@router.get("/duty-log/stats", response_model=list[MonthCountOut], tags=TAGS)
def log_stats(session: SessionDep, settings: SettingsDep, actor: Reader,
              year: Annotated[int, Query(ge=2000, le=2100)], site_id: int | None = None) -> list[MonthCountOut]:
    """Entries per month of a year (local months), and how many became work orders."""
    return [MonthCountOut(month=m.month, entries=m.entries, work_orders=m.work_orders)
            for m in duty.month_counts(session, actor, year=year, tz=settings.tz, site_id=site_id)]


class ToOrderIn(BaseModel):
    type: Literal["consult", "help", "suggestion", "complaint"] = "help"


@router.post("/duty-log/{log_id}/work-order", response_model=LogOut, tags=TAGS)
def post_log_work_order(request: Request, session: SessionDep, actor: Own, log_id: int,
                        body: Annotated[ToOrderIn, Body()]) -> LogOut:
    """Turn an entry into a work order (a walk-in request); the entry keeps the order's number.

    A manager, or the person who wrote the entry.
    """
    entry = work_order_from_log(session, actor, log_id, request_type=body.type, ip=client_ip(request))
    return _log_out(entry)
