"""Who sees and does what with an order, and how the caller's identity is shown.

- Integrity tips (`integrity`) exist only for principals with CONFIDENTIAL_READ (discipline officers),
  who also handle them (the supervisors' write rights stop at ordinary orders).
- Confidential orders (`confidential`, or any integrity tip) show the caller only to CONFIDENTIAL_READ.
- Other orders show the caller's name and masked phone to whoever may read the order: supervisors
  (COMPLAINTS_READ) in their jurisdiction and the people of the lead and assisting units.
- The full phone number is revealed one order at a time, audited, to those who call back:
  COMPLAINTS_WRITE for ordinary orders, CONFIDENTIAL_READ for confidential ones.
- A person named in an order never sees that order (the person complained about must not learn who
  complained, nor read the complaint before it is investigated).
- A unit acts through its handlers (承办人, role handler, COMPLAINTS_HANDLE): users assigned to one or more
  departments, who read the orders those departments lead or assist within their jurisdiction, and act
  on the ones they lead (sign, send back, progress, extension request, reply with a finding). They see the
  caller as above (name and masked phone, nothing on a confidential order) and never the full number.
- Window staff read no orders: what concerns their own rectification reaches them as the outcome's
  ledger entry on their own page (/me), without the order, its caller or who made it. A clerk who
  belongs to a department is not its handler.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlmodel import Session, col, select

from complaints.models import WorkOrder, WorkOrderUnit
from supervision import crypto
from supervision.access import Permission, Principal
from supervision.models import Site


@dataclass(frozen=True)
class Viewer:
    """A principal with what the order rules need to know about them, looked up once."""

    principal: Principal
    department_ids: frozenset[int]

    @property
    def confidential(self) -> bool:
        return self.principal.can(Permission.CONFIDENTIAL_READ)

    @property
    def reads_complaints(self) -> bool:
        return self.principal.can(Permission.COMPLAINTS_READ) or self.confidential


def viewer_for(session: Session, principal: Principal) -> Viewer:
    handles = principal.can(Permission.COMPLAINTS_HANDLE)
    return Viewer(principal, principal.department_ids if handles else frozenset())


def in_jurisdiction(session: Session, principal: Principal, site_id: int) -> bool:
    site = session.get(Site, site_id)
    return site is not None and principal.covers_path(site.path)


def assisting_units(session: Session, order_id: int) -> list[int]:
    rows = session.exec(select(WorkOrderUnit.department_id).where(col(WorkOrderUnit.order_id) == order_id))
    return sorted(rows)


def is_unit_member(session: Session, viewer: Viewer, order: WorkOrder, *, lead_only: bool = False) -> bool:
    """A handler of the lead unit (or of an assisting one, unless `lead_only`) whose jurisdiction holds the order."""
    if not viewer.department_ids or order.integrity:
        return False
    if order.lead_department_id in viewer.department_ids:
        member = True
    else:
        member = not lead_only and bool(viewer.department_ids & set(assisting_units(session, order.id or 0)))
    return member and in_jurisdiction(session, viewer.principal, order.site_id)


def can_read(session: Session, viewer: Viewer, order: WorkOrder) -> bool:
    p = viewer.principal
    if p.kind != "system" and p.staff_id is not None and order.staff_id == p.staff_id:
        return False
    if order.integrity:
        return viewer.confidential and in_jurisdiction(session, p, order.site_id)
    if viewer.reads_complaints and in_jurisdiction(session, p, order.site_id):
        return True
    return is_unit_member(session, viewer, order)


def can_supervise(session: Session, viewer: Viewer, order: WorkOrder) -> bool:
    """Dispatch, reassign, decide extensions, merge, call back, reopen, close, record outcomes."""
    p = viewer.principal
    if not in_jurisdiction(session, p, order.site_id):
        return False
    if order.integrity:
        return viewer.confidential
    return p.can(Permission.COMPLAINTS_WRITE)


def sees_identity(viewer: Viewer, order: WorkOrder) -> bool:
    if order.confidential or order.integrity:
        return viewer.confidential
    return True


def may_reveal_phone(viewer: Viewer, order: WorkOrder) -> bool:
    if order.confidential or order.integrity:
        return viewer.confidential
    return viewer.principal.can(Permission.COMPLAINTS_WRITE)


def masked_phone(phone_enc: str) -> str:
    return _masked(phone_enc) if phone_enc else ""


@lru_cache(maxsize=4096)
def _masked(phone_enc: str) -> str:
    """The masked number of a ciphertext, remembered: an officer's list of 50 orders decrypted up to 50 numbers
    on every read (a third of its CPU). Only the masked form is kept; a re-encrypted number is a new key."""
    return crypto.mask_phone(crypto.decrypt(phone_enc))
