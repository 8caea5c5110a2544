"""Monthly scoring pages (月度考评): the month's ranking per person, window and department with the close, publish
and reopen forms; one score's explanation (rule items, ledger entries, each entry's source); the rule versions.

Readers (SCORING_READ) see their jurisdiction; managers close and publish; a city admin reopens and writes rules.
The services decide what each caller sees (window staff reach their own explanation once published).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from supervision import org, scoring
from supervision.access import Permission, Principal
from supervision.errors import Conflict, InvalidInput
from supervision.org import OrgKind
from supervision.scoring import RuleSetCreate, ScoringItemBase
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.home import local_today
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.SCORING_READ)]
Writer = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_WRITE)]
Manager = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_MANAGE)]

add_nav_item(NavItem("/scoring", "scoring.ui.nav", "/scoring", Permission.SCORING_READ), before="/me")

KINDS = scoring.SUBJECT_KINDS


def _month(value: str, today: date) -> date:
    """A "YYYY-MM" value; empty: the month before this one (the one a manager closes next)."""
    if not value.strip():
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)
    return scoring.parse_month(value)


def _shift(month: date, by: int) -> str:
    index = month.year * 12 + (month.month - 1) + by
    return f"{index // 12}-{index % 12 + 1:02d}"


def _int(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 12 else None


def _month_page(request: Request, session: Session, actor: Principal, *, month: date, kind: str,
                site_id: int | None, today: date, problems: list[dict[str, Any]] | None = None,
                alert: str = "", status_code: int = 200) -> Response:
    if kind not in KINDS:
        raise InvalidInput("kind", "error.scoring_subject_kind", value=kind[:20])
    view = scoring.month_view(session, actor=actor, month=month, subject_kind=kind, site_id=site_id)
    close = scoring.closing_for(session, month=month, site_path=_site_path(session, view.site_id))
    sites, _ = org.list_entities(session, actor, OrgKind.SITE, limit=500)
    return render(request, "scoring/month.html", {
        "view": view, "kind": kind, "kinds": KINDS, "month_value": scoring.month_text(month),
        "prev": _shift(month, -1), "next": _shift(month, 1), "sites": sites, "f": dict(request.query_params),
        "close": close, "ended": scoring.month_end(month) < today,
        "can_manage": actor.can(Permission.SCORING_MANAGE),
        "can_reopen": actor.can(Permission.SCORING_WRITE) and scoring.monthly.is_top_admin(actor),
        "problems": problems or [], "alert": alert,
    }, status_code=status_code)


def _site_path(session: Session, site_id: int) -> str:
    from supervision.models import Site

    site = session.get(Site, site_id)
    return site.path if site is not None else "/"


@router.get("/scoring")
def month_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader, month: str = "",
               kind: str = "staff", site_id: str = "") -> Response:
    """The month's ranking of people, windows or departments: base, deductions, bonuses, final, rank."""
    today = local_today(settings)
    return _month_page(request, session, actor, month=_month(month, today), kind=kind, site_id=_int(site_id),
                       today=today)


async def _act(request: Request, session: Session, settings: Any, actor: Principal, month_text: str,
               action: str) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    today = local_today(settings)
    month = scoring.parse_month(month_text)
    site_id = _int(values.get("site_id", ""))
    try:
        with all_or_nothing(session):
            if action == "close":
                scoring.close_month(session, actor=actor, month=month, site_id=site_id,
                                    force=values.get("force") == "1", ip=client_ip(request))
            elif action == "publish":
                scoring.publish_month(session, actor=actor, month=month, site_id=site_id, ip=client_ip(request))
            else:
                scoring.reopen_month(session, actor=actor, month=month, site_id=site_id or 0,
                                     reason=values.get("reason", ""), ip=client_ip(request))
    except (InvalidInput, Conflict) as exc:
        locale = request_locale(request)
        return _month_page(request, session, actor, month=month, kind="staff", site_id=site_id, today=today,
                           problems=[p.as_dict(locale) for p in exc.problems], alert=exc.message(locale),
                           status_code=exc.status)
    return RedirectResponse(f"/scoring?month={scoring.month_text(month)}&done={action}", status_code=303)


@router.post("/scoring/{month}/close")
async def close_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
                     month: str) -> Response:
    return await _act(request, session, settings, actor, month, "close")


@router.post("/scoring/{month}/publish")
async def publish_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
                       month: str) -> Response:
    return await _act(request, session, settings, actor, month, "publish")


@router.post("/scoring/{month}/reopen")
async def reopen_form(request: Request, session: SessionDep, settings: SettingsDep, actor: Writer,
                      month: str) -> Response:
    return await _act(request, session, settings, actor, month, "reopen")


@router.get("/scoring/rules")
def rules_page(request: Request, session: SessionDep, actor: Reader) -> Response:
    """Every rule version with its items; an admin of the top site writes a new one."""
    return _rules_page(request, session, actor)


def _rules_page(request: Request, session: Session, actor: Principal, *, problems: list[dict[str, Any]] | None = None,
                values: dict[str, str] | None = None, status_code: int = 200) -> Response:
    versions = scoring.rule_sets(session, actor=actor, locale=request_locale(request))
    return render(request, "scoring/rules.html", {
        "versions": versions, "current": versions[0] if versions else None, "specs": scoring.ITEM_SPECS,
        "can_write": actor.can(Permission.SCORING_WRITE) and scoring.monthly.is_top_admin(actor),
        "problems": problems or [], "values": values or {},
    }, status_code=status_code)


def _number(values: dict[str, str], name: str, *, required: bool) -> float | None:
    raw = values.get(name, "").strip()
    if not raw:
        if required:
            raise InvalidInput(name, "error.required")
        return None
    try:
        return float(raw)
    except ValueError:
        raise InvalidInput(name, "error.number") from None


@router.post("/scoring/rules")
async def new_rules(request: Request, session: SessionDep, actor: Writer) -> Response:
    """A new version from the form: one row per item (points, cap, subjects), the base and month caps."""
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        month = scoring.parse_month(values.get("effective_from", ""), field_name="effective_from")
        items = []
        for key in scoring.ITEM_SPECS:
            points = _number(values, f"points.{key}", required=True)
            applies = ",".join(k for k in KINDS if values.get(f"applies.{key}.{k}") == "1")
            items.append(ScoringItemBase(key=key, points=points or 0.0, cap=_number(values, f"cap.{key}",
                                                                                    required=False),
                                         applies_to=applies))
        body = RuleSetCreate(version=values.get("version", "").strip() or "-", effective_from=month,
                             note=values.get("note", "")[:400], items=items,
                             base=_number(values, "base", required=True),
                             deduction_cap=_number(values, "deduction_cap", required=False),
                             bonus_cap=_number(values, "bonus_cap", required=False))
        if not values.get("version", "").strip():
            raise InvalidInput("version", "error.required")
        with all_or_nothing(session):
            scoring.create_rule_set(session, actor=actor, body=body, ip=client_ip(request))
    except (InvalidInput, Conflict) as exc:
        locale = request_locale(request)
        problems = [p.as_dict(locale) for p in exc.problems] or [{"field": "version", "label": "",
                                                                  "message": exc.message(locale)}]
        return _rules_page(request, session, actor, problems=problems, values=values, status_code=exc.status)
    return RedirectResponse("/scoring/rules?saved=1", status_code=303)


@router.get("/scoring/{month}/{kind}/{subject_id}")
def explanation_page(request: Request, session: SessionDep, actor: Person, month: str, kind: str,
                     subject_id: int) -> Response:
    """One score explained: each rule item (and version), the ledger entries behind it and their sources."""
    at = scoring.parse_month(month)
    row, entries = scoring.explain(session, actor=actor, month=at, subject_kind=kind, subject_id=subject_id)
    close = scoring.closing_for(session, month=at, site_path=_site_path(session, row.site_id))
    by_id = {e.id: e for e in entries}
    lines = [(line, [by_id[i] for i in line.entry_ids if i in by_id]) for line in row.items]
    history = scoring.score_history(session, actor=actor, month=at, subject_kind=kind, subject_id=subject_id)
    return render(request, "scoring/explain.html", {
        "row": row, "lines": lines, "kind": kind, "month_value": scoring.month_text(at), "close": close,
        "history": history if len(history) > 1 else [], "show_actions": False,
        "back": f"/scoring?month={scoring.month_text(at)}&kind={kind}" if actor.can(Permission.SCORING_READ) else "",
    })
