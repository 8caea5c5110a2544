"""Pages of the integrity risk register (廉政风险防控): the register, the heat table, a post's, a point's and
a measure's pages, the forms, reviews and checks, import and export, the printable register, home panels.

Officers and managers read their jurisdiction (RISK_READ); window staff read their own post's points and
measures, so those pages ask only for a logged-in person (OWN_RECORDS) and the services decide what is seen.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

import risk
from risk import (
    CheckFrequency,
    CheckResult,
    CountermeasureFilter,
    EvidenceUpload,
    MeasureFlag,
    MeasureType,
    PointFlag,
    ReviewOutcome,
    RiskCategory,
    RiskPointFilter,
)
from supervision import org
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput
from supervision.models import Role
from supervision.org import OrgKind
from supervision.settings import Settings
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.home import HomePanel, local_today, register_panel
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, needs(Permission.RISK_READ)]
Writer = Annotated[Principal, needs(Permission.RISK_READ, Permission.RISK_WRITE)]
# Window staff read their own post's risks: the services scope every read to what the caller may see.
Person = Annotated[Principal, needs(Permission.OWN_RECORDS)]

PAGE_SIZE = 50
OPTION_LIMIT = 3000
LEVELS = (1, 2, 3)
REVIEW_TRIGGERS = ("schedule", "duties_changed", "incidents", "other")
POINT_TEXT_FIELDS = ("code", "name", "manifestation", "grading_basis", "power", "process_step")
RESPONSIBLE_FIELDS = ("direct_responsible_id", "department_responsible_id", "leader_responsible_id")
POINT_UPDATABLE = ("code", "name", "post_id", "manifestation", "category", "power", "process_step",
                   *RESPONSIBLE_FIELDS, "measure_ids")
XLSX = risk.XLSX_TYPE

add_nav_item(NavItem("/risk", "risk.nav", "/risk", Permission.RISK_READ), before="/calendar")


# --- helpers ----------------------------------------------------------------------------------------


def _int(value: Any) -> int | None:
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _choice(value: str | None, allowed: Iterable[str]) -> str | None:
    return value if value in set(allowed) else None


def _str(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _ids(form: FormData, name: str) -> list[str]:
    return [v for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _problems(request: Request, exc: InvalidInput) -> list[dict[str, Any]]:
    locale = request_locale(request)
    return [p.as_dict(locale) for p in exc.problems]


def _today(request: Request) -> date:
    settings: Settings = request.app.state.settings
    return local_today(settings)


def _point_filter(request: Request) -> RiskPointFilter:
    """The register's filters from the query string; unknown values are ignored rather than refused."""
    q = request.query_params
    level = _int(q.get("level"))
    return RiskPointFilter(
        site_id=_int(q.get("site_id")),
        department_id=_int(q.get("department_id")),
        post_id=_int(q.get("post_id")),
        category=_choice(q.get("category"), (c.value for c in RiskCategory)),
        level=level if level in LEVELS else None,
        flag=_choice(q.get("flag"), (f.value for f in PointFlag)),
        q=q.get("q") or None,
    )


def _org_options(session: Session, actor: Principal, kind: OrgKind) -> list[tuple[int, str]]:
    """Choices within the actor's jurisdiction; empty for a caller who may not read the organisation."""
    if not actor.can(Permission.ORG_READ):
        return []
    rows, _ = org.list_entities(session, actor, kind, limit=OPTION_LIMIT)
    if kind is OrgKind.SITE:
        return [(int(r.id), "\u3000" * r.depth + r.name) for r in rows]
    return [(int(r.id), f"{r.name} ({r.code})") for r in rows]


def _page_links(offset: int, limit: int, count: int) -> dict[str, int]:
    return {"offset": max(offset, 0), "limit": limit, "count": count}


# --- the register, the heat table, the printable register --------------------------------------------


@router.get("/risk")
def register_page(request: Request, session: SessionDep, actor: Reader, offset: int = 0) -> Response:
    """The register: points filtered by department, post, category, level and flag, paged."""
    filters = _point_filter(request)
    rows, count = risk.list_risk_points(session, actor, filters=filters, offset=offset, limit=PAGE_SIZE,
                                        today=_today(request))
    query = {k: v for k, v in request.query_params.items() if k != "offset" and v}
    return render(request, "risk/register.html", {
        "tab": "register", "rows": rows, "filters": filters, **_page_links(offset, PAGE_SIZE, count),
        "departments": _org_options(session, actor, OrgKind.DEPARTMENT),
        "posts": _org_options(session, actor, OrgKind.POST),
        "categories": list(RiskCategory), "levels": LEVELS, "flags": list(PointFlag),
        "export_query": urlencode(query), "can_write": actor.can(Permission.RISK_WRITE),
    })


@router.get("/risk/heat")
def heat_page(request: Request, session: SessionDep, actor: Reader) -> Response:
    """Department × category, coloured by the highest level, with the number of points."""
    site_id = _int(request.query_params.get("site_id"))
    table = risk.heat_table(session, actor, site_id=site_id)
    return render(request, "risk/heat.html", {"tab": "heat", "table": table, "site_id": site_id,
                                              "sites": _org_options(session, actor, OrgKind.SITE)})


@router.get("/risk/print")
def print_page(request: Request, session: SessionDep, actor: Reader) -> Response:
    """The register grouped by department and post, laid out for paper."""
    register = risk.printable_register(session, actor, site_id=_int(request.query_params.get("site_id")),
                                       department_id=_int(request.query_params.get("department_id")),
                                       today=_today(request))
    return render(request, "risk/print.html", {"register": register})


@router.get("/risk/measures")
def measures_page(request: Request, session: SessionDep, actor: Reader, offset: int = 0) -> Response:
    """Countermeasures filtered by type and flag."""
    q = request.query_params
    filters = CountermeasureFilter(
        post_id=_int(q.get("post_id")),
        measure_type=_choice(q.get("measure_type"), (t.value for t in MeasureType)),
        flag=_choice(q.get("flag"), (f.value for f in MeasureFlag)),
        q=q.get("q") or None,
    )
    rows, count = risk.list_countermeasures(session, actor, filters=filters, offset=offset, limit=PAGE_SIZE,
                                            today=_today(request))
    return render(request, "risk/measures.html", {
        "tab": "measures", "rows": rows, "filters": filters, **_page_links(offset, PAGE_SIZE, count),
        "types": list(MeasureType), "flags": list(MeasureFlag), "can_write": actor.can(Permission.RISK_WRITE),
    })


# --- a post's page ----------------------------------------------------------------------------------


@router.get("/risk/my-post")
def my_post(session: SessionDep, actor: Person) -> Response:
    """The caller's own post's risks (window staff), or the register for those who read more."""
    post_id = risk.own_post_id(session, actor)
    if post_id is None:
        return RedirectResponse("/risk" if actor.can(Permission.RISK_READ) else "/", status_code=303)
    return RedirectResponse(f"/risk/posts/{post_id}", status_code=303)


@router.get("/risk/posts/{post_id}")
def post_page(request: Request, session: SessionDep, actor: Person, post_id: int) -> Response:
    """A post's points, measures, checks, reviews and incidents, with the re-grading signal."""
    page = risk.post_risk_page(session, actor, post_id, today=_today(request))
    return render(request, "risk/post.html", {"page": page, "can_write": actor.can(Permission.RISK_WRITE),
                                              "can_read_all": actor.can(Permission.RISK_READ)})


# --- risk points ------------------------------------------------------------------------------------


def _point_form_data(form: FormData, *, creating: bool) -> dict[str, Any]:
    data: dict[str, Any] = {name: _str(form, name) for name in POINT_TEXT_FIELDS}
    data["post_id"] = _str(form, "post_id") or None
    data["category"] = _str(form, "category") or None
    for name in RESPONSIBLE_FIELDS:
        data[name] = _str(form, name) or None
    data["measure_ids"] = _ids(form, "measure_ids")
    if creating:
        data["level"] = _str(form, "level") or None
        data["criteria_version"] = _str(form, "criteria_version") or None
    else:
        data = {k: v for k, v in data.items() if k in POINT_UPDATABLE}
    return data


def _point_form(request: Request, session: Session, actor: Principal, *, values: dict[str, Any],
                point: Any = None, problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    measures, _ = risk.list_countermeasures(session, actor, filters=CountermeasureFilter(), limit=500,
                                            today=_today(request))
    return render(request, "risk/point_form.html", {
        "point": point, "values": values, "problems": problems or [],
        "posts": _org_options(session, actor, OrgKind.POST), "staff": _org_options(session, actor, OrgKind.STAFF),
        "measures": [(m.id, f"{m.code} {m.content[:40]}") for m in measures],
        "criteria": [c.version for c in risk.list_criteria(session, actor)],
        "categories": list(RiskCategory), "levels": LEVELS,
    }, status_code=status_code)


@router.get("/risk/points/new")
def new_point(request: Request, session: SessionDep, actor: Writer) -> Response:
    values: dict[str, Any] = {"post_id": _int(request.query_params.get("post_id")), "measure_ids": []}
    return _point_form(request, session, actor, values=values)


@router.post("/risk/points/new")
async def create_point(request: Request, session: SessionDep, actor: Writer) -> Response:
    data = _point_form_data(await request.form(), creating=True)
    try:
        with all_or_nothing(session):
            point = risk.create_risk_point(session, actor, data, ip=client_ip(request), today=_today(request))
    except InvalidInput as exc:
        return _point_form(request, session, actor, values=data, problems=_problems(request, exc), status_code=422)
    return RedirectResponse(f"/risk/points/{point.id}?saved=1", status_code=303)


def _point_page(request: Request, session: Session, actor: Principal, point_id: int, *,
                review: dict[str, Any] | None = None, problems: list[dict[str, Any]] | None = None,
                link_problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    today = _today(request)
    detail = risk.risk_point_detail(session, actor, point_id, today=today)
    can_write = actor.can(Permission.RISK_WRITE)
    criteria = [c.version for c in risk.list_criteria(session, actor)] if can_write else []
    return render(request, "risk/point.html", {
        "d": detail, "p": detail.point, "can_write": can_write, "problems": problems or [],
        "link_problems": link_problems or [],
        "review": review or {"reviewed_on": today.isoformat(), "outcome": "confirmed", "trigger": "schedule",
                             "reviewer_name": actor.name},
        "outcomes": list(ReviewOutcome), "levels": LEVELS, "triggers": REVIEW_TRIGGERS, "criteria": criteria,
    }, status_code=status_code)


@router.get("/risk/points/{point_id}")
def point_page(request: Request, session: SessionDep, actor: Person, point_id: int) -> Response:
    """A point with its measures, reviews (history) and the incidents behind its signal."""
    return _point_page(request, session, actor, point_id)


@router.get("/risk/points/{point_id}/edit")
def edit_point(request: Request, session: SessionDep, actor: Writer, point_id: int) -> Response:
    detail = risk.risk_point_detail(session, actor, point_id, today=_today(request))
    p = detail.point
    values: dict[str, Any] = p.model_dump(include={*POINT_TEXT_FIELDS, "post_id", "category", "level",
                                                   "measure_ids", "criteria_version"})
    for name in RESPONSIBLE_FIELDS:
        ref = getattr(p, name.removesuffix("_id"))
        values[name] = ref.id if ref else None
    return _point_form(request, session, actor, values=values, point=p)


@router.post("/risk/points/{point_id}/edit")
async def update_point(request: Request, session: SessionDep, actor: Writer, point_id: int) -> Response:
    data = _point_form_data(await request.form(), creating=False)
    try:
        with all_or_nothing(session):
            risk.update_risk_point(session, actor, point_id, data, ip=client_ip(request))
    except InvalidInput as exc:
        point = risk.risk_point_detail(session, actor, point_id, today=_today(request)).point
        values = {**data, "level": point.level, "grading_basis": point.grading_basis,
                  "criteria_version": point.criteria_version}
        return _point_form(request, session, actor, values=values, point=point,
                           problems=_problems(request, exc), status_code=422)
    return RedirectResponse(f"/risk/points/{point_id}?saved=1", status_code=303)


@router.post("/risk/points/{point_id}/reviews")
async def review_point(request: Request, session: SessionDep, actor: Writer, point_id: int) -> Response:
    """Record a review (confirm, re-grade, revise or retire); errors come back on the point's page."""
    form = await request.form()
    data: dict[str, Any] = {name: _str(form, name) for name in
                            ("reviewed_on", "reviewer_name", "outcome", "grading_basis", "notes", "trigger")}
    data["reviewed_on"] = data["reviewed_on"] or None
    data["outcome"] = data["outcome"] or None
    data["trigger"] = data["trigger"] or "schedule"
    data["level"] = _str(form, "level") or None
    data["criteria_version"] = _str(form, "criteria_version") or None
    try:
        with all_or_nothing(session):
            risk.record_review(session, actor, point_id, data, ip=client_ip(request), today=_today(request))
    except InvalidInput as exc:
        return _point_page(request, session, actor, point_id, review=data, problems=_problems(request, exc),
                           status_code=422)
    return RedirectResponse(f"/risk/points/{point_id}?reviewed=1", status_code=303)


@router.post("/risk/points/{point_id}/incident-links")
async def relink_incident(request: Request, session: SessionDep, actor: Writer, point_id: int) -> Response:
    """Link an incident of the post to the point, or take one off, with a reason (the officer's re-link)."""
    form = await request.form()
    data: dict[str, Any] = {"incident_id": _str(form, "incident_id") or None, "linked": _str(form, "linked") == "1",
                            "reason": _str(form, "reason")}
    try:
        with all_or_nothing(session):
            risk.change_link(session, actor, point_id, data, ip=client_ip(request))
    except InvalidInput as exc:
        return _point_page(request, session, actor, point_id, link_problems=_problems(request, exc), status_code=422)
    return RedirectResponse(f"/risk/points/{point_id}?linked=1#incidents", status_code=303)


@router.post("/risk/points/{point_id}/delete")
def delete_point(request: Request, session: SessionDep, actor: Writer, point_id: int) -> Response:
    risk.delete_risk_point(session, actor, point_id, ip=client_ip(request))
    return RedirectResponse("/risk?deleted=1", status_code=303)


# --- countermeasures and checks ---------------------------------------------------------------------


def _measure_form_data(form: FormData, *, creating: bool) -> dict[str, Any]:
    data: dict[str, Any] = {name: _str(form, name) for name in ("code", "content", "check_method")}
    for name in ("measure_type", "owner_id", "check_frequency"):
        data[name] = _str(form, name) or None
    data["point_ids"] = _ids(form, "point_ids")
    if not creating:
        data["active"] = form.get("active") in ("on", "true", "1")
    return data


def _measure_form(request: Request, session: Session, actor: Principal, *, values: dict[str, Any],
                  measure: Any = None, problems: list[dict[str, Any]] | None = None,
                  status_code: int = 200) -> Response:
    points, _ = risk.list_risk_points(session, actor, limit=500, today=_today(request))
    return render(request, "risk/measure_form.html", {
        "measure": measure, "values": values, "problems": problems or [],
        "staff": _org_options(session, actor, OrgKind.STAFF),
        "points": [(p.id, f"{p.code} {p.name} · {p.post_name}") for p in points],
        "types": list(MeasureType), "frequencies": list(CheckFrequency),
    }, status_code=status_code)


@router.get("/risk/measures/new")
def new_measure(request: Request, session: SessionDep, actor: Writer) -> Response:
    point_id = _int(request.query_params.get("point_id"))
    values: dict[str, Any] = {"point_ids": [point_id] if point_id else [], "check_frequency": "quarterly"}
    return _measure_form(request, session, actor, values=values)


@router.post("/risk/measures/new")
async def create_measure(request: Request, session: SessionDep, actor: Writer) -> Response:
    data = _measure_form_data(await request.form(), creating=True)
    try:
        with all_or_nothing(session):
            measure = risk.create_countermeasure(session, actor, data, ip=client_ip(request), today=_today(request))
    except InvalidInput as exc:
        return _measure_form(request, session, actor, values=data, problems=_problems(request, exc),
                             status_code=422)
    return RedirectResponse(f"/risk/measures/{measure.id}?saved=1", status_code=303)


def _measure_page(request: Request, session: Session, actor: Principal, measure_id: int, *,
                  check: dict[str, Any] | None = None, problems: list[dict[str, Any]] | None = None,
                  status_code: int = 200) -> Response:
    today = _today(request)
    detail = risk.countermeasure_detail(session, actor, measure_id, today=today)
    return render(request, "risk/measure.html", {
        "d": detail, "m": detail.measure, "can_write": actor.can(Permission.RISK_WRITE),
        "problems": problems or [], "results": list(CheckResult),
        "check": check or {"checked_on": today.isoformat(), "checker_name": actor.name, "result": "effective"},
    }, status_code=status_code)


@router.get("/risk/measures/{measure_id}")
def measure_page(request: Request, session: SessionDep, actor: Person, measure_id: int) -> Response:
    """A measure with the points it covers and its checks (evidence downloadable)."""
    return _measure_page(request, session, actor, measure_id)


@router.get("/risk/measures/{measure_id}/edit")
def edit_measure(request: Request, session: SessionDep, actor: Writer, measure_id: int) -> Response:
    m = risk.countermeasure_detail(session, actor, measure_id, today=_today(request)).measure
    values = m.model_dump(include={"code", "content", "measure_type", "check_frequency", "check_method",
                                   "point_ids", "active"})
    values["owner_id"] = m.owner.id if m.owner else None
    return _measure_form(request, session, actor, values=values, measure=m)


@router.post("/risk/measures/{measure_id}/edit")
async def update_measure(request: Request, session: SessionDep, actor: Writer, measure_id: int) -> Response:
    data = _measure_form_data(await request.form(), creating=False)
    try:
        with all_or_nothing(session):
            risk.update_countermeasure(session, actor, measure_id, data, ip=client_ip(request))
    except InvalidInput as exc:
        m = risk.countermeasure_detail(session, actor, measure_id, today=_today(request)).measure
        return _measure_form(request, session, actor, values=data, measure=m, problems=_problems(request, exc),
                             status_code=422)
    return RedirectResponse(f"/risk/measures/{measure_id}?saved=1", status_code=303)


@router.post("/risk/measures/{measure_id}/delete")
def delete_measure(request: Request, session: SessionDep, actor: Writer, measure_id: int) -> Response:
    risk.delete_countermeasure(session, actor, measure_id, ip=client_ip(request))
    return RedirectResponse("/risk/measures?deleted=1", status_code=303)


async def _evidence(upload: Any) -> EvidenceUpload | None:
    """The uploaded evidence file, read with the register's size cap (one byte over is enough to refuse)."""
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    cap = risk.get_risk_settings().evidence_max_mb * 1024 * 1024
    data = await upload.read(cap + 1)
    if len(data) > cap:
        raise InvalidInput("evidence", "error.upload_too_large", max=risk.get_risk_settings().evidence_max_mb)
    return EvidenceUpload(upload.filename, upload.content_type or "", data)


@router.post("/risk/measures/{measure_id}/checks")
async def check_measure(request: Request, session: SessionDep, actor: Writer, measure_id: int) -> Response:
    """Record a check with an optional evidence file; errors come back on the measure's page."""
    form = await request.form()
    data: dict[str, Any] = {name: _str(form, name) for name in ("checked_on", "checker_name", "result", "notes")}
    data["checked_on"] = data["checked_on"] or None
    data["result"] = data["result"] or None
    try:
        evidence = await _evidence(form.get("evidence"))
        with all_or_nothing(session):
            risk.record_check(session, actor, measure_id, data, evidence=evidence, ip=client_ip(request),
                              today=_today(request))
    except InvalidInput as exc:
        return _measure_page(request, session, actor, measure_id, check=data, problems=_problems(request, exc),
                             status_code=422)
    return RedirectResponse(f"/risk/measures/{measure_id}?checked=1", status_code=303)


@router.get("/risk/checks/{check_id}/evidence")
def check_evidence(request: Request, session: SessionDep, actor: Person, check_id: int) -> Response:
    """Download a check's evidence file; who downloaded what goes to the audit log."""
    found = risk.evidence_of_check(session, actor, check_id, ip=client_ip(request))
    session.commit()  # the audit entry, before the file is streamed
    return FileResponse(found.path, media_type=found.content_type,
                        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(found.name)}"})


# --- reminders --------------------------------------------------------------------------------------


@router.post("/risk/reminders/{reminder_id}/close")
def close_reminder(request: Request, session: SessionDep, actor: Person, reminder_id: int) -> Response:
    risk.close_reminder(session, actor, reminder_id, ip=client_ip(request))
    return RedirectResponse("/?reminder_closed=1", status_code=303)


# --- import, export, template -----------------------------------------------------------------------


async def _workbook(upload: Any, *, max_mb: int) -> bytes:
    """An uploaded workbook, with a size cap and a check that it is one (an xlsx is a zip: "PK").

    (The form gives Starlette's UploadFile, of which FastAPI's is a subclass: check against Starlette's.)
    """
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise InvalidInput("file", "error.required")
    data = await upload.read(max_mb * 1024 * 1024 + 1)
    if len(data) > max_mb * 1024 * 1024:
        raise InvalidInput("file", "error.upload_too_large", max=max_mb)
    if not upload.filename.lower().endswith(".xlsx") or not data.startswith(b"PK"):
        raise InvalidInput("file", "error.upload_type", expected=".xlsx")
    return data


@router.get("/risk/import")
def import_page(request: Request, actor: Writer) -> Response:
    return render(request, "risk/import.html", {"tab": "import", "result": None, "problems": []})


def _import(session: Session, actor: Principal, data: bytes, ip: str, today: date) -> risk.ImportResult:
    with all_or_nothing(session):
        return risk.import_register(session, actor, data, ip=ip, today=today)


@router.post("/risk/import")
async def import_submit(request: Request, session: SessionDep, settings: SettingsDep, actor: Writer) -> Response:
    """Import a register workbook: all rows or none, every problem listed with its sheet and row."""
    upload = (await request.form()).get("file")
    problems: list[dict[str, Any]] = []
    result = None
    try:
        data = await _workbook(upload, max_mb=settings.max_upload_mb)
        result = await run_in_threadpool(_import, session, actor, data, client_ip(request), _today(request))
    except InvalidInput as exc:
        problems = _problems(request, exc)
    return render(request, "risk/import.html", {"tab": "import", "result": result, "problems": problems},
                  status_code=422 if problems else 200)


@router.get("/risk/template.xlsx")
def template(actor: Reader) -> Response:
    return Response(risk.register_template(), media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="risk-register-template.xlsx"'})


@router.get("/risk/export.xlsx")
def export(request: Request, session: SessionDep, actor: Reader) -> Response:
    """The register (with the page's filters) in the template's form."""
    data = risk.export_register(session, actor, filters=_point_filter(request), today=_today(request))
    return Response(data, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="risk-register.xlsx"'})


# --- home panels ------------------------------------------------------------------------------------


def _officer_reminders(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    """The reviews and checks falling due in the officer's jurisdiction, overdue first."""
    rows, total = risk.list_reminders(session, principal, limit=12, today=local_today(settings))
    return {"reminders": rows, "total": total, "can_close": principal.can(Permission.RISK_WRITE)}


def _own_post_risks(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    """A window staff member's own post: its risk points and measures, and reminders addressed to them."""
    post_id = risk.own_post_id(session, principal)
    page = risk.post_risk_page(session, principal, post_id, today=local_today(settings)) if post_id else None
    reminders, _ = risk.list_reminders(session, principal, mine=True, limit=10, today=local_today(settings))
    return {"page": page, "reminders": reminders, "can_close": True}


register_panel(HomePanel("risk_reminders", "risk/_home_reminders.html", frozenset({Role.OFFICER}),
                         _officer_reminders, order=15, wide=True))
register_panel(HomePanel("risk_own_post", "risk/_home_post.html", frozenset({Role.STAFF}), _own_post_risks,
                         order=20, wide=True))
