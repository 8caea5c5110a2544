"""Notices (通报): criticism and commendation, drafted, approved by someone else, published to a board.

Drafting and publishing take COMPLAINTS_WRITE or LEDGER_WRITE; approving takes LEDGER_WRITE
(the officers and managers who decide discipline) and must be done by someone other than the drafter.
The board shows every principal, window staff included, the notices published at their own site,
at the sites above it (a city notice reaches every township) and, for those with a wider jurisdiction,
at the sites below.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, literal, or_
from sqlmodel import Session, col, func, select

from complaints import visibility
from complaints.models import Notice, NoticeCreate, NoticeKind, NoticeState
from complaints.workorders import Clock
from supervision import audit
from supervision.access import Permission, Principal
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import Site
from supervision.org import parse


def _require_editor(actor: Principal) -> None:
    if not (actor.can(Permission.COMPLAINTS_WRITE) or actor.can(Permission.LEDGER_WRITE)):
        raise Forbidden("error.forbidden_permission", permission=Permission.COMPLAINTS_WRITE.value)


def draft_notice(session: Session, actor: Principal, data: dict[str, Any] | NoticeCreate, *, ip: str = "") -> Notice:
    _require_editor(actor)
    model = data if isinstance(data, NoticeCreate) else parse(NoticeCreate, data)
    if not visibility.in_jurisdiction(session, actor, model.site_id):
        raise InvalidInput("site_id", "error.unknown_ref", kind="kind.site", value=model.site_id)
    notice = Notice(
        kind=model.kind.value,
        title=model.title,
        body=model.body,
        site_id=model.site_id,
        source_ref=model.source_ref,
        drafted_by=actor.audit_name[:80],
        drafted_by_id=actor.id,
    )
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor,
        "notice.draft",
        object_kind="notice",
        object_id=notice.id,
        site_id=notice.site_id,
        summary=notice.title[:100],
        ip=ip,
    )
    return notice


def revise_notice(session: Session, actor: Principal, notice_id: int, data: dict[str, Any], *, ip: str = "") -> Notice:
    """Change a draft (title, body, kind); approved or published notices are not edited."""
    _require_editor(actor)
    notice = _notice(session, actor, notice_id)
    if notice.state != NoticeState.DRAFT.value:
        raise Conflict("complaints.error.notice_not_draft")
    merged = parse(
        NoticeCreate,
        {
            "kind": notice.kind,
            "title": notice.title,
            "body": notice.body,
            "site_id": notice.site_id,
            "source_ref": notice.source_ref,
            **data,
        },
    )
    before = {"title": notice.title, "kind": notice.kind}
    notice.kind, notice.title, notice.body = merged.kind.value, merged.title, merged.body
    notice.source_ref = merged.source_ref
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor,
        "notice.revise",
        object_kind="notice",
        object_id=notice.id,
        site_id=notice.site_id,
        summary=notice.title[:100],
        detail={"before": before},
        ip=ip,
    )
    return notice


def approve_notice(session: Session, actor: Principal, notice_id: int, *, ip: str = "") -> Notice:
    actor.require(Permission.LEDGER_WRITE)
    notice = _notice(session, actor, notice_id)
    if notice.state != NoticeState.DRAFT.value:
        raise Conflict("complaints.error.notice_not_draft")
    if notice.drafted_by == actor.audit_name:
        raise Conflict("complaints.error.approve_own_notice")
    notice.state = NoticeState.APPROVED.value
    notice.approved_by = actor.audit_name[:80]
    notice.approved_at = Clock.at().now
    return _save(session, actor, notice, "notice.approve", ip)


def publish_notice(
    session: Session, actor: Principal, notice_id: int, *, ip: str = "", now: datetime | None = None
) -> Notice:
    _require_editor(actor)
    notice = _notice(session, actor, notice_id)
    if notice.state != NoticeState.APPROVED.value:
        raise Conflict("complaints.error.notice_not_approved")
    notice.state = NoticeState.PUBLISHED.value
    notice.published_at = Clock.at(now).now
    return _save(session, actor, notice, "notice.publish", ip)


def withdraw_notice(session: Session, actor: Principal, notice_id: int, reason: str, *, ip: str = "") -> Notice:
    actor.require(Permission.LEDGER_WRITE)
    notice = _notice(session, actor, notice_id)
    if notice.state != NoticeState.PUBLISHED.value:
        raise Conflict("complaints.error.notice_not_published")
    if not reason.strip():
        raise InvalidInput("reason", "error.required")
    notice.state = NoticeState.WITHDRAWN.value
    notice.withdrawn_reason = reason.strip()[:400]
    return _save(session, actor, notice, "notice.withdraw", ip)


def _save(session: Session, actor: Principal, notice: Notice, action: str, ip: str) -> Notice:
    session.add(notice)
    session.flush()
    audit.record(
        session,
        actor,
        action,
        object_kind="notice",
        object_id=notice.id,
        site_id=notice.site_id,
        summary=notice.title[:100],
        ip=ip,
    )
    return notice


def _notice(session: Session, actor: Principal, notice_id: int) -> Notice:
    notice = session.get(Notice, notice_id)
    if notice is None or not visibility.in_jurisdiction(session, actor, notice.site_id):
        raise NotFound("error.not_found_kind", kind="kind.notice", id=notice_id)
    return notice


def list_notices(
    session: Session,
    actor: Principal,
    *,
    state: NoticeState | str | None = None,
    kind: NoticeKind | str | None = None,
    offset: int = 0,
    limit: int = 50,
) -> tuple[list[Notice], int]:
    """The editors' list: every notice of the jurisdiction in any state."""
    _require_editor(actor)
    where: list[ColumnElement[bool]] = [
        col(Notice.site_id).in_(select(Site.id).where(col(Site.path).startswith(actor.site_path, autoescape=True)))
    ]
    if state:
        where.append(col(Notice.state) == NoticeState(state).value)
    if kind:
        where.append(col(Notice.kind) == NoticeKind(kind).value)
    total = session.exec(select(func.count()).select_from(Notice).where(*where)).one()
    rows = session.exec(
        select(Notice)
        .where(*where)
        .order_by(col(Notice.drafted_at).desc(), col(Notice.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 500))
    ).all()
    return list(rows), int(total)


def notice_board(session: Session, actor: Principal, *, offset: int = 0, limit: int = 20) -> tuple[list[Notice], int]:
    """Published notices for anyone: from the actor's site, the sites above it and those below."""
    above = literal(actor.site_path).startswith(col(Site.path))
    below = col(Site.path).startswith(actor.site_path, autoescape=True)
    sites = select(Site.id).where(or_(above, below))
    where = [col(Notice.state) == NoticeState.PUBLISHED.value, col(Notice.site_id).in_(sites)]
    total = session.exec(select(func.count()).select_from(Notice).where(*where)).one()
    rows = session.exec(
        select(Notice)
        .where(*where)
        .order_by(col(Notice.published_at).desc(), col(Notice.id).desc())
        .offset(max(offset, 0))
        .limit(min(max(limit, 1), 200))
    ).all()
    return list(rows), int(total)


def get_notice(session: Session, actor: Principal, notice_id: int) -> Notice:
    """One notice: published ones for anyone who can see them on the board, drafts for editors."""
    notice = session.get(Notice, notice_id)
    if notice is not None and notice.state == NoticeState.PUBLISHED.value:
        site = session.get(Site, notice.site_id)
        if site is not None and (actor.site_path.startswith(site.path) or actor.covers_path(site.path)):
            return notice
    _require_editor(actor)
    return _notice(session, actor, notice_id)
