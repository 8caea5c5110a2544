"""The JSON API of office hours (/api/v1/office-hours) and leave (/api/v1/leave-requests, balance, service start)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request
from pydantic import BaseModel, Field

from supervision import leave, officehours
from supervision.access import Permission, Principal, check_site
from supervision.errors import InvalidInput
from supervision.leave import LeaveKind, LeaveRequest, LeaveStatus
from supervision.officehours import PeriodSpec, Season
from web.deps import SessionDep, client_ip, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1")

HoursReader = Annotated[Principal, needs(Permission.ORG_READ)]
HoursWriter = Annotated[Principal, needs(Permission.ORG_WRITE)]
Own = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Approver = Annotated[Principal, needs(Permission.LEAVE_APPROVE)]


# --- office hours -------------------------------------------------------------------------------


# Times of day as "HH:MM" local time: JSON Schema's `time` format is RFC 3339's, which demands an offset.
CLOCK = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"


class PeriodIO(BaseModel):
    season: Season
    weekday: int = Field(ge=0, le=6, description="0 = Monday … 6 = Sunday")
    start: str = Field(pattern=CLOCK, description="Local time of day, HH:MM", examples=["09:00"])
    end: str = Field(pattern=CLOCK, description="Local time of day, HH:MM", examples=["12:00"])
    extended: bool = Field(False, description="An extended-hours period (延时服务)")


class TimetableIn(BaseModel):
    summer_start: str = Field("", description="MM-DD, e.g. 05-01; empty: no summer season", max_length=5)
    summer_end: str = Field("", description="MM-DD, e.g. 09-30 (included)", max_length=5)
    periods: list[PeriodIO] = Field(max_length=200)
    note: str = Field("", max_length=200)


class TimetableOut(BaseModel):
    site_id: int
    inherited_from: int | None = Field(description="The site whose timetable applies; null: the built-in default")
    own: bool
    summer_start: str
    summer_end: str
    periods: list[PeriodIO]
    note: str


class DayHoursOut(BaseModel):
    day: date
    periods: list[tuple[str, str]] = Field(description="Opening periods as local HH:MM pairs; lunch is the gap")
    extended: bool


def _timetable_out(site_id: int, timetable: officehours.Timetable) -> TimetableOut:
    summer = timetable.summer
    return TimetableOut(
        site_id=site_id, inherited_from=timetable.site_id, own=timetable.site_id == site_id,
        summer_start="" if summer is None else f"{summer[0][0]:02d}-{summer[0][1]:02d}",
        summer_end="" if summer is None else f"{summer[1][0]:02d}-{summer[1][1]:02d}",
        periods=[PeriodIO(season=p.season, weekday=p.weekday, start=f"{p.start:%H:%M}", end=f"{p.end:%H:%M}",
                          extended=p.extended)
                 for p in sorted(timetable.periods, key=lambda p: (p.season, p.weekday, p.start))],
        note=timetable.note)


@router.get("/office-hours/{site_id}", response_model=TimetableOut, tags=["office hours"])
def get_office_hours(session: SessionDep, actor: HoursReader, site_id: int) -> TimetableOut:
    """The timetable that applies at a site: its own, or the one inherited from its nearest ancestor."""
    check_site(session, actor, site_id)
    return _timetable_out(site_id, officehours.timetable_for(session, site_id=site_id))


@router.get("/office-hours/{site_id}/days", response_model=Page[DayHoursOut], tags=["office hours"])
def office_days(session: SessionDep, actor: HoursReader, site_id: int, start: date, end: date) -> Page[DayHoursOut]:
    """The open days between `start` and `end` (local dates, at most a year) with their periods in local time."""
    check_site(session, actor, site_id)
    if (end - start).days > 366:
        raise InvalidInput("end", "error.calendar_span")
    days = officehours.hours_for_range(session, site_id=site_id, start=start, end=end)
    rows = [DayHoursOut(day=d.day, periods=[(f"{a:%H:%M}", f"{b:%H:%M}") for a, b in d.periods], extended=d.extended)
            for d in days.values()]
    return Page[DayHoursOut](data=rows, count=len(rows))


class OpenAtOut(BaseModel):
    site_id: int
    at: datetime
    local: datetime
    open: bool


@router.get("/office-hours/{site_id}/open", response_model=OpenAtOut, tags=["office hours"])
def open_at(session: SessionDep, actor: HoursReader, site_id: int,
            at: Annotated[datetime, Query(description="An ISO time with its offset, e.g. 2026-12-07T09:30:00+08:00")],
            ) -> OpenAtOut:
    """Whether the site is open at a moment (converted to the centre's local time)."""
    check_site(session, actor, site_id)
    return OpenAtOut(site_id=site_id, at=at, local=officehours.local(at),
                     open=officehours.is_open_at(session, site_id=site_id, at=at))


@router.put("/office-hours/{site_id}", response_model=TimetableOut, tags=["office hours"])
def put_office_hours(request: Request, session: SessionDep, actor: HoursWriter, site_id: int,
                     body: Annotated[TimetableIn, Body()]) -> TimetableOut:
    """Give a site its own timetable (admins, within their jurisdiction); sites below it inherit it."""
    start = officehours.parse_month_day(body.summer_start, "summer_start")
    end = officehours.parse_month_day(body.summer_end, "summer_end")
    if (start is None) != (end is None):
        raise InvalidInput("summer_end" if end is None else "summer_start", "error.required")
    summer = None if start is None or end is None else (start, end)
    periods = [PeriodSpec(p.season, p.weekday, officehours.parse_clock(p.start, "periods"),
                          officehours.parse_clock(p.end, "periods"), p.extended) for p in body.periods]
    result = officehours.set_timetable(session, actor, site_id=site_id, summer=summer, periods=periods,
                                       note=body.note, ip=client_ip(request))
    return _timetable_out(site_id, result)


@router.delete("/office-hours/{site_id}", status_code=204, tags=["office hours"])
def delete_office_hours(request: Request, session: SessionDep, actor: HoursWriter, site_id: int) -> None:
    """Drop a site's own timetable: it inherits its nearest ancestor's again."""
    officehours.clear_timetable(session, actor, site_id=site_id, ip=client_ip(request))


# --- leave --------------------------------------------------------------------------------------


class LeaveIn(BaseModel):
    kind: LeaveKind
    start_day: date
    end_day: date
    start_pm: bool = Field(False, description="Starts at noon (the first morning is worked)")
    end_am: bool = Field(False, description="Ends at noon (the last afternoon is worked)")
    reason: str = Field("", max_length=500)


class LeaveOut(BaseModel):
    id: int
    staff_id: int
    staff_name: str = ""
    site_id: int
    kind: LeaveKind
    start_day: date
    start_pm: bool
    end_day: date
    end_am: bool
    days: float = Field(description="Working days on the calendar (halves allowed)")
    status: LeaveStatus
    needs_second: bool
    created_at: datetime
    decision_note: str


def _leave_out(row: LeaveRequest, staff_name: str = "") -> LeaveOut:
    return LeaveOut(id=row.id or 0, staff_id=row.staff_id, staff_name=staff_name, site_id=row.site_id, kind=row.kind,
                    start_day=row.start_day, start_pm=row.start_pm, end_day=row.end_day, end_am=row.end_am,
                    days=row.days, status=row.status, needs_second=row.needs_second, created_at=row.created_at,
                    decision_note=row.decision_note)


@router.get("/leave-requests", response_model=Page[LeaveOut], tags=["leave"])
def list_leave(session: SessionDep, actor: Own,
               scope: Annotated[Literal["mine", "queue", "jurisdiction"], Query(
                   description="mine: your own; queue: waiting for your decision; jurisdiction: all you manage")
               ] = "mine",
               status: LeaveStatus | None = None) -> Page[LeaveOut]:
    """Leave requests: your own, or (managers) those waiting for you or all of your jurisdiction."""
    if scope == "mine":
        rows = [(r, "") for r in leave.own_requests(session, actor) if status is None or r.status == status]
    elif scope == "queue":
        rows = [(r, s.name) for r, s in leave.queue(session, actor)]
    else:
        rows = [(r, s.name) for r, s in leave.requests_in_jurisdiction(
            session, actor, statuses=None if status is None else [status])]
    return Page[LeaveOut](data=[_leave_out(r, n) for r, n in rows], count=len(rows))


@router.post("/leave-requests", response_model=LeaveOut, status_code=201, tags=["leave"])
def ask_leave(request: Request, session: SessionDep, actor: Own, body: Annotated[LeaveIn, Body()]) -> LeaveOut:
    """Ask for leave for yourself (the staff member of your account); 409 with the reason when it overlaps."""
    row = leave.request_leave(session, actor, kind=body.kind, start_day=body.start_day, end_day=body.end_day,
                              start_pm=body.start_pm, end_am=body.end_am, reason=body.reason, ip=client_ip(request))
    return _leave_out(row)


class LeaveDetailOut(LeaveOut):
    reason: str


@router.get("/leave-requests/{request_id}", response_model=LeaveDetailOut, tags=["leave"])
def get_leave(session: SessionDep, actor: Own, request_id: int) -> LeaveDetailOut:
    """One request with its reason (a manager's reading of the reason is audited)."""
    row = leave.get_request(session, actor, request_id=request_id)
    return LeaveDetailOut(**_leave_out(row).model_dump(), reason=leave.reason_of(session, actor, row))


class DecisionIn(BaseModel):
    approve: bool
    note: str = Field("", max_length=400)


@router.post("/leave-requests/{request_id}/decision", response_model=LeaveOut, tags=["leave"])
def decide_leave(request: Request, session: SessionDep, actor: Approver, request_id: int,
                 body: Annotated[DecisionIn, Body()]) -> LeaveOut:
    """Approve or reject at the level the request waits for (a second level above the configured days)."""
    row = leave.decide(session, actor, request_id=request_id, approve=body.approve, note=body.note,
                       ip=client_ip(request))
    return _leave_out(row)


@router.post("/leave-requests/{request_id}/cancel", response_model=LeaveOut, tags=["leave"])
def cancel_leave(request: Request, session: SessionDep, actor: Own, request_id: int) -> LeaveOut:
    """Withdraw your own request before its first day."""
    return _leave_out(leave.cancel(session, actor, request_id=request_id, ip=client_ip(request)))


class BalanceOut(BaseModel):
    staff_id: int
    year: int
    service_start: date | None
    entitled: float
    approved: float
    pending: float
    remaining: float


@router.get("/leave-balance", response_model=BalanceOut, tags=["leave"])
def balance(session: SessionDep, actor: Own, year: Annotated[int, Query(ge=2000, le=2100)],
            staff_id: int | None = None) -> BalanceOut:
    """Annual leave of a year: your own, or (managers) a staff member's of your jurisdiction."""
    target = leave.balance_target(session, actor, staff_id=staff_id)
    b = leave.annual_balance(session, staff_id=target, year=year)
    return BalanceOut(staff_id=target, year=year, service_start=b.service_start, entitled=b.entitled,
                      approved=b.approved, pending=b.pending, remaining=b.remaining)


class ServiceStartIn(BaseModel):
    service_start: date


@router.put("/leave-profiles/{staff_id}", response_model=ServiceStartIn, tags=["leave"])
def put_service_start(request: Request, session: SessionDep, actor: Own, staff_id: int,
                      body: Annotated[ServiceStartIn, Body()]) -> ServiceStartIn:
    """Record a staff member's service start date (managers and admins of their site); it gives the annual leave."""
    profile = leave.set_service_start(session, actor, staff_id=staff_id, day=body.service_start,
                                      ip=client_ip(request))
    return ServiceStartIn(service_start=profile.service_start)
