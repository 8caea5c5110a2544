"""补卡: a member of staff asks for a punch they made but the terminal missed; a manager approves or rejects.

An approved request becomes a punch (source "correction") and the day is computed again, so its ledger
entries are reversed and rewritten like any other change.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field
from sqlalchemy import func
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal, site_path_clause
from supervision.attendance.days import recompute_day
from supervision.attendance.models import CorrectionRequest, CorrectionState, Punch, PunchSource, VerifyMode
from supervision.attendance.rules import DAY_BOUNDARY
from supervision.db import utcnow
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.models import Site, Staff
from supervision.settings import get_settings

# How far back a missed punch may still be asked for.
ASK_WITHIN = timedelta(days=31)


class CorrectionAsk(BaseModel):
    day: date
    punch_time: time = Field(description="When the person was there (local time)")
    reason: str = Field(min_length=1, max_length=400)


class CorrectionDecision(BaseModel):
    approve: bool
    note: str = Field(default="", max_length=400)


class CorrectionRow(BaseModel):
    id: int
    staff_id: int
    staff_name: str
    day: date
    punch_time: time
    reason: str
    state: CorrectionState
    asked_at: datetime
    decided_by: str
    decision_note: str


def ask_correction(session: Session, *, actor: Principal, ask: CorrectionAsk, ip: str = "") -> CorrectionRequest:
    """The caller asks for their own missed punch."""
    actor.require(Permission.OWN_RECORDS)
    staff = session.get(Staff, actor.staff_id) if actor.staff_id is not None else None
    if staff is None:
        raise InvalidInput("staff_id", "error.attendance_no_staff_record")
    if not ask.reason.strip():
        raise InvalidInput("reason", "error.required")
    today = datetime.now(get_settings().tz).date()
    if ask.day > today:
        raise InvalidInput("day", "error.attendance_day_future")
    if ask.day < today - ASK_WITHIN:
        raise InvalidInput("day", "error.attendance_day_too_old", days=ASK_WITHIN.days)
    pending = session.exec(select(CorrectionRequest).where(
        col(CorrectionRequest.staff_id) == staff.id, col(CorrectionRequest.day) == ask.day,
        col(CorrectionRequest.punch_time) == ask.punch_time,
        col(CorrectionRequest.state) == CorrectionState.PENDING)).first()
    if pending is not None:
        raise Conflict("error.attendance_correction_pending")
    request = CorrectionRequest(staff_id=staff.id or 0, site_id=staff.site_id, day=ask.day, punch_time=ask.punch_time,
                                reason=ask.reason.strip(), asked_by=actor.audit_name[:80])
    session.add(request)
    session.flush()
    audit.record(session, actor, "attendance.correction_ask", object_kind="attendance_correction",
                 object_id=request.id, site_id=staff.site_id, summary=f"{ask.day} {ask.punch_time}", ip=ip)
    return request


def _request_in_scope(session: Session, actor: Principal, request_id: int) -> CorrectionRequest:
    found = session.get(CorrectionRequest, request_id)
    site = session.get(Site, found.site_id) if found is not None else None
    if found is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.attendance_correction", id=request_id)
    return found


def decide_correction(session: Session, *, actor: Principal, request_id: int, decision: CorrectionDecision,
                      ip: str = "") -> CorrectionRequest:
    """A manager approves (the punch is added and the day computed again) or rejects a request."""
    actor.require(Permission.ATTENDANCE_MANAGE)
    found = _request_in_scope(session, actor, request_id)
    if found.state != CorrectionState.PENDING:
        raise Conflict("error.attendance_correction_decided")
    if not decision.approve and not decision.note.strip():
        raise InvalidInput("note", "error.attendance_reject_needs_note")
    found.state = CorrectionState.APPROVED if decision.approve else CorrectionState.REJECTED
    found.decided_by = actor.audit_name[:80]
    found.decided_at = utcnow()
    found.decision_note = decision.note.strip()
    session.add(found)
    if decision.approve:
        tz = get_settings().tz
        # A time before the day boundary is the small hours after the day (an evening that ran late).
        on = found.day + timedelta(days=1) if found.punch_time < DAY_BOUNDARY else found.day
        at = datetime.combine(on, found.punch_time, tzinfo=tz)
        session.add(Punch(staff_id=found.staff_id, site_id=found.site_id, punched_at=at, local_day=found.day,
                          device="correction", record_id=f"correction-{found.id}", verify_mode=VerifyMode.OTHER,
                          source=PunchSource.CORRECTION))
        session.flush()
        recompute_day(session, actor=actor,
                      staff_id=found.staff_id, day=found.day, reason=found.reason)
    session.flush()
    audit.record(session, actor, "attendance.correction_decide", object_kind="attendance_correction",
                 object_id=found.id, site_id=found.site_id, summary=found.state.value,
                 detail={"note": decision.note}, ip=ip)
    return found


def list_corrections(session: Session, *, actor: Principal, state: CorrectionState | None = None,
                     offset: int = 0, limit: int = 100) -> tuple[list[CorrectionRow], int]:
    """Requests in the jurisdiction (staff: their own), oldest pending first."""
    stmt = (select(CorrectionRequest, Staff.name).join(Staff, col(Staff.id) == CorrectionRequest.staff_id)
            .join(Site, col(Site.id) == CorrectionRequest.site_id).where(site_path_clause(actor)))
    if not actor.can(Permission.ATTENDANCE_READ):
        stmt = stmt.where(col(CorrectionRequest.staff_id) == (actor.staff_id if actor.staff_id is not None else -1))
    if state is not None:
        stmt = stmt.where(col(CorrectionRequest.state) == state)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(stmt.order_by(col(CorrectionRequest.asked_at).desc()).offset(offset).limit(limit)).all()
    return [CorrectionRow(id=r.id or 0, staff_id=r.staff_id, staff_name=name, day=r.day, punch_time=r.punch_time,
                          reason=r.reason, state=r.state, asked_at=r.asked_at, decided_by=r.decided_by,
                          decision_note=r.decision_note) for r, name in rows], int(total)


def correction_row(session: Session, *, actor: Principal, request_id: int) -> CorrectionRow:
    """One request as listed (staff: their own only)."""
    found = _request_in_scope(session, actor, request_id)
    if not actor.can(Permission.ATTENDANCE_READ) and found.staff_id != actor.staff_id:
        raise NotFound("error.not_found_kind", kind="kind.attendance_correction", id=request_id)
    staff = session.get(Staff, found.staff_id)
    return CorrectionRow(id=found.id or 0, staff_id=found.staff_id, staff_name=staff.name if staff else "",
                         day=found.day, punch_time=found.punch_time, reason=found.reason, state=found.state,
                         asked_at=found.asked_at, decided_by=found.decided_by, decision_note=found.decision_note)
