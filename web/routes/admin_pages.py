"""Admin pages: users, machine tokens, the audit log; and the working-day calendar."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from supervision import accounts, audit, org
from supervision import workdays as wd
from supervision.access import MACHINE_SCOPES, Permission, Principal
from supervision.errors import InvalidInput, SupervisionError
from supervision.models import Role
from supervision.org import OrgKind
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.templating import render

router = APIRouter(include_in_schema=False)

UserAdmin = Annotated[Principal, needs(Permission.USERS_MANAGE)]
TokenAdmin = Annotated[Principal, needs(Permission.TOKENS_MANAGE)]
AuditReader = Annotated[Principal, needs(Permission.AUDIT_READ)]
CalendarReader = Annotated[Principal, needs(Permission.CALENDAR_READ)]
CalendarWriter = Annotated[Principal, needs(Permission.CALENDAR_WRITE)]


def _site_options(session: Session, actor: Principal) -> list[tuple[int, str]]:
    actor_for_org = actor if actor.can(Permission.ORG_READ) else None
    if actor_for_org is None:
        return []
    return [(s.id or 0, "\u3000" * s.depth + s.name) for s in org.site_tree(session, actor)]


def _staff_options(session: Session, actor: Principal) -> list[tuple[int, str]]:
    rows, _ = org.list_entities(session, actor, OrgKind.STAFF, limit=3000)
    return [(r.id, f"{r.name} ({r.code})") for r in rows]


def _department_options(session: Session, actor: Principal) -> list[tuple[int, str]]:
    rows, _ = org.list_entities(session, actor, OrgKind.DEPARTMENT, limit=3000)
    return [(r.id, f"{r.name} ({r.code})") for r in rows]


# --- users ------------------------------------------------------------------------------------


@router.get("/admin")
def admin_index() -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users")
def users_page(request: Request, session: SessionDep, actor: UserAdmin, q: str = "", role: str = "",
               offset: int = 0) -> Response:
    role_filter = Role(role) if role in Role._value2member_map_ else None
    rows, count = accounts.list_users(session, actor, role=role_filter, q=q or None, offset=offset, limit=50)
    sites = dict(_site_options(session, actor))
    return render(request, "admin/users.html", {"rows": rows, "count": count, "offset": offset, "limit": 50,
                                                "q": q, "role": role, "roles": list(Role), "sites": sites,
                                                "tab": "users"})


def _user_form(request: Request, session: Session, actor: Principal, *, values: dict[str, Any],
               user_id: int | None = None, problems: list[dict[str, Any]] | None = None,
               status_code: int = 200) -> Response:
    return render(request, "admin/user_form.html", {
        "values": values, "user_id": user_id, "problems": problems or [], "roles": list(Role),
        "sites": _site_options(session, actor), "staff": _staff_options(session, actor), "tab": "users",
        "departments": _department_options(session, actor),
    }, status_code=status_code)


@router.get("/admin/users/new")
def new_user_page(request: Request, session: SessionDep, actor: UserAdmin) -> Response:
    return _user_form(request, session, actor, values={"role": "supervisor", "locale": "zh-CN",
                                                       "site_id": actor.site_id, "active": True})


def _user_data(form: Any, *, new: bool) -> dict[str, Any]:
    data: dict[str, Any] = {
        "display_name": str(form.get("display_name", "")).strip(),
        "role": str(form.get("role", "")),
        "site_id": form.get("site_id") or None,
        "staff_id": form.get("staff_id") or None,
        "locale": str(form.get("locale", "zh-CN")),
        "department_ids": [int(v) for v in form.getlist("department_ids") if str(v).isdigit()],
    }
    password = str(form.get("password", ""))
    if new:
        data["username"] = str(form.get("username", "")).strip()
        data["password"] = password
    else:
        data["active"] = form.get("active") in ("on", "true", "1")
        if password:
            data["password"] = password
    return data


@router.post("/admin/users/new")
async def create_user_submit(request: Request, session: SessionDep, actor: UserAdmin) -> Response:
    data = _user_data(await request.form(), new=True)
    try:
        with all_or_nothing(session):
            user = accounts.create_user(session, actor, data, ip=client_ip(request))
    except InvalidInput as exc:
        data.pop("password", None)
        return _user_form(request, session, actor, values=data, status_code=422,
                          problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse(f"/admin/users/{user.id}?saved=1", status_code=303)


@router.get("/admin/users/{user_id}")
def user_page(request: Request, session: SessionDep, actor: UserAdmin, user_id: int) -> Response:
    user = accounts.get_user(session, actor, user_id)
    return _user_form(request, session, actor, values=accounts.user_public(session, user).model_dump(),
                      user_id=user_id)


@router.post("/admin/users/{user_id}")
async def update_user_submit(request: Request, session: SessionDep, actor: UserAdmin, user_id: int) -> Response:
    user = accounts.get_user(session, actor, user_id)
    data = _user_data(await request.form(), new=False)
    try:
        with all_or_nothing(session):
            accounts.update_user(session, actor, user_id, data, ip=client_ip(request))
    except InvalidInput as exc:
        data.pop("password", None)
        data["username"] = user.username
        return _user_form(request, session, actor, values=data, user_id=user_id, status_code=422,
                          problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse(f"/admin/users/{user_id}?saved=1", status_code=303)


# --- machine tokens ---------------------------------------------------------------------------


@router.get("/admin/tokens")
def tokens_page(request: Request, session: SessionDep, actor: TokenAdmin) -> Response:
    return render(request, "admin/tokens.html", {
        "rows": accounts.list_api_tokens(session, actor), "scopes": MACHINE_SCOPES,
        "sites": _site_options(session, actor), "created": None, "problems": [], "tab": "tokens",
    })


@router.post("/admin/tokens")
async def create_token_submit(request: Request, session: SessionDep, actor: TokenAdmin) -> Response:
    form = await request.form()
    expires = str(form.get("expires_at", "")).strip()
    data: dict[str, Any] = {
        "name": str(form.get("name", "")).strip(),
        "scopes": [s for s in form.getlist("scopes") if isinstance(s, str)],
        "site_id": form.get("site_id") or None,
        "expires_at": f"{expires}T23:59:59+08:00" if expires else None,
    }
    created = None
    problems: list[dict[str, Any]] = []
    status = 200
    try:
        with all_or_nothing(session):
            secret, token = accounts.create_api_token(session, actor, data, ip=client_ip(request))
        created = (secret, token)
    except InvalidInput as exc:
        problems = [p.as_dict(request_locale(request)) for p in exc.problems]
        status = 422
    return render(request, "admin/tokens.html", {
        "rows": accounts.list_api_tokens(session, actor), "scopes": MACHINE_SCOPES,
        "sites": _site_options(session, actor), "created": created, "problems": problems, "values": data,
        "tab": "tokens",
    }, status_code=status)


@router.post("/admin/tokens/{token_id}/revoke")
def revoke_token_submit(request: Request, session: SessionDep, actor: TokenAdmin, token_id: int) -> Response:
    accounts.revoke_api_token(session, actor, token_id, ip=client_ip(request))
    return RedirectResponse("/admin/tokens?revoked=1", status_code=303)


# --- audit ------------------------------------------------------------------------------------


def _parse_day(value: str, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(field, "error.invalid_date") from None


@router.get("/admin/audit")
def audit_page(request: Request, session: SessionDep, settings: SettingsDep, actor: AuditReader,
               action: str = "", who: str = "", object_kind: str = "", object_id: str = "",
               since: str = "", until: str = "", offset: int = 0) -> Response:
    """Browse the audit log with filters; dates are the centre's local days."""
    tz = settings.tz
    since_day, until_day = _parse_day(since, "since"), _parse_day(until, "until")
    rows, count = audit.search(
        session, actor, action=action or None, actor_name=who or None, object_kind=object_kind or None,
        object_id=object_id or None,
        since=datetime.combine(since_day, time(), tz) if since_day else None,
        until=datetime.combine(until_day + timedelta(days=1), time(), tz) if until_day else None,
        offset=offset, limit=50,
    )
    # Reading the log is itself a sensitive view: record who searched for what.
    audit.record(session, actor, "view.audit", object_kind="audit_entry", ip=client_ip(request),
                 site_id=actor.site_id, detail={k: v for k, v in request.query_params.items() if v})
    return render(request, "admin/audit.html", {"rows": rows, "count": count, "offset": offset, "limit": 50,
                                                "f": dict(request.query_params), "tab": "audit"})


# --- calendar ---------------------------------------------------------------------------------


@router.get("/calendar")
def calendar_page(request: Request, session: SessionDep, settings: SettingsDep, actor: CalendarReader,
                  year: int | None = None, check_day: str = "", start: str = "", days: str = "") -> Response:
    """A year's month grid, the override table, the declared years, and a tool to ask the calendar."""
    today = datetime.now(settings.tz).date()
    shown_year = year if year is not None and 2000 <= year <= 2100 else today.year
    cal = wd.load_calendar(session)
    answer: dict[str, Any] = {}
    locale = request_locale(request)
    try:
        if check_day:
            day = _parse_day(check_day, "check_day")
            if day is not None:
                answer["is_workday"] = cal.is_workday(day)
        if start and days:
            begin = _parse_day(start, "start")
            if begin is not None:
                try:
                    count = int(days)
                except ValueError:
                    raise InvalidInput("days", "error.number") from None
                answer["added"] = cal.add_workdays(begin, count)
    except SupervisionError as exc:
        answer["error"] = exc.message(locale)
    rows = wd.overrides(session, year=shown_year)
    names = {r.day: r.name for r in rows}
    return render(request, "calendar.html", {
        "year": shown_year, "overrides": rows, "today": today,
        "months": [(m, wd.month_grid(cal, shown_year, m, names)) for m in range(1, 13)],
        "year_covered": cal.covers(shown_year),
        "declared": wd.declared_years(session), "package_years": (min(wd.PACKAGE_YEARS), max(wd.PACKAGE_YEARS)),
        "covers": [(y, cal.covers(y)) for y in (today.year, today.year + 1)], "answer": answer,
        "q": dict(request.query_params), "can_write": wd.can_change(actor), "problems": [],
    })


@router.post("/calendar/overrides")
def override_submit(
    request: Request, session: SessionDep, actor: CalendarWriter,
    day: Annotated[str, Form()] = "", is_workday: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
) -> Response:
    parsed = _parse_day(day, "day")
    if parsed is None:
        raise InvalidInput("day", "error.required")
    wd.set_override(session, actor, day=parsed, is_workday=is_workday == "1", name=name, ip=client_ip(request))
    return RedirectResponse(f"/calendar?year={parsed.year}&saved=1", status_code=303)


@router.post("/calendar/overrides/{day}/delete")
def override_delete(request: Request, session: SessionDep, actor: CalendarWriter, day: date) -> Response:
    wd.delete_override(session, actor, day, ip=client_ip(request))
    return RedirectResponse(f"/calendar?year={day.year}", status_code=303)


@router.post("/calendar/years")
def declare_year_submit(request: Request, session: SessionDep, actor: CalendarWriter,
                        year: Annotated[int, Form()], notice: Annotated[str, Form()] = "") -> Response:
    wd.declare_year(session, actor, year=year, notice=notice, ip=client_ip(request))
    return RedirectResponse(f"/calendar?year={year}&saved=1", status_code=303)
