"""The complaints loop as JSON under /api/v1: work orders, hotline calls (telephony) and ratings (pads)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Body, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

import complaints
from supervision.access import Permission, Principal
from web.deps import BatcherDep, CurrentPrincipal, SessionDep, client_ip, in_batch, needs
from web.routes.api_org import Page

router = APIRouter(prefix="/api/v1", tags=["complaints"])

Reader = Annotated[Principal, needs(Permission.COMPLAINTS_READ)]
Writer = Annotated[Principal, needs(Permission.COMPLAINTS_WRITE)]
HotlinePush = Annotated[Principal, needs(Permission.HOTLINE_PUSH)]
RatingsPush = Annotated[Principal, needs(Permission.RATINGS_PUSH)]
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=100,
                                              description="A second request with the same key returns the first "
                                                          "result and creates nothing")]


class TransitionRequest(complaints.TransitionInput):
    """One action on an order and the fields it needs (see the order's `allowed_actions`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    action: str


class RatingPublic(BaseModel):
    id: int
    case_no: str
    site_id: int
    window_id: int
    staff_id: int | None
    department_id: int | None
    level: int
    reason: str
    rated_at: Any
    rated_on: date
    void: bool
    work_order_id: int | None


def _rating(row: complaints.Rating) -> RatingPublic:
    return RatingPublic.model_validate(row.model_dump())


@router.get("/work-orders", response_model=Page[complaints.WorkOrderView], summary="List work orders")
def list_work_orders(
    request: Request, session: SessionDep, actor: CurrentPrincipal,
    state: complaints.State | None = None, channel: complaints.Channel | None = None,
    type: complaints.RequestType | None = None, card: str | None = None,
    lead_department_id: int | None = None, department_id: int | None = None, window_id: int | None = None,
    site_id: int | None = None, received_from: date | None = None, received_to: date | None = None,
    open_only: bool = False, overdue_only: bool = False, due_soon: bool = False,
    q: Annotated[str | None, Query(max_length=100)] = None,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[complaints.WorkOrderView]:
    """Orders the caller may see (jurisdiction by role, or their unit's); `due_soon` gives the due/overdue list."""
    if due_soon:
        rows, count = complaints.due_orders(session, actor, offset=offset, limit=limit, ip=client_ip(request))
        return Page[complaints.WorkOrderView](data=rows, count=count)
    filters = {k: v for k, v in {
        "state": state, "channel": channel, "type": type, "card": card, "lead_department_id": lead_department_id,
        "department_id": department_id, "window_id": window_id, "site_id": site_id, "received_from": received_from,
        "received_to": received_to, "q": q,
    }.items() if v is not None}
    filters.update(open_only=open_only, overdue_only=overdue_only)
    rows, count = complaints.list_orders(session, actor, filters, offset=offset, limit=limit, ip=client_ip(request))
    return Page[complaints.WorkOrderView](data=rows, count=count)


@router.post("/work-orders", response_model=complaints.WorkOrderView, status_code=201, summary="Create a work order")
async def create_work_order(
    request: Request, batcher: BatcherDep, actor: Writer, body: Annotated[complaints.WorkOrderCreate, Body()],
    idempotency_key: IdempotencyKey = None,
) -> complaints.WorkOrderView:
    """Register an order from any channel; every problem is reported with its field."""
    ip = client_ip(request)
    return await in_batch(batcher, lambda session: complaints.stage_work_order(
        session, actor, body, idempotency_key=idempotency_key, ip=ip))


@router.get("/work-orders/{order_id}", response_model=complaints.WorkOrderDetail, summary="Get a work order")
def get_work_order(request: Request, session: SessionDep, actor: CurrentPrincipal,
                   order_id: str) -> complaints.WorkOrderDetail:
    """One order (by id or number) with its full history and allowed next actions; confidential views audited."""
    return complaints.get_order(session, actor, order_id, ip=client_ip(request))


@router.post("/work-orders/{order_id}/transitions", response_model=complaints.WorkOrderView,
             summary="Apply an action to a work order")
def transition_work_order(request: Request, session: SessionDep, actor: CurrentPrincipal, order_id: int,
                          body: Annotated[TransitionRequest, Body()]) -> complaints.WorkOrderView:
    """Dispatch, sign, send back, reassign, progress, extensions, merge, reply, callback, reopen, close, outcome.

    The lead unit's handler signs, sends back, records progress, asks for extensions and replies; a
    complaint's `reply` carries the unit's `finding` (upheld / partly / not_upheld) and the `facts`. The
    supervisor answers it with `confirm_finding` (it becomes the outcome; `responsible_staff_ids` names the
    people held responsible, by default the person complained about) or `return_finding` (with a `reason`,
    back to the unit). `callback_try` records a callback that reached nobody (`method`); `close` after a
    reply needs the callback unless the caller is anonymous, has no number or was tried the set number of times.

    `revise_outcome` replaces a recorded outcome (`outcome`, `disposition`, a `reason` is required): the
    order keeps both in its history, the old outcome's ledger entry is reversed and the new one records its own.
    """
    data = body.model_dump(exclude={"action"}, exclude_unset=True)
    return complaints.transition(session, actor, order_id, body.action, data, ip=client_ip(request))


@router.get("/hotline-calls", response_model=Page[complaints.HotlineCallView], summary="List hotline calls")
def list_hotline_calls(
    session: SessionDep, actor: Reader, status: complaints.CallStatus | None = None,
    type: complaints.RequestType | None = None, received_from: date | None = None, received_to: date | None = None,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[complaints.HotlineCallView]:
    filters = {k: v for k, v in {"status": status, "type": type, "received_from": received_from,
                                 "received_to": received_to}.items() if v is not None}
    rows, count = complaints.list_calls(session, actor, filters, offset=offset, limit=limit)
    return Page[complaints.HotlineCallView](data=rows, count=count)


@router.post("/hotline-calls", response_model=complaints.HotlineCallView, status_code=201,
             summary="Log a hotline call")
async def log_hotline_call(
    request: Request, batcher: BatcherDep, actor: HotlinePush, body: Annotated[complaints.HotlineCallCreate, Body()],
    idempotency_key: IdempotencyKey = None,
) -> complaints.HotlineCallView:
    """An agent's call, or the telephony system's push (token with hotline:push; `external_id` de-duplicates).

    A typed call becomes a work order (a consultation answered on the spot is closed at once); an untyped
    push waits as pending until an agent types it.
    """
    ip = client_ip(request)
    return await in_batch(batcher, lambda session: complaints.stage_call(
        session, actor, body, idempotency_key=idempotency_key, ip=ip))


@router.get("/ratings", response_model=Page[RatingPublic], summary="List ratings")
def list_ratings(
    session: SessionDep, actor: CurrentPrincipal, window_id: int | None = None, staff_id: int | None = None,
    level: Annotated[int | None, Query(ge=1, le=5)] = None, bad_only: bool = False,
    since: date | None = None, until: date | None = None,
    offset: Annotated[int, Query(ge=0)] = 0, limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Page[RatingPublic]:
    """Ratings of the jurisdiction (window staff: their own), newest first."""
    filters = {k: v for k, v in {"window_id": window_id, "staff_id": staff_id, "level": level, "since": since,
                                 "until": until}.items() if v is not None}
    filters["bad_only"] = bad_only
    rows, count = complaints.list_ratings(session, actor, filters, offset=offset, limit=limit)
    return Page[RatingPublic](data=[_rating(r) for r in rows], count=count)


@router.post("/ratings", response_model=RatingPublic, status_code=201, summary="Post a rating (pads)",
             responses={200: {"description": "The case was rated before: the first rating"}})
async def push_rating(request: Request, batcher: BatcherDep, actor: RatingsPush,
                      body: Annotated[complaints.RatingPush, Body()]) -> Any:
    """A window pad's rating (token with ratings:push): one per case; a bad rating needs a reason."""
    ip = client_ip(request)
    rating, created = await in_batch(batcher, lambda session: complaints.push_rating(session, actor, body, ip=ip))
    payload = _rating(rating).model_dump(mode="json")
    return JSONResponse(payload, status_code=201 if created else 200)
