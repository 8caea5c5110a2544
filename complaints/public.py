"""The citizens' web form (no login): submit with a tracking number and a secret, check progress."""

from __future__ import annotations

import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel
from sqlmodel import Session, col, select

from complaints import guards
from complaints.models import (
    Channel,
    PublicStatus,
    PublicSubmission,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderEvent,
)
from complaints.settings import get_complaints_settings
from complaints.workflow import State
from complaints.workorders import prepare_order
from supervision import crypto
from supervision.access import Principal
from supervision.errors import InvalidInput, NotFound, TooManyAttempts
from supervision.models import Window
from supervision.org import parse

# The citizen behind the public form: no rights, the whole tree (the form names its site).
PUBLIC = Principal(kind="public", id=None, name="citizen", site_id=None, site_path="/")

# Steps a citizen is told about; internal ones (chasing, units, extension requests) are not shown.
PUBLIC_STEPS = {
    "receive",
    "dispatch",
    "reassign",
    "approve_extension",
    "reply",
    "callback",
    "reopen",
    "close",
    "merge",
}


class PublicReceipt(BaseModel):
    number: str  # the tracking number
    secret: str  # shown once on the confirmation page; needed with the number to check progress
    due_on: str
    due_provisional: bool = False


def submit_public(
    session: Session,
    data: dict[str, Any] | PublicSubmission,
    *,
    ip: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> PublicReceipt:
    """Take a citizen's submission (rate-limited); a resubmit with the same key returns the first receipt."""
    settings = get_complaints_settings()
    model = data if isinstance(data, PublicSubmission) else parse(PublicSubmission, data)
    _check_window(session, model)
    claim = guards.claim_key(session, "public", idempotency_key, model.model_dump(mode="json"))
    if guards.is_replay(claim):
        assert claim is not None and claim.result_id is not None
        order = session.get(WorkOrder, claim.result_id)
        assert order is not None
        return _receipt(order)
    try:
        guards.hit(
            session,
            "public",
            guards.address_key(ip),
            limit=settings.public_per_address,
            window=timedelta(minutes=settings.public_window_minutes),
            now=now,
        )
        guards.hit(session, "public_all", "all", limit=settings.public_per_hour, window=timedelta(hours=1), now=now)
    except TooManyAttempts:
        guards.release_key(session, claim)
        raise
    order = prepare_order(
        session,
        PUBLIC,
        WorkOrderCreate(
            channel=Channel.WEB,
            type=model.type,
            content=model.content,
            caller_name=model.caller_name,
            phone=model.phone,
            anonymous=model.anonymous,
            confidential=model.confidential,
            site_id=model.site_id,
            window_id=model.window_id,
        ),
        ip=ip,
        now=now,
    ).insert(session)
    order.tracking_secret_enc = crypto.encrypt(secrets.token_urlsafe(9))
    session.add(order)
    guards.settle_key(session, claim, "work_order", order.id)
    return _receipt(order)


def _check_window(session: Session, model: PublicSubmission) -> None:
    """The window a citizen names must be one of the chosen centre's own (not of a centre above or below)."""
    if model.window_id is None:
        return
    window = session.get(Window, model.window_id)
    if window is None:
        raise InvalidInput("window_id", "error.unknown_ref", kind="kind.window", value=model.window_id)
    if window.site_id != model.site_id:
        raise InvalidInput("window_id", "complaints.error.window_other_centre")


def _receipt(order: WorkOrder) -> PublicReceipt:
    return PublicReceipt(
        number=order.number, secret=crypto.decrypt(order.tracking_secret_enc), due_on=order.due_on.isoformat(),
        due_provisional=order.due_provisional,
    )


def track_public(session: Session, number: str, secret: str, *, ip: str, now: datetime | None = None) -> PublicStatus:
    """Progress of a submission for whoever holds its number and secret; anything else is not found."""
    settings = get_complaints_settings()
    guards.hit(
        session,
        "track",
        guards.address_key(ip),
        limit=settings.track_per_address,
        window=timedelta(minutes=settings.public_window_minutes),
        now=now,
    )
    order = session.exec(select(WorkOrder).where(col(WorkOrder.number) == number.strip())).first()
    stored = crypto.decrypt(order.tracking_secret_enc) if order is not None and order.tracking_secret_enc else ""
    if order is None or not stored or not hmac.compare_digest(stored, secret.strip()):
        raise NotFound("complaints.error.tracking_not_found")
    events = session.exec(
        select(WorkOrderEvent).where(col(WorkOrderEvent.order_id) == order.id).order_by(col(WorkOrderEvent.seq))
    ).all()
    steps = [(e.at, f"wo_action.{e.action}") for e in events if e.action in PUBLIC_STEPS]
    replied = order.state in (State.REPLIED, State.CALLED_BACK, State.CLOSED) and bool(order.reply)
    return PublicStatus(
        number=order.number,
        state=order.state,
        received_on=order.received_on,
        due_on=order.due_on,
        due_provisional=order.due_provisional,
        replied=replied,
        reply=order.reply if replied else "",
        closed=not order.is_open,
        steps=steps,
    )


__all__ = ["PUBLIC", "PublicReceipt", "submit_public", "track_public"]
