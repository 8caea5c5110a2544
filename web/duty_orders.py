"""A duty-log entry becomes a work order: the web layer joins the core's duty log and the complaints domain.

The core may not import complaints, so this lives here. Whoever may read the duty log and stands duty
(a manager, or the leader or cadre who wrote the entry) registers the order as a walk-in request (来访), as the
hall's duty desk does today; the complaints service sees their own name, with the one permission this
needs added for this call only.
"""

from __future__ import annotations

import dataclasses

from sqlmodel import Session

import complaints
from supervision import duty
from supervision.access import Permission, Principal
from supervision.duty import DutyLogEntry
from supervision.errors import Conflict, Forbidden


def work_order_from_log(session: Session, actor: Principal, log_id: int, *, request_type: str,
                        ip: str = "") -> DutyLogEntry:
    """Register the entry's problem as a work order and keep the order's number on the entry."""
    entry = duty.get_entry(session, actor, log_id)
    if not actor.can(Permission.DUTY_WRITE) and entry.recorded_by_id != actor.id:
        raise Forbidden("error.forbidden_permission", permission=Permission.DUTY_WRITE.value)
    if entry.work_order_ref:
        raise Conflict("error.duty_log_has_order", ref=entry.work_order_ref)
    registrar = dataclasses.replace(actor, permissions=actor.permissions | {Permission.COMPLAINTS_WRITE})
    content = entry.problem + ("\n" + entry.handling if entry.handling else "")
    order = complaints.create_work_order(session, registrar, {
        # The log keeps no citizen's name or phone (nothing personal to protect): the order is anonymous.
        "channel": "walk_in", "type": request_type, "anonymous": True, "content": content[:5000],
        "site_id": entry.site_id, "window_id": entry.window_id, "source_ref": f"duty-log:{entry.id}",
        "received_at": entry.occurred_at,
    }, idempotency_key=f"duty-log:{entry.id}", ip=ip)
    duty.link_work_order(session, actor, entry_id=log_id, reference=order.number, ip=ip)
    session.flush()
    return entry
