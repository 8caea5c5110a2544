"""Swaps (调班): asked by the person on duty, accepted by the other, approved by a manager."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal, site_path_clause
from supervision.db import utcnow
from supervision.duty.models import AssignmentSource, DutyAssignment, DutyPoolMember, DutySwap, SwapStatus
from supervision.duty.rosters import get_assignment, unavailable_days
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import Site


def ask_swap(session: Session, actor: Principal, *, assignment_id: int, counterpart_id: int,
             counterpart_assignment_id: int | None = None, reason: str = "", today: date, ip: str = "") -> DutySwap:
    """Ask to hand one's duty to a colleague of the same role, or to exchange it for one of theirs."""
    mine = get_assignment(session, actor, assignment_id)
    if actor.staff_id != mine.staff_id:
        raise Forbidden("error.duty_swap_own")
    if mine.day < today:
        raise InvalidInput("assignment_id", "error.duty_swap_past")
    member = session.exec(select(DutyPoolMember).where(DutyPoolMember.site_id == mine.site_id,
                                                       DutyPoolMember.staff_id == counterpart_id)).first()
    if member is None or member.role != mine.role or counterpart_id == mine.staff_id:
        raise InvalidInput("counterpart_id", "error.duty_swap_counterpart")
    if counterpart_assignment_id is not None:
        theirs = session.get(DutyAssignment, counterpart_assignment_id)
        if (theirs is None or theirs.staff_id != counterpart_id or theirs.site_id != mine.site_id
                or theirs.role != mine.role):
            raise InvalidInput("counterpart_assignment_id", "error.duty_swap_counterpart")
        if theirs.day < today:
            raise InvalidInput("counterpart_assignment_id", "error.duty_swap_past")
    swap = DutySwap(site_id=mine.site_id, assignment_id=assignment_id, requester_id=mine.staff_id,
                    counterpart_id=counterpart_id, counterpart_assignment_id=counterpart_assignment_id,
                    reason=reason.strip()[:400], status=SwapStatus.ASKED)
    session.add(swap)
    session.flush()
    audit.record(session, actor, "duty.swap_ask", object_kind="duty_swap", object_id=swap.id, site_id=mine.site_id,
                 ip=ip, detail={"assignment_id": assignment_id, "counterpart_id": counterpart_id})
    return swap


def _get(session: Session, actor: Principal, swap_id: int) -> DutySwap:
    swap = session.get(DutySwap, swap_id)
    site = session.get(Site, swap.site_id) if swap is not None else None
    if swap is None or site is None:
        raise NotFound("error.not_found_kind", kind="kind.duty_swap", id=swap_id)
    mine = actor.staff_id in (swap.requester_id, swap.counterpart_id)
    if not mine and not (actor.can(Permission.DUTY_READ) and actor.covers_path(site.path)):
        raise NotFound("error.not_found_kind", kind="kind.duty_swap", id=swap_id)
    return swap


def _decide(session: Session, actor: Principal, swap: DutySwap, status: SwapStatus, ip: str) -> DutySwap:
    swap.status, swap.decided_at = status, utcnow()
    if status in (SwapStatus.APPROVED, SwapStatus.REJECTED):
        swap.decided_by_id = actor.id if actor.kind == "user" else None
    session.add(swap)
    audit.record(session, actor, f"duty.swap_{status.value}", object_kind="duty_swap", object_id=swap.id,
                 site_id=swap.site_id, ip=ip)
    return swap


def answer_swap(session: Session, actor: Principal, *, swap_id: int, accept: bool, ip: str = "") -> DutySwap:
    """The colleague asked accepts or declines."""
    swap = _get(session, actor, swap_id)
    if actor.staff_id != swap.counterpart_id:
        raise NotFound("error.not_found_kind", kind="kind.duty_swap", id=swap_id)
    if swap.status != SwapStatus.ASKED:
        raise Conflict("error.duty_swap_state")
    return _decide(session, actor, swap, SwapStatus.ACCEPTED if accept else SwapStatus.DECLINED, ip)


def withdraw_swap(session: Session, actor: Principal, *, swap_id: int, ip: str = "") -> DutySwap:
    swap = _get(session, actor, swap_id)
    if actor.staff_id != swap.requester_id:
        raise NotFound("error.not_found_kind", kind="kind.duty_swap", id=swap_id)
    if swap.status not in (SwapStatus.ASKED, SwapStatus.ACCEPTED):
        raise Conflict("error.duty_swap_state")
    return _decide(session, actor, swap, SwapStatus.WITHDRAWN, ip)


def decide_swap(session: Session, actor: Principal, *, swap_id: int, approve: bool, ip: str = "") -> DutySwap:
    """A manager approves (the roster changes) or rejects an accepted swap."""
    actor.require(Permission.DUTY_WRITE)
    swap = _get(session, actor, swap_id)
    site = session.get(Site, swap.site_id)
    if site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.duty_swap", id=swap_id)
    if swap.status != SwapStatus.ACCEPTED:
        raise Conflict("error.duty_swap_state")
    if not approve:
        return _decide(session, actor, swap, SwapStatus.REJECTED, ip)
    mine = session.get(DutyAssignment, swap.assignment_id)
    theirs = session.get(DutyAssignment, swap.counterpart_assignment_id) if swap.counterpart_assignment_id else None
    if mine is None or mine.staff_id != swap.requester_id or (
            swap.counterpart_assignment_id is not None and (theirs is None or theirs.staff_id != swap.counterpart_id)):
        raise Conflict("error.duty_changed")
    if unavailable_days(session, staff_ids=[swap.counterpart_id], start=mine.day, end=mine.day):
        raise InvalidInput("counterpart_id", "error.duty_unavailable", day=mine.day.isoformat())
    if theirs is not None and unavailable_days(session, staff_ids=[swap.requester_id], start=theirs.day,
                                               end=theirs.day):
        raise InvalidInput("counterpart_assignment_id", "error.duty_unavailable", day=theirs.day.isoformat())
    now = utcnow()
    mine.staff_id, mine.source, mine.changed_at = swap.counterpart_id, AssignmentSource.SWAP, now
    session.add(mine)
    if theirs is not None:
        theirs.staff_id, theirs.source, theirs.changed_at = swap.requester_id, AssignmentSource.SWAP, now
        session.add(theirs)
    return _decide(session, actor, swap, SwapStatus.APPROVED, ip)


SWAP_ACTIONS: dict[str, Callable[..., DutySwap]] = {
    "accept": lambda s, a, i, ip: answer_swap(s, a, swap_id=i, accept=True, ip=ip),
    "decline": lambda s, a, i, ip: answer_swap(s, a, swap_id=i, accept=False, ip=ip),
    "withdraw": lambda s, a, i, ip: withdraw_swap(s, a, swap_id=i, ip=ip),
    "approve": lambda s, a, i, ip: decide_swap(s, a, swap_id=i, approve=True, ip=ip),
    "reject": lambda s, a, i, ip: decide_swap(s, a, swap_id=i, approve=False, ip=ip),
}


def act_on_swap(session: Session, actor: Principal, *, swap_id: int, action: str, ip: str = "") -> DutySwap:
    """One entry point for the web layer: the action names one handler of SWAP_ACTIONS."""
    handler = SWAP_ACTIONS.get(action)
    if handler is None:
        raise InvalidInput("action", "error.choice", choices=", ".join(SWAP_ACTIONS))
    return handler(session, actor, swap_id, ip)


def list_swaps(session: Session, actor: Principal, *, open_only: bool = False) -> list[DutySwap]:
    """Swaps the actor may see: their own, and (with duty:read) every swap of their jurisdiction."""
    query = select(DutySwap).join(Site, col(Site.id) == DutySwap.site_id)
    if actor.can(Permission.DUTY_READ):
        query = query.where(site_path_clause(actor))
    elif actor.staff_id is not None:
        query = query.where((col(DutySwap.requester_id) == actor.staff_id)
                            | (col(DutySwap.counterpart_id) == actor.staff_id))
    else:
        return []
    if open_only:
        query = query.where(col(DutySwap.status).in_([SwapStatus.ASKED, SwapStatus.ACCEPTED]))
    return list(session.exec(query.order_by(col(DutySwap.id).desc()).limit(500)))
