"""The performance ledger page: scored facts with their sources; add one, reverse one."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse
from sqlmodel import Session
from starlette.responses import Response

from supervision import ledger, org
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput
from supervision.org import OrgKind
from web.deps import SessionDep, SettingsDep, client_ip, needs, request_locale
from web.forms import all_or_nothing
from web.templating import render

router = APIRouter(include_in_schema=False)

Reader = Annotated[Principal, needs(Permission.LEDGER_READ)]
Writer = Annotated[Principal, needs(Permission.LEDGER_READ, Permission.LEDGER_WRITE)]

MANUAL_KINDS = ("late", "absent_half_day", "missed_sign_in", "off_post", "praise", "other", "bonus", "adjustment")


def _page(request: Request, session: Session, actor: Principal, *, params: dict[str, Any],
          problems: list[dict[str, Any]] | None = None, values: dict[str, Any] | None = None,
          status_code: int = 200) -> Response:
    offset = int(params.get("offset") or 0)
    rows, count = ledger.entries(
        session, actor=actor, staff_id=params.get("staff_id"), window_id=params.get("window_id"),
        since=params.get("since"), until=params.get("until"), offset=offset, limit=100,
    )
    reversed_ids = ledger.reversed_among(session, [r.id for r in rows])
    staff_rows, _ = org.list_entities(session, actor, OrgKind.STAFF, limit=3000)
    window_rows, _ = org.list_entities(session, actor, OrgKind.WINDOW, limit=3000)
    return render(request, "ledger/index.html", {
        "d": {"entries": rows}, "count": count, "offset": offset, "limit": 100,
        "reversed_ids": reversed_ids,
        "show_actions": actor.can(Permission.LEDGER_WRITE), "staff_options": staff_rows,
        "window_options": window_rows, "kinds": MANUAL_KINDS, "f": dict(request.query_params),
        "problems": problems or [], "values": values or {"day": date.today().isoformat()},
    }, status_code=status_code)


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


@router.get("/ledger")
def ledger_page(request: Request, session: SessionDep, actor: Reader, staff_id: str = "", window_id: str = "",
                since: date | None = None, until: date | None = None, offset: int = 0) -> Response:
    return _page(request, session, actor, params={
        "staff_id": _int_or_none(staff_id), "window_id": _int_or_none(window_id), "since": since,
        "until": until, "offset": offset})


@router.post("/ledger")
async def add_entry(request: Request, session: SessionDep, settings: SettingsDep, actor: Writer) -> Response:
    form = await request.form()
    values = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    try:
        try:
            points = float(values.get("points", ""))
        except ValueError:
            raise InvalidInput("points", "error.number") from None
        try:
            day = date.fromisoformat(values.get("day", ""))
        except ValueError:
            raise InvalidInput("day", "error.invalid_date") from None
        stamp = datetime.now(settings.tz).strftime("%Y%m%d%H%M%S%f")
        with all_or_nothing(session):
            ledger.record_entry(
                session, actor=actor, day=day, kind=values.get("kind", ""), points=points,
                reason=values.get("reason", ""), source_kind="manual", source_id=f"{actor.name}:{stamp}",
                staff_id=_int_or_none(values.get("staff_id")), window_id=_int_or_none(values.get("window_id")),
                ip=client_ip(request),
            )
    except InvalidInput as exc:
        return _page(request, session, actor, params={}, values=values, status_code=422,
                     problems=[p.as_dict(request_locale(request)) for p in exc.problems])
    return RedirectResponse("/ledger?saved=1", status_code=303)


@router.post("/ledger/{entry_id}/reverse")
def reverse(request: Request, session: SessionDep, actor: Writer, entry_id: int,
            reason: Annotated[str, Form()] = "") -> Response:
    ledger.reverse_entry(session, entry_id, actor=actor, reason=reason, ip=client_ip(request))
    return RedirectResponse("/ledger?reversed=1", status_code=303)
