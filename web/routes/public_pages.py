"""The citizens' pages, no login: the complaint form (rate-limited) and the progress check."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.responses import Response

import complaints
from complaints.lookups import public_sites, public_windows
from supervision.errors import Conflict, InvalidInput, NotFound, SupervisionError, TooManyAttempts
from web.deps import SessionDep, client_ip, request_locale
from web.forms import all_or_nothing
from web.templating import render

router = APIRouter(include_in_schema=False)

# Public routes (no login): the role walk's PUBLIC set lists them.
PUBLIC_ROUTES = (("GET", "/public/complaint"), ("POST", "/public/complaint"), ("GET", "/public/track"),
                 ("POST", "/public/track"))


def _problems(request: Request, exc: SupervisionError) -> list[dict[str, Any]]:
    locale = request_locale(request)
    if exc.problems:
        return [p.as_dict(locale) for p in exc.problems]
    return [{"field": "", "label": "", "message": exc.message(locale)}]


def _form_page(request: Request, session: Session, *, values: dict[str, Any],
               problems: list[dict[str, Any]] | None = None, receipt: complaints.PublicReceipt | None = None,
               status_code: int = 200) -> Response:
    return render(request, "complaints/public_form.html", {
        "values": values, "problems": problems or [], "receipt": receipt, "sites": public_sites(session),
        "windows": public_windows(session),
        "types": [t for t in complaints.RequestType], "problem_fields": {p["field"] for p in problems or []},
    }, status_code=status_code)


@router.get("/public/complaint")
def public_form(request: Request, session: SessionDep) -> Response:
    """The citizen form: a fresh submission key per form, so a double submit files once.

    `?site_id=` preselects a centre (a link from the centre's own page, or the form without JavaScript).
    """
    values: dict[str, Any] = {"idempotency_key": uuid.uuid4().hex, "type": "complaint"}
    site = request.query_params.get("site_id", "")
    if site.isdigit():
        values["site_id"] = int(site)
    return _form_page(request, session, values=values)


@router.post("/public/complaint")
async def public_submit(request: Request, session: SessionDep) -> Response:
    form = await request.form()

    def text(name: str) -> str:
        value = form.get(name)
        return value.strip() if isinstance(value, str) else ""

    site = text("site_id")
    window = text("window_id")
    data: dict[str, Any] = {
        "site_id": int(site) if site.isdigit() else (site or None), "type": text("type") or None,
        "window_id": int(window) if window.isdigit() else (window or None),
        "content": text("content"), "caller_name": text("caller_name"), "phone": text("phone"),
        "anonymous": form.get("anonymous") in ("on", "1"), "confidential": form.get("confidential") in ("on", "1"),
    }
    key = text("idempotency_key") or None

    def work() -> Response:
        try:
            with all_or_nothing(session):
                receipt = complaints.submit_public(session, data, ip=client_ip(request), idempotency_key=key)
        except (InvalidInput, Conflict, TooManyAttempts) as exc:
            return _form_page(request, session, values={**data, "idempotency_key": key or uuid.uuid4().hex},
                              problems=_problems(request, exc), status_code=exc.status)
        return _form_page(request, session, values={}, receipt=receipt, status_code=201)

    return await run_in_threadpool(work)


@router.get("/public/track")
def public_track_form(request: Request) -> Response:
    return render(request, "complaints/public_track.html", {"status": None, "problems": [],
                                                            "number": request.query_params.get("number", "")[:24]})


@router.post("/public/track")
async def public_track(request: Request, session: SessionDep) -> Response:
    """Progress for whoever holds the tracking number and secret (look-ups are rate-limited)."""
    form = await request.form()
    number = form.get("number")
    secret = form.get("secret")
    number_s = number.strip() if isinstance(number, str) else ""
    secret_s = secret.strip() if isinstance(secret, str) else ""

    def work() -> Response:
        try:
            status = complaints.track_public(session, number_s, secret_s, ip=client_ip(request))
        except (NotFound, TooManyAttempts) as exc:
            return render(request, "complaints/public_track.html",
                          {"status": None, "problems": _problems(request, exc), "number": number_s[:24]},
                          status_code=exc.status)
        return render(request, "complaints/public_track.html", {"status": status, "problems": [],
                                                                "number": number_s})

    return await run_in_threadpool(work)
