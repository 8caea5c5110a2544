"""The 96196/12345 hotline log: the agent's screen, the telephony push and call-log imports."""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import ColumnElement, or_
from sqlmodel import Session, col, func, select

from complaints import guards, visibility
from complaints.models import (
    CallStatus,
    Channel,
    HotlineCall,
    HotlineCallCreate,
    HotlineCallView,
    RequestType,
    WorkOrder,
    WorkOrderCreate,
)
from complaints.settings import get_complaints_settings
from complaints.visibility import Viewer, viewer_for
from complaints.workflow import Action
from complaints.workorders import Clock, TransitionInput, _apply, check_phone, prepare_order, resolve_subject
from supervision import audit, crypto
from supervision.access import Permission, Principal
from supervision.batching import Staged
from supervision.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from supervision.models import Site, Window
from supervision.org import parse

logger = logging.getLogger(__name__)


def _require_intake(actor: Principal) -> None:
    if not (actor.can(Permission.HOTLINE_PUSH) or actor.can(Permission.COMPLAINTS_WRITE)):
        raise Forbidden("error.forbidden_permission", permission=Permission.HOTLINE_PUSH.value)


def log_call(
    session: Session,
    actor: Principal,
    data: dict[str, Any] | HotlineCallCreate,
    *,
    idempotency_key: str | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> HotlineCallView:
    """Log one call (the hotline screen, and the telephony push with the call's external id).

    A consultation answered on the spot gets a work order closed at once; any other typed call
    becomes an open order. A call without a type (pushed by the telephony system before the agent
    typed it) waits as pending. The same external id twice returns the first call.
    """
    return stage_call(session, actor, data, idempotency_key=idempotency_key, ip=ip, now=now).complete(session)


def stage_call(
    session: Session,
    actor: Principal,
    data: dict[str, Any] | HotlineCallCreate,
    *,
    idempotency_key: str | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> Staged[HotlineCallView]:
    """`log_call` in the parts of a group commit (supervision.batching.Staged).

    First the checks, the look-ups, the idempotency key, the call's row and its order's checks; `finish`
    writes the audit entry and the order (its number, row and event), the rows every writer queues on.
    """
    _require_intake(actor)
    model = data if isinstance(data, HotlineCallCreate) else parse(HotlineCallCreate, data)
    if model.external_id:
        existing = session.exec(select(HotlineCall).where(col(HotlineCall.external_id) == model.external_id)).first()
        if existing is not None:
            if existing.status == CallStatus.PENDING.value and model.type is not None:
                return Staged(lambda s: classify_call(s, actor, existing.id or 0, model, ip=ip, now=now))
            first = call_view(session, actor, existing)
            return Staged(lambda _: first)
    claim = guards.claim_key(session, f"hotline:{actor.audit_name}", idempotency_key, model.model_dump(mode="json"))
    if guards.is_replay(claim):
        assert claim is not None and claim.result_id is not None
        replay = call_view(session, actor, _get_call(session, claim.result_id))
        return Staged(lambda _: replay)
    call, write = _begin_call(session, actor, model, ip=ip, now=now)
    viewer = viewer_for(session, actor)

    def finish(session: Session) -> HotlineCallView:
        write(session)
        guards.settle_key(session, claim, "hotline_call", call.id)
        return call_view(session, actor, call, viewer=viewer)

    return Staged(finish)


def _new_call(
    session: Session, actor: Principal, model: HotlineCallCreate, *, ip: str, now: datetime | None
) -> HotlineCall:
    call, write = _begin_call(session, actor, model, ip=ip, now=now)
    write(session)
    return call


def _begin_call(
    session: Session, actor: Principal, model: HotlineCallCreate, *, ip: str, now: datetime | None
) -> tuple[HotlineCall, Callable[[Session], None]]:
    """Check a call and add its row (and check the order it becomes); `write` adds its audit entry and order."""
    clock = Clock.at(model.received_at or now)
    problems: list[FieldProblem] = []
    subject = resolve_subject(
        session,
        actor,
        site_id=model.site_id,
        window_id=model.window_id,
        post_id=model.post_id,
        staff_id=model.staff_id,
        problems=problems,
    )
    try:
        phone = check_phone(model.phone)
    except InvalidInput as exc:
        problems.extend(exc.problems)
        phone = ""
    if model.type is not None:
        # The order's own checks (_order) come after these: report them now too, so a form shows every problem
        # at once instead of one round at a time.
        if not model.content:
            problems.append(FieldProblem("content", "error.required", {}))
        if model.answered_on_the_spot and model.type is not RequestType.CONSULT:
            problems.append(FieldProblem("answered_on_the_spot", "complaints.error.only_consult_on_the_spot", {}))
        elif model.answered_on_the_spot and not model.answer:
            problems.append(FieldProblem("answer", "error.required", {}))
    if problems:
        raise InvalidInput(problems=problems)
    assert subject is not None
    call = HotlineCall(
        external_id=model.external_id or None,
        site_id=subject.site_id,
        received_at=clock.now,
        duration_s=model.duration_s,
        agent=model.agent or actor.name[:60],
        caller_name="" if model.anonymous else model.caller_name,
        anonymous=model.anonymous,
        phone_enc=crypto.encrypt(phone),
        phone_hash=crypto.keyed_hash("phone:" + phone) if phone else "",
        confidential=model.confidential or model.integrity,
        integrity=model.integrity,
        type=model.type.value if model.type else "",
        content=model.content,
        window_id=model.window_id,
        post_id=model.post_id,
        staff_id=model.staff_id,
        urgency=model.urgency.value,
        status=CallStatus.PENDING.value,
        logged_by=actor.audit_name[:80],
    )
    session.add(call)
    session.flush()
    to_order = _check_order(session, actor, call, model, phone, clock, ip) if model.type is not None else None

    def write(session: Session) -> None:
        audit.record(
            session,
            actor,
            "hotline_call.create",
            object_kind="hotline_call",
            object_id=call.id,
            site_id=call.site_id,
            summary=model.type.value if model.type is not None else "pending",
            detail={"external_id": call.external_id},
            ip=ip,
        )
        if to_order is not None:
            to_order(session)

    return call, write


def _to_order(
    session: Session,
    actor: Principal,
    call: HotlineCall,
    model: HotlineCallCreate,
    phone: str,
    clock: Clock,
    ip: str,
) -> None:
    _check_order(session, actor, call, model, phone, clock, ip)(session)


def _check_order(
    session: Session,
    actor: Principal,
    call: HotlineCall,
    model: HotlineCallCreate,
    phone: str,
    clock: Clock,
    ip: str,
) -> Callable[[Session], None]:
    """Check the order a typed call becomes; the returned function writes it and marks the call."""
    assert model.type is not None
    if not model.content:
        raise InvalidInput("content", "error.required")
    on_the_spot = model.answered_on_the_spot
    if on_the_spot and model.type is not RequestType.CONSULT:
        raise InvalidInput("answered_on_the_spot", "complaints.error.only_consult_on_the_spot")
    if on_the_spot and not model.answer:
        raise InvalidInput("answer", "error.required")
    prepared = prepare_order(
        session,
        actor,
        WorkOrderCreate(
            channel=model.channel if model.channel in (Channel.HOTLINE, Channel.COMPLAINT_PHONE) else Channel.HOTLINE,
            type=model.type,
            content=model.content,
            urgency=model.urgency,
            caller_name=model.caller_name,
            anonymous=model.anonymous,
            phone=phone,
            confidential=model.confidential,
            integrity=model.integrity,
            site_id=call.site_id,
            window_id=model.window_id,
            post_id=model.post_id,
            staff_id=model.staff_id,
            source_ref=f"hotline_call:{call.id}",
            received_at=call.received_at,
            lead_department_id=None if on_the_spot else model.lead_department_id,
            assisting_department_ids=[] if on_the_spot else model.assisting_department_ids,
        ),
        ip=ip,
        now=clock.now,
    )
    kind = model.type

    def write(session: Session) -> None:
        order = prepared.insert(session)
        if on_the_spot:
            _apply(
                session,
                actor,
                order,
                Action.CLOSE,
                TransitionInput(reply=model.answer, reason="answered on the spot"),
                clock=clock,
                ip=ip,
            )
        call.type = kind.value
        call.content = model.content
        call.answer = model.answer if on_the_spot else ""
        call.status = (CallStatus.ANSWERED if on_the_spot else CallStatus.ORDERED).value
        call.work_order_id = order.id
        session.add(call)
        session.flush()

    return write


def classify_call(
    session: Session,
    actor: Principal,
    call_id: int,
    data: dict[str, Any] | HotlineCallCreate,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> HotlineCallView:
    """The agent types a call the telephony system pushed: it is answered or becomes an order."""
    _require_intake(actor)
    model = data if isinstance(data, HotlineCallCreate) else parse(HotlineCallCreate, data)
    call = _get_call(session, call_id)
    if not visibility.in_jurisdiction(session, actor, call.site_id):
        raise NotFound("error.not_found_kind", kind="kind.hotline_call", id=call_id)
    if call.status != CallStatus.PENDING.value:
        raise Conflict("complaints.error.call_classified")
    if model.type is None:
        raise InvalidInput("type", "error.required")
    phone = check_phone(model.phone) if model.phone else (crypto.decrypt(call.phone_enc) if call.phone_enc else "")
    if model.phone:
        call.phone_enc, call.phone_hash = crypto.encrypt(phone), crypto.keyed_hash("phone:" + phone)
    call.caller_name = "" if model.anonymous else (model.caller_name or call.caller_name)
    call.anonymous = model.anonymous
    call.confidential, call.integrity = model.confidential or model.integrity, model.integrity
    call.window_id, call.post_id, call.staff_id = model.window_id, model.post_id, model.staff_id
    merged = model.model_copy(update={"caller_name": call.caller_name})
    _to_order(session, actor, call, merged, phone, Clock.at(call.received_at if now is None else now), ip)
    audit.record(
        session,
        actor,
        "hotline_call.classify",
        object_kind="hotline_call",
        object_id=call.id,
        site_id=call.site_id,
        summary=call.type,
        ip=ip,
    )
    return call_view(session, actor, call)


def _get_call(session: Session, call_id: int) -> HotlineCall:
    call = session.get(HotlineCall, call_id)
    if call is None:
        raise NotFound("error.not_found_kind", kind="kind.hotline_call", id=call_id)
    return call


def call_view(
    session: Session,
    actor: Principal,
    call: HotlineCall,
    *,
    viewer: Viewer | None = None,
    number: str | None = None,
) -> HotlineCallView:
    viewer = viewer or viewer_for(session, actor)
    hidden = (call.confidential or call.integrity) and not viewer.confidential
    if number is None and call.work_order_id is not None:
        order = session.get(WorkOrder, call.work_order_id)
        number = order.number if order is not None else ""
    return HotlineCallView(
        id=call.id or 0,
        external_id=call.external_id,
        site_id=call.site_id,
        received_at=call.received_at,
        duration_s=call.duration_s,
        agent=call.agent,
        caller_name="" if hidden else call.caller_name,
        caller_phone_masked="" if hidden else visibility.masked_phone(call.phone_enc),
        anonymous=call.anonymous,
        identity_hidden=hidden,
        confidential=call.confidential,
        integrity=call.integrity,
        type=call.type,
        content="" if hidden and call.integrity else call.content,
        window_id=call.window_id,
        post_id=call.post_id,
        staff_id=call.staff_id,
        urgency=call.urgency,
        status=call.status,
        answer=call.answer,
        work_order_id=call.work_order_id,
        work_order_number=number or "",
        logged_by=call.logged_by,
    )


class CallFilter(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: CallStatus | None = None
    type: RequestType | None = None
    received_from: date | None = None
    received_to: date | None = None
    phone: str | None = PydField(None, max_length=20)
    q: str | None = PydField(None, max_length=100)


def list_calls(
    session: Session,
    actor: Principal,
    filters: dict[str, Any] | CallFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[HotlineCallView], int]:
    """The hotline log of the jurisdiction, newest first."""
    if not actor.can(Permission.COMPLAINTS_READ):
        _require_intake(actor)
    f = filters if isinstance(filters, CallFilter) else parse(CallFilter, dict(filters or {}))
    viewer = viewer_for(session, actor)
    where: list[ColumnElement[bool]] = [
        col(HotlineCall.site_id).in_(select(Site.id).where(col(Site.path).startswith(actor.site_path, autoescape=True)))
    ]
    if f.status is not None:
        where.append(col(HotlineCall.status) == f.status.value)
    if f.type is not None:
        where.append(col(HotlineCall.type) == f.type.value)
    if f.received_from is not None:
        where.append(col(HotlineCall.received_at) >= _start_of(f.received_from))
    if f.received_to is not None:
        where.append(col(HotlineCall.received_at) < _start_of(f.received_to, 1))
    if f.phone:
        where.append(col(HotlineCall.phone_hash).in_(crypto.lookup_hashes("phone:" + check_phone(f.phone))))
        if not viewer.confidential:
            where.append(col(HotlineCall.confidential).is_(False))
    if f.q:
        like = f"%{f.q}%"
        where.append(or_(col(HotlineCall.content).ilike(like), col(HotlineCall.external_id).ilike(like)))
    total = session.exec(select(func.count()).select_from(HotlineCall).where(*where)).one()
    rows = session.exec(
        select(HotlineCall)
        .where(*where)
        .order_by(col(HotlineCall.received_at).desc(), col(HotlineCall.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    ids = [r.work_order_id for r in rows if r.work_order_id is not None]
    numbers = (
        dict(session.exec(select(WorkOrder.id, WorkOrder.number).where(col(WorkOrder.id).in_(ids))).all())
        if ids
        else {}
    )
    return [
        call_view(session, actor, r, viewer=viewer, number=numbers.get(r.work_order_id or -1, "")) for r in rows
    ], int(total)


def _start_of(day: date, plus_days: int = 0) -> datetime:
    from datetime import time, timedelta

    from supervision.settings import get_settings

    return datetime.combine(day + timedelta(days=plus_days), time(0), tzinfo=get_settings().tz)


# --- imports ----------------------------------------------------------------------------------

# Column headers accepted (English or Chinese), mapped to the fields of HotlineCallCreate.
HEADERS: dict[str, str] = {
    "external_id": "external_id",
    "call_id": "external_id",
    "通话编号": "external_id",
    "流水号": "external_id",
    "received_at": "received_at",
    "来电时间": "received_at",
    "time": "received_at",
    "caller_name": "caller_name",
    "来电人": "caller_name",
    "姓名": "caller_name",
    "phone": "phone",
    "电话": "phone",
    "来电号码": "phone",
    "type": "type",
    "类型": "type",
    "诉求类型": "type",
    "content": "content",
    "内容": "content",
    "诉求内容": "content",
    "window_code": "window_code",
    "窗口编码": "window_code",
    "urgency": "urgency",
    "紧急程度": "urgency",
    "anonymous": "anonymous",
    "匿名": "anonymous",
    "answer": "answer",
    "答复": "answer",
    "duration_s": "duration_s",
    "通话时长": "duration_s",
    "agent": "agent",
    "坐席": "agent",
}
TYPE_NAMES = {
    "咨询": "consult",
    "求助": "help",
    "意见建议": "suggestion",
    "建议": "suggestion",
    "意见": "suggestion",
    "投诉": "complaint",
    "举报": "complaint",
    "投诉举报": "complaint",
    "表扬": "praise",
}
URGENCY_NAMES = {
    "一般": "normal",
    "普通": "normal",
    "紧急": "urgent",
    "特急": "very_urgent",
    "非常紧急": "very_urgent",
}
YES = {"1", "true", "yes", "y", "是", "匿名"}


@dataclass
class ImportResult:
    created: int = 0
    skipped: int = 0  # external ids already imported
    orders: int = 0
    pending: int = 0
    numbers: list[str] = field(default_factory=list)


def read_rows(content: bytes, filename: str) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8 or GBK) or Excel call log, keyed by our field names."""
    name = filename.lower()
    if name.endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:
            raise InvalidInput("file", "error.workbook", detail=exc.__class__.__name__) from None
        sheet = book.worksheets[0]
        raw = [
            ["" if v is None else (v.isoformat() if isinstance(v, datetime) else str(v)) for v in row]
            for row in sheet.iter_rows(values_only=True)
        ]
    elif name.endswith(".csv"):
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = content.decode("gbk", errors="replace")
        raw = list(csv.reader(io.StringIO(text)))
    else:
        raise InvalidInput("file", "error.upload_type", expected="CSV / XLSX")
    if not raw:
        return []
    header = [HEADERS.get(h.strip().lower(), HEADERS.get(h.strip(), "")) for h in raw[0]]
    if "received_at" not in header:
        raise InvalidInput("file", "error.workbook_column_missing", column="received_at / 来电时间")
    return [
        {k: v.strip() for k, v in zip(header, row, strict=False) if k} for row in raw[1:] if any(c.strip() for c in row)
    ]


def import_calls(
    session: Session,
    actor: Principal,
    content: bytes,
    filename: str,
    *,
    site_id: int | None = None,
    ip: str = "",
) -> ImportResult:
    """Import a call log: all rows or none; rows whose external id was seen before are skipped."""
    _require_intake(actor)
    settings = get_complaints_settings()
    rows = read_rows(content, filename)
    if len(rows) > settings.import_max_rows:
        raise InvalidInput("file", "complaints.error.too_many_rows", max=settings.import_max_rows)
    result = ImportResult()
    problems: list[FieldProblem] = []
    seen: dict[str, int] = {}
    windows = {w.code: w.id for w in session.exec(select(Window))}
    # One savepoint around the file: a single bad row undoes every row, whatever the caller does next.
    whole = session.begin_nested()
    for number, row in enumerate(rows, start=2):
        ext = row.get("external_id") or None
        if ext:
            if ext in seen:
                problems.append(
                    FieldProblem("external_id", "complaints.error.duplicate_in_file", {"first": seen[ext]}, row=number)
                )
                continue
            seen[ext] = number
            if session.exec(select(HotlineCall.id).where(col(HotlineCall.external_id) == ext)).first() is not None:
                result.skipped += 1
                continue
        data: dict[str, Any] = {k: v for k, v in row.items() if v and k not in ("window_code",)}
        if "type" in data:
            data["type"] = TYPE_NAMES.get(data["type"], data["type"])
        if "urgency" in data:
            data["urgency"] = URGENCY_NAMES.get(data["urgency"], data["urgency"])
        if "anonymous" in data:
            data["anonymous"] = data["anonymous"].lower() in YES
        if row.get("window_code"):
            if row["window_code"] not in windows:
                problems.append(
                    FieldProblem(
                        "window_code",
                        "error.unknown_ref",
                        {"kind": "kind.window", "value": row["window_code"]},
                        row=number,
                    )
                )
                continue
            data["window_id"] = windows[row["window_code"]]
        if site_id is not None:
            data["site_id"] = site_id
        if data.get("answer") and data.get("type") == "consult":
            data["answered_on_the_spot"] = True
        try:
            with session.begin_nested():
                model = parse(HotlineCallCreate, data)
                if model.received_at is not None and model.received_at.tzinfo is None:
                    from supervision.settings import get_settings

                    model = model.model_copy(
                        update={"received_at": model.received_at.replace(tzinfo=get_settings().tz)}
                    )
                call = _new_call(session, actor, model, ip=ip, now=None)
        except InvalidInput as exc:
            for p in exc.problems:
                if p.field == "window_id" and row.get("window_code"):
                    # The file named the window by its code: say so, not by the id it was looked up as.
                    p = FieldProblem("window_code", p.key, {**p.params, "value": row["window_code"]})
                problems.append(FieldProblem(p.field, p.key, p.params, row=number))
            continue
        result.created += 1
        if call.status == CallStatus.PENDING.value:
            result.pending += 1
        else:
            result.orders += 1
    if problems:
        whole.rollback()
        raise InvalidInput(problems=problems)
    whole.commit()
    audit.record(
        session,
        actor,
        "hotline_call.import",
        object_kind="hotline_call",
        summary=filename[:100],
        detail={"created": result.created, "skipped": result.skipped},
        ip=ip,
    )
    logger.info("imported %d calls from %s (%d skipped)", result.created, filename, result.skipped)
    return result
