"""Pages of the complaints loop: the hotline intake screen, work orders, calls, ratings, visits, notices, statistics."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, RedirectResponse
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, UploadFile
from starlette.responses import Response

import complaints
from complaints.lookups import dispatch_choices, form_choices, org_names, responsible_choices, window_groups
from supervision.access import Permission, Principal
from supervision.errors import Conflict, FieldProblem, InvalidInput, SupervisionError
from supervision.models import Role
from supervision.settings import Settings
from web.deps import CurrentPrincipal, SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.routes.home import HomePanel, local_today, register_panel
from web.routes.org_import import XLSX
from web.templating import NavItem, add_nav_item, render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, needs(Permission.COMPLAINTS_READ)]
Writer = Annotated[Principal, needs(Permission.COMPLAINTS_WRITE)]
LedgerWriter = Annotated[Principal, needs(Permission.LEDGER_WRITE)]
Intake = Annotated[Principal, needs(Permission.COMPLAINTS_WRITE, Permission.HOTLINE_PUSH)]

T = TypeVar("T")
PAGE = 50

# One entry in the top bar; the section's own tabs lead to intake, calls, ratings, visits, notices, statistics.
add_nav_item(NavItem("/complaints/orders", "complaints.ui.section", "/complaints", Permission.COMPLAINTS_READ),
             before="/ledger")
# A handler's entry: the orders of their units (the list shows them only those).
add_nav_item(NavItem("/complaints/orders?due=open", "complaints.ui.nav_unit_orders", "/complaints",
                     Permission.COMPLAINTS_HANDLE), before="/ledger")
add_nav_item(NavItem("/notices", "complaints.ui.nav_notices", "/notices"), before="/ledger")


# --- helpers ----------------------------------------------------------------------------------


async def _form(request: Request) -> FormData:
    return await request.form()


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _int_or_none(form: FormData, name: str) -> int | str | None:
    """An id field: empty → None; anything else goes to the service, which names a bad value."""
    value = _text(form, name)
    return (int(value) if value.isdigit() else value) if value else None


def _ints(form: FormData, name: str) -> list[int | str]:
    return [int(v) if v.isdigit() else v for v in form.getlist(name) if isinstance(v, str) and v.strip()]


def _check(form: FormData, name: str) -> bool:
    return form.get(name) in ("on", "true", "1")


def _problems(request: Request, exc: SupervisionError) -> list[dict[str, Any]]:
    locale = request_locale(request)
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    return [{"field": "", "label": "", "message": exc.message(locale)}]


def _attempt(session: Session, work: Callable[[], T]) -> T:
    """Run a service call; on a refusal undo its half-done writes so the re-rendered page commits nothing."""
    with all_or_nothing(session):
        return work()


def _query(request: Request, *names: str) -> dict[str, str]:
    return {n: request.query_params[n] for n in names if request.query_params.get(n, "").strip()}


def _offset(request: Request) -> int:
    raw = request.query_params.get("offset", "0")
    return max(int(raw), 0) if raw.isdigit() else 0


# --- the hotline intake screen ----------------------------------------------------------------


def _intake_page(request: Request, session: Session, actor: Principal, *, values: dict[str, Any],
                 problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    done = None
    number = request.query_params.get("done", "")
    if number and not problems:
        done = {"number": number, "answered": request.query_params.get("answered") == "1",
                "order_id": request.query_params.get("order", "")}
    return render(request, "complaints/intake.html", {
        "values": values, "problems": problems or [], "choices": form_choices(session, actor), "done": done,
        "window_groups": window_groups(session, actor),
        "types": list(complaints.RequestType), "urgencies": list(complaints.Urgency),
        "channels": [c for c in complaints.Channel if c not in (complaints.Channel.WEB, complaints.Channel.RATING)],
        "problem_fields": {p["field"] for p in problems or []},
    }, status_code=status_code)


@router.get("/complaints")
def complaints_index(actor: CurrentPrincipal) -> Response:
    target = "/complaints/intake" if actor.can(Permission.HOTLINE_PUSH) else "/complaints/orders"
    return RedirectResponse(target, status_code=303)


@router.get("/complaints/intake")
def intake_form(request: Request, session: SessionDep, actor: Intake) -> Response:
    """One keyboard-friendly screen for a call; a fresh idempotency key per form."""
    return _intake_page(request, session, actor, values={"idempotency_key": uuid.uuid4().hex, "type": "",
                                                        "channel": "hotline", "urgency": "normal"})


def _call_data(form: FormData) -> dict[str, Any]:
    return {
        "type": _text(form, "type") or None,
        "channel": _text(form, "channel") or "hotline",
        "content": _text(form, "content"),
        "caller_name": _text(form, "caller_name"),
        "anonymous": _check(form, "anonymous"),
        "phone": _text(form, "phone"),
        "confidential": _check(form, "confidential"),
        "integrity": _check(form, "integrity"),
        "urgency": _text(form, "urgency") or "normal",
        "window_id": _int_or_none(form, "window_id"),
        "post_id": _int_or_none(form, "post_id"),
        "staff_id": _int_or_none(form, "staff_id"),
        "answered_on_the_spot": _check(form, "answered_on_the_spot"),
        "answer": _text(form, "answer"),
        "lead_department_id": _int_or_none(form, "lead_department_id"),
    }


@router.post("/complaints/intake")
async def intake_submit(request: Request, session: SessionDep, actor: Intake) -> Response:
    form = await _form(request)
    data = _call_data(form)
    key = _text(form, "idempotency_key") or None

    def log() -> complaints.HotlineCallView:
        if not data["type"]:
            # The screen always types the call; only the telephony push may leave one pending. The screen's
            # other required field is reported with it, not in a second round.
            missing = ["type"] + (["content"] if not data["content"] else [])
            raise InvalidInput(problems=[FieldProblem(name, "error.required", {}) for name in missing])
        return complaints.log_call(session, actor, data, idempotency_key=key, ip=client_ip(request))

    def work() -> Response:
        try:
            call = _attempt(session, log)
        except (InvalidInput, Conflict) as exc:
            values = {**data, "idempotency_key": key or uuid.uuid4().hex}
            return _intake_page(request, session, actor, values=values, problems=_problems(request, exc),
                                status_code=exc.status)
        answered = "1" if call.status == complaints.CallStatus.ANSWERED.value else "0"
        return RedirectResponse(f"/complaints/intake?done={call.work_order_number}&answered={answered}"
                                f"&order={call.work_order_id or ''}", status_code=303)

    return await run_in_threadpool(work)


@router.get("/complaints/intake/history")
def intake_history(request: Request, session: SessionDep, actor: Intake) -> Response:
    """Earlier orders of the same caller, for the intake screen's repeat-caller hint (a fragment)."""
    phone = request.query_params.get("phone", "").strip()
    rows: list[complaints.WorkOrderView] = []
    if phone:
        try:
            rows = complaints.phone_history(session, actor, phone, limit=10)
        except InvalidInput:
            rows = []
    return render(request, "complaints/_history.html", {"rows": rows})


# --- work orders ------------------------------------------------------------------------------

ORDER_FILTERS = ("state", "type", "channel", "card", "urgency", "lead_department_id", "department_id", "window_id",
                 "received_from", "received_to", "q")


@router.get("/complaints/orders")
def order_list(request: Request, session: SessionDep, actor: CurrentPrincipal) -> Response:
    """The order list with filters; `due=open|overdue|due` narrows to open, overdue or due-soon orders."""
    values = _query(request, *ORDER_FILTERS, "due")
    filters: dict[str, Any] = {k: v for k, v in values.items() if k != "due"}
    due = values.get("due", "")
    if due == "open":
        filters["open_only"] = True
    elif due == "overdue":
        filters["overdue_only"] = True
    offset = _offset(request)
    problems: list[dict[str, Any]] = []
    if due == "due":
        rows, count = complaints.due_orders(session, actor, offset=offset, limit=PAGE, ip=client_ip(request))
    else:
        try:
            rows, count = complaints.list_orders(session, actor, filters, offset=offset, limit=PAGE,
                                                 ip=client_ip(request))
        except InvalidInput as exc:
            rows, count, problems = [], 0, _problems(request, exc)
    return render(request, "complaints/orders.html", {
        "rows": rows, "count": count, "offset": offset, "limit": PAGE, "values": values, "problems": problems,
        "names": org_names(session, rows), "choices": form_choices(session, actor, people=False),
        "states": list(complaints.State), "types": list(complaints.RequestType),
        "channels": list(complaints.Channel), "can_write": actor.can(Permission.COMPLAINTS_WRITE),
    }, status_code=422 if problems else 200)


def _order_page(request: Request, session: Session, actor: Principal, order_ref: str, *,
                problems: list[dict[str, Any]] | None = None, values: dict[str, Any] | None = None,
                status_code: int = 200) -> Response:
    detail = complaints.get_order(session, actor, order_ref, ip=client_ip(request))
    order = detail.order
    dispatch = dispatch_choices(session, actor, site_id=order.site_id, window_id=order.window_id,
                                department_id=order.department_id)
    return render(request, "complaints/order.html", {
        "d": detail, "o": order, "names": org_names(session, [order]),
        "departments": dispatch.departments, "preselect": dispatch.preselect, "problems": problems or [],
        "values": values or {}, "outcomes": list(complaints.Outcome), "dispositions": list(complaints.Disposition),
        "methods": list(complaints.CallbackMethod), "levels": [5, 4, 3, 2, 1],
        "responsible": responsible_choices(session, actor, site_id=order.site_id),
        "level_names": {5: "very_satisfied", 4: "satisfied", 3: "basic", 2: "dissatisfied", 1: "very_dissatisfied"},
        "can_reveal": actor.can(Permission.COMPLAINTS_WRITE) or actor.can(Permission.CONFIDENTIAL_READ),
        "phone": getattr(request.state, "revealed_phone", ""),
    }, status_code=status_code)


@router.get("/complaints/orders/{order_id}")
def order_page(request: Request, session: SessionDep, actor: CurrentPrincipal, order_id: str) -> Response:
    """An order: its facts, full history and a small form per allowed next action (views of confidential
    orders are audited by the service)."""
    return _order_page(request, session, actor, order_id)


def _transition_data(form: FormData) -> dict[str, Any]:
    data: dict[str, Any] = {"reason": _text(form, "reason")}
    for name in ("lead_department_id", "days", "level"):
        value = _int_or_none(form, name)
        if value is not None:
            data[name] = value
    assisting = _ints(form, "assisting_department_ids")
    if assisting:
        data["assisting_department_ids"] = assisting
    for name in ("into", "reply", "method", "outcome", "finding", "facts"):
        value = _text(form, name)
        if value:
            data[name] = value
    if form.get("responsible_given"):
        # The outcome forms always send the list: an empty choice holds nobody responsible.
        data["responsible_staff_ids"] = _ints(form, "responsible_staff_ids")
    disposition = [v for v in form.getlist("disposition") if isinstance(v, str) and v]
    if disposition:
        data["disposition"] = disposition
    return data


@router.post("/complaints/orders/{order_id}/action")
async def order_action(request: Request, session: SessionDep, actor: CurrentPrincipal, order_id: int) -> Response:
    """Apply one action from the order page; a refusal re-renders the page naming the field."""
    form = await _form(request)
    action = _text(form, "action")
    data = _transition_data(form)

    def work() -> Response:
        try:
            view = _attempt(session, lambda: complaints.transition(session, actor, order_id, action, data,
                                                                   ip=client_ip(request)))
        except (InvalidInput, Conflict) as exc:
            return _order_page(request, session, actor, str(order_id), problems=_problems(request, exc),
                               values={"action": action, **data}, status_code=exc.status)
        return RedirectResponse(f"/complaints/orders/{view.id}?done={action}#history", status_code=303)

    return await run_in_threadpool(work)


@router.post("/complaints/orders/{order_id}/phone")
def order_phone(request: Request, session: SessionDep, actor: CurrentPrincipal, order_id: int) -> Response:
    """Show the caller's full number once, for the callback (audited)."""
    request.state.revealed_phone = complaints.reveal_caller_phone(session, actor, order_id, ip=client_ip(request))
    return _order_page(request, session, actor, str(order_id))


# --- calls and their import -------------------------------------------------------------------


@router.get("/complaints/calls")
def call_list(request: Request, session: SessionDep, actor: Reader) -> Response:
    values = _query(request, "status", "type", "received_from", "received_to", "q")
    offset = _offset(request)
    rows, count = complaints.list_calls(session, actor, values, offset=offset, limit=PAGE)
    return render(request, "complaints/calls.html", {
        "rows": rows, "count": count, "offset": offset, "limit": PAGE, "values": values, "report": None,
        "problems": [], "statuses": list(complaints.CallStatus), "types": list(complaints.RequestType),
        "can_import": actor.can(Permission.COMPLAINTS_WRITE),
    })


@router.post("/complaints/calls/import")
async def call_import(request: Request, session: SessionDep, settings: SettingsDep, actor: Writer) -> Response:
    """Import a call log (CSV or Excel): all rows or none."""
    form = await _form(request)
    upload = form.get("file")
    problems: list[dict[str, Any]] = []
    report = None
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise InvalidInput("file", "error.required")
        content = await upload.read(settings.max_upload_mb * 1024 * 1024 + 1)
        if len(content) > settings.max_upload_mb * 1024 * 1024:
            raise InvalidInput("file", "error.upload_too_large", max=settings.max_upload_mb)
        name = upload.filename
        report = await run_in_threadpool(
            lambda: _attempt(session, lambda: complaints.import_calls(session, actor, content, name,
                                                                      ip=client_ip(request))))
    except (InvalidInput, Conflict) as exc:
        problems = _problems(request, exc)
    rows, count = complaints.list_calls(session, actor, {}, limit=PAGE)
    return render(request, "complaints/calls.html", {
        "rows": rows, "count": count, "offset": 0, "limit": PAGE, "values": {}, "report": report,
        "problems": problems, "statuses": list(complaints.CallStatus), "types": list(complaints.RequestType),
        "can_import": True,
    }, status_code=422 if problems else 200)


# --- ratings ----------------------------------------------------------------------------------


@router.get("/complaints/ratings")
def rating_list(request: Request, session: SessionDep, actor: CurrentPrincipal) -> Response:
    """Ratings of the jurisdiction (window staff see their own), with appeals."""
    values = _query(request, "window_id", "level", "since", "until")
    filters: dict[str, Any] = dict(values)
    if request.query_params.get("bad_only"):
        filters["bad_only"] = True
        values["bad_only"] = "1"
    if request.query_params.get("appeals") == "pending":
        filters["appeal_pending"] = True
        values["appeals"] = "pending"
    offset = _offset(request)
    rows, count = complaints.list_ratings(session, actor, filters, offset=offset, limit=PAGE)
    appeals = {r.id: complaints.get_appeal(session, actor, r.id or 0) for r in rows if r.level <= 2}
    return render(request, "complaints/ratings.html", {
        "rows": rows, "count": count, "offset": offset, "limit": PAGE, "values": values, "appeals": appeals,
        "names": org_names(session, rows), "choices": form_choices(session, actor, people=False),
        "can_decide": complaints.decides_appeals(actor), "problems": [],
    })


@router.post("/complaints/ratings/{rating_id}/appeal")
async def rating_appeal(request: Request, session: SessionDep, actor: CurrentPrincipal, rating_id: int) -> Response:
    form = await _form(request)
    reason = _text(form, "reason")
    await run_in_threadpool(lambda: complaints.appeal_rating(session, actor, rating_id, reason,
                                                             ip=client_ip(request)))
    return RedirectResponse("/complaints/ratings?done=appeal", status_code=303)


@router.post("/complaints/ratings/{rating_id}/decision")
async def rating_decision(request: Request, session: SessionDep, actor: LedgerWriter, rating_id: int) -> Response:
    form = await _form(request)
    decision, reason = _text(form, "decision"), _text(form, "reason")
    await run_in_threadpool(lambda: complaints.decide_appeal(session, actor, rating_id, decision, reason,
                                                             ip=client_ip(request)))
    return RedirectResponse("/complaints/ratings?done=decision", status_code=303)


# --- visits -----------------------------------------------------------------------------------


@router.get("/complaints/visits")
def visit_list(request: Request, session: SessionDep, actor: Reader) -> Response:
    values = _query(request, "mode", "window_id", "since", "until")
    offset = _offset(request)
    rows, count = complaints.list_visits(session, actor, values, offset=offset, limit=PAGE)
    return render(request, "complaints/visits.html", {
        "rows": rows, "count": count, "offset": offset, "limit": PAGE, "values": values,
        "names": org_names(session, rows), "can_write": actor.can(Permission.COMPLAINTS_WRITE),
        "choices": form_choices(session, actor, people=False), "modes": list(complaints.VisitMode),
    })


def _visit_form(request: Request, session: Session, actor: Principal, *, values: dict[str, Any],
                problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    return render(request, "complaints/visit_form.html", {
        "values": values, "problems": problems or [], "choices": form_choices(session, actor),
        "modes": list(complaints.VisitMode), "problem_fields": {p["field"] for p in problems or []},
    }, status_code=status_code)


@router.get("/complaints/visits/new")
def visit_new(request: Request, session: SessionDep, actor: Writer) -> Response:
    return _visit_form(request, session, actor, values={"visited_on": date.today().isoformat(), "mode": "secret",
                                                       "site_id": actor.site_id})


@router.post("/complaints/visits")
async def visit_create(request: Request, session: SessionDep, actor: Writer) -> Response:
    form = await _form(request)
    findings = [{"description": d, "window_id": _int_or_none(form, "finding_window_id"),
                 "staff_id": _int_or_none(form, "finding_staff_id")}
                for d in [_text(form, "finding")] if d]
    data: dict[str, Any] = {
        "site_id": _int_or_none(form, "site_id"), "window_id": _int_or_none(form, "window_id"),
        "visited_on": _text(form, "visited_on") or None, "mode": _text(form, "mode") or None,
        "visitors": _text(form, "visitors"), "summary": _text(form, "summary"), "findings": findings,
    }

    def work() -> Response:
        try:
            detail = _attempt(session, lambda: complaints.record_visit(session, actor, data, ip=client_ip(request)))
        except (InvalidInput, Conflict) as exc:
            values = {k: v for k, v in data.items() if k != "findings"}
            values.update(finding=_text(form, "finding"), finding_window_id=_text(form, "finding_window_id"),
                          finding_staff_id=_text(form, "finding_staff_id"))
            return _visit_form(request, session, actor, values=values, problems=_problems(request, exc),
                               status_code=exc.status)
        return RedirectResponse(f"/complaints/visits/{detail.visit.id}", status_code=303)

    return await run_in_threadpool(work)


def _visit_page(request: Request, session: Session, actor: Principal, visit_id: int, *,
                problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    detail = complaints.get_visit(session, actor, visit_id)
    return render(request, "complaints/visit.html", {
        "v": detail.visit, "findings": detail.findings, "photos": detail.photos, "problems": problems or [],
        "names": org_names(session, [detail.visit, *detail.findings]),
        "choices": form_choices(session, actor), "types": list(complaints.RequestType),
        "can_write": actor.can(Permission.COMPLAINTS_WRITE),
    }, status_code=status_code)


@router.get("/complaints/visits/{visit_id}")
def visit_page(request: Request, session: SessionDep, actor: Reader, visit_id: int) -> Response:
    return _visit_page(request, session, actor, visit_id)


@router.post("/complaints/visits/{visit_id}/findings")
async def visit_finding(request: Request, session: SessionDep, actor: Writer, visit_id: int) -> Response:
    form = await _form(request)
    data = {"description": _text(form, "description"), "window_id": _int_or_none(form, "window_id"),
            "staff_id": _int_or_none(form, "staff_id")}

    def work() -> Response:
        try:
            _attempt(session, lambda: complaints.add_finding(session, actor, visit_id, data, ip=client_ip(request)))
        except (InvalidInput, Conflict) as exc:
            return _visit_page(request, session, actor, visit_id, problems=_problems(request, exc),
                               status_code=exc.status)
        return RedirectResponse(f"/complaints/visits/{visit_id}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/complaints/visits/{visit_id}/photos")
async def visit_photo(request: Request, session: SessionDep, settings: SettingsDep, actor: Writer,
                      visit_id: int) -> Response:
    """Upload a photo: JPEG, PNG or WebP by its bytes, at most max_upload_mb."""
    form = await _form(request)
    upload = form.get("photo")
    limit = settings.max_upload_mb * 1024 * 1024
    content = await upload.read(limit + 1) if isinstance(upload, UploadFile) else b""
    filename = upload.filename or "" if isinstance(upload, UploadFile) else ""

    def work() -> Response:
        try:
            if not content:
                raise InvalidInput("photo", "error.required")
            _attempt(session, lambda: complaints.add_photo(session, actor, visit_id, content, filename,
                                                           ip=client_ip(request)))
        except (InvalidInput, Conflict) as exc:
            return _visit_page(request, session, actor, visit_id, problems=_problems(request, exc),
                               status_code=exc.status)
        return RedirectResponse(f"/complaints/visits/{visit_id}#photos", status_code=303)

    return await run_in_threadpool(work)


@router.get("/complaints/photos/{photo_id}")
def visit_photo_file(session: SessionDep, actor: Reader, photo_id: int) -> Response:
    path, content_type = complaints.photo_file(session, actor, photo_id)
    return FileResponse(path, media_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


@router.post("/complaints/findings/{finding_id}/follow-up")
async def finding_follow_up(request: Request, session: SessionDep, actor: Writer, finding_id: int) -> Response:
    """A finding becomes a work order (`to=order`) or a ledger entry (`to=ledger`)."""
    form = await _form(request)
    target = _text(form, "to")
    visit_id = _text(form, "visit_id")

    def work() -> Response:
        if target == "order":
            view = complaints.finding_to_order(session, actor, finding_id, type=_text(form, "type") or "complaint",
                                               ip=client_ip(request))
            return RedirectResponse(f"/complaints/orders/{view.id}", status_code=303)
        if target == "ledger":
            raw = _text(form, "points")
            try:
                # Left empty: the points of the scoring rule set in force on the visit's day.
                points = float(raw) if raw.strip() else None
            except ValueError:
                raise InvalidInput("points", "error.invalid_value", detail=raw) from None
            complaints.finding_to_ledger(session, actor, finding_id, points=points, reason=_text(form, "reason"),
                                         ip=client_ip(request))
            return RedirectResponse(f"/complaints/visits/{visit_id}" if visit_id.isdigit() else "/complaints/visits",
                                    status_code=303)
        raise InvalidInput("to", "error.choice", choices="order, ledger")

    return await run_in_threadpool(work)


# --- notices ----------------------------------------------------------------------------------


@router.get("/notices")
def board(request: Request, session: SessionDep, actor: CurrentPrincipal) -> Response:
    """The notice board: published criticism and commendation notices all staff can read."""
    offset = _offset(request)
    rows, count = complaints.notice_board(session, actor, offset=offset, limit=20)
    editor = actor.can(Permission.COMPLAINTS_WRITE) or actor.can(Permission.LEDGER_WRITE)
    return render(request, "complaints/board.html", {"rows": rows, "count": count, "offset": offset, "limit": 20,
                                                     "editor": editor})


@router.get("/notices/{notice_id}")
def notice_page(request: Request, session: SessionDep, actor: CurrentPrincipal, notice_id: int) -> Response:
    notice = complaints.get_notice(session, actor, notice_id)
    return render(request, "complaints/notice.html", {
        "n": notice, "editor": actor.can(Permission.COMPLAINTS_WRITE) or actor.can(Permission.LEDGER_WRITE),
        "approver": actor.can(Permission.LEDGER_WRITE), "problems": [],
    })


def _editor_page(request: Request, session: Session, actor: Principal, *, values: dict[str, Any],
                 problems: list[dict[str, Any]] | None = None, status_code: int = 200) -> Response:
    state = request.query_params.get("state") or None
    known = {x.value for x in complaints.NoticeState}
    rows, count = complaints.list_notices(session, actor, state=state if state in known else None, limit=100)
    return render(request, "complaints/notices.html", {
        "rows": rows, "count": count, "values": values, "problems": problems or [],
        "choices": form_choices(session, actor, people=False), "kinds": list(complaints.NoticeKind),
        "approver": actor.can(Permission.LEDGER_WRITE), "problem_fields": {p["field"] for p in problems or []},
    }, status_code=status_code)


@router.get("/complaints/notices")
def notice_editor(request: Request, session: SessionDep, actor: CurrentPrincipal) -> Response:
    """Editors' list of notices in every state, and the draft form."""
    source = request.query_params.get("source_ref", "")
    return _editor_page(request, session, actor, values={"kind": "criticism", "site_id": actor.site_id,
                                                         "source_ref": source[:80]})


@router.post("/complaints/notices")
async def notice_draft(request: Request, session: SessionDep, actor: CurrentPrincipal) -> Response:
    form = await _form(request)
    data = {"kind": _text(form, "kind") or None, "title": _text(form, "title"), "body": _text(form, "body"),
            "site_id": _int_or_none(form, "site_id"), "source_ref": _text(form, "source_ref")}

    def work() -> Response:
        try:
            notice = _attempt(session, lambda: complaints.draft_notice(session, actor, data, ip=client_ip(request)))
        except (InvalidInput, Conflict) as exc:
            return _editor_page(request, session, actor, values=data, problems=_problems(request, exc),
                                status_code=exc.status)
        return RedirectResponse(f"/notices/{notice.id}", status_code=303)

    return await run_in_threadpool(work)


@router.post("/complaints/notices/{notice_id}/step")
async def notice_step(request: Request, session: SessionDep, actor: CurrentPrincipal, notice_id: int) -> Response:
    """Approve, publish or withdraw a notice (`step` field)."""
    form = await _form(request)
    step, reason = _text(form, "step"), _text(form, "reason")

    def work() -> Response:
        ip = client_ip(request)
        if step == "approve":
            complaints.approve_notice(session, actor, notice_id, ip=ip)
        elif step == "publish":
            complaints.publish_notice(session, actor, notice_id, ip=ip)
        elif step == "withdraw":
            complaints.withdraw_notice(session, actor, notice_id, reason, ip=ip)
        else:
            raise InvalidInput("step", "error.choice", choices="approve, publish, withdraw")
        return RedirectResponse(f"/notices/{notice_id}", status_code=303)

    return await run_in_threadpool(work)


# --- statistics -------------------------------------------------------------------------------


def _stat_params(request: Request, settings: Settings) -> tuple[str, date, date]:
    group = request.query_params.get("group_by", "department")
    if group not in {g.value for g in complaints.GroupBy}:
        raise InvalidInput("group_by", "error.choice", choices=", ".join(g.value for g in complaints.GroupBy))
    today = local_today(settings)
    try:
        since = date.fromisoformat(request.query_params.get("since") or (today - timedelta(days=365)).isoformat())
        until = date.fromisoformat(request.query_params.get("until") or today.isoformat())
    except ValueError as exc:
        raise InvalidInput("since", "error.invalid_value", detail=str(exc)) from None
    if until < since:
        raise InvalidInput("until", "complaints.error.range")
    return group, since, until


@router.get("/complaints/stats")
def stats_page(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader) -> Response:
    """Per department / window / channel / month, with CSS bar charts and an Excel export."""
    group, since, until = _stat_params(request, settings)
    rows = complaints.statistics(session, actor, group_by=group, since=since, until=until)
    peak = max((r.received for r in rows), default=0) or 1
    return render(request, "complaints/stats.html", {
        "rows": rows, "group": group, "since": since, "until": until, "peak": peak,
        "groups": list(complaints.GroupBy),
        "totals": {k: sum(getattr(r, k) for r in rows) for k in ("received", "closed", "closed_on_time", "overdue",
                                                                   "upheld", "callbacks", "satisfied")},
    })


@router.get("/complaints/stats.xlsx")
def stats_export(request: Request, session: SessionDep, settings: SettingsDep, actor: Reader) -> Response:
    group, since, until = _stat_params(request, settings)
    rows = complaints.statistics(session, actor, group_by=group, since=since, until=until)
    data = complaints.export_statistics(rows, group_by=group, since=since, until=until,
                                        locale=request_locale(request))
    name = f"complaints-{group}-{since}-{until}.xlsx"
    return Response(data, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- home panels ------------------------------------------------------------------------------


def _due_panel(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    rows, total = complaints.due_orders(session, principal, limit=15)
    return {"rows": rows, "total": total, "names": org_names(session, rows),
            "intake": principal.can(Permission.HOTLINE_PUSH)}


def _appeals_panel(session: Session, principal: Principal, settings: Settings) -> dict[str, Any] | None:
    if not complaints.decides_appeals(principal):
        return None
    return {"pending": complaints.pending_appeals(session, principal)}


def _board_panel(session: Session, principal: Principal, settings: Settings) -> dict[str, Any]:
    rows, total = complaints.notice_board(session, principal, limit=5)
    return {"rows": rows, "total": total}


register_panel(HomePanel("complaints_due", "complaints/_home_due.html",
                         frozenset({Role.SUPERVISOR, Role.OFFICER, Role.HANDLER}),
                         _due_panel, order=5, wide=True))
register_panel(HomePanel("rating_appeals", "complaints/_home_appeals.html", frozenset({Role.MANAGER, Role.OFFICER}),
                         _appeals_panel, order=8))
register_panel(HomePanel("notice_board", "complaints/_home_board.html",
                         frozenset({Role.ADMIN, Role.OFFICER, Role.SUPERVISOR, Role.MANAGER, Role.HANDLER,
                                    Role.STAFF}),
                         _board_panel, order=70))
