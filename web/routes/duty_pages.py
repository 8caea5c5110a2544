"""Pages of duty rosters (/duty: the month calendar, generation, edits, swaps, print and Excel), a person's own
duties (/duty/mine), the duty log (/duty/log), and the two public views: the hall screen and the calendar feed."""

from __future__ import annotations

import calendar as pycalendar
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from supervision import duty, org
from supervision.access import Permission, Principal, check_site
from supervision.db import session_scope
from supervision.duty import DutyRole, WishKind
from supervision.errors import InvalidInput, NotFound, SupervisionError
from supervision.models import Site
from supervision.settings import Settings
from web.deps import EngineDep, SessionDep, SettingsDep, client_ip, needs, request_locale
from web.duty_orders import work_order_from_log
from web.forms import all_or_nothing
from web.routes.home import local_today
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, needs(Permission.DUTY_READ)]
Writer = Annotated[Principal, needs(Permission.DUTY_READ, Permission.DUTY_WRITE)]
Own = Annotated[Principal, needs(Permission.OWN_RECORDS)]

add_nav_item(NavItem("/duty", "duty.nav", "/duty", Permission.DUTY_READ), before="/calendar")

# No login: the hall's public screen (names and titles of today's pair only) and each person's calendar feed
# (the secret token in the URL is the credential). The role walk's PUBLIC set lists them.
PUBLIC_ROUTES = (("GET", "/hall/{site_id}/duty"), ("GET", "/duty/ical/{token}"))


def _problems(request: Request, exc: SupervisionError) -> list[dict[str, Any]]:
    locale = request_locale(request)
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    return [{"field": "", "label": "", "message": exc.message(locale)}]


def _month(value: str | None, today: date) -> date:
    if not value:
        return today.replace(day=1)
    try:
        first = datetime.strptime(value, "%Y-%m").date()
    except ValueError as exc:
        raise InvalidInput("month", "error.invalid") from exc
    if not 2000 <= first.year <= 2100:
        raise InvalidInput("month", "error.invalid")
    return first


def _month_end(first: date) -> date:
    return first.replace(day=pycalendar.monthrange(first.year, first.month)[1])


def _pick_site(session: Session, actor: Principal, site_id: int | None) -> tuple[list[Site], Site | None]:
    sites = duty.roster_sites(session, actor)
    if site_id is not None:
        return sites, check_site(session, actor, site_id)
    if sites:
        own = next((s for s in sites if s.id == actor.site_id), sites[0])
        return sites, own
    return sites, check_site(session, actor, actor.site_id) if actor.site_id is not None else None


def _roster_page(request: Request, session: Session, settings: Settings, actor: Principal, *,
                 site_id: int | None, month: str | None, problems: list[dict[str, Any]] | None = None,
                 values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    today = local_today(settings)
    first = _month(month, today)
    last = _month_end(first)
    sites, site = _pick_site(session, actor, site_id)
    days = duty.roster_days(session, actor, site_id=site.id, start=first, end=last) if site and site.id else []
    by_day = {d.day: d for d in days}
    weeks = [[(date(first.year, first.month, n) if n else None) for n in week]
             for week in pycalendar.Calendar().monthdayscalendar(first.year, first.month)]
    members = duty.pool(session, actor, site_id=site.id) if site and site.id else []
    counts = duty.counts(session, actor, site_id=site.id, start=first, end=last) if site and site.id else {}
    swaps = [s for s in duty.list_swaps(session, actor, open_only=True) if site and s.site_id == site.id]
    names = {m.staff_id: m.name for m in members}
    stats = duty.month_counts(session, actor, year=first.year, tz=settings.tz,
                              site_id=site.id if site else None) if site else []
    next_month = (last + timedelta(days=1))
    return render(request, "duty/roster.html", {
        "sites": sites, "site": site, "first": first, "last": last, "weeks": weeks, "by_day": by_day,
        "members": members, "counts": counts, "swaps": swaps, "names": names, "stats": stats,
        "prev_month": (first - timedelta(days=1)).strftime("%Y-%m"), "next_month": next_month.strftime("%Y-%m"),
        "can_write": actor.can(Permission.DUTY_WRITE), "problems": problems or [], "today_local": today,
        "values": values or {"start": max(first, today).isoformat(), "end": last.isoformat()},
        "roles": list(DutyRole),
    }, status_code=status_code)


@router.get("/duty")
def roster_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader,
                site_id: int | None = None, month: str | None = None) -> Response:
    """The roster as a month calendar, with the counts per person and the open swaps."""
    return _roster_page(request, session, settings, actor, site_id=site_id, month=month)


@router.post("/duty/generate")
def generate_form(request: Request, engine: EngineDep, settings: SettingsDep, actor: Writer,
                  site_id: Annotated[int, Form()], start: Annotated[date, Form()],
                  end: Annotated[date, Form()]) -> Response:
    """Plan from `start` to `end`; a roster that cannot be made is shown on the form with the day and why."""
    try:
        duty.generate_roster(engine, actor, site_id=site_id, start=start, end=end, today=local_today(settings),
                             ip=client_ip(request))
    except InvalidInput as exc:
        with session_scope(engine) as session:
            return _roster_page(request, session, settings, actor, site_id=site_id, month=start.strftime("%Y-%m"),
                                problems=_problems(request, exc), status_code=422,
                                values={"start": start.isoformat(), "end": end.isoformat()})
    return RedirectResponse(f"/duty?site_id={site_id}&month={start:%Y-%m}&generated=1", status_code=303)


@router.post("/duty/assign")
def assign_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Writer,
                site_id: Annotated[int, Form()], day: Annotated[date, Form()], role: Annotated[DutyRole, Form()],
                staff_id: Annotated[int, Form()]) -> Response:
    """A manager's edit of one day (audited)."""
    try:
        with all_or_nothing(session):
            duty.assign(session, actor, site_id=site_id, day=day, role=role, staff_id=staff_id,
                        ip=client_ip(request))
    except InvalidInput as exc:
        return _roster_page(request, session, settings, actor, site_id=site_id, month=day.strftime("%Y-%m"),
                            problems=_problems(request, exc), status_code=422)
    return RedirectResponse(f"/duty?site_id={site_id}&month={day:%Y-%m}&saved=1", status_code=303)


@router.get("/duty/pool")
def pool_page(request: Request, session: SessionDep, actor: Writer, site_id: int) -> Response:
    """Who takes part in a site's roster: the site's bureau leaders and section-level cadres to choose from."""
    site = check_site(session, actor, site_id)
    chosen = {m.staff_id for m in duty.pool(session, actor, site_id=site_id)}
    rows, _ = org.list_entities(session, actor, org.OrgKind.STAFF, limit=1000)
    candidates = [s for s in rows if s.active and s.rank.value in ("bureau_leader", "section_level")]
    return render(request, "duty/pool.html", {"site": site, "chosen": chosen, "candidates": candidates})


@router.post("/duty/pool")
async def pool_form(request: Request, session: SessionDep, actor: Writer) -> Response:
    form = await request.form()
    try:
        site_id = int(str(form.get("site_id", "")))
        staff_ids = [int(str(v)) for v in form.getlist("staff_ids")]
    except ValueError as exc:
        raise InvalidInput("staff_ids", "error.invalid") from exc
    duty.set_pool(session, actor, site_id=site_id, staff_ids=staff_ids, ip=client_ip(request))
    return RedirectResponse(f"/duty?site_id={site_id}&saved=1", status_code=303)


@router.get("/duty/print")
def print_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader, site_id: int,
               month: str | None = None) -> Response:
    """The month as an A4 table for the hall's wall (the print stylesheet hides everything else)."""
    first = _month(month, local_today(settings))
    site = check_site(session, actor, site_id)
    days = duty.roster_days(session, actor, site_id=site_id, start=first, end=_month_end(first))
    return render(request, "duty/print.html", {"site": site, "first": first, "days": days})


@router.get("/duty/export.xlsx")
def export_month(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader, site_id: int,
                 month: str | None = None) -> Response:
    """The month as an Excel workbook."""
    first = _month(month, local_today(settings))
    site = check_site(session, actor, site_id)
    days = duty.roster_days(session, actor, site_id=site_id, start=first, end=_month_end(first))
    body = duty.month_workbook(days, site_name=site.name, year=first.year, month=first.month,
                               locale=request_locale(request))
    return Response(body, media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="duty-{site.code}-{first:%Y-%m}.xlsx"'})


@router.post("/duty/swaps/{swap_id}")
def swap_action_form(request: Request, session: SessionDep, actor: Own, swap_id: int,
                     action: Annotated[str, Form()], back: Annotated[str, Form()] = "/duty/mine") -> Response:
    """Accept, decline, withdraw (the people concerned) or approve, reject (a manager) a swap."""
    duty.act_on_swap(session, actor, swap_id=swap_id, action=action, ip=client_ip(request))
    target = back if back in ("/duty", "/duty/mine") else "/duty/mine"
    return RedirectResponse(f"{target}?saved=1", status_code=303)


# --- a person's own duties ------------------------------------------------------------------------


def _mine_page(request: Request, session: Session, settings: Settings, actor: Principal, *,
               problems: list[dict[str, Any]] | None = None, new_token: str = "", status_code: int = 200) -> Response:
    today = local_today(settings)
    staff_id = actor.staff_id
    mine = duty.own_duties(session, actor, start=today - timedelta(days=7), end=today + timedelta(days=120))
    colleagues = duty.colleagues(session, actor)
    swaps = duty.list_swaps(session, actor)
    return render(request, "duty/mine.html", {
        "duties": mine, "colleagues": colleagues, "swaps": swaps, "today_local": today, "problems": problems or [],
        "has_token": staff_id is not None and duty.has_calendar_token(session, staff_id=staff_id),
        "feed_url": f"{request.base_url}duty/ical/{new_token}" if new_token else "",
        "names": duty.staff_names(session, [s.requester_id for s in swaps] + [s.counterpart_id for s in swaps]),
    }, status_code=status_code)


@router.get("/duty/mine")
def mine_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Own) -> Response:
    """A person's own duties, their swaps, blocked days and calendar feed."""
    return _mine_page(request, session, settings, actor)


@router.post("/duty/mine/swaps")
def ask_swap_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Own,
                  assignment_id: Annotated[int, Form()], counterpart_id: Annotated[int, Form()],
                  reason: Annotated[str, Form(max_length=400)] = "") -> Response:
    try:
        with all_or_nothing(session):
            duty.ask_swap(session, actor, assignment_id=assignment_id, counterpart_id=counterpart_id, reason=reason,
                          today=local_today(settings), ip=client_ip(request))
    except InvalidInput as exc:
        return _mine_page(request, session, settings, actor, problems=_problems(request, exc), status_code=422)
    return RedirectResponse("/duty/mine?saved=1", status_code=303)


@router.post("/duty/mine/calendar-token")
def rotate_token_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Own) -> Response:
    """Make a new secret feed address (the old one stops working); it is shown once."""
    if actor.staff_id is None:
        raise NotFound("error.not_found")
    token = duty.rotate_calendar_token(session, actor, staff_id=actor.staff_id, ip=client_ip(request))
    return _mine_page(request, session, settings, actor, new_token=token)


@router.post("/duty/mine/days")
def own_day_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Own,
                 day: Annotated[date, Form()], choice: Annotated[str, Form()]) -> Response:
    """Block a day, wish for it or against it, or clear what was said about it."""
    if actor.staff_id is None:
        raise NotFound("error.not_found")
    if choice not in ("blocked", "prefer", "avoid", "clear"):
        raise InvalidInput("choice", "error.choice", choices="blocked, prefer, avoid, clear")
    if day < local_today(settings):
        return _mine_page(request, session, settings, actor, status_code=422, problems=_problems(
            request, InvalidInput("day", "error.duty_swap_past")))
    duty.set_blocked_day(session, actor, staff_id=actor.staff_id, day=day, blocked=choice == "blocked",
                         ip=client_ip(request))
    duty.set_wish(session, actor, staff_id=actor.staff_id, day=day,
                  kind=WishKind(choice) if choice in ("prefer", "avoid") else None, ip=client_ip(request))
    return RedirectResponse("/duty/mine?saved=1", status_code=303)


# --- the duty log ---------------------------------------------------------------------------------


def _log_page(request: Request, session: Session, settings: Settings, actor: Principal, *,
              site_id: int | None = None, values: dict[str, Any] | None = None,
              problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    today = local_today(settings)
    reader = actor.can(Permission.DUTY_READ)
    entries = duty.list_entries(session, actor, site_id=site_id, limit=100) if reader else []
    sites = duty.log_sites(session, actor, day=today)
    return render(request, "duty/log.html", {
        "entries": entries, "sites": sites, "problems": problems or [], "reader": reader,
        "values": values or {"occurred_at": datetime.now(settings.tz).strftime("%Y-%m-%dT%H:%M")},
        "stats": duty.month_counts(session, actor, year=today.year, tz=settings.tz) if reader else [],
        "windows": duty.site_windows(session, [s.id for s in sites if s.id is not None]),
        "site_names": {s.id: s.name for s in sites}, "places": duty.entry_places(session, entries),
    }, status_code=status_code)


@router.get("/duty/log")
def log_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Own,
             site_id: int | None = None) -> Response:
    """The duty log: the entry form for the people on duty, the entries and the count per month."""
    return _log_page(request, session, settings, actor, site_id=site_id)


@router.post("/duty/log")
async def log_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Own) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        data = duty.parse_log_form(values)
        with all_or_nothing(session):
            duty.record_log_entry(session, actor, data, tz=settings.tz, now=datetime.now(settings.tz),
                                  ip=client_ip(request))
    except InvalidInput as exc:
        return _log_page(request, session, settings, actor, values=values, problems=_problems(request, exc),
                         status_code=422)
    return RedirectResponse("/duty/log?saved=1", status_code=303)


@router.post("/duty/log/{log_id}/work-order")
def log_to_order_form(request: Request, session: SessionDep, actor: Own, log_id: int,
                      type: Annotated[str, Form()] = "help") -> Response:
    """One click: the entry becomes a work order, and keeps its number."""
    if type not in ("consult", "help", "suggestion", "complaint"):
        raise InvalidInput("type", "error.choice", choices="consult, help, suggestion, complaint")
    work_order_from_log(session, actor, log_id, request_type=type, ip=client_ip(request))
    return RedirectResponse("/duty/log?saved=1", status_code=303)


# --- public: the hall screen and the calendar feed ---------------------------------------------------


@router.get("/hall/{site_id}/duty")
def hall_screen(request: Request, session: SessionDep, settings: SettingsDep, site_id: int) -> Response:
    """Today's duty pair at a site, for the screen in the hall: names and titles only, no login."""
    today = local_today(settings)
    site = duty.public_site(session, site_id=site_id)
    pairs = duty.today_pairs(session, site_ids=[site_id], day=today)
    return render(request, "duty/hall.html", {"site": site, "pair": pairs[0] if pairs else None,
                                              "today_local": today})


@router.get("/duty/ical/{token}")
def ical_feed(session: SessionDep, settings: SettingsDep, token: str) -> Response:
    """A person's duties as iCalendar (RFC 5545); the token is the secret (rotated on /duty/mine)."""
    token = token.removesuffix(".ics")
    if not 16 <= len(token) <= 64:
        raise NotFound("error.not_found")
    body = duty.feed(session, token=token, tz=settings.tz, locale=settings.default_locale,
                     today=local_today(settings))
    return Response(body, media_type="text/calendar; charset=utf-8",
                    headers={"Cache-Control": "private, max-age=300"})


