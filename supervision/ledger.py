"""The performance ledger: every domain writes its scored facts here; scoring reads only this."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal, site_path_clause
from supervision.errors import Conflict, FieldProblem, InvalidInput, NotFound
from supervision.i18n import has_message, translate
from supervision.models import Department, Hall, LedgerEntry, Site, Staff, Window

# A reason written by the system is stored as a message key and its parameters, never as text in one
# language: "申诉成立 appeal granted: …" read wrong in both. `keyed_reason` writes one, `reason_key` reads it back;
# pages and the API render it in the reader's language. What a person typed is kept as typed.
_KEYED = "@"
_FREE_TEXT_PARAM = 300  # the whole reason column holds 400 characters: the key and JSON need the rest


def keyed_reason(key: str, **params: str) -> str:
    """A reason stored as `key` and `params` (each param a plain text or a message key), to render later."""
    short = {k: str(v)[:_FREE_TEXT_PARAM] for k, v in params.items()}
    return f"{_KEYED}{key} {json.dumps(short, ensure_ascii=False, separators=(',', ':'))}"[:400]


def reason_key(reason: str) -> tuple[str, dict[str, Any]] | None:
    """The key and parameters of a keyed reason; None for a reason a person typed."""
    if not reason.startswith(_KEYED):
        return None
    key, _, raw = reason[1:].partition(" ")
    try:
        params = json.loads(raw) if raw else {}
    except ValueError:
        return None
    if not key or not isinstance(params, dict):
        return None
    return key, {str(k): str(v) for k, v in params.items()}


def render_reason(reason: str, locale: str) -> str:
    """A stored reason as the reader reads it: a keyed one in their language, a typed one as typed."""
    keyed = reason_key(reason)
    if keyed is None or not has_message(keyed[0]):
        return reason
    return translate(keyed[0], locale, **keyed[1])


def refuse_closed_month(session: Session, *, day: date, site_path: str) -> None:
    """Refuse an entry dated in a month closed for its site: a correction goes into the next month instead."""
    # Imported here: the scoring package reads this module (reasons, entries) when it is first imported.
    from supervision.scoring.monthly import closing_for

    if closing_for(session, month=day, site_path=site_path) is not None:
        error = Conflict("error.month_closed", month=day.strftime("%Y-%m"))
        error.problems.append(FieldProblem("day", "error.month_closed", {"month": day.strftime("%Y-%m")}))
        raise error


def record_entry(
    session: Session,
    *,
    actor: Principal,
    day: date,
    kind: str,
    points: float,
    reason: str,
    source_kind: str,
    source_id: object,
    staff_id: int | None = None,
    window_id: int | None = None,
    ip: str = "",
) -> LedgerEntry:
    """Record a scored fact against a staff member and/or a window."""
    if staff_id is None and window_id is None:
        raise InvalidInput("staff_id", "error.ledger_needs_subject")
    if not kind.strip():
        raise InvalidInput("kind", "error.required")
    if not reason.strip():
        raise InvalidInput("reason", "error.required")
    if not source_kind.strip() or not str(source_id).strip():
        raise InvalidInput("source_kind", "error.ledger_needs_source")
    staff = session.get(Staff, staff_id) if staff_id is not None else None
    window = session.get(Window, window_id) if window_id is not None else None
    if staff_id is not None and staff is None:
        raise InvalidInput("staff_id", "error.unknown_ref", kind="kind.staff", value=staff_id)
    if window_id is not None and window is None:
        raise InvalidInput("window_id", "error.unknown_ref", kind="kind.window", value=window_id)
    if staff is not None and window is not None and staff.site_id != window.site_id:
        raise InvalidInput("window_id", "error.window_other_site")
    site_id = staff.site_id if staff is not None else window.site_id  # type: ignore[union-attr]
    site = session.get(Site, site_id)
    if site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.staff" if staff else "kind.window", id=staff_id or window_id)
    refuse_closed_month(session, day=day, site_path=site.path)
    entry = LedgerEntry(
        staff_id=staff_id,
        window_id=window_id,
        site_id=site_id,
        day=day,
        kind=kind.strip()[:40],
        points=points,
        reason=reason.strip()[:400],
        source_kind=source_kind.strip()[:40],
        source_id=str(source_id)[:40],
        recorded_by=actor.audit_name[:80],
    )
    session.add(entry)
    session.flush()
    audit.record(
        session, actor, "ledger.record", object_kind="ledger_entry", object_id=entry.id, site_id=site_id,
        summary=f"{kind} {points:+g}", detail={"source": f"{source_kind}:{source_id}", "reason": reason}, ip=ip,
    )
    return entry


def reverse_entry(session: Session, entry_id: int, *, actor: Principal, reason: str, ip: str = "",
                  allow_closed: bool = False) -> LedgerEntry:
    """Undo an entry by recording its opposite; the original stays.

    An entry of a closed month is refused unless `allow_closed` (a granted appeal, which refreezes the score).
    """
    original = session.get(LedgerEntry, entry_id)
    if original is None:
        raise NotFound("error.not_found_kind", kind="kind.ledger_entry", id=entry_id)
    site = session.get(Site, original.site_id)
    if site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.ledger_entry", id=entry_id)
    if not reason.strip():
        raise InvalidInput("reason", "error.required")
    if not allow_closed:
        refuse_closed_month(session, day=original.day, site_path=site.path)
    if original.reverses_id is not None:
        raise Conflict("error.ledger_reverse_reversal")
    already = session.exec(select(LedgerEntry).where(col(LedgerEntry.reverses_id) == entry_id)).first()
    if already is not None:
        raise Conflict("error.ledger_already_reversed", id=entry_id)
    reversal = LedgerEntry(
        staff_id=original.staff_id,
        window_id=original.window_id,
        site_id=original.site_id,
        day=original.day,
        kind=original.kind,
        points=-original.points,
        reason=reason.strip()[:400],
        source_kind=original.source_kind,
        source_id=original.source_id,
        recorded_by=actor.audit_name[:80],
        reverses_id=original.id,
    )
    session.add(reversal)
    session.flush()
    audit.record(
        session, actor, "ledger.reverse", object_kind="ledger_entry", object_id=reversal.id,
        site_id=original.site_id, summary=f"reverses #{original.id}", detail={"reason": reason}, ip=ip,
    )
    return reversal


def entries(
    session: Session,
    *,
    actor: Principal,
    staff_id: int | None = None,
    window_id: int | None = None,
    since: date | None = None,
    until: date | None = None,
    source_kind: str | None = None,
    source_id: str | None = None,
    offset: int = 0,
    limit: int = 100,
) -> tuple[Sequence[LedgerEntry], int]:
    """List entries the actor may see, newest first, with the total count."""
    from sqlmodel import func

    stmt = select(LedgerEntry).join(Site, col(Site.id) == LedgerEntry.site_id).where(site_path_clause(actor))
    if not actor.can(Permission.LEDGER_READ):
        # Window staff see their own entries only.
        stmt = stmt.where(col(LedgerEntry.staff_id) == (actor.staff_id if actor.staff_id is not None else -1))
    if staff_id is not None:
        stmt = stmt.where(col(LedgerEntry.staff_id) == staff_id)
    if window_id is not None:
        stmt = stmt.where(col(LedgerEntry.window_id) == window_id)
    if since is not None:
        stmt = stmt.where(col(LedgerEntry.day) >= since)
    if until is not None:
        stmt = stmt.where(col(LedgerEntry.day) <= until)
    if source_kind:
        stmt = stmt.where(col(LedgerEntry.source_kind) == source_kind)
    if source_id is not None:
        stmt = stmt.where(col(LedgerEntry.source_id) == source_id)
    total = session.exec(select(func.count()).select_from(stmt.subquery())).one()
    newest_first = (col(LedgerEntry.day).desc(), col(LedgerEntry.id).desc())
    rows = session.exec(stmt.order_by(*newest_first).offset(offset).limit(limit)).all()
    return rows, int(total)


def balance(session: Session, *, staff_id: int | None = None, window_id: int | None = None,
            since: date, until: date) -> float:
    """Sum of points (reversals included) over a period."""
    from sqlmodel import func

    stmt = select(func.coalesce(func.sum(LedgerEntry.points), 0.0)).where(
        col(LedgerEntry.day) >= since, col(LedgerEntry.day) <= until
    )
    if staff_id is not None:
        stmt = stmt.where(col(LedgerEntry.staff_id) == staff_id)
    if window_id is not None:
        stmt = stmt.where(col(LedgerEntry.window_id) == window_id)
    return float(session.exec(stmt).one())


def display_names(session: Session, rows: Sequence[LedgerEntry]) -> dict[str, dict[int, str]]:
    """Names of the staff and windows a page of entries refers to."""
    staff_ids = {r.staff_id for r in rows if r.staff_id is not None}
    window_ids = {r.window_id for r in rows if r.window_id is not None}
    staff = {s.id or 0: s.name for s in session.exec(select(Staff).where(col(Staff.id).in_(staff_ids)))}
    windows = {w.id or 0: w.name for w in session.exec(select(Window).where(col(Window.id).in_(window_ids)))}
    return {"staff": staff, "window": windows}


@dataclass(frozen=True)
class Subjects:
    """What a page of entries calls the people and windows it names."""

    staff: dict[int, str]
    windows: dict[int, str]  # the window's name
    window_places: dict[int, str]  # its hall and department ("公共服务大厅 · 市公安局"), empty when it has neither


def subjects(session: Session, rows: Sequence[LedgerEntry]) -> Subjects:
    """Names of the staff and windows a page of entries refers to, each window with its hall and department."""
    names = display_names(session, rows)
    window_ids = set(names["window"])
    places: dict[int, str] = {}
    if window_ids:
        stmt = (
            select(Window.id, Hall.name, Department.name)
            .join(Hall, col(Hall.id) == Window.hall_id, isouter=True)
            .join(Department, col(Department.id) == Window.department_id, isouter=True)
            .where(col(Window.id).in_(window_ids))
        )
        for window_id, hall, department in session.exec(stmt).all():
            places[window_id or 0] = " · ".join(part for part in (hall, department) if part)
    return Subjects(staff=names["staff"], windows=names["window"], window_places=places)


def reversed_among(session: Session, entry_ids: Sequence[int | None]) -> set[int]:
    """Which of these entries already have a reversal."""
    ids = [i for i in entry_ids if i is not None]
    found = session.exec(select(LedgerEntry.reverses_id).where(col(LedgerEntry.reverses_id).in_(ids))).all()
    return {i for i in found if i is not None}
