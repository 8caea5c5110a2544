"""Pages of a published month: a person's own scores with their explanation and the appeal form (/me/scores),
the reviewers' queue of score appeals (/scoring/appeals), and the notice board's window ranking of a centre
(/public/rankings/{site code}: window names, scores and ranks only, no login)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from supervision import scoring
from supervision.access import Permission, Principal
from supervision.errors import SupervisionError
from supervision.models import LedgerEntry
from supervision.scoring import appeals
from supervision.scoring.appeals import AppealCreate, AppealDecision, AppealFilter, AppealStatus
from supervision.settings import Settings
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.home import local_today
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reviewer = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_MANAGE)]

# Public routes (no login): the role walk's PUBLIC set lists them.
PUBLIC_ROUTES = (("GET", "/public/rankings/{site_code}"),)

add_nav_item(NavItem("/me/scores", "me_scores.nav", "/me/scores", Permission.OWN_RECORDS, staff_only=True),
             before="/me")
add_nav_item(NavItem("/scoring/appeals", "appeal.nav", "/scoring/appeals", Permission.SCORING_MANAGE))


def _problems(request: Request, exc: SupervisionError) -> list[dict[str, Any]]:
    locale = request_locale(request)
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    return [{"field": "", "label": "", "message": exc.message(locale)}]


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v.strip() for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


# --- the person's own scores -------------------------------------------------------------------------------------


@router.get("/me/scores")
def my_scores(request: Request, session: SessionDep, settings: SettingsDep, actor: Person) -> Response:
    """The person's published months: final score, rank, revision, and how long each is open for appeal."""
    months = appeals.own_months(session, actor=actor, today=local_today(settings))
    mine, _ = appeals.list_appeals(session, actor=actor, f=AppealFilter(staff_id=actor.staff_id or -1), limit=50)
    return render(request, "me_scores.html", {"months": months, "appeals": mine})


def _month_page(request: Request, session: Session, settings: Settings, actor: Principal, month_text: str, *,
                problems: list[dict[str, Any]] | None = None, values: dict[str, str] | None = None,
                status_code: int = 200) -> Response:
    month = scoring.parse_month(month_text)
    explained = appeals.own_explanation(session, actor=actor, month=month, today=local_today(settings))
    entries: dict[int, LedgerEntry] = {e.id or 0: e for e in explained.entries}
    return render(request, "me_scores_month.html", {
        "x": explained, "month": month, "entries_by_id": entries, "problems": problems or [],
        "values": values or {}}, status_code=status_code)


@router.get("/me/scores/{month}")
def my_month(request: Request, session: SessionDep, settings: SettingsDep, actor: Person, month: str) -> Response:
    """One published month explained: base, each item (rule and version), its entries and their sources."""
    return _month_page(request, session, settings, actor, month)


@router.post("/me/scores/{month}/appeals")
async def appeal_month(request: Request, session: SessionDep, settings: SettingsDep, actor: Person,
                       month: str) -> Response:
    """File the person's appeal of one entry of the month (`ledger_entry_id`) or of the whole score."""
    values = await _form(request)
    entry = values.get("ledger_entry_id", "")
    try:
        if entry and not entry.isdigit():
            from supervision.errors import InvalidInput

            raise InvalidInput("ledger_entry_id", "error.invalid")
        body = AppealCreate(month=month, ledger_entry_id=int(entry) if entry else None,
                            reason=values.get("reason", "")[:2000] or " ")
        with all_or_nothing(session):
            appeals.file_appeal(session, actor=actor, body=body, today=local_today(settings), ip=client_ip(request))
    except SupervisionError as exc:
        return _month_page(request, session, settings, actor, month, problems=_problems(request, exc),
                           values=values, status_code=exc.status)
    return RedirectResponse(f"/me/scores/{month}?filed=1", status_code=303)


# --- the reviewers' queue ---------------------------------------------------------------------------------------


def _queue(request: Request, session: Session, actor: Principal, *, status: str,
           problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    chosen = status if status in {s.value for s in AppealStatus} else None
    rows, count = appeals.list_appeals(session, actor=actor, f=AppealFilter(status=chosen), limit=200)
    entry_ids = {r.ledger_entry_id for r in rows if r.ledger_entry_id is not None}
    entries = appeals.entries_of(session, rows)
    return render(request, "appeals/queue.html", {
        "rows": appeals.to_public(session, rows), "count": count, "status": chosen or "all",
        "statuses": [s.value for s in AppealStatus], "entries": entries, "entry_ids": entry_ids,
        "problems": problems or []}, status_code=status_code)


@router.get("/scoring/appeals")
def queue(request: Request, session: SessionDep, actor: Reviewer, status: str = "pending") -> Response:
    """Appeals of the jurisdiction to decide (pending by default), each with the entry or month appealed."""
    return _queue(request, session, actor, status=status)


@router.post("/scoring/appeals/{appeal_id}/decide")
async def decide(request: Request, session: SessionDep, actor: Reviewer, appeal_id: int) -> Response:
    form = await request.form()
    values = {k: v.strip() for k, v in form.items() if isinstance(v, str)}
    chosen = [int(v) for v in form.getlist("entry_ids") if isinstance(v, str) and v.isdigit()]
    try:
        body = AppealDecision(grant=values.get("grant") == "1", reason=values.get("reason", "")[:2000] or " ",
                              entry_ids=chosen)
        with all_or_nothing(session):
            appeals.decide_appeal(session, actor=actor, appeal_id=appeal_id, body=body, ip=client_ip(request))
    except SupervisionError as exc:
        return _queue(request, session, actor, status="pending", problems=_problems(request, exc),
                      status_code=exc.status)
    return RedirectResponse("/scoring/appeals?decided=1", status_code=303)


# --- the notice board --------------------------------------------------------------------------------------------


@router.get("/public/rankings/{site_code}")
def public_ranking(request: Request, session: SessionDep, settings: SettingsDep, site_code: str) -> Response:
    """The windows of a centre in its latest published month: names, final scores and ranks (no personal data)."""
    ranking = appeals.published_window_ranking(session, site_code=site_code[:40], today=local_today(settings))
    return render(request, "appeals/public_ranking.html", {"ranking": ranking})
