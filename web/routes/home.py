"""The home page: for each role, the work of that role, as panels that domains can add to."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.responses import Response

from supervision import audit, duty, leave, ledger, org
from supervision import workdays as wd
from supervision.access import Permission, Principal
from supervision.models import Role
from supervision.scoring import parse_month
from supervision.scoring.reports import month_glance
from supervision.settings import Settings
from supervision.workdays import load_calendar
from web.deps import CurrentPrincipal, SessionDep, SettingsDep, needs, request_locale
from web.routes.org_pages import SLUG_OF
from web.routes.reports_pages import last_month, trend_context
from web.templating import render

router = APIRouter(include_in_schema=False)

PanelLoader = Callable[[Session, Principal, Settings], dict[str, Any] | None]
# A panel that reads the page's query (the manager's month picker: `/?month=2026-10`).
QueryPanelLoader = Callable[[Session, Principal, Settings, Mapping[str, str]], dict[str, Any] | None]


@dataclass(frozen=True)
class HomePanel:
    """A block of a role's home page: shown to the listed roles, filled by `load`."""

    id: str
    template: str
    roles: frozenset[Role]
    load: PanelLoader
    order: int = 50
    wide: bool = False
    extra: dict[str, Any] = field(default_factory=dict)
    load_query: QueryPanelLoader | None = None


_panels: dict[str, HomePanel] = {}


def register_panel(panel: HomePanel) -> None:
    _panels[panel.id] = panel


def panels_for(principal: Principal) -> list[HomePanel]:
    if principal.role is None:
        return []
    return sorted((p for p in _panels.values() if principal.role in p.roles), key=lambda p: (p.order, p.id))


def local_today(settings: Settings) -> date:
    return datetime.now(settings.tz).date()


def _jurisdiction(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    _, _, site = org.own_profile(session, principal)
    # Each count links to its list (/org/staff, /org/sites…) for those who may open it, else it is plain text.
    links = {kind.value: f"/org/{slug}" for kind, slug in SLUG_OF.items()} if principal.can(Permission.ORG_READ) else {}
    return {"site": site, "counts": org.counts(session, principal), "links": links}


def _calendar_status(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    cal = load_calendar(session)
    this_year = local_today(settings).year
    return {"years": [(y, cal.covers(y)) for y in (this_year, this_year + 1)]}


def _recent_audit(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    rows, total = audit.search(session, principal, limit=8)
    return {"entries": rows, "total": total}


def _month_scores(session: Session, principal: Principal, settings: Settings,
                  query: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The month's scores (this month, provisional until closed, or the picked one): both rankings' ends and
    who is furthest down with why."""
    picked = (query or {}).get("month", "").strip()
    month = parse_month(picked) if picked else local_today(settings).replace(day=1)
    return {"glance": month_glance(session, actor=principal, month=month)}


def _recent_ledger(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    rows, total = ledger.entries(session, actor=principal, limit=8)
    return {"entries": rows, "total": total}


def _own_records(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    staff, window, _ = org.own_profile(session, principal)
    today = local_today(settings)
    start = today.replace(day=1)
    rows, _ = ledger.entries(session, actor=principal, staff_id=principal.staff_id or -1, since=start, limit=50)
    return {"staff": staff, "window": window, "entries": rows, "month": start,
            "total_points": sum(r.points for r in rows)}


ALL_HUMAN_ROLES = frozenset({Role.ADMIN, Role.OFFICER, Role.SUPERVISOR, Role.MANAGER})

register_panel(HomePanel("jurisdiction", "home/_jurisdiction.html", ALL_HUMAN_ROLES, _jurisdiction, order=90))
register_panel(HomePanel("calendar_status", "home/_calendar.html", frozenset({Role.ADMIN}), _calendar_status, 20))
register_panel(HomePanel("recent_audit", "home/_audit.html", frozenset({Role.ADMIN}), _recent_audit, 30, wide=True))
register_panel(HomePanel("month_scores", "home/_month_scores.html", frozenset({Role.MANAGER}), _month_scores, 10,
                         wide=True, load_query=_month_scores))
register_panel(HomePanel("recent_ledger", "home/_ledger.html", frozenset({Role.OFFICER, Role.MANAGER}),
                         _recent_ledger, 60, wide=True))
register_panel(HomePanel("own_records", "home/_own.html", frozenset({Role.STAFF}), _own_records, 10, wide=True))


# Score appeals (申诉) waiting for a decision, for those who decide them; a link to the queue.
def _score_appeals(session: Session, principal: Principal, settings: Settings) -> dict[str, Any] | None:
    from supervision.scoring import appeals

    if not appeals.decides_appeals(principal):
        return None
    return {"pending": appeals.pending_count(session, actor=principal)}


register_panel(HomePanel("score_appeals", "appeals/_home.html", frozenset({Role.MANAGER}), _score_appeals, order=9))


@router.get("/")
def home(request: Request, session: SessionDep, settings: SettingsDep, principal: CurrentPrincipal) -> Response:
    """The caller's home page, made of the panels of their role."""
    # A panel whose loader returns None has nothing for this person (e.g. appeals for one who does not decide).
    query = dict(request.query_params)
    panels = [(p, d) for p in panels_for(principal)
              if (d := (p.load_query(session, principal, settings, query) if p.load_query
                        else p.load(session, principal, settings))) is not None]
    role = principal.role.value if principal.role else "machine"
    today = local_today(settings)
    duty_day, duty_pairs = duty.next_duty_for(session, principal, day=today)
    return render(request, "home.html", {"panels": panels, "role": role,
                                         "calendar_reminder": _calendar_reminder(session, principal, settings),
                                         "duty_today": duty_pairs, "duty_day": duty_day, "today": today})


def _calendar_reminder(session: Session, principal: Principal, settings: Settings) -> dict[str, Any] | None:
    """From October, admins and managers are told when next year's holidays are still missing."""
    if principal.role not in (Role.ADMIN, Role.MANAGER):
        return None
    year = wd.year_to_enter(load_calendar(session), local_today(settings))
    return None if year is None else {"year": year, "can_change": wd.can_change(principal)}


@router.get("/me")
def my_records(
    request: Request, session: SessionDep, settings: SettingsDep,
    principal: Annotated[Principal, needs(Permission.OWN_RECORDS)],
) -> Response:
    """A person's own records: profile, ledger entries, leave balance and requests (window staff see only these)."""
    return me_page(request, session, settings, principal)


def me_page(request: Request, session: Session, settings: Settings, principal: Principal, *,
            leave_values: dict[str, str] | None = None, leave_problems: list[dict[str, Any]] | None = None,
            status_code: int = 200) -> Response:
    data = _own_records(session, principal, settings)
    rows, total = ledger.entries(session, actor=principal, staff_id=principal.staff_id or -1, limit=200)
    data.update(all_entries=rows, all_total=total, leave=_leave_context(session, principal, settings),
                leave_values=leave_values or {}, leave_problems=leave_problems or [])
    if principal.staff_id is not None and data["staff"] is not None:
        data["trend"] = trend_context(session, principal, "staff", principal.staff_id, data["staff"].name,
                                      until=last_month(local_today(settings)), locale=request_locale(request),
                                      heading="ui.my_trend")
    return render(request, "me.html", data, status_code=status_code)


def _leave_context(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    """What /me shows of leave: the year's annual balance and the person's requests."""
    if principal.staff_id is None:
        return {}
    today = local_today(settings)
    return {"balance": leave.annual_balance(session, staff_id=principal.staff_id, year=today.year),
            "requests": leave.own_requests(session, principal), "kinds": list(leave.LeaveKind),
            "holding": set(leave.HOLDING), "today": today}
