"""Work orders (工单): intake from every channel, transitions with their events, views and lists."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from pydantic import BaseModel, ConfigDict
from pydantic import Field as PydField
from sqlalchemy import ColumnElement, and_, bindparam, insert, or_
from sqlalchemy import select as sa_select
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.attributes import instance_state
from sqlmodel import Session, col, func, select

from complaints import deadlines, guards, rollup, titles, visibility
from complaints.models import (
    CallbackMethod,
    Channel,
    Disposition,
    Outcome,
    RequestType,
    Satisfaction,
    WorkOrder,
    WorkOrderCreate,
    WorkOrderDetail,
    WorkOrderEvent,
    WorkOrderEventView,
    WorkOrderUnit,
    WorkOrderView,
)
from complaints.settings import ComplaintsSettings, get_complaints_settings
from complaints.visibility import Viewer, viewer_for
from complaints.workflow import UNIT_ACTIONS, Action, State, allowed_actions, next_state
from supervision import audit, crypto, incidents, ledger
from supervision.access import Permission, Principal
from supervision.batching import Staged
from supervision.db import table_of, utcnow
from supervision.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from supervision.models import Department, Incident, LedgerEntry, Post, Site, Staff, Window
from supervision.org import PHONE_RE, parse
from supervision.scoring import ITEM_OF_KIND
from supervision.scoring import points as scoring_points
from supervision.settings import get_settings
from supervision.workdays import WorkCalendar, load_calendar

logger = logging.getLogger(__name__)

NUMBER_PREFIX = "GD"
MAX_PAGE = 500


@dataclass(frozen=True)
class Clock:
    """One moment seen in UTC and as the centre's local day."""

    now: datetime
    today: date

    @classmethod
    def at(cls, now: datetime | None = None) -> Clock:
        moment = now or utcnow()
        if moment.tzinfo is None:
            raise InvalidInput("received_at", "complaints.error.naive_time")
        return cls(moment, moment.astimezone(get_settings().tz).date())


def load_memo_calendar(session: Session) -> deadlines.MemoCalendar:
    """The working-day calendar of the database, remembering its answers while the calendar is unchanged.

    The overrides and declared years are read once per transaction (two small queries), so an admin's change
    counts from the next transaction; the days already decided are kept per process while those stay the same.
    """
    base = load_calendar(session)
    return _memo_for(frozenset(base.overrides.items()), base.declared_years)


@lru_cache(maxsize=8)
def _memo_for(overrides: frozenset[tuple[date, bool]], years: frozenset[int]) -> deadlines.MemoCalendar:
    return deadlines.MemoCalendar(WorkCalendar(dict(overrides), years))


# --- references -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subject:
    """What an order is about, checked against the actor's jurisdiction."""

    site_id: int
    site_path: str
    department_id: int | None


@dataclass(frozen=True)
class _Ref:
    site_id: int
    department_id: int | None
    path: str | None  # None: the row's site is gone


def _ref_statement(model: type[Any]) -> Any:
    """The row's site, department and site path in one statement (plain columns: this runs on every intake)."""
    rows, sites = table_of(model), table_of(Site)
    return (
        sa_select(rows.c.site_id, rows.c.department_id, sites.c.path)
        .select_from(rows.outerjoin(sites, sites.c.id == rows.c.site_id))
        .where(rows.c.id == bindparam("ref"))
    )


_REF_STATEMENTS: dict[type[Any], Any] = {model: _ref_statement(model) for model in (Window, Post, Staff)}
_SITE_PATH = sa_select(table_of(Site).c.path).where(table_of(Site).c.id == bindparam("ref"))
_DEPARTMENT_EXISTS = sa_select(table_of(Department).c.id).where(table_of(Department).c.id == bindparam("ref"))


def resolve_subject(
    session: Session,
    actor: Principal,
    *,
    site_id: int | None,
    window_id: int | None,
    post_id: int | None,
    staff_id: int | None,
    department_id: int | None = None,
    problems: list[FieldProblem] | None = None,
) -> Subject | None:
    """Look up the site, window, post and person named; collect a problem per unknown one."""
    out = problems if problems is not None else []
    conn = session.connection()

    def get(model: type[Any], ref: int | None, field: str, kind: str) -> _Ref | None:
        if ref is None:
            return None
        row = conn.execute(_REF_STATEMENTS[model], {"ref": ref}).first()
        if row is None or row.path is None or not actor.covers_path(row.path):
            out.append(FieldProblem(field, "error.unknown_ref", {"kind": f"kind.{kind}", "value": ref}))
            return None
        return _Ref(int(row.site_id), row.department_id, row.path)

    window = get(Window, window_id, "window_id", "window")
    post = get(Post, post_id, "post_id", "post")
    staff = get(Staff, staff_id, "staff_id", "staff")
    if department_id is not None and conn.execute(_DEPARTMENT_EXISTS, {"ref": department_id}).first() is None:
        out.append(
            FieldProblem("department_id", "error.unknown_ref", {"kind": "kind.department", "value": department_id})
        )
    named = [r for r in (window, post, staff) if r is not None]
    anchor = site_id or (named[0].site_id if named else None) or actor.site_id
    path: str | None = None
    if anchor is not None:
        path = next((r.path for r in named if r.site_id == anchor), None)
        if path is None:
            found = conn.execute(_SITE_PATH, {"ref": anchor}).first()
            path = found.path if found is not None else None
    if path is None or not actor.covers_path(path):
        out.append(FieldProblem("site_id", "error.unknown_ref", {"kind": "kind.site", "value": anchor}))
        path = None
    if path is not None:
        for field, ref in (("window_id", window), ("post_id", post), ("staff_id", staff)):
            if ref is not None and ref.site_id != anchor:
                out.append(FieldProblem(field, f"error.{field.removesuffix('_id')}_other_site", {}))
    if problems is None and out:
        raise InvalidInput(problems=out)
    if path is None or anchor is None:
        return None
    concerned = department_id or next((r.department_id for r in named if r.department_id is not None), None)
    return Subject(anchor, path, concerned)


def _department(session: Session, order_site: Site, department_id: int, field: str) -> Department:
    """A unit may be at the order's site or above it (a city department handles a county's complaint)."""
    dept = session.get(Department, department_id)
    dept_site = session.get(Site, dept.site_id) if dept is not None else None
    if dept is None or dept_site is None or not order_site.path.startswith(dept_site.path):
        raise InvalidInput(field, "error.unknown_ref", kind="kind.department", value=department_id)
    return dept


def check_phone(phone: str, field: str = "phone") -> str:
    phone = phone.replace(" ", "")
    if phone and not PHONE_RE.match(phone):
        raise InvalidInput(field, "error.phone_format")
    return phone


# --- intake -----------------------------------------------------------------------------------


def create_work_order(
    session: Session,
    actor: Principal,
    data: dict[str, Any] | WorkOrderCreate,
    *,
    idempotency_key: str | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> WorkOrderView:
    """Register an order from any channel; a second submit with the same key returns the first order."""
    staged = stage_work_order(session, actor, data, idempotency_key=idempotency_key, ip=ip, now=now)
    return staged.complete(session)


def stage_work_order(
    session: Session,
    actor: Principal,
    data: dict[str, Any] | WorkOrderCreate,
    *,
    idempotency_key: str | None = None,
    ip: str = "",
    now: datetime | None = None,
) -> Staged[WorkOrderView]:
    """`create_work_order` in the three parts of a group commit (supervision.batching.Staged).

    First the checks, the look-ups and the idempotency key; `finish` takes the day's number, writes the
    order, its event and its audit entry; `present` shapes the answer after the commit from what the
    first part read (it reads nothing itself).
    """
    actor.require(Permission.COMPLAINTS_WRITE)
    model = data if isinstance(data, WorkOrderCreate) else parse(WorkOrderCreate, data)
    claim = guards.claim_key(session, f"work_order:{actor.audit_name}", idempotency_key, model.model_dump(mode="json"))
    calendar = load_memo_calendar(session)
    viewer = viewer_for(session, actor)
    today = Clock.at().today
    if guards.is_replay(claim):
        assert claim is not None and claim.result_id is not None
        first = _get(session, claim.result_id)
        units = visibility.assisting_units(session, first.id or 0)
        return Staged(lambda _: first, lambda order: order_view(session, actor, order, viewer=viewer,
                                                                calendar=calendar, today=today, assisting=units))
    prepared = prepare_order(session, actor, model, ip=ip, now=now, calendar=calendar)
    assisting = (sorted(set(model.assisting_department_ids) - {model.lead_department_id})
                 if model.lead_department_id else [])

    def finish(session: Session) -> WorkOrder:
        order = prepared.insert(session)
        guards.settle_key(session, claim, "work_order", order.id)
        return order

    return Staged(finish, lambda order: order_view(session, actor, order, viewer=viewer, calendar=calendar,
                                                   today=today, assisting=assisting))


@dataclass
class PreparedOrder:
    """A checked order not yet written: `insert` numbers it and writes it with its event and audit entry."""

    actor: Principal
    model: WorkOrderCreate
    values: dict[str, Any]
    clock: Clock
    settings: ComplaintsSettings
    calendar: WorkCalendar
    ip: str

    def insert(self, session: Session) -> WorkOrder:
        return _insert_order(session, self)


def prepare_order(
    session: Session,
    actor: Principal,
    model: WorkOrderCreate,
    *,
    ip: str = "",
    now: datetime | None = None,
    settings: ComplaintsSettings | None = None,
    calendar: WorkCalendar | None = None,
    respond_within: int | None = None,
    time_limit: int | None = None,
) -> PreparedOrder:
    """Check a new order and work out its row: everything but its number, which `insert` takes.

    `prepare_order(...).insert(session)` validates and inserts a new order with its first event (and
    dispatches it when a lead unit is given); the group commit runs the two halves apart.
    """
    settings = settings or get_complaints_settings()
    clock = Clock.at(model.received_at or now)
    problems: list[FieldProblem] = []
    subject = resolve_subject(
        session,
        actor,
        site_id=model.site_id,
        window_id=model.window_id,
        post_id=model.post_id,
        staff_id=model.staff_id,
        department_id=model.department_id,
        problems=problems,
    )
    phone = model.phone.replace(" ", "")
    if phone and not PHONE_RE.match(phone):
        problems.append(FieldProblem("phone", "error.phone_format"))
    if model.anonymous and model.caller_name:
        problems.append(FieldProblem("caller_name", "complaints.error.anonymous_named"))
    if not model.anonymous and not model.caller_name:
        problems.append(FieldProblem("caller_name", "error.required"))
    if model.received_at is not None and model.received_at > utcnow() + timedelta(minutes=5):
        problems.append(FieldProblem("received_at", "complaints.error.in_future"))
    if subject is not None and model.lead_department_id is not None:
        # Checked here, before any unit of a batch takes the day's number: a refused order writes nothing.
        site = session.get(Site, subject.site_id)
        assert site is not None
        for dept_id, field in [(model.lead_department_id, "lead_department_id")] + [
            (d, "assisting_department_ids")
            for d in sorted(set(model.assisting_department_ids) - {model.lead_department_id})
        ]:
            try:
                _department(session, site, dept_id, field)
            except InvalidInput as exc:
                problems.extend(exc.problems)
    if problems:
        raise InvalidInput(problems=problems)
    assert subject is not None
    calendar = calendar or load_memo_calendar(session)
    limit = time_limit or settings.time_limit(model.type.value)
    due = deadlines.due_date(calendar, clock.today, limit)
    respond_by = (
        deadlines.due_date(calendar, clock.today, respond_within).due_on if respond_within is not None else None
    )
    integrity = model.integrity
    values = dict(
        channel=model.channel.value,
        type=model.type.value,
        urgency=model.urgency.value,
        site_id=subject.site_id,
        received_at=clock.now,
        received_on=clock.today,
        received_month=clock.today.strftime("%Y-%m"),
        received_by=actor.audit_name[:80],
        caller_name="" if model.anonymous else model.caller_name,
        anonymous=model.anonymous,
        phone_enc=crypto.encrypt(phone),
        phone_hash=crypto.keyed_hash("phone:" + phone) if phone else "",
        confidential=model.confidential or integrity,
        integrity=integrity,
        title=model.title or titles.derive_title(model.content),
        content=model.content,
        window_id=model.window_id,
        post_id=model.post_id,
        staff_id=model.staff_id,
        department_id=subject.department_id,
        source_ref=model.source_ref,
        state=State.RECEIVED.value,
        time_limit_days=limit,
        due_on=due.due_on,
        due_provisional=due.provisional,
        due_source=due.source,
        respond_by=respond_by,
    )
    return PreparedOrder(actor, model, values, clock, settings, calendar, ip)


def _insert_order(session: Session, prepared: PreparedOrder) -> WorkOrder:
    actor, model, clock, settings, calendar, ip = (prepared.actor, prepared.model, prepared.clock,
                                                   prepared.settings, prepared.calendar, prepared.ip)
    values = {**prepared.values, "number": guards.next_number(session, NUMBER_PREFIX, clock.today.strftime("%Y%m%d"))}
    # A Core insert that returns the whole row, made into the session's object without a second
    # statement: building the SQLModel object and flushing it cost twice as much.
    row = session.connection().execute(_INSERT_ORDER, values).one()
    order = WorkOrder(**row._mapping)
    make_transient_to_detached(order)
    # An object the session still holds under this key belongs to a unit rolled back to its savepoint
    # (SQLite hands its id out again): the row it stood for is gone.
    key = instance_state(order).key
    stale = session.identity_map.get(key) if key is not None else None
    if stale is not None:
        session.expunge(stale)
    session.add(order)
    _event(
        session,
        actor,
        order,
        Action.RECEIVE,
        "",
        State.RECEIVED,
        clock.now,
        detail={
            "channel": order.channel,
            "type": order.type,
            "due_on": order.due_on.isoformat(),
            "provisional": order.due_provisional,
        },
    )
    audit.record(
        session,
        actor,
        "work_order.create",
        object_kind="work_order",
        object_id=order.id,
        site_id=order.site_id,
        summary=order.number,
        detail={
            "channel": order.channel,
            "type": order.type,
            "confidential": order.confidential,
            "lead": model.lead_department_id,
        },
        ip=ip,
    )
    if model.lead_department_id is not None:
        # Part of the same submission: its event is written, the audit entry above already names the unit.
        _apply(
            session,
            actor,
            order,
            Action.DISPATCH,
            TransitionInput(
                lead_department_id=model.lead_department_id,
                assisting_department_ids=model.assisting_department_ids,
            ),
            clock=clock,
            settings=settings,
            calendar=calendar,
            ip=ip,
            audit_change=False,
            rollup_change=False,
        )
    # Counted once, as dispatched: one statement whether or not the order went to a unit at once.
    rollup.shift(session, None, rollup.contribution(order))
    return order


# --- transitions ------------------------------------------------------------------------------


class TransitionInput(BaseModel):
    """The fields any action may take; each action checks the ones it needs."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    reason: str = PydField("", max_length=2000)
    lead_department_id: int | None = None
    assisting_department_ids: list[int] = []
    days: int | None = PydField(None, ge=1, le=60)
    into: str | None = PydField(None, max_length=24)  # the order a duplicate merges into: id or number
    reply: str = PydField("", max_length=5000)
    level: Satisfaction | None = None
    method: str = PydField("phone", max_length=12)
    outcome: Outcome | None = None
    disposition: list[Disposition] = []
    finding: Outcome | None = None  # the unit's finding (诉求属实?) with its reply
    facts: str = PydField("", max_length=5000)  # the facts the finding rests on
    # The people the outcome holds responsible; None: the person the order is about.
    responsible_staff_ids: list[int] | None = None


def transition(
    session: Session,
    actor: Principal,
    order_id: int,
    action: Action | str,
    data: dict[str, Any] | TransitionInput | None = None,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> WorkOrderView:
    """Apply one action to an order (the API's POST /work-orders/{id}/transitions)."""
    try:
        act = Action(action)
    except ValueError:
        raise InvalidInput(
            "action", "error.choice", choices=", ".join(a.value for a in Action if a not in _INTERNAL)
        ) from None
    if act in _INTERNAL:
        raise InvalidInput("action", "complaints.error.internal_action")
    payload = data if isinstance(data, TransitionInput) else parse(TransitionInput, dict(data or {}))
    if act is Action.MERGE and payload.into:
        # A merge changes two orders: lock them in id order, so two merges of a pair into each other
        # queue instead of deadlocking.
        target = _find(session, str(payload.into))
        if target is not None and target.id is not None and target.id < order_id:
            _find(session, str(target.id), lock=True)
    order = _get(session, order_id, lock=True)
    viewer = viewer_for(session, actor)
    if not visibility.can_read(session, viewer, order):
        raise NotFound("error.not_found_kind", kind="kind.work_order", id=order_id)
    supervisor = visibility.can_supervise(session, viewer, order)
    if not supervisor and not (
        act in UNIT_ACTIONS and visibility.is_unit_member(session, viewer, order, lead_only=True)
    ):
        raise Forbidden("complaints.error.not_your_action", action=f"wo_action.{act.value}")
    _apply(session, actor, order, act, payload, clock=Clock.at(now), ip=ip)
    return order_view(session, actor, order, viewer=viewer)


# Actions only the system takes (the chase job) or that belong to intake.
_INTERNAL = frozenset({Action.RECEIVE, Action.CHASE, Action.ESCALATE, Action.CANCEL})


@dataclass
class _Step:
    """One action being applied: what its handler reads, and the calendar loaded only when needed."""

    session: Session
    actor: Principal
    order: WorkOrder
    action: Action
    data: TransitionInput
    before: State
    clock: Clock
    settings: ComplaintsSettings
    ip: str
    data_detail: dict[str, Any]
    calendar: WorkCalendar | None = None

    @property
    def reason(self) -> str:
        return self.data.reason

    def cal(self) -> WorkCalendar:
        # Most actions need no calendar: load it only for those that count working days.
        if self.calendar is None:
            self.calendar = load_memo_calendar(self.session)
        return self.calendar

    def need(self, field: str, value: object) -> None:
        if value in (None, "", []):
            raise InvalidInput(field, "error.required")


_Handler = Callable[[_Step], dict[str, Any]]


def _apply(
    session: Session,
    actor: Principal,
    order: WorkOrder,
    action: Action,
    data: TransitionInput,
    *,
    clock: Clock,
    ip: str = "",
    settings: ComplaintsSettings | None = None,
    calendar: WorkCalendar | None = None,
    audit_change: bool = True,
    rollup_change: bool = True,
    data_detail: dict[str, Any] | None = None,
) -> None:
    """Apply one action: its handler (from `_HANDLERS`) checks and changes the order, then one event and audit entry."""
    before = State(order.state)
    counted = rollup.contribution(order) if rollup_change else None
    after = next_state(before, action)
    step = _Step(session, actor, order, action, data, before, clock, settings or get_complaints_settings(), ip,
                 data_detail or {}, calendar)
    handler = _HANDLERS.get(action)
    detail = handler(step) if handler is not None else {}
    reason = data.reason
    order.state = after.value
    order.version += 1
    session.add(order)
    session.flush()
    if rollup_change:
        rollup.shift(session, counted, rollup.contribution(order))
    _event(session, actor, order, action, before.value, after, clock.now, reason=reason, detail=detail)
    if not audit_change:
        return
    audit.record(
        session,
        actor,
        f"work_order.{action.value}",
        object_kind="work_order",
        object_id=order.id,
        site_id=order.site_id,
        summary=f"{order.number} {before.value}→{after.value}",
        detail={"reason": reason[:200], **detail},
        ip=ip,
    )


def _on_dispatch(step: _Step) -> dict[str, Any]:
    session, order, data = step.session, step.order, step.data
    step.need("lead_department_id", data.lead_department_id)
    if step.action is Action.REASSIGN:
        step.need("reason", step.reason)
    site = session.get(Site, order.site_id)
    assert site is not None and data.lead_department_id is not None
    _department(session, site, data.lead_department_id, "lead_department_id")
    assisting = sorted(set(data.assisting_department_ids) - {data.lead_department_id})
    for dept_id in assisting:
        _department(session, site, dept_id, "assisting_department_ids")
    old_units = visibility.assisting_units(session, order.id or 0)
    for unit in session.exec(select(WorkOrderUnit).where(col(WorkOrderUnit.order_id) == order.id)):
        session.delete(unit)
    session.flush()
    for dept_id in assisting:
        session.add(WorkOrderUnit(order_id=order.id or 0, department_id=dept_id))
    detail = {
        "lead": data.lead_department_id,
        "assisting": assisting,
        "previous_lead": order.lead_department_id,
        "previous_assisting": old_units,
    }
    order.lead_department_id = data.lead_department_id
    order.dispatched_on = step.clock.today
    return detail


def _on_sign(step: _Step) -> dict[str, Any]:
    step.order.responded_at = step.order.responded_at or step.clock.now
    return {}


def _on_send_back(step: _Step) -> dict[str, Any]:
    order = step.order
    step.need("reason", step.reason)
    since = order.dispatched_on or order.received_on
    if not deadlines.within_workdays(step.cal(), since, step.clock.today, step.settings.send_back_workdays):
        raise Conflict("complaints.error.send_back_late", days=step.settings.send_back_workdays)
    order.responded_at = order.responded_at or step.clock.now
    return {"from_unit": order.lead_department_id}


def _on_progress(step: _Step) -> dict[str, Any]:
    step.need("reason", step.reason)
    return {}


def _on_request_extension(step: _Step) -> dict[str, Any]:
    order, data, settings = step.order, step.data, step.settings
    step.need("days", data.days)
    step.need("reason", step.reason)
    assert data.days is not None
    if data.days > settings.extension_max_workdays:
        raise InvalidInput("days", "complaints.error.extension_too_long", max=settings.extension_max_workdays)
    if order.extension_pending_days is not None:
        raise Conflict("complaints.error.extension_pending")
    order.extension_pending_days = data.days
    order.extension_pending_reason = step.reason[:400]
    return {"days": data.days}


def _on_decide_extension(step: _Step) -> dict[str, Any]:
    order = step.order
    if order.extension_pending_days is None:
        raise Conflict("complaints.error.no_extension_pending")
    days = order.extension_pending_days
    detail: dict[str, Any]
    if step.action is Action.APPROVE_EXTENSION:
        new_due = deadlines.due_date(step.cal(), order.due_on, days)
        detail = {"days": days, "due_on": new_due.due_on.isoformat(), "previous_due_on": order.due_on.isoformat()}
        order.due_on, order.due_provisional, order.due_source = new_due.due_on, new_due.provisional, new_due.source
        order.extended_days += days
        order.card = ""
    else:
        step.need("reason", step.reason)
        detail = {"days": days}
    order.extension_pending_days = None
    order.extension_pending_reason = ""
    return detail


def _on_merge(step: _Step) -> dict[str, Any]:
    session, actor, order, data = step.session, step.actor, step.order, step.data
    step.need("into", data.into)
    # Locked like the order itself: a target closed or merged meanwhile must refuse the merge.
    target = _find(session, str(data.into), lock=True)
    if target is None or target.id == order.id or not visibility.can_supervise(
        session, viewer_for(session, actor), target
    ):
        raise InvalidInput("into", "error.unknown_ref", kind="kind.work_order", value=data.into)
    if not target.is_open:
        raise Conflict("complaints.error.merge_into_closed", number=target.number)
    order.merged_into_id = target.id
    order.is_open = False
    target.version += 1
    _event(session, actor, target, "absorb", target.state, State(target.state), step.clock.now,
           reason=step.reason, detail={"merged": order.number})
    session.add(target)
    return {"into": target.number}


def _on_reply(step: _Step) -> dict[str, Any]:
    order, data = step.order, step.data
    step.need("reply", data.reply)
    # A complaint's reply states whether it was true (诉求属实?) and the facts found; other requests may.
    if order.type == RequestType.COMPLAINT.value:
        step.need("finding", data.finding)
        step.need("facts", data.facts)
    order.reply = data.reply
    order.replied_at = step.clock.now
    order.responded_at = order.responded_at or step.clock.now
    order.finding = data.finding.value if data.finding is not None else ""
    order.finding_facts = data.facts
    return {"finding": order.finding} if order.finding else {}


def _on_return_finding(step: _Step) -> dict[str, Any]:
    """退回: the supervisor does not accept the unit's reply and finding; the unit works on."""
    order = step.order
    step.need("reason", step.reason)
    if order.outcome:
        raise Conflict("complaints.error.outcome_recorded", outcome=f"outcome.{order.outcome}")
    detail = {"previous_finding": order.finding}
    order.reply, order.replied_at = "", None
    order.finding, order.finding_facts = "", ""
    _clear_callback(order)
    return detail


def _on_callback_try(step: _Step) -> dict[str, Any]:
    """A callback that reached nobody: counted, with its time (the event's) and method."""
    order, data = step.order, step.data
    if data.method not in {m.value for m in CallbackMethod}:
        raise InvalidInput("method", "error.choice", choices=", ".join(m.value for m in CallbackMethod))
    order.callback_tries += 1
    return {"try": order.callback_tries, "method": data.method}


def _on_callback(step: _Step) -> dict[str, Any]:
    order, data = step.order, step.data
    step.need("level", data.level)
    assert data.level is not None
    if data.level <= Satisfaction.DISSATISFIED:
        step.need("reason", step.reason)
    order.callback_at = step.clock.now
    order.callback_level = int(data.level)
    order.callback_method = data.method[:12]
    order.callback_reason = step.reason[:400]
    return {"level": int(data.level), "method": data.method}


def _on_reopen(step: _Step) -> dict[str, Any]:
    order = step.order
    step.need("reason", step.reason)
    if order.callback_level is not None and order.callback_level > Satisfaction.DISSATISFIED:
        raise Conflict("complaints.error.reopen_satisfied")
    due = deadlines.due_date(step.cal(), step.clock.today, order.time_limit_days)
    detail = {"due_on": due.due_on.isoformat(), "previous_due_on": order.due_on.isoformat()}
    order.due_on, order.due_provisional, order.due_source = due.due_on, due.provisional, due.source
    order.reopen_count += 1
    order.card = ""
    order.reply, order.replied_at = "", None
    order.finding, order.finding_facts = "", ""
    _clear_callback(order)
    return detail


def _clear_callback(order: WorkOrder) -> None:
    order.callback_at, order.callback_level, order.callback_method, order.callback_reason = None, None, "", ""
    order.callback_tries = 0


def callback_waived(order: WorkOrder, settings: ComplaintsSettings) -> str:
    """Why a replied order may close without a callback ("" when it may not): 12345 calls back first."""
    if order.anonymous:
        return "anonymous"
    if not order.phone_enc or not crypto.decrypt(order.phone_enc):
        return "no_number"
    if order.callback_tries >= settings.callback_tries:
        return "unreachable"
    return ""


def _on_close(step: _Step) -> dict[str, Any]:
    order, data, before = step.order, step.data, step.before
    detail: dict[str, Any] = {}
    if before is State.RECEIVED:
        step.need("reply", data.reply)
        order.reply = data.reply
        order.replied_at = step.clock.now
    elif before is State.REPLIED:
        waived = callback_waived(order, step.settings)
        if not waived:
            raise Conflict("complaints.error.callback_first", tries=order.callback_tries,
                           needed=step.settings.callback_tries)
        step.need("reason", step.reason)
        detail["without_callback"] = waived
    elif order.callback_level is not None and order.callback_level <= Satisfaction.DISSATISFIED:
        step.need("reason", step.reason)
    order.closed_at = step.clock.now
    order.closed_on = step.clock.today
    order.on_time = step.clock.today <= order.due_on
    order.is_open = False
    return {"on_time": order.on_time, **detail}


def _on_outcome(step: _Step) -> dict[str, Any]:
    session, order, data = step.session, step.order, step.data
    if _was_cancelled(session, order):
        raise Conflict("complaints.error.order_cancelled")
    if step.action is Action.REVISE_OUTCOME:
        return _revise_outcome(session, step.actor, order, data, step.clock, step.settings, step.ip)
    if order.outcome:
        raise Conflict("complaints.error.outcome_recorded", outcome=f"outcome.{order.outcome}")
    if step.action is Action.CONFIRM_FINDING:
        if not order.finding:
            raise Conflict("complaints.error.no_finding")
        outcome = Outcome(order.finding)
    else:
        if order.finding:
            # The unit's finding is confirmed or sent back, never silently replaced.
            raise Conflict("complaints.error.finding_to_confirm", finding=f"outcome.{order.finding}")
        step.need("outcome", data.outcome)
        assert data.outcome is not None
        outcome = data.outcome
    responsible = _responsible(session, step.actor, order, data)
    order.outcome = outcome.value
    order.disposition = " ".join(sorted({d.value for d in data.disposition}))
    order.responsible = " ".join(str(i) for i in responsible)
    detail: dict[str, Any] = {"outcome": order.outcome, "disposition": order.disposition.split(),
                              "responsible_staff_ids": responsible}
    detail.update(_outcome_effects(session, step.actor, order, outcome, step.clock, step.settings, step.ip))
    return detail


def _on_cancel(step: _Step) -> dict[str, Any]:
    session, order, clock = step.session, step.order, step.clock
    step.need("reason", step.reason)
    detail = {"was_open": order.is_open, **step.data_detail}
    if order.outcome:
        # An outcome recorded on an order whose cause fell away counts nowhere: not in the ledger, the
        # risk register or the statistics; its history keeps it.
        reversed_ids = _reverse_outcome_effects(session, step.actor, order, step.reason, at=clock.now, ip=step.ip)
        detail.update(previous_outcome=order.outcome, previous_disposition=order.disposition.split(),
                      reversed_ledger_entry_ids=reversed_ids)
        order.outcome, order.disposition, order.responsible = "", "", ""
    if order.is_open:
        order.closed_at = clock.now
        order.closed_on = clock.today
        order.on_time = clock.today <= order.due_on
        order.is_open = False
        order.extension_pending_days = None
        order.extension_pending_reason = ""
    return detail


def _on_chase(step: _Step) -> dict[str, Any]:
    return {"card": step.order.card, "due_on": step.order.due_on.isoformat()}


_HANDLERS: dict[Action, _Handler] = {
    Action.DISPATCH: _on_dispatch,
    Action.REASSIGN: _on_dispatch,
    Action.SIGN: _on_sign,
    Action.SEND_BACK: _on_send_back,
    Action.PROGRESS: _on_progress,
    Action.REQUEST_EXTENSION: _on_request_extension,
    Action.APPROVE_EXTENSION: _on_decide_extension,
    Action.REJECT_EXTENSION: _on_decide_extension,
    Action.MERGE: _on_merge,
    Action.REPLY: _on_reply,
    Action.RETURN_FINDING: _on_return_finding,
    Action.CALLBACK_TRY: _on_callback_try,
    Action.CALLBACK: _on_callback,
    Action.REOPEN: _on_reopen,
    Action.CLOSE: _on_close,
    Action.OUTCOME: _on_outcome,
    Action.CONFIRM_FINDING: _on_outcome,
    Action.REVISE_OUTCOME: _on_outcome,
    Action.CANCEL: _on_cancel,
    Action.CHASE: _on_chase,
    Action.ESCALATE: _on_chase,
}


def _responsible(session: Session, actor: Principal, order: WorkOrder, data: TransitionInput) -> list[int]:
    """The staff an outcome holds responsible: as chosen, else the person the order is about."""
    if data.responsible_staff_ids is None:
        return [order.staff_id] if order.staff_id is not None else []
    chosen = list(dict.fromkeys(data.responsible_staff_ids))
    for staff_id in chosen:
        staff = session.get(Staff, staff_id)
        site = session.get(Site, staff.site_id) if staff is not None else None
        if site is None or not actor.covers_path(site.path):
            raise InvalidInput("responsible_staff_ids", "error.unknown_ref", kind="kind.staff", value=staff_id)
    return chosen


def responsible_ids(order: WorkOrder) -> list[int]:
    return [int(i) for i in order.responsible.split()]


def _outcome_effects(
    session: Session,
    actor: Principal,
    order: WorkOrder,
    outcome: Outcome,
    clock: Clock,
    settings: ComplaintsSettings,
    ip: str,
) -> dict[str, Any]:
    """An upheld complaint goes to the ledger of each person held responsible (or the window) and to the incidents."""
    people = responsible_ids(order)
    if not people and order.window_id is None:
        return {}
    if order.type == RequestType.PRAISE.value and outcome is Outcome.UPHELD:
        kind = "praise"
    elif order.type != RequestType.PRAISE.value and outcome is Outcome.UPHELD:
        kind = "complaint_upheld"
    elif order.type != RequestType.PRAISE.value and outcome is Outcome.PARTLY:
        kind = "complaint_partly_upheld"
    else:
        return {}
    # The points of the scoring rule set in force on the day the outcome is recorded.
    points = scoring_points(session, ITEM_OF_KIND[kind], on=clock.today)
    if not points:
        return {}
    # Each person named, or the window alone when the outcome names nobody.
    subjects: list[int | None] = list(people) or [None]
    entry_ids: list[int] = []
    incident_ids: list[int] = []
    for staff_id in subjects:
        subject = staff_id is not None and staff_id == order.staff_id
        # The window alone, or the subject's own window; another person's entry names no window.
        window_id = order.window_id if staff_id is None else (_staff_window(session, order) if subject else None)
        entry = ledger.record_entry(
            session,
            actor=actor,
            day=clock.today,
            kind=kind,
            points=points,
            # Not the title: it is cut from the complaint's text, which the person concerned may not read.
            reason=ledger.keyed_reason("ledger_reason.work_order_outcome", number=order.number,
                                       outcome=f"outcome.{outcome.value}"),
            source_kind="work_order",
            source_id=order.number,
            staff_id=staff_id,
            window_id=window_id,
            ip=ip,
        )
        entry_ids.append(entry.id or 0)
        if kind == "praise":
            continue
        incident = incidents.record_incident(
            session,
            kind="complaint",
            source_kind="work_order",
            source_id=_incident_source(order, staff_id),
            occurred_at=order.received_at,
            post_id=order.post_id if subject or staff_id is None else None,
            window_id=order.window_id if subject or staff_id is None else None,
            staff_id=staff_id,
            summary=f"{order.number} {outcome.value}",
        )
        incident_ids.append(incident.id or 0)
    out: dict[str, Any] = {"ledger_entry_id": entry_ids[0], "ledger_entry_ids": entry_ids}
    if incident_ids:
        out["incident_id"] = incident_ids[0]
        out["incident_ids"] = incident_ids
    return out


def _incident_source(order: WorkOrder, staff_id: int | None) -> str:
    """The incident of the person the order is about (or of the window alone) has the order's id as its source;
    anyone else held responsible, '<order id>:<staff id>'. A person's key never depends on their place in the
    list, so a revised outcome stands again exactly the incidents of the people it names."""
    return str(order.id) if staff_id is None or staff_id == order.staff_id else f"{order.id}:{staff_id}"


def _order_incident_sources(session: Session, order: WorkOrder) -> list[str]:
    """The sources of every incident an outcome of this order recorded, whoever was held responsible then."""
    own = str(order.id)
    found = session.exec(select(Incident.source_id).where(
        col(Incident.kind) == "complaint", col(Incident.source_kind) == "work_order",
        or_(col(Incident.source_id) == own, col(Incident.source_id).startswith(own + ":")),
    )).all()
    return sorted(set(found))


OUTCOME_LEDGER_KINDS = ("praise", "complaint_upheld", "complaint_partly_upheld")


def _revise_outcome(
    session: Session,
    actor: Principal,
    order: WorkOrder,
    data: TransitionInput,
    clock: Clock,
    settings: ComplaintsSettings,
    ip: str,
) -> dict[str, Any]:
    """Replace the recorded outcome: reverse what the old one wrote to the ledger, let the new one write its own."""
    if not order.outcome:
        raise Conflict("complaints.error.no_outcome")
    if data.outcome is None:
        raise InvalidInput("outcome", "error.required")
    if not data.reason:
        raise InvalidInput("reason", "complaints.error.revision_reason")
    disposition = " ".join(sorted({d.value for d in data.disposition}))
    if (data.outcome.value == order.outcome and disposition == order.disposition
            and (data.responsible_staff_ids is None
                 or list(dict.fromkeys(data.responsible_staff_ids)) == responsible_ids(order))):
        raise Conflict("complaints.error.outcome_unchanged", outcome=f"outcome.{order.outcome}")
    previous = {"previous_outcome": order.outcome, "previous_disposition": order.disposition.split(),
                "previous_responsible_staff_ids": responsible_ids(order)}
    if data.responsible_staff_ids is not None or not order.responsible:
        responsible = _responsible(session, actor, order, data)
    else:
        responsible = responsible_ids(order)
    # The old outcome's incident stops counting for the risk register; an upheld new one stands again below.
    reversed_ids = _reverse_outcome_effects(
        session, actor, order, ledger.keyed_reason("ledger_reason.outcome_revised", reason=data.reason),
        at=clock.now, ip=ip)
    order.outcome = data.outcome.value
    order.disposition = disposition
    order.responsible = " ".join(str(i) for i in responsible)
    detail: dict[str, Any] = {
        **previous,
        "outcome": order.outcome,
        "disposition": order.disposition.split(),
        "responsible_staff_ids": responsible,
        "reversed_ledger_entry_ids": reversed_ids,
    }
    detail.update(_outcome_effects(session, actor, order, data.outcome, clock, settings, ip))
    return detail


def _reverse_outcome_effects(
    session: Session, actor: Principal, order: WorkOrder, reason: str, *, at: datetime, ip: str
) -> list[int]:
    """Undo what an order's outcome wrote: its ledger entries reversed (the rows stay), its incident withdrawn.

    Returns the ids of the entries reversed now; entries reversed before are left as they are.
    """
    entries = session.exec(
        select(LedgerEntry).where(
            col(LedgerEntry.source_kind) == "work_order",
            col(LedgerEntry.source_id) == order.number,
            col(LedgerEntry.reverses_id).is_(None),
            col(LedgerEntry.kind).in_(OUTCOME_LEDGER_KINDS),
        )
    ).all()
    done = ledger.reversed_among(session, [e.id for e in entries])
    reversed_ids: list[int] = []
    for entry in entries:
        if entry.id is None or entry.id in done:
            continue
        reversal = ledger.reverse_entry(session, entry.id, actor=actor, reason=reason[:400], ip=ip)
        reversed_ids.append(entry.id)
        logger.info("work order %s: ledger entry %s reversed by %s", order.number, entry.id, reversal.id)
    # Every incident of the order, by query: also those keyed by an earlier rule (the first person named).
    for source_id in _order_incident_sources(session, order):
        incidents.withdraw_incident(session, kind="complaint", source_kind="work_order", source_id=source_id,
                                    reason=f"{order.number} {reason}"[:400], at=at)
    return reversed_ids


def _was_cancelled(session: Session, order: WorkOrder) -> bool:
    found = session.exec(select(WorkOrderEvent.id).where(col(WorkOrderEvent.order_id) == order.id,
                                                         col(WorkOrderEvent.action) == Action.CANCEL.value)).first()
    return found is not None


def _staff_window(session: Session, order: WorkOrder) -> int | None:
    # The ledger refuses a window of another site than the staff member's: keep the pair only if consistent.
    staff = session.get(Staff, order.staff_id) if order.staff_id else None
    window = session.get(Window, order.window_id) if order.window_id else None
    if staff is not None and window is not None and staff.site_id == window.site_id:
        return window.id
    return None


_INSERT_EVENT = insert(table_of(WorkOrderEvent))
_INSERT_ORDER = insert(table_of(WorkOrder)).returning(*table_of(WorkOrder).c)


def _event(
    session: Session,
    actor: Principal,
    order: WorkOrder,
    action: Action | str,
    from_state: str,
    to_state: State,
    at: datetime,
    *,
    reason: str = "",
    detail: dict[str, Any] | None = None,
) -> None:
    seq = order.version if action is not Action.RECEIVE else 0
    # A Core insert: events are only ever appended and read back by query, never through the session's objects.
    session.connection().execute(
        _INSERT_EVENT,
        dict(
            order_id=order.id or 0,
            seq=seq,
            action=str(action),
            from_state=from_state,
            to_state=to_state.value,
            at=at,
            actor_kind=actor.kind[:10],
            actor_id=actor.id,
            actor_name=actor.audit_name[:80],
            reason=reason,
            detail=json.dumps(detail or {}, ensure_ascii=False, default=str),
        ),
    )


def system_apply(
    session: Session,
    actor: Principal,
    order: WorkOrder,
    action: Action,
    *,
    reason: str,
    now: datetime | None = None,
) -> None:
    """Let the scheduler or another service of this package act on an order without a user's rights."""
    _apply(session, actor, order, action, TransitionInput(reason=reason), clock=Clock.at(now))


def cancel_order(
    session: Session,
    actor: Principal,
    order_id: int,
    *,
    reason: str,
    detail: dict[str, Any],
    ip: str = "",
    now: datetime | None = None,
) -> bool:
    """Close an order whose cause fell away, with an event saying why; False for a merged order.

    What its outcome wrote, if one was recorded, is undone: ledger entries reversed, incident withdrawn.

    For services of this package that have checked the actor's rights themselves (a granted rating appeal).
    """
    order = _get(session, order_id, lock=True)
    if order.state == State.MERGED.value:
        return False
    _apply(
        session,
        actor,
        order,
        Action.CANCEL,
        TransitionInput(reason=reason[:2000]),
        clock=Clock.at(now),
        ip=ip,
        data_detail=detail,
    )
    return True


# --- reading ----------------------------------------------------------------------------------


def _get(session: Session, order_id: int, *, lock: bool = False) -> WorkOrder:
    stmt = select(WorkOrder).where(col(WorkOrder.id) == order_id)
    if lock:
        stmt = stmt.with_for_update()
    order = session.exec(stmt).first()
    if order is None:
        raise NotFound("error.not_found_kind", kind="kind.work_order", id=order_id)
    return order


def _find(session: Session, ref: str, *, lock: bool = False) -> WorkOrder | None:
    stmt = select(WorkOrder)
    # Ids are 32-bit; a longer run of digits is no id (SQLite overflows past 2^63) and is looked up as a number.
    if ref.isascii() and ref.isdigit() and int(ref) < 2**31:
        stmt = stmt.where(col(WorkOrder.id) == int(ref))
    else:
        stmt = stmt.where(col(WorkOrder.number) == ref.strip())
    if lock:
        # populate_existing: an order already in the session is read again, as it stands under the lock.
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    return session.exec(stmt).first()


def order_view(
    session: Session,
    actor: Principal,
    order: WorkOrder,
    *,
    viewer: Viewer | None = None,
    calendar: WorkCalendar | None = None,
    today: date | None = None,
    assisting: list[int] | None = None,
    settings: ComplaintsSettings | None = None,
) -> WorkOrderView:
    """Shape an order for one principal: identity redacted by role, the card as of today."""
    viewer = viewer or viewer_for(session, actor)
    # A list passes its settings in: finding them scans the environment, 50 times a page otherwise.
    settings = settings or get_complaints_settings()
    calendar = calendar or load_memo_calendar(session)
    today = today or Clock.at().today
    shown = visibility.sees_identity(viewer, order)
    card, left = "", None
    if order.is_open:
        left = deadlines.workdays_left(calendar, today, order.due_on)
        card = deadlines.card_for(
            calendar,
            today,
            order.due_on,
            yellow_workdays=settings.yellow_card_workdays,
            red_workdays_late=settings.red_card_workdays_late,
        ).value
    return WorkOrderView(
        id=order.id or 0,
        number=order.number,
        channel=order.channel,
        type=order.type,
        urgency=order.urgency,
        state=order.state,
        site_id=order.site_id,
        received_at=order.received_at,
        received_on=order.received_on,
        received_by=order.received_by,
        caller_name=order.caller_name if shown else "",
        caller_phone_masked=(visibility.masked_phone(order.phone_enc) if shown else ""),
        anonymous=order.anonymous,
        identity_hidden=not shown,
        confidential=order.confidential,
        integrity=order.integrity,
        title=order.title,
        content=order.content,
        window_id=order.window_id,
        post_id=order.post_id,
        staff_id=order.staff_id,
        department_id=order.department_id,
        source_ref=order.source_ref,
        lead_department_id=order.lead_department_id,
        assisting_department_ids=assisting
        if assisting is not None
        else visibility.assisting_units(session, order.id or 0),
        time_limit_days=order.time_limit_days,
        due_on=order.due_on,
        due_provisional=order.due_provisional,
        due_source=order.due_source,
        respond_by=order.respond_by,
        card=card,
        workdays_left=left,
        extension_pending_days=order.extension_pending_days,
        extended_days=order.extended_days,
        reply=order.reply,
        replied_at=order.replied_at,
        finding=order.finding,
        finding_facts=order.finding_facts,
        callback_tries=order.callback_tries,
        callback_at=order.callback_at,
        callback_method=order.callback_method,
        callback_level=order.callback_level,
        callback_reason=order.callback_reason,
        reopen_count=order.reopen_count,
        outcome=order.outcome,
        disposition=order.disposition.split(),
        responsible_staff_ids=responsible_ids(order),
        closed_at=order.closed_at,
        on_time=order.on_time,
        merged_into_id=order.merged_into_id,
    )


def get_order(session: Session, actor: Principal, order_ref: int | str, *, ip: str = "") -> WorkOrderDetail:
    """The order page: the order, its full history and what the actor may do next.

    Opening a confidential order writes a view entry to the audit log in the caller's transaction:
    call it in a session that commits.
    """
    order = _find(session, str(order_ref))
    viewer = viewer_for(session, actor)
    if order is None or not visibility.can_read(session, viewer, order):
        raise NotFound("error.not_found_kind", kind="kind.work_order", id=order_ref)
    if order.confidential or order.integrity:
        audit.record(
            session,
            actor,
            "view.work_order",
            object_kind="work_order",
            object_id=order.id,
            site_id=order.site_id,
            summary=order.number,
            ip=ip,
        )
    events = session.exec(
        select(WorkOrderEvent)
        .where(col(WorkOrderEvent.order_id) == order.id)
        .order_by(col(WorkOrderEvent.seq), col(WorkOrderEvent.id))
    ).all()
    history = [
        WorkOrderEventView(
            seq=e.seq,
            action=e.action,
            from_state=e.from_state,
            to_state=e.to_state,
            at=e.at,
            actor_name=e.actor_name,
            reason=ledger.render_reason(e.reason, actor.locale),  # a reason the system wrote is a key
            detail=json.loads(e.detail),
        )
        for e in events
    ]
    supervisor = visibility.can_supervise(session, viewer, order)
    unit = visibility.is_unit_member(session, viewer, order, lead_only=True)
    # An outcome is recorded once, then only revised; an order whose cause fell away takes none.
    hidden = set(_INTERNAL) | {Action.OUTCOME if order.outcome else Action.REVISE_OUTCOME}
    # A unit's finding is confirmed or sent back (not replaced by an outcome of the supervisor's own).
    if order.outcome or not order.finding:
        hidden |= {Action.CONFIRM_FINDING, Action.RETURN_FINDING}
    if order.finding:
        hidden.add(Action.OUTCOME)
    if order.anonymous or not order.phone_enc:
        hidden.add(Action.CALLBACK_TRY)
    # A replied order closes after its callback (回访), unless the caller cannot be called back: not offered before.
    if order.state == State.REPLIED.value and not callback_waived(order, get_complaints_settings()):
        hidden.add(Action.CLOSE)
    if any(e.action == Action.CANCEL.value for e in events):
        hidden |= {Action.OUTCOME, Action.REVISE_OUTCOME, Action.CONFIRM_FINDING, Action.RETURN_FINDING}
    actions = [
        a.value
        for a in allowed_actions(order.state)
        if a not in hidden and (supervisor or (unit and a in UNIT_ACTIONS))
    ]
    return WorkOrderDetail(
        order=order_view(session, actor, order, viewer=viewer), history=history, allowed_actions=actions
    )


def reveal_caller_phone(session: Session, actor: Principal, order_id: int, *, ip: str = "") -> str:
    """The caller's full number, for the callback; audited every time."""
    order = _get(session, order_id)
    viewer = viewer_for(session, actor)
    if not visibility.can_read(session, viewer, order):
        raise NotFound("error.not_found_kind", kind="kind.work_order", id=order_id)
    if not visibility.may_reveal_phone(viewer, order) or not visibility.can_supervise(session, viewer, order):
        raise Forbidden("complaints.error.phone_hidden")
    audit.record(
        session,
        actor,
        "view.caller_phone",
        object_kind="work_order",
        object_id=order.id,
        site_id=order.site_id,
        summary=order.number,
        ip=ip,
    )
    return crypto.decrypt(order.phone_enc)


class OrderFilter(BaseModel):
    """Filters of the order list (all optional)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    state: State | None = None
    channel: Channel | None = None
    type: RequestType | None = None
    urgency: str | None = None
    site_id: int | None = None  # this site and everything under it
    lead_department_id: int | None = None
    department_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    received_from: date | None = None
    received_to: date | None = None
    open_only: bool = False
    overdue_only: bool = False
    card: str | None = None
    confidential: bool | None = None
    q: str | None = PydField(None, max_length=100)
    phone: str | None = PydField(None, max_length=20)
    mine: bool = False  # orders of the actor's own unit


def _visible_clause(session: Session, viewer: Viewer, site: Any = None) -> ColumnElement[bool]:
    """The orders a viewer may list: their jurisdiction (by role) or their unit's orders.

    `site` is the order's site column as the query tests it: `site_id`, or `site_id + 0` to keep SQLite's planner
    off the site index (`_walk_newest`)."""
    p = viewer.principal
    site = col(WorkOrder.site_id) if site is None else site
    sites = select(Site.id).where(col(Site.path).startswith(p.site_path, autoescape=True))
    clauses: list[ColumnElement[bool]] = []
    if viewer.reads_complaints:
        in_area = site.in_(sites)
        clauses.append(in_area if viewer.confidential else and_(in_area, col(WorkOrder.integrity).is_(False)))
    if viewer.department_ids:
        units = sorted(viewer.department_ids)
        assisted = select(WorkOrderUnit.order_id).where(col(WorkOrderUnit.department_id).in_(units))
        clauses.append(
            and_(
                col(WorkOrder.integrity).is_(False),
                site.in_(sites),
                or_(col(WorkOrder.lead_department_id).in_(units), col(WorkOrder.id).in_(assisted)),
            )
        )
    if not clauses:
        return col(WorkOrder.id) < 0
    visible = or_(*clauses)
    if p.staff_id is not None:
        visible = and_(visible, or_(col(WorkOrder.staff_id).is_(None), col(WorkOrder.staff_id) != p.staff_id))
    return visible


def _order_conditions(
    session: Session, actor: Principal, viewer: Viewer, f: OrderFilter, today: date, site: Any
) -> list[ColumnElement[bool]]:
    """The WHERE of the order list: what the viewer may see, and the filters."""
    where: list[ColumnElement[bool]] = [_visible_clause(session, viewer, site)]
    for name in (
        "channel",
        "type",
        "urgency",
        "lead_department_id",
        "department_id",
        "window_id",
        "staff_id",
        "confidential",
    ):
        value = getattr(f, name)
        if value is not None:
            where.append(getattr(WorkOrder, name) == (value.value if hasattr(value, "value") else value))
    if f.state is not None:
        where.append(col(WorkOrder.state) == f.state.value)
    if f.site_id is not None:
        anchor = session.get(Site, f.site_id)
        if anchor is None or not actor.covers_path(anchor.path):
            raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=f.site_id)
        where.append(site.in_(select(Site.id).where(col(Site.path).startswith(anchor.path, autoescape=True))))
    if f.received_from is not None:
        where.append(col(WorkOrder.received_on) >= f.received_from)
    if f.received_to is not None:
        where.append(col(WorkOrder.received_on) <= f.received_to)
    if f.open_only or f.overdue_only:
        where.append(col(WorkOrder.is_open).is_(True))
    if f.overdue_only:
        where.append(col(WorkOrder.due_on) < today)
    if f.card:
        where.append(col(WorkOrder.card) == f.card)
    if f.mine:
        where.append(col(WorkOrder.lead_department_id).in_(sorted(viewer.department_ids) or [-1]))
    if f.q:
        like = f"%{f.q}%"
        where.append(or_(col(WorkOrder.number).ilike(like), col(WorkOrder.title).ilike(like)))
    if f.phone:
        phone = check_phone(f.phone)
        if not actor.can(Permission.COMPLAINTS_WRITE):
            raise Forbidden("complaints.error.phone_hidden")
        where.append(col(WorkOrder.phone_hash).in_(crypto.lookup_hashes("phone:" + phone)))
        where.append(col(WorkOrder.confidential).is_(False) if not viewer.confidential else col(WorkOrder.id) > 0)
    return where


def list_orders(
    session: Session,
    actor: Principal,
    filters: dict[str, Any] | OrderFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
    order_by: str = "received",
    ip: str = "",
    today: date | None = None,
) -> tuple[list[WorkOrderView], int]:
    """The order list with filters; newest first (or by due date with order_by="due")."""
    f = filters if isinstance(filters, OrderFilter) else parse(OrderFilter, dict(filters or {}))
    viewer = viewer_for(session, actor)
    today = today or Clock.at().today

    def conditions(site: Any) -> list[ColumnElement[bool]]:
        return _order_conditions(session, actor, viewer, f, today, site)

    if order_by == "due":
        return _page(session, actor, viewer, conditions(col(WorkOrder.site_id)),
                     (col(WorkOrder.due_on), col(WorkOrder.id)), offset, limit, ip, today)
    return _page(session, actor, viewer, conditions(col(WorkOrder.site_id)),
                 (col(WorkOrder.received_at).desc(), col(WorkOrder.id).desc()), offset, limit, ip, today,
                 newest_first=conditions)


def _walk_newest(session: Session, visible: int, reach: int) -> bool:
    """Whether SQLite should find a newest-first page by walking all orders newest first (testing each one's site).

    SQLite has no statistics here and, given a site IN (...) condition, always fetches the jurisdiction's orders
    by site and sorts them: a city officer's page of 50 sorted all 9,512 orders (14 ms; 0.2 ms walking). The
    walk reads about `reach` × all / visible orders, the sort reads `visible`: walk when that is fewer. The
    number of orders is the highest id (orders are never deleted). PostgreSQL's planner has statistics and
    chooses by itself.
    """
    if visible == 0 or session.get_bind().dialect.name != "sqlite":
        return False
    newest_id = session.exec(select(func.max(WorkOrder.id))).one() or 0
    return reach * int(newest_id) < visible * visible


def _page(
    session: Session,
    actor: Principal,
    viewer: Viewer,
    where: Sequence[ColumnElement[bool]],
    order_clause: Sequence[Any],
    offset: int,
    limit: int,
    ip: str,
    today: date,
    *,
    newest_first: Callable[[Any], list[ColumnElement[bool]]] | None = None,
) -> tuple[list[WorkOrderView], int]:
    total = session.exec(select(func.count()).select_from(WorkOrder).where(*where)).one()
    if newest_first is not None and _walk_newest(session, int(total), offset + limit):
        # The same conditions with the site column hidden from SQLite's planner (`+ 0`): it then reads the
        # newest orders along ix_work_order_received_at and stops after the page, instead of fetching every
        # visible order through the site index and sorting them all.
        where = newest_first(col(WorkOrder.site_id) + 0)
    rows = session.exec(
        select(WorkOrder)
        .where(*where)
        .order_by(*order_clause)
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), MAX_PAGE))
    ).all()
    ids = [r.id for r in rows if r.id is not None]
    units: dict[int, list[int]] = {i: [] for i in ids}
    if ids:
        for unit in session.exec(select(WorkOrderUnit).where(col(WorkOrderUnit.order_id).in_(ids))):
            units[unit.order_id].append(unit.department_id)
    calendar = load_memo_calendar(session)
    settings = get_complaints_settings()
    views = [
        order_view(
            session,
            actor,
            r,
            viewer=viewer,
            calendar=calendar,
            today=today,
            assisting=sorted(units.get(r.id or 0, [])),
            settings=settings,
        )
        for r in rows
    ]
    secret = [r.number for r in rows if r.confidential or r.integrity]
    if secret:
        audit.record(
            session,
            actor,
            "view.work_order_list",
            object_kind="work_order",
            object_id="",
            summary=f"{len(secret)} confidential",
            detail={"numbers": secret},
            ip=ip,
        )
    return views, int(total)


def due_orders(
    session: Session,
    actor: Principal,
    *,
    offset: int = 0,
    limit: int = 50,
    department_id: int | None = None,
    today: date | None = None,
    ip: str = "",
) -> tuple[list[WorkOrderView], int]:
    """The supervisor's home page: open orders of the jurisdiction due soon or overdue, most urgent first."""
    settings = get_complaints_settings()
    viewer = viewer_for(session, actor)
    today = today or Clock.at().today
    calendar = load_memo_calendar(session)
    horizon = calendar.add_workdays(today, settings.yellow_card_workdays).value  # provisional past the known years
    where: list[ColumnElement[bool]] = [
        col(WorkOrder.is_open).is_(True),
        col(WorkOrder.due_on) <= horizon,
        _visible_clause(session, viewer),
    ]
    if department_id is not None:
        where.append(col(WorkOrder.lead_department_id) == department_id)
    return _page(session, actor, viewer, where, (col(WorkOrder.due_on), col(WorkOrder.id)), offset, limit, ip, today)


def phone_history(session: Session, actor: Principal, phone: str, *, limit: int = 20) -> list[WorkOrderView]:
    """Earlier orders of the same caller (the intake screen's repeat-caller hint)."""
    rows, _ = list_orders(session, actor, OrderFilter(phone=phone), limit=limit)
    return rows
