"""Supervisors' visits (明察暗访): findings, photos, and what a finding leads to."""

from __future__ import annotations

import hashlib
import os
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import ColumnElement
from sqlmodel import Session, col, func, select

from complaints import visibility
from complaints.models import (
    Channel,
    RequestType,
    Visit,
    VisitCreate,
    VisitFinding,
    VisitFindingCreate,
    VisitMode,
    VisitPhoto,
    WorkOrderCreate,
    WorkOrderView,
)
from complaints.settings import get_complaints_settings
from complaints.workorders import Clock, order_view, prepare_order, resolve_subject
from supervision import audit, ledger
from supervision.access import Permission, Principal
from supervision.errors import Conflict, FieldProblem, Forbidden, InvalidInput, NotFound
from supervision.models import LedgerEntry, Site
from supervision.org import parse
from supervision.scoring import ITEM_OF_KIND
from supervision.scoring import points as scoring_points
from supervision.settings import get_settings

# Magic bytes of the photo types we accept: the browser's content type is not trusted.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"WEBP", 8, "image/webp"),
)
_EXT = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


class VisitDetail(BaseModel):
    visit: Visit
    findings: list[VisitFinding]
    photos: list[VisitPhoto]


def _require_write(actor: Principal) -> None:
    actor.require(Permission.COMPLAINTS_WRITE)


def record_visit(
    session: Session, actor: Principal, data: dict[str, Any] | VisitCreate, *, ip: str = ""
) -> VisitDetail:
    """Record a visit with its findings."""
    _require_write(actor)
    model = data if isinstance(data, VisitCreate) else parse(VisitCreate, data)
    problems: list[FieldProblem] = []
    subject = resolve_subject(
        session,
        actor,
        site_id=model.site_id,
        window_id=model.window_id,
        post_id=None,
        staff_id=None,
        problems=problems,
    )
    if model.visited_on > Clock.at().today:
        problems.append(FieldProblem("visited_on", "complaints.error.in_future"))
    if problems:
        raise InvalidInput(problems=problems)
    assert subject is not None
    visit = Visit(
        site_id=subject.site_id,
        window_id=model.window_id,
        visited_on=model.visited_on,
        mode=model.mode.value,
        visitors=model.visitors,
        summary=model.summary,
        recorded_by=actor.audit_name[:80],
    )
    session.add(visit)
    session.flush()
    for finding in model.findings:
        _add_finding(session, actor, visit, finding)
    audit.record(
        session,
        actor,
        "visit.create",
        object_kind="visit",
        object_id=visit.id,
        site_id=visit.site_id,
        summary=f"{visit.visited_on} {visit.mode}",
        detail={"findings": len(model.findings)},
        ip=ip,
    )
    return get_visit(session, actor, visit.id or 0)


def add_finding(
    session: Session,
    actor: Principal,
    visit_id: int,
    data: dict[str, Any] | VisitFindingCreate,
    *,
    ip: str = "",
) -> VisitFinding:
    _require_write(actor)
    visit = _visit(session, actor, visit_id)
    model = data if isinstance(data, VisitFindingCreate) else parse(VisitFindingCreate, data)
    finding = _add_finding(session, actor, visit, model)
    audit.record(
        session,
        actor,
        "visit.finding",
        object_kind="visit",
        object_id=visit.id,
        site_id=visit.site_id,
        summary=model.description[:100],
        ip=ip,
    )
    return finding


def _add_finding(session: Session, actor: Principal, visit: Visit, model: VisitFindingCreate) -> VisitFinding:
    resolve_subject(
        session,
        actor,
        site_id=visit.site_id,
        window_id=model.window_id,
        post_id=model.post_id,
        staff_id=model.staff_id,
    )
    finding = VisitFinding(
        visit_id=visit.id or 0,
        description=model.description,
        window_id=model.window_id,
        post_id=model.post_id,
        staff_id=model.staff_id,
    )
    session.add(finding)
    session.flush()
    return finding


def _visit(session: Session, actor: Principal, visit_id: int) -> Visit:
    actor.require(Permission.COMPLAINTS_READ)
    visit = session.get(Visit, visit_id)
    if visit is None or not visibility.in_jurisdiction(session, actor, visit.site_id):
        raise NotFound("error.not_found_kind", kind="kind.visit", id=visit_id)
    return visit


def get_visit(session: Session, actor: Principal, visit_id: int) -> VisitDetail:
    visit = _visit(session, actor, visit_id)
    findings = session.exec(
        select(VisitFinding).where(col(VisitFinding.visit_id) == visit_id).order_by(col(VisitFinding.id))
    ).all()
    photos = session.exec(
        select(VisitPhoto).where(col(VisitPhoto.visit_id) == visit_id).order_by(col(VisitPhoto.id))
    ).all()
    return VisitDetail(visit=visit, findings=list(findings), photos=list(photos))


class VisitFilter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site_id: int | None = None
    window_id: int | None = None
    mode: VisitMode | None = None
    since: date | None = None
    until: date | None = None


def list_visits(
    session: Session,
    actor: Principal,
    filters: dict[str, Any] | VisitFilter | None = None,
    *,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Visit], int]:
    actor.require(Permission.COMPLAINTS_READ)
    f = filters if isinstance(filters, VisitFilter) else parse(VisitFilter, dict(filters or {}))
    where: list[ColumnElement[bool]] = [
        col(Visit.site_id).in_(select(Site.id).where(col(Site.path).startswith(actor.site_path, autoescape=True)))
    ]
    if f.site_id is not None:
        where.append(col(Visit.site_id) == f.site_id)
    if f.window_id is not None:
        where.append(col(Visit.window_id) == f.window_id)
    if f.mode is not None:
        where.append(col(Visit.mode) == f.mode.value)
    if f.since is not None:
        where.append(col(Visit.visited_on) >= f.since)
    if f.until is not None:
        where.append(col(Visit.visited_on) <= f.until)
    total = session.exec(select(func.count()).select_from(Visit).where(*where)).one()
    rows = session.exec(
        select(Visit)
        .where(*where)
        .order_by(col(Visit.visited_on).desc(), col(Visit.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    return list(rows), int(total)


# --- photos -----------------------------------------------------------------------------------


def sniff_image(content: bytes) -> str | None:
    """The image type the bytes really are, or None."""
    for magic, offset, kind in _SIGNATURES:
        if content[offset : offset + len(magic)] == magic and (kind != "image/webp" or content[:4] == b"RIFF"):
            return kind
    return None


def media_path(sha256: str, content_type: str) -> Path:
    """Where a photo lives: content-addressed, fanned out by the first two hex digits."""
    return get_settings().media_dir / "visits" / sha256[:2] / (sha256 + _EXT.get(content_type, ""))


def add_photo(
    session: Session, actor: Principal, visit_id: int, content: bytes, filename: str = "", *, ip: str = ""
) -> VisitPhoto:
    """Store a visit photo (JPEG, PNG or WebP, at most max_upload_mb); the same photo twice is kept once."""
    _require_write(actor)
    visit = _visit(session, actor, visit_id)
    limit_mb = get_settings().max_upload_mb
    if len(content) > limit_mb * 1024 * 1024:
        raise InvalidInput("photo", "error.upload_too_large", max=limit_mb)
    kind = sniff_image(content)
    accepted = get_complaints_settings().photo_types.split()
    if kind is None or kind not in accepted:
        raise InvalidInput("photo", "error.upload_type", expected=" / ".join(accepted))
    digest = hashlib.sha256(content).hexdigest()
    existing = session.exec(
        select(VisitPhoto).where(col(VisitPhoto.visit_id) == visit_id, col(VisitPhoto.sha256) == digest)
    ).first()
    if existing is not None:
        return existing
    path = media_path(digest, kind)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write then rename, so a reader never sees half a file under its final name.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(tmp, path)
    photo = VisitPhoto(
        visit_id=visit_id,
        sha256=digest,
        content_type=kind,
        size=len(content),
        filename=Path(filename).name[:200],
        uploaded_by=actor.audit_name[:80],
    )
    session.add(photo)
    session.flush()
    audit.record(
        session,
        actor,
        "visit.photo",
        object_kind="visit",
        object_id=visit_id,
        site_id=visit.site_id,
        summary=digest[:16],
        detail={"size": len(content), "type": kind},
        ip=ip,
    )
    return photo


def photo_file(session: Session, actor: Principal, photo_id: int) -> tuple[Path, str]:
    """The file and content type of a photo, for the web to send."""
    photo = session.get(VisitPhoto, photo_id)
    if photo is None:
        raise NotFound("error.not_found_kind", kind="kind.photo", id=photo_id)
    _visit(session, actor, photo.visit_id)
    return media_path(photo.sha256, photo.content_type), photo.content_type


# --- what a finding leads to ------------------------------------------------------------------


def _finding(session: Session, actor: Principal, finding_id: int) -> tuple[Visit, VisitFinding]:
    finding = session.get(VisitFinding, finding_id)
    if finding is None:
        raise NotFound("error.not_found_kind", kind="kind.visit_finding", id=finding_id)
    return _visit(session, actor, finding.visit_id), finding


def finding_to_order(
    session: Session,
    actor: Principal,
    finding_id: int,
    *,
    type: RequestType | str = RequestType.COMPLAINT,
    lead_department_id: int | None = None,
    ip: str = "",
) -> WorkOrderView:
    """Open a work order from a finding (channel: visit)."""
    _require_write(actor)
    visit, finding = _finding(session, actor, finding_id)
    if finding.work_order_id is not None:
        raise Conflict("complaints.error.finding_has_order")
    try:
        request_type = RequestType(type)
    except ValueError:
        raise InvalidInput("type", "error.choice", choices=", ".join(t.value for t in RequestType)) from None
    order = prepare_order(
        session,
        actor,
        WorkOrderCreate(
            channel=Channel.VISIT,
            type=request_type,
            content=finding.description,
            caller_name=actor.name[:60],
            site_id=visit.site_id,
            window_id=finding.window_id or visit.window_id,
            post_id=finding.post_id,
            staff_id=finding.staff_id,
            source_ref=f"visit_finding:{finding.id}",
            lead_department_id=lead_department_id,
        ),
        ip=ip,
    ).insert(session)
    finding.work_order_id = order.id
    session.add(finding)
    session.flush()
    return order_view(session, actor, order)


def finding_to_ledger(
    session: Session,
    actor: Principal,
    finding_id: int,
    *,
    points: float | None = None,
    reason: str = "",
    kind: str = "visit_finding",
    ip: str = "",
) -> LedgerEntry:
    """Record a finding straight in the performance ledger (e.g. off post at the visit).

    Without `points`, the points of the scoring rule set in force on the day of the visit (item visit.finding).
    """
    if not (actor.can(Permission.COMPLAINTS_WRITE) or actor.can(Permission.LEDGER_WRITE)):
        raise Forbidden("error.forbidden_permission", permission=Permission.LEDGER_WRITE.value)
    visit, finding = _finding(session, actor, finding_id)
    if finding.ledger_entry_id is not None:
        raise Conflict("complaints.error.finding_has_ledger")
    if points is None:
        points = scoring_points(session, ITEM_OF_KIND.get(kind, "visit.finding"), on=visit.visited_on)
    if not -100 <= points <= 100 or points == 0:
        raise InvalidInput("points", "complaints.error.points_range")
    if finding.staff_id is None and (finding.window_id or visit.window_id) is None:
        raise InvalidInput("staff_id", "error.ledger_needs_subject")
    entry = ledger.record_entry(
        session,
        actor=actor,
        day=visit.visited_on,
        kind=kind,
        points=points,
        reason=(reason or finding.description)[:400],
        source_kind="visit_finding",
        source_id=finding.id,
        staff_id=finding.staff_id,
        window_id=None if finding.staff_id else (finding.window_id or visit.window_id),
        ip=ip,
    )
    finding.ledger_entry_id = entry.id
    session.add(finding)
    session.flush()
    return entry
