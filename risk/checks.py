"""Checks of countermeasures: who checked, when, with what result and evidence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, func, select

from risk import deadlines, provisional
from risk.evidence import EvidenceUpload, evidence_path, store_evidence
from risk.models import (
    CheckCreate,
    CheckFrequency,
    Countermeasure,
    CountermeasureCheck,
    ReminderKind,
    RiskReminder,
)
from risk.register import get_countermeasure, writable_measure
from risk.scope import local_today
from risk.settings import get_risk_settings
from supervision import audit
from supervision.access import Principal
from supervision.db import utcnow
from supervision.errors import InvalidInput, NotFound
from supervision.models import Staff
from supervision.org import parse
from supervision.workdays import load_calendar


@dataclass(frozen=True)
class EvidenceFile:
    path: Path
    name: str
    content_type: str
    size: int
    sha256: str


def record_check(
    session: Session,
    actor: Principal,
    measure_id: int,
    data: dict[str, Any],
    *,
    evidence: EvidenceUpload | None = None,
    ip: str = "",
    today: date | None = None,
) -> CountermeasureCheck:
    """Record a check of a measure (with an optional evidence file); the measure's next check moves on."""
    measure = writable_measure(session, actor, measure_id)
    model: CheckCreate = parse(CheckCreate, data)
    day = today or local_today()
    if model.checked_on > day:
        raise InvalidInput("checked_on", "risk.error.future_date")
    checker_name = model.checker_name.strip()
    if model.checker_id is not None:
        checker = session.get(Staff, model.checker_id)
        if checker is None:
            raise InvalidInput("checker_id", "error.unknown_ref", kind="kind.staff", value=model.checker_id)
        checker_name = checker_name or checker.name
    if not checker_name:
        raise InvalidInput("checker_name", "error.required")
    stored = store_evidence(evidence, get_risk_settings()) if evidence is not None else None
    row = CountermeasureCheck(
        measure_id=measure.id or 0,
        checked_on=model.checked_on,
        checker_id=model.checker_id,
        checker_name=checker_name,
        result=model.result,
        notes=model.notes,
        evidence_sha256=stored.sha256 if stored else "",
        evidence_name=stored.name if stored else "",
        evidence_type=stored.content_type if stored else "",
        evidence_size=stored.size if stored else 0,
        recorded_by=actor.audit_name[:80],
    )
    session.add(row)
    session.flush()
    apply_check(session, measure, row)
    audit.record(
        session,
        actor,
        "risk.check.record",
        object_kind="countermeasure",
        object_id=measure.id,
        site_id=measure.site_id,
        summary=f"{measure.code} {model.checked_on} {model.result.value}",
        detail={"check_id": row.id, "checker": checker_name, "evidence": row.evidence_sha256},
        ip=ip,
    )
    return row


def apply_check(session: Session, measure: Countermeasure, check: CountermeasureCheck) -> None:
    """Move the measure's state on from a check (a check entered late does not move it back)."""
    if measure.last_checked_on is not None and check.checked_on < measure.last_checked_on:
        return
    measure.last_checked_on = check.checked_on
    measure.last_result = check.result
    provisional.set_check_due(measure, deadlines.check_due(
        check.checked_on, CheckFrequency(measure.check_frequency), load_calendar(session)))
    measure.updated_at = utcnow()
    session.add(measure)
    now = utcnow()
    for reminder in session.exec(
        select(RiskReminder).where(
            col(RiskReminder.measure_id) == measure.id,
            col(RiskReminder.done_at).is_(None),
            col(RiskReminder.kind).in_([ReminderKind.CHECK_DUE, ReminderKind.CHECK_OVERDUE]),
        )
    ):
        reminder.done_at = now
        reminder.done_by = "check"
        session.add(reminder)
    session.flush()


def list_checks(
    session: Session, actor: Principal, measure_id: int, *, offset: int = 0, limit: int = 50
) -> tuple[Sequence[CountermeasureCheck], int]:
    """A measure's checks, newest first."""
    get_countermeasure(session, actor, measure_id)
    stmt = select(CountermeasureCheck).where(col(CountermeasureCheck.measure_id) == measure_id)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    rows = session.exec(
        stmt.order_by(col(CountermeasureCheck.checked_on).desc(), col(CountermeasureCheck.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    return rows, int(total)


def evidence_of_check(session: Session, actor: Principal, check_id: int, *, ip: str = "") -> EvidenceFile:
    """The evidence file of a check the actor may read (the web layer streams `path`); the view is audited
    in the caller's transaction."""
    check = session.get(CountermeasureCheck, check_id)
    if check is None or not check.evidence_sha256:
        raise NotFound("error.not_found_kind", kind="kind.risk_evidence", id=check_id)
    measure = get_countermeasure(session, actor, check.measure_id)
    path = evidence_path(check.evidence_sha256)
    if not path.exists():
        raise NotFound("error.not_found_kind", kind="kind.risk_evidence", id=check_id)
    audit.record(
        session,
        actor,
        "risk.evidence.view",
        object_kind="risk_check",
        object_id=check.id,
        site_id=measure.site_id,
        summary=f"{measure.code} {check.checked_on} {check.evidence_name}",
        ip=ip,
    )
    return EvidenceFile(path, check.evidence_name, check.evidence_type, check.evidence_size, check.evidence_sha256)
