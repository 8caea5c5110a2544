"""Attendance pages (考勤): the manager's month grid, one person's month and day, the 补卡 queue, punches of
unknown staff numbers, the terminal export import, and the attendance rate per department.

Managers read and act in their jurisdiction (ATTENDANCE_READ/MANAGE); window staff see their own month and
ask for 补卡 (OWN_RECORDS; the services decide what is seen).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from markupsafe import Markup, escape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.responses import Response

from supervision import attendance, org
from supervision.access import Permission, Principal
from supervision.attendance import CorrectionAsk, CorrectionDecision, CorrectionState, DayCorrection, DayStatus
from supervision.errors import InvalidInput
from supervision.i18n import translate
from supervision.org import OrgKind
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.labels import Ref
from web.routes.home import local_today
from web.sources import SourceResolver, source_name
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.ATTENDANCE_READ)]
Manager = Annotated[Principal, needs(Permission.ATTENDANCE_READ, Permission.ATTENDANCE_MANAGE)]



def _day_sources(session: Session, reader: Principal, ids: Sequence[str], locale: str) -> dict[str, Ref]:
    """A ledger point from an attendance day leads to that day's page, for whoever may open it."""
    return {ident: Ref(source_name("attendance", day.isoformat(), locale), f"/attendance/days/{ident}")
            for ident, day in attendance.days_readable(session, actor=reader, ids=ids).items()}


SOURCE_RESOLVERS: dict[str, SourceResolver] = {"attendance": _day_sources}

add_nav_item(NavItem("/attendance", "ui.nav_attendance", "/attendance", Permission.ATTENDANCE_READ), before="/me")

STATUSES = tuple(DayStatus)
CORRECTABLE = (DayStatus.PRESENT, DayStatus.LATE, DayStatus.EARLY, DayStatus.MISSED_PUNCH, DayStatus.ABSENT_HALF,
               DayStatus.ABSENT, DayStatus.LEAVE, DayStatus.TRIP)
LEAVE_KINDS = ("annual", "sick", "personal", "marriage", "maternity", "bereavement", "trip", "compensatory")
MAX_UPLOAD = 20 * 1024 * 1024


def _month(value: str, today: date) -> tuple[int, int]:
    """A "YYYY-MM" query value (this month when empty)."""
    if not value:
        return today.year, today.month
    try:
        year, month = (int(p) for p in value.split("-", 1))
        attendance.month_days(year, month)
    except ValueError:
        raise InvalidInput("month", "error.invalid_month") from None
    return year, month


def _shift(year: int, month: int, by: int) -> str:
    index = year * 12 + (month - 1) + by
    return f"{index // 12}-{index % 12 + 1:02d}"


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


@router.get("/attendance")
def grid_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader, month: str = "",
              site_id: str = "", department_id: str = "", window_id: str = "") -> Response:
    """People × days of a month, colour and letter per day, totals per person."""
    year, mon = _month(month, local_today(settings))
    locale = request_locale(request)
    grid = attendance.month_grid(session, actor=actor, year=year, month=mon, site_id=_int(site_id),
                                 department_id=_int(department_id), window_id=_int(window_id))
    sites, _ = org.list_entities(session, actor, OrgKind.SITE, limit=500)
    departments, _ = org.list_entities(session, actor, OrgKind.DEPARTMENT, limit=500)
    windows, _ = org.list_entities(session, actor, OrgKind.WINDOW, limit=1000)
    return render(request, "attendance/grid.html", {
        "grid": grid, "month_value": f"{year}-{mon:02d}", "prev": _shift(year, mon, -1), "next": _shift(year, mon, 1),
        "sites": sites, "departments": departments, "windows": windows, "f": dict(request.query_params),
        "statuses": STATUSES, "can_manage": actor.can(Permission.ATTENDANCE_MANAGE),
        "cells": _cells_html(grid, locale),
    })


def _cells_html(grid: attendance.MonthGrid, locale: str) -> dict[int, Markup]:
    """Each person's day cells as one fragment: 12,000 cells for 400 people cost ~1 s as template loops.

    Every label is looked up once and escaped; ids and status values are ours (integers, enum values).
    """
    short = {s.value: escape(translate(f"att.short.{s.value}", locale)) for s in STATUSES}
    long = {s.value: escape(translate(f"att.status.{s.value}", locale)) for s in STATUSES}
    # On the roster on a working day: the day keeps its result, with the duty mark beside it.
    duty_short, duty_long = escape(translate("att.short.duty", locale)), escape(translate("att.on_duty", locale))
    out: dict[int, Markup] = {}
    for row in grid.rows:
        parts = []
        for cell in row.line:
            if cell is None:
                parts.append("<td></td>")
            elif cell.on_duty and cell.status != DayStatus.DUTY.value:
                parts.append(f'<td><span class="st st-{cell.status}"><a href="/attendance/days/{cell.day_id}" '
                             f'title="{long[cell.status]} · {duty_long}" data-duty="1">{short[cell.status]}'
                             f'<sup class="duty-mark">{duty_short}</sup></a></span></td>')
            else:
                parts.append(f'<td><span class="st st-{cell.status}"><a href="/attendance/days/{cell.day_id}" '
                             f'title="{long[cell.status]}">{short[cell.status]}</a></span></td>')
        out[row.staff_id] = Markup("".join(parts))  # built from escaped labels and our own ids
    return out


@router.post("/attendance/compute")
def compute(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
            month: Annotated[str, Form()] = "") -> Response:
    """Compute (again) the month for the jurisdiction, up to yesterday."""
    year, mon = _month(month, local_today(settings))
    days = attendance.month_days(year, mon)
    summary = attendance.compute_days(session, actor=actor, start=days[0], end=days[-1], ip=client_ip(request))
    return RedirectResponse(f"/attendance?month={year}-{mon:02d}&computed={summary.changed}", status_code=303)


def _person(request: Request, session: Session, actor: Principal, staff_id: int, month: str, today: date) -> Response:
    year, mon = _month(month, today)
    data = attendance.person_month(session, actor=actor, staff_id=staff_id, year=year, month=mon)
    return render(request, "attendance/person.html", {
        "pm": data, "month_value": f"{year}-{mon:02d}", "prev": _shift(year, mon, -1), "next": _shift(year, mon, 1),
        "own": actor.staff_id == staff_id,
    })


@router.get("/attendance/staff/{staff_id}")
def person_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Person, staff_id: int,
                month: str = "") -> Response:
    return _person(request, session, actor, staff_id, month, local_today(settings))


@router.get("/attendance/me")
def my_month(request: Request, session: SessionDep, settings: SettingsDep, actor: Person, month: str = "") -> Response:
    """The caller's own month (window staff reach it from /me)."""
    if actor.staff_id is None:
        raise InvalidInput("staff_id", "error.attendance_no_staff_record")
    return _person(request, session, actor, actor.staff_id, month, local_today(settings))


def _day_page(request: Request, session: Session, actor: Principal, day_id: int, *,
              problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    row = attendance.day_detail(session, actor=actor, day_id=day_id)
    return render(request, "attendance/day.html", {
        "row": row, "can_manage": actor.can(Permission.ATTENDANCE_MANAGE), "statuses": CORRECTABLE,
        "leave_kinds": LEAVE_KINDS, "problems": problems or [],
    }, status_code=status_code)


@router.get("/attendance/days/{day_id}")
def day_page(request: Request, session: SessionDep, actor: Person, day_id: int) -> Response:
    return _day_page(request, session, actor, day_id)


@router.post("/attendance/days/{day_id}/correct")
async def correct_day(request: Request, session: SessionDep, actor: Manager, day_id: int) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        if values.get("status") not in set(DayStatus):
            raise InvalidInput("status", "error.choice", choices="/".join(s.value for s in CORRECTABLE))
        minutes = {}
        for name in ("late_minutes", "early_minutes", "missed_punches"):
            text = values.get(name, "") or "0"
            if not text.isdigit() or int(text) > 600:
                raise InvalidInput(name, "error.number")
            minutes[name] = int(text)
        if not values.get("reason", "").strip():
            raise InvalidInput("reason", "error.required")
        body = DayCorrection(status=DayStatus(values["status"]), reason=values["reason"],
                             leave_kind=values.get("leave_kind") or None,
                             late_minutes=minutes["late_minutes"], early_minutes=minutes["early_minutes"],
                             missed_punches=min(2, minutes["missed_punches"]))
        with all_or_nothing(session):
            attendance.correct_day(session, actor=actor, day_id=day_id, correction=body, ip=client_ip(request))
    except InvalidInput as exc:
        return _day_page(request, session, actor, day_id, status_code=422,
                         problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse(f"/attendance/days/{day_id}?saved=1", status_code=303)


def _corrections_page(request: Request, session: Session, actor: Principal, *, state: str = "",
                      problems: list[dict[str, Any]] | None = None, values: dict[str, str] | None = None,
                      status_code: int = 200) -> Response:
    chosen = CorrectionState(state) if state in set(CorrectionState) else None
    if chosen is None and not state and actor.can(Permission.ATTENDANCE_MANAGE):
        chosen = CorrectionState.PENDING
    rows, count = attendance.list_corrections(session, actor=actor, state=chosen, limit=200)
    return render(request, "attendance/corrections.html", {
        "rows": rows, "count": count, "state": chosen.value if chosen else "all",
        "can_manage": actor.can(Permission.ATTENDANCE_MANAGE), "can_ask": actor.staff_id is not None,
        "problems": problems or [], "values": values or {}, "states": tuple(CorrectionState),
    }, status_code=status_code)


@router.get("/attendance/corrections")
def corrections_page(request: Request, session: SessionDep, actor: Person, state: str = "") -> Response:
    """Managers: the queue of 补卡 requests; staff: their own requests and the form to ask."""
    return _corrections_page(request, session, actor, state=state)


@router.post("/attendance/corrections")
async def ask_correction(request: Request, session: SessionDep, actor: Person) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        try:
            day = date.fromisoformat(values.get("day", ""))
        except ValueError:
            raise InvalidInput("day", "error.invalid_date") from None
        try:
            at = time.fromisoformat(values.get("punch_time", ""))
        except ValueError:
            raise InvalidInput("punch_time", "error.invalid_time") from None
        if not values.get("reason", "").strip():
            raise InvalidInput("reason", "error.required")
        with all_or_nothing(session):
            attendance.ask_correction(session, actor=actor, ask=CorrectionAsk(
                day=day, punch_time=at, reason=values["reason"][:400]), ip=client_ip(request))
    except InvalidInput as exc:
        return _corrections_page(request, session, actor, values=values, status_code=422,
                                 problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse("/attendance/corrections?asked=1", status_code=303)


@router.post("/attendance/corrections/{correction_id}/decide")
def decide_correction(request: Request, session: SessionDep, actor: Manager, correction_id: int,
                      approve: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "") -> Response:
    try:
        with all_or_nothing(session):
            attendance.decide_correction(session, actor=actor, request_id=correction_id,
                                         decision=CorrectionDecision(approve=approve == "1", note=note[:400]),
                                         ip=client_ip(request))
    except InvalidInput as exc:
        return _corrections_page(request, session, actor, status_code=422,
                                 problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse("/attendance/corrections?decided=1", status_code=303)


@router.get("/attendance/unknown")
def unknown_page(request: Request, session: SessionDep, actor: Reader, offset: int = 0) -> Response:
    """Punches whose staff number matched nobody: to fix the terminal's enrolment or the staff register."""
    rows, count = attendance.list_unknown(session, actor=actor, offset=max(0, offset), limit=100)
    return render(request, "attendance/unknown.html", {"rows": rows, "count": count, "offset": max(0, offset),
                                                       "limit": 100})


@router.get("/attendance/import")
def import_form(request: Request, actor: Manager) -> Response:
    return render(request, "attendance/import.html", {"receipt": None, "problems": []})


@router.post("/attendance/import")
async def import_upload(request: Request, session: SessionDep, actor: Manager) -> Response:
    form = await request.form()
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("file", "error.required")
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise InvalidInput("file", "error.upload_too_large", max=MAX_UPLOAD // (1024 * 1024))
        receipt = await run_in_threadpool(_import, session, actor, data, client_ip(request))
    except InvalidInput as exc:
        return render(request, "attendance/import.html", {
            "receipt": None, "problems": [p.as_dict(request_locale(request)) for p in exc.problems]},
            status_code=422)
    return render(request, "attendance/import.html", {"receipt": receipt, "problems": []})


def _import(session: Session, actor: Principal, data: bytes, ip: str) -> attendance.PunchReceipt:
    with all_or_nothing(session):
        return attendance.import_punches(session, actor=actor, data=data, ip=ip)


@router.get("/attendance/rates")
def rates_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader) -> Response:
    """Attendance rate per department over the last six months, as a server-drawn SVG chart and a table."""
    today = local_today(settings)
    months = [(int(m[:4]), int(m[5:])) for m in (_shift(today.year, today.month, -k) for k in range(5, -1, -1))]
    series = attendance.department_rates(session, actor=actor, months=months)
    labels = [f"{y}-{m:02d}" for y, m in months]
    return render(request, "attendance/rates.html", {"series": series, "labels": labels})
