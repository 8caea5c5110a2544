"""Pages of office hours (/office-hours) and leave (the manager's queue at /leave; a person's own on /me)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from supervision import leave, officehours, org
from supervision.access import Permission, Principal, check_site
from supervision.errors import Conflict, Forbidden, InvalidInput, SupervisionError
from supervision.i18n import translate
from supervision.leave import LeaveKind
from supervision.officehours import PeriodSpec, Season
from supervision.org import OrgKind
from supervision.settings import Settings
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.home import local_today, me_page
from web.templating import render

router = APIRouter(include_in_schema=False)

HoursReader = Annotated[Principal, needs(Permission.ORG_READ)]
HoursWriter = Annotated[Principal, needs(Permission.ORG_READ, Permission.ORG_WRITE)]
Own = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Approver = Annotated[Principal, needs(Permission.LEAVE_APPROVE)]

WEEKDAYS = range(7)
SEASONS = (Season.WINTER, Season.SUMMER)


# --- office hours -------------------------------------------------------------------------------


def _week(session: Session, site_id: int, settings: Settings) -> list[tuple[date, officehours.DayHours | None]]:
    """This week and the next, as the site will open (working days on the calendar, the season's hours)."""
    today = local_today(settings)
    monday = today - timedelta(days=today.weekday())
    days = officehours.hours_for_range(session, site_id=site_id, start=monday, end=monday + timedelta(days=13))
    return [(monday + timedelta(days=n), days.get(monday + timedelta(days=n))) for n in range(14)]


def _form_values(timetable: officehours.Timetable) -> dict[str, str]:
    values: dict[str, str] = {"note": timetable.note}
    if timetable.summer is not None:
        (sm, sd), (em, ed) = timetable.summer
        values.update(summer_start=f"{sm:02d}-{sd:02d}", summer_end=f"{em:02d}-{ed:02d}")
    for season in SEASONS:
        for weekday in WEEKDAYS:
            chosen = [p for p in timetable.periods if p.season == season and p.weekday == weekday]
            values[f"{season.value}_{weekday}"] = officehours.format_periods(p for p in chosen if not p.extended)
            values[f"{season.value}_{weekday}_ext"] = officehours.format_periods(p for p in chosen if p.extended)
    return values


def _hours_page(request: Request, session: Session, settings: Settings, actor: Principal, site_id: int | None, *,
                values: dict[str, str] | None = None, problems: list[dict[str, Any]] | None = None,
                status_code: int = 200) -> Response:
    sites = officehours.timetables_in_jurisdiction(session, actor)
    chosen = site_id if site_id is not None else (sites[0][0].id if sites else None)
    site = check_site(session, actor, chosen) if chosen is not None else None
    applied = officehours.timetable_for(session, site_id=site.id) if site and site.id else None
    inherited_name = ""
    if applied is not None and site is not None and applied.site_id != site.id:
        inherited_name = officehours.site_name(session, applied.site_id)
    return render(request, "hours/office_hours.html", {
        "sites": sites, "site": site, "applied": applied, "inherited_name": inherited_name,
        "week": _week(session, site.id, settings) if site and site.id else [],
        "can_write": actor.can(Permission.ORG_WRITE),
        "values": values if values is not None else (_form_values(applied) if applied else {}),
        "seasons": SEASONS, "weekdays": WEEKDAYS, "problems": problems or [],
    }, status_code=status_code)


@router.get("/office-hours")
def office_hours_page(request: Request, session: SessionDep, settings: SettingsDep, actor: HoursReader,
                      site_id: int | None = None) -> Response:
    return _hours_page(request, session, settings, actor, site_id)


def _parse_timetable(values: dict[str, str]) -> tuple[tuple[tuple[int, int], tuple[int, int]] | None,
                                                       list[PeriodSpec]]:
    start = officehours.parse_month_day(values.get("summer_start", ""), "summer_start")
    end = officehours.parse_month_day(values.get("summer_end", ""), "summer_end")
    if (start is None) != (end is None):
        raise InvalidInput("summer_end" if end is None else "summer_start", "error.required")
    periods: list[PeriodSpec] = []
    for season in SEASONS:
        if season == Season.SUMMER and start is None:
            continue
        for weekday in WEEKDAYS:
            for suffix, extended in (("", False), ("_ext", True)):
                name = f"{season.value}_{weekday}{suffix}"
                periods += officehours.parse_periods(values.get(name, ""), season=season, weekday=weekday,
                                                     extended=extended, field=name)
    summer = None if start is None or end is None else (start, end)
    return summer, periods


@router.post("/office-hours/{site_id}")
async def save_office_hours(request: Request, session: SessionDep, settings: SettingsDep, actor: HoursWriter,
                            site_id: int) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        check_site(session, actor, site_id)
        summer, periods = _parse_timetable(values)
        with all_or_nothing(session):
            officehours.set_timetable(session, actor, site_id=site_id, summer=summer, periods=periods,
                                      note=values.get("note", ""), ip=client_ip(request))
    except InvalidInput as exc:
        return _hours_page(request, session, settings, actor, site_id, values=values, status_code=422,
                           problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse(f"/office-hours?site_id={site_id}&saved=1", status_code=303)


@router.post("/office-hours/{site_id}/clear")
def clear_office_hours(request: Request, session: SessionDep, actor: HoursWriter, site_id: int) -> Response:
    officehours.clear_timetable(session, actor, site_id=site_id, ip=client_ip(request))
    return RedirectResponse(f"/office-hours?site_id={site_id}&cleared=1", status_code=303)


# --- leave: the manager's queue -----------------------------------------------------------------


def _leave_page(request: Request, session: Session, settings: Settings, actor: Principal, *,
                problems: list[dict[str, Any]] | None = None, values: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    waiting = leave.queue(session, actor)
    recent = leave.requests_in_jurisdiction(session, actor, limit=100)
    reasons = {r.id: leave.reason_of(session, actor, r) for r, _ in waiting}
    # For annual leave, what the person has left in the year of its first day (pending requests included).
    balances = {r.id: leave.annual_balance(session, staff_id=r.staff_id, year=r.start_day.year)
                for r, _ in waiting if r.kind == LeaveKind.ANNUAL}
    staff_rows, _ = org.list_entities(session, actor, OrgKind.STAFF, limit=3000)
    return render(request, "hours/leave_queue.html", {
        "waiting": waiting, "recent": recent, "reasons": reasons, "balances": balances, "problems": problems or [],
        "second_level_days": leave.second_level_days(), "staff_options": staff_rows,
        "values": values or {},
    }, status_code=status_code)


@router.get("/leave")
def leave_queue(request: Request, session: SessionDep, settings: SettingsDep, actor: Approver) -> Response:
    """The manager's leave queue: requests waiting for their decision, and the jurisdiction's recent ones."""
    return _leave_page(request, session, settings, actor)


@router.post("/leave/{request_id}/decision")
def decide_leave(request: Request, session: SessionDep, settings: SettingsDep, actor: Approver, request_id: int,
                 approve: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    if approve not in ("1", "0"):
        raise InvalidInput("approve", "error.choice", choices="1, 0")
    try:
        with all_or_nothing(session):
            leave.decide(session, actor, request_id=request_id, approve=approve == "1", note=note,
                         ip=client_ip(request))
    except (InvalidInput, Conflict) as exc:
        return _leave_page(request, session, settings, actor, status_code=exc.status,
                           problems=_problems(exc, request_locale(request), "note"))
    return RedirectResponse("/leave?decided=1", status_code=303)


@router.post("/leave/service-start")
def record_service_start(request: Request, session: SessionDep, settings: SettingsDep, actor: Approver,
                         staff_id: Annotated[str, Form()] = "", service_start: Annotated[str, Form()] = "",
                         ) -> Response:
    """Record a staff member's service start date (参加工作时间), which gives the annual leave."""
    values = {"staff_id": staff_id, "service_start": service_start}
    try:
        if not staff_id.isdigit():
            raise InvalidInput("staff_id", "error.required")
        day = _date(values, "service_start")
        with all_or_nothing(session):
            leave.set_service_start(session, actor, staff_id=int(staff_id), day=day, ip=client_ip(request))
    except InvalidInput as exc:
        return _leave_page(request, session, settings, actor, status_code=422, values=values,
                           problems=_problems(exc, request_locale(request), "service_start"))
    return RedirectResponse("/leave?recorded=1", status_code=303)


def _problems(exc: SupervisionError, locale: str, field: str) -> list[dict[str, Any]]:
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    return [{"field": field, "label": translate(f"field.{field}", locale), "message": exc.message(locale)}]


# --- leave: a person's own (on /me) -------------------------------------------------------------


def _bool(values: dict[str, str], name: str) -> bool:
    return values.get(name, "") in ("1", "on", "true")


def _date(values: dict[str, str], name: str) -> date:
    try:
        return date.fromisoformat(values.get(name, ""))
    except ValueError:
        raise InvalidInput(name, "error.invalid_date") from None


@router.post("/me/leave")
async def ask_leave(request: Request, session: SessionDep, settings: SettingsDep, actor: Own) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        if actor.staff_id is None:
            raise Forbidden("error.leave_no_staff")
        kind_text = values.get("kind", "")
        if kind_text not in {k.value for k in LeaveKind}:
            raise InvalidInput("kind", "error.required")
        with all_or_nothing(session):
            leave.request_leave(session, actor, kind=LeaveKind(kind_text), start_day=_date(values, "start_day"),
                                end_day=_date(values, "end_day"), start_pm=_bool(values, "start_pm"),
                                end_am=_bool(values, "end_am"), reason=values.get("reason", ""),
                                ip=client_ip(request))
    except (InvalidInput, Conflict) as exc:
        return me_page(request, session, settings, actor, status_code=exc.status, leave_values=values,
                       leave_problems=_problems(exc, request_locale(request), "start_day"))
    return RedirectResponse("/me?asked=1#leave", status_code=303)


@router.post("/me/leave/{request_id}/cancel")
def cancel_leave(request: Request, session: SessionDep, settings: SettingsDep, actor: Own,
                 request_id: int) -> Response:
    try:
        with all_or_nothing(session):
            leave.cancel(session, actor, request_id=request_id, ip=client_ip(request))
    except Conflict as exc:
        return me_page(request, session, settings, actor, status_code=exc.status,
                       leave_problems=_problems(exc, request_locale(request), "start_day"))
    return RedirectResponse("/me?cancelled=1#leave", status_code=303)
