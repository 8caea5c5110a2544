"""The awards page (季度评选: candidates, ranking, duty leaders' ballots, citizens' votes, selection, certificates)
and the appraisal page (年度考核: the year per person, the suggested grade, confirmation, Excel export).

Managers act (SCORING_MANAGE), officers read (SCORING_READ); window staff see their own awards and appraisal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

from complaints import satisfaction_counts as rating_counts
from supervision import awards
from supervision.access import Permission, Principal
from supervision.awards import BallotIn, ConfirmIn, Grade, SelectionIn
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound, SupervisionError
from supervision.settings import Settings
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.api_awards import MAX_UPLOAD, bar_texts, default_year
from web.routes.home import local_today
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]
Reader = Annotated[Principal, needs(Permission.SCORING_READ)]
Manager = Annotated[Principal, needs(Permission.SCORING_READ, Permission.SCORING_MANAGE)]

add_nav_item(NavItem("/awards", "ui.nav_awards", "/awards", Permission.SCORING_READ), before="/me")
add_nav_item(NavItem("/appraisals", "ui.nav_appraisals", "/appraisals", Permission.SCORING_READ), before="/me")


def _problems(request: Request, exc: SupervisionError) -> list[dict[str, Any]]:
    locale = request_locale(request)
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    return [{"field": "", "label": "", "message": exc.message(locale)}]


def _from_form(model: type[Any], data: dict[str, Any]) -> Any:
    """A form body as its pydantic model; a refusal names the field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = str(first["loc"][0]) if first.get("loc") else "body"
        raise InvalidInput(field, "error.awards_form_value") from None


def _quarter(value: str, settings: Settings) -> str:
    if not value:
        return awards.quarter_key(*awards.last_complete_quarter(local_today(settings)))
    return awards.quarter_key(*awards.parse_quarter(value))


def _quarters(settings: Settings, count: int = 8) -> list[str]:
    year, number = awards.last_complete_quarter(local_today(settings))
    out = []
    for _ in range(count):
        out.append(awards.quarter_key(year, number))
        year, number = (year - 1, 4) if number == 1 else (year, number - 1)
    return out


def _awards_page(request: Request, session: Session, settings: Settings, actor: Principal, *, quarter: str,
                 site_id: int | None = None, problems: list[dict[str, Any]] | None = None,
                 status_code: int = 200) -> Response:
    locale = request_locale(request)
    if not actor.can(Permission.SCORING_READ):
        return render(request, "awards/mine.html", {
            "selections": awards.selections(session, actor=actor)}, status_code=status_code)
    board = awards.ranking(session, actor=actor, quarter=quarter, site_id=site_id, today=local_today(settings),
                           rating_counts=rating_counts)
    manage = actor.can(Permission.SCORING_MANAGE)
    leaders = awards.leaders(session, actor=actor, quarter=board.quarter, site_id=site_id) if manage else []
    leader_id = int(request.query_params.get("leader_id", "0") or 0) if request.query_params.get(
        "leader_id", "").isdigit() else (leaders[0].staff_id if leaders else 0)
    ticked = awards.ballot_of(session, quarter=board.quarter, leader_id=leader_id) if leader_id else set()
    reasons = {(c.subject_kind, c.subject_id): bar_texts(c, locale) for c in board.windows + board.staff}
    return render(request, "awards/index.html", {
        "board": board, "quarters": _quarters(settings), "manage": manage, "leaders": leaders,
        "leader_id": leader_id, "ticked": ticked, "reasons": reasons, "problems": problems or [],
        "site_id": site_id or "",
    }, status_code=status_code)


@router.get("/awards")
def awards_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Person, quarter: str = "",
                site_id: int | None = None) -> Response:
    return _awards_page(request, session, settings, actor, quarter=_quarter(quarter, settings), site_id=site_id)


@router.post("/awards/votes")
async def post_votes(request: Request, session: SessionDep, settings: SettingsDep, actor: Person) -> Response:
    form = await request.form()
    quarter = str(form.get("quarter", ""))
    try:
        ticks = []
        for value in form.getlist("tick"):
            kind, _, ident = str(value).partition(":")
            if kind not in ("window", "staff") or not ident.isdigit() or len(ident) > 9:
                raise InvalidInput("ticks", "error.awards_form_value")
            ticks.append({"subject_kind": kind, "subject_id": int(ident)})
        leader = str(form.get("leader_id", ""))
        body = _from_form(BallotIn, {"quarter": quarter, "leader_id": int(leader) if leader.isdigit()
                                     and len(leader) < 10 else 0, "ticks": ticks})
        with all_or_nothing(session):
            awards.cast_ballot(session, actor=actor, body=body, ip=client_ip(request))
    except (InvalidInput, Conflict) as exc:
        return _awards_page(request, session, settings, actor, quarter=_quarter(quarter, settings) if
                            _valid_quarter(quarter) else _quarter("", settings),
                            problems=_problems(request, exc), status_code=exc.status)
    return RedirectResponse(f"/awards?quarter={body.quarter}&leader_id={body.leader_id}&saved=1", status_code=303)


def _valid_quarter(value: str) -> bool:
    try:
        awards.parse_quarter(value)
    except InvalidInput:
        return False
    return True


@router.post("/awards/citizen-votes")
async def post_citizen_votes(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
                             quarter: Annotated[str, Form()], file: Annotated[UploadFile, File()]) -> Response:
    data = await file.read(MAX_UPLOAD + 1)
    try:
        if len(data) > MAX_UPLOAD:
            raise InvalidInput("file", "error.upload_too_large", max=MAX_UPLOAD // (1024 * 1024))

        def run() -> awards.ImportResult:
            with all_or_nothing(session):
                return awards.import_citizen_votes(session, actor=actor, quarter=quarter, data=data,
                                                   ip=client_ip(request))

        result = await run_in_threadpool(run)
    except InvalidInput as exc:
        good = quarter if _valid_quarter(quarter) else ""
        return _awards_page(request, session, settings, actor, quarter=_quarter(good, settings),
                            problems=_problems(request, exc), status_code=exc.status)
    return RedirectResponse(f"/awards?quarter={result.quarter}&imported={result.saved}", status_code=303)


@router.post("/awards/select")
def post_select(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
                quarter: Annotated[str, Form()], subject_kind: Annotated[str, Form()],
                subject_id: Annotated[int, Form()], selected: Annotated[str, Form()] = "1") -> Response:
    try:
        body = _from_form(SelectionIn, {"quarter": quarter, "subject_kind": subject_kind, "subject_id": subject_id,
                                        "selected": selected == "1"})
        with all_or_nothing(session):
            awards.select_award(session, actor=actor, body=body, today=local_today(settings),
                                rating_counts=rating_counts, ip=client_ip(request))
    except (InvalidInput, Conflict, NotFound) as exc:
        good = quarter if _valid_quarter(quarter) else ""
        return _awards_page(request, session, settings, actor, quarter=_quarter(good, settings),
                            problems=_problems(request, exc), status_code=exc.status)
    return RedirectResponse(f"/awards?quarter={body.quarter}&selected=1", status_code=303)


@router.get("/awards/{selection_id}/certificate")
def certificate(session: SessionDep, actor: Person, selection_id: int) -> Response:
    pdf = awards.certificate_pdf(session, actor=actor, selection_id=selection_id)
    return Response(pdf, media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="certificate-{selection_id}.pdf"'})


def _appraisal_page(request: Request, session: Session, settings: Settings, actor: Principal, *, year: int,
                    site_id: int | None = None, problems: list[dict[str, Any]] | None = None,
                    status_code: int = 200) -> Response:
    view = awards.year_view(session, actor=actor, year=year, site_id=site_id)
    this_year = local_today(settings).year
    return render(request, "awards/appraisals.html", {
        "view": view, "years": list(range(this_year, this_year - 6, -1)), "grades": list(Grade),
        "manage": actor.can(Permission.SCORING_MANAGE), "reader": actor.can(Permission.SCORING_READ),
        "problems": problems or [], "site_id": site_id or "", "rules": awards.get_awards_settings()},
        status_code=status_code)


@router.get("/appraisals")
def appraisals_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Person,
                    year: int | None = None, site_id: int | None = None) -> Response:
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput("year", "error.awards_year")
    return _appraisal_page(request, session, settings, actor, year=default_year(year, settings), site_id=site_id)


@router.post("/appraisals/confirm")
def post_confirm(request: Request, session: SessionDep, settings: SettingsDep, actor: Manager,
                 year: Annotated[int, Form()], staff_id: Annotated[int, Form()], grade: Annotated[str, Form()] = "",
                 reason: Annotated[str, Form()] = "") -> Response:
    if not 2000 <= year <= 2100:
        raise InvalidInput("year", "error.awards_year")
    try:
        body = _from_form(ConfirmIn, {"year": year, "staff_id": staff_id, "grade": grade or None, "reason": reason})
        with all_or_nothing(session):
            awards.confirm(session, actor=actor, body=body, ip=client_ip(request))
    except (InvalidInput, Conflict, Forbidden) as exc:
        return _appraisal_page(request, session, settings, actor, year=year, problems=_problems(request, exc),
                               status_code=exc.status)
    return RedirectResponse(f"/appraisals?year={year}&confirmed={staff_id}", status_code=303)


@router.get("/appraisals/export")
def export(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader, year: int | None = None,
           site_id: int | None = None) -> Response:
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput("year", "error.awards_year")
    view = awards.year_view(session, actor=actor, year=default_year(year, settings), site_id=site_id)
    return Response(awards.export_workbook(view, request_locale(request)),
                    media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f'attachment; filename="appraisal-{view.year}.xlsx"'})


