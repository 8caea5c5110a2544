"""The month's scores from the ledger: computed live until the month is closed, then frozen (stored) rows.

A subject's month: base (the rule set's) + each item's net points over the month's ledger entries, each item
capped by its own monthly cap, then the deductions and the bonuses capped by the month caps. Who an entry
scores: a person (its staff), a window (its window), a department (the department of its window, or of its
person when it names no window) — each only for items whose `applies_to` names that kind.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import NamedTuple

from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal, check_site
from supervision.db import after_read, utcnow
from supervision.errors import Conflict, Forbidden, InvalidInput, NotFound
from supervision.models import Department, LedgerEntry, Site, Staff, Window
from supervision.scoring.models import MonthClose, MonthlyScore, ScoringItem
from supervision.scoring.rules import (
    ITEM_OF_KIND,
    SUBJECT_KINDS,
    item_label,
    item_of_entry,
    items_in_force,
    rule_set_in_force,
)
from supervision.settings import get_settings

CLOSED = "closed"
REOPENED = "reopened"


@dataclass(frozen=True)
class ItemLine:
    """One rule item's effect on one subject's month."""

    key: str
    label: str
    rule_version: str
    raw_points: float
    points: float  # after the item's cap
    cap: float | None
    entry_ids: tuple[int, ...]


@dataclass(frozen=True)
class ScoreRow:
    subject_kind: str
    subject_id: int
    name: str
    site_id: int
    base: float
    deductions: float  # <= 0, after the month's deduction cap
    bonuses: float  # >= 0, after the month's bonus cap
    final: float  # base + deductions + bonuses
    rank: int
    items: tuple[ItemLine, ...]
    revision: int = 1


@dataclass(frozen=True)
class MonthView:
    month: date
    site_id: int
    closed: bool
    published: bool
    rule_version: str
    rows: list[ScoreRow] = field(default_factory=list)


CloseCheck = Callable[[Session, date, str], list[str]]
_CLOSE_CHECKS: list[CloseCheck] = []


def register_close_check(check: CloseCheck) -> None:
    """Ask `check(session, month, site_path)` before every close: what it lists must be decided first (or forced)."""
    if check not in _CLOSE_CHECKS:
        _CLOSE_CHECKS.append(check)


# --- months -------------------------------------------------------------------------------------


def first_of(month: date) -> date:
    return month.replace(day=1)


def month_end(month: date) -> date:
    nxt = (first_of(month) + timedelta(days=32)).replace(day=1)
    return nxt - timedelta(days=1)


def month_text(month: date) -> str:
    return month.strftime("%Y-%m")


def parse_month(text: str, *, field_name: str = "month") -> date:
    """A "YYYY-MM" month as its first day; a clear refusal naming the field otherwise."""
    try:
        year, mon = text.strip().split("-")
        if len(year) != 4 or len(mon) != 2:
            raise ValueError(text)
        return date(int(year), int(mon), 1)
    except ValueError:
        raise InvalidInput(field_name, "error.scoring_month_format", value=text[:20]) from None


def local_today() -> date:
    return datetime.now(get_settings().tz).date()


# --- computing ----------------------------------------------------------------------------------


def _round(value: float) -> float:
    return round(value + 0.0, 2)


def _capped(raw: float, cap: float | None) -> float:
    if cap is None:
        return raw
    return max(raw, -cap) if raw < 0 else min(raw, cap)


class _Entry(NamedTuple):
    """The columns of a ledger entry that scoring reads (plain tuples: 5,000 ORM objects cost ~0.3 s)."""

    id: int
    staff_id: int | None
    window_id: int | None
    kind: str
    points: float
    reason: str


def _score(kind: str, subject_id: int, name: str, site_id: int, entries: Iterable[tuple[str, _Entry]],
           items: dict[str, ScoringItem], base: float, deduction_cap: float | None, bonus_cap: float | None,
           version: str) -> ScoreRow:
    by_item: dict[str, list[_Entry]] = defaultdict(list)
    for key, entry in entries:
        by_item[key].append(entry)
    lines = []
    for key in sorted(by_item):
        rows = by_item[key]
        item = items.get(key)
        raw = _round(sum(e.points for e in rows))
        cap = item.cap if item is not None else None
        lines.append(ItemLine(key=key, label=item_label(key, "zh-CN"), rule_version=version, raw_points=raw,
                              points=_round(_capped(raw, cap)), cap=cap, entry_ids=tuple(sorted(e.id for e in rows))))
    deductions = sum(line.points for line in lines if line.points < 0)
    bonuses = sum(line.points for line in lines if line.points > 0)
    if deduction_cap is not None:
        deductions = max(deductions, -deduction_cap)
    if bonus_cap is not None:
        bonuses = min(bonuses, bonus_cap)
    deductions, bonuses = _round(deductions), _round(bonuses)
    return ScoreRow(subject_kind=kind, subject_id=subject_id, name=name, site_id=site_id, base=base,
                    deductions=deductions, bonuses=bonuses, final=_round(base + deductions + bonuses), rank=0,
                    items=tuple(lines))


def _ranked(rows: Sequence[ScoreRow]) -> list[ScoreRow]:
    """Rank within each kind, highest final first; equal finals share a rank (1, 1, 3)."""
    out: list[ScoreRow] = []
    for kind in SUBJECT_KINDS:
        ordered = sorted((r for r in rows if r.subject_kind == kind), key=lambda r: (-r.final, r.name, r.subject_id))
        rank, previous = 0, None
        for n, row in enumerate(ordered, start=1):
            if row.final != previous:
                rank, previous = n, row.final
            out.append(_with(row, rank=rank))
    return out


def _with(row: ScoreRow, **changes: object) -> ScoreRow:
    from dataclasses import replace

    return replace(row, **changes)  # type: ignore[arg-type]


def compute_month(session: Session, *, month: date, site_path: str) -> list[ScoreRow]:
    """Score every person, window and department under `site_path` for a month (no permission check)."""
    start, end = first_of(month), month_end(month)
    rule_set = rule_set_in_force(session, on=start)
    items = items_in_force(session, on=start)
    subjects_of = {key: frozenset(p.strip() for p in item.applies_to.split(",")) for key, item in items.items()}
    under = col(Site.path).startswith(site_path, autoescape=True)
    site_ids = [sid for sid in session.exec(select(Site.id).where(under)) if sid is not None]
    # Wide column lists: SQLAlchemy's select (SQLModel's types at most four columns).
    entries = [_Entry(*row) for row in session.execute(
        sa_select(col(LedgerEntry.id), col(LedgerEntry.staff_id), col(LedgerEntry.window_id), col(LedgerEntry.kind),
                  col(LedgerEntry.points), col(LedgerEntry.reason))
        .join(Site, col(Site.id) == LedgerEntry.site_id)
        .where(under, col(LedgerEntry.day) >= start, col(LedgerEntry.day) <= end)
        .order_by(col(LedgerEntry.id))).all()]
    staff_with_entries = {e.staff_id for e in entries if e.staff_id is not None}
    staff = [(sid, name, site, dept) for sid, name, site, dept, active in session.execute(
        sa_select(col(Staff.id), col(Staff.name), col(Staff.site_id), col(Staff.department_id), col(Staff.active))
        .where(col(Staff.site_id).in_(site_ids))) if active or sid in staff_with_entries]
    windows = session.execute(sa_select(col(Window.id), col(Window.number), col(Window.name), col(Window.site_id),
                                        col(Window.department_id)).where(col(Window.site_id).in_(site_ids))).all()
    departments = session.execute(sa_select(col(Department.id), col(Department.name), col(Department.site_id))
                               .where(col(Department.site_id).in_(site_ids))).all()
    department_of_window = {w[0]: w[4] for w in windows}
    department_of_staff = {s[0]: s[3] for s in staff}

    per: dict[tuple[str, int], list[tuple[str, _Entry]]] = defaultdict(list)
    late_items: dict[str, str] = {}
    for entry in entries:
        if entry.kind == "late":  # the reason tells the size and side (cached: reasons repeat)
            key = late_items.get(entry.reason)
            if key is None:
                key = late_items[entry.reason] = item_of_entry(entry.kind, entry.reason)
        else:
            key = ITEM_OF_KIND.get(entry.kind, "adjustment")
        subjects = subjects_of.get(key)
        if subjects is None:
            continue
        if entry.staff_id is not None and "staff" in subjects:
            per[("staff", entry.staff_id)].append((key, entry))
        if entry.window_id is not None and "window" in subjects:
            per[("window", entry.window_id)].append((key, entry))
        if "department" in subjects:
            dept = (department_of_window.get(entry.window_id) if entry.window_id is not None
                    else department_of_staff.get(entry.staff_id))
            if dept is not None:
                per[("department", dept)].append((key, entry))

    def score(kind: str, subject_id: int | None, name: str, site_id: int) -> ScoreRow:
        return _score(kind, subject_id or 0, name, site_id, per.get((kind, subject_id or 0), ()), items,
                      rule_set.base, rule_set.deduction_cap, rule_set.bonus_cap, rule_set.version)

    rows = [score("staff", sid, name, site) for sid, name, site, _ in staff]
    rows += [score("window", wid, f"{number} {name}".strip() if number else name, site)
             for wid, number, name, site, _ in windows]
    rows += [score("department", did, name, site) for did, name, site in departments]
    return _ranked(rows)


# --- frozen rows --------------------------------------------------------------------------------


def _line_dict(line: ItemLine) -> dict[str, object]:
    return {"key": line.key, "label": line.label, "rule_version": line.rule_version, "raw_points": line.raw_points,
            "points": line.points, "cap": line.cap, "entry_ids": list(line.entry_ids)}


def _line(data: dict[str, object]) -> ItemLine:
    cap = data.get("cap")
    ids = data.get("entry_ids") or []
    assert isinstance(ids, list)
    return ItemLine(key=str(data["key"]), label=str(data.get("label", "")), rule_version=str(data["rule_version"]),
                    raw_points=float(data["raw_points"]), points=float(data["points"]),  # type: ignore[arg-type]
                    cap=float(cap) if cap is not None else None,  # type: ignore[arg-type]
                    entry_ids=tuple(int(i) for i in ids))


def row_of(stored: MonthlyScore) -> ScoreRow:
    """A stored (frozen) score as a ScoreRow."""
    return ScoreRow(subject_kind=stored.subject_kind, subject_id=stored.subject_id, name=stored.name,
                    site_id=stored.site_id, base=stored.base, deductions=stored.deductions, bonuses=stored.bonuses,
                    final=stored.final, rank=stored.rank,
                    items=tuple(_line(d) for d in json.loads(stored.items_json or "[]")), revision=stored.revision)


def _stored(close: MonthClose, row: ScoreRow, *, revision: int = 1, reason: str = "") -> MonthlyScore:
    return MonthlyScore(close_id=close.id or 0, month=close.month, subject_kind=row.subject_kind,
                        subject_id=row.subject_id, site_id=row.site_id, name=row.name[:120], base=row.base,
                        deductions=row.deductions, bonuses=row.bonuses, final=row.final, rank=row.rank,
                        items_json=json.dumps([_line_dict(x) for x in row.items], ensure_ascii=False),
                        revision=revision, change_reason=reason[:400])


def _current_rows(session: Session, close_ids: Sequence[int]) -> list[MonthlyScore]:
    if not close_ids:
        return []
    return list(session.exec(select(MonthlyScore).where(col(MonthlyScore.close_id).in_(list(close_ids)),
                                                        col(MonthlyScore.superseded_at).is_(None))).all())


def _ancestor_ids(path: str) -> list[int]:
    return [int(p) for p in path.strip("/").split("/") if p]


def closing_for(session: Session, *, month: date, site_path: str) -> MonthClose | None:
    """The active close covering a site (the outermost one, when a county closed before its city did)."""
    ids = _ancestor_ids(site_path)
    if not ids:
        return None
    found = session.exec(select(MonthClose).where(col(MonthClose.month) == first_of(month),
                                                  col(MonthClose.status) == CLOSED,
                                                  col(MonthClose.site_id).in_(ids))).all()
    if not found:
        return None
    return min(found, key=lambda c: ids.index(c.site_id))


def _closes_within(session: Session, *, month: date, site_path: str) -> list[MonthClose]:
    """The active closes of a month at or under a site."""
    return list(session.exec(select(MonthClose).join(Site, col(Site.id) == MonthClose.site_id).where(
        col(MonthClose.month) == first_of(month), col(MonthClose.status) == CLOSED,
        col(Site.path).startswith(site_path, autoescape=True))).all())


def _frozen(session: Session, *, month: date, site_path: str) -> list[ScoreRow] | None:
    """The frozen rows under a site when a close covers it; None when its month is open there."""
    close = closing_for(session, month=month, site_path=site_path)
    if close is None:
        return None
    paths = {sid: p for sid, p in session.exec(select(Site.id, Site.path).where(
        col(Site.path).startswith(site_path, autoescape=True)))}
    rows = [row_of(r) for r in _current_rows(session, [close.id or 0]) if r.site_id in paths]
    return rows


def _site_for(session: Session, actor: Principal, site_id: int | None) -> Site:
    if site_id is not None:
        return check_site(session, actor, site_id)
    if actor.site_id is not None:
        return check_site(session, actor, actor.site_id)
    top = session.exec(select(Site).where(col(Site.depth) == 0).order_by(col(Site.id))).first()
    if top is None:
        raise NotFound("error.not_found_kind", kind="kind.site", id="-")
    return top


def _may_read(actor: Principal) -> bool:
    return actor.can(Permission.SCORING_READ)


def month_view(session: Session, *, actor: Principal, month: date, subject_kind: str | None = None,
               site_id: int | None = None) -> MonthView:
    """A month's scores in the actor's jurisdiction (or a site of it): frozen when closed, live until then.

    Window staff see their own row only, and only once the month is published.
    """
    if not _may_read(actor):
        actor.require(Permission.OWN_RECORDS)
    if subject_kind is not None and subject_kind not in SUBJECT_KINDS:
        raise InvalidInput("kind", "error.scoring_subject_kind", value=subject_kind[:20])
    month = first_of(month)
    site = _site_for(session, actor, site_id)
    close = closing_for(session, month=month, site_path=site.path)
    if close is not None:
        rows = _frozen(session, month=month, site_path=site.path) or []
        if close.site_id != site.id:
            rows = _ranked(rows)  # ranked within the part of the close the reader looks at
        version = close.rule_version
    else:
        rows = compute_month(session, month=month, site_path=site.path)
        version = rule_set_in_force(session, on=month).version
    published = close is not None and close.published_at is not None
    if not _may_read(actor):
        rows = [r for r in rows if published and r.subject_kind == "staff" and r.subject_id == actor.staff_id]
    if subject_kind is not None:
        rows = [r for r in rows if r.subject_kind == subject_kind]
    rows.sort(key=lambda r: (SUBJECT_KINDS.index(r.subject_kind), r.rank, r.name))
    return MonthView(month=month, site_id=site.id or 0, closed=close is not None, published=published,
                     rule_version=version, rows=rows)


_SUBJECT_MODELS: dict[str, type[Staff] | type[Window] | type[Department]] = {
    "staff": Staff, "window": Window, "department": Department}


def _subject_site(session: Session, actor: Principal, subject_kind: str, subject_id: int) -> Site:
    """The site of a subject the actor may read about; NotFound for one outside their reach."""
    model = _SUBJECT_MODELS.get(subject_kind)
    if model is None:
        raise InvalidInput("kind", "error.scoring_subject_kind", value=subject_kind[:20])
    subject = session.get(model, subject_id)
    site_id = getattr(subject, "site_id", None) if subject is not None else None
    site = session.get(Site, site_id) if site_id is not None else None
    visible = site is not None and actor.covers_path(site.path) and (
        _may_read(actor) or (subject_kind == "staff" and actor.staff_id == subject_id
                             and actor.can(Permission.OWN_RECORDS)))
    if site is None or not visible:
        raise NotFound("error.not_found_kind", kind=f"kind.{subject_kind}", id=subject_id)
    return site


def explain(session: Session, *, actor: Principal, month: date, subject_kind: str,
            subject_id: int) -> tuple[ScoreRow, list[LedgerEntry]]:
    """One subject's month with the ledger entries behind each item (the view is audited)."""
    month = first_of(month)
    site = _subject_site(session, actor, subject_kind, subject_id)
    close = closing_for(session, month=month, site_path=site.path)
    if not _may_read(actor) and (close is None or close.published_at is None):
        raise NotFound("error.not_found_kind", kind=f"kind.{subject_kind}", id=subject_id)
    # Ranked as on the reader's month page (their jurisdiction).
    view = month_view(session, actor=actor, month=month, subject_kind=subject_kind,
                      site_id=actor.site_id if actor.site_id is not None else site.id)
    row = next((r for r in view.rows if r.subject_id == subject_id), None)
    if row is None:
        raise NotFound("error.not_found_kind", kind=f"kind.{subject_kind}", id=subject_id)
    ids = [i for line in row.items for i in line.entry_ids]
    entries = list(session.exec(select(LedgerEntry).where(col(LedgerEntry.id).in_(ids))
                                .order_by(col(LedgerEntry.day), col(LedgerEntry.id))).all()) if ids else []
    if subject_kind == "staff" and actor.staff_id != subject_id:
        # A person's score and its reasons are personal: who looked is on record.
        def _audit(s: Session) -> None:
            audit.record(s, actor, "view.monthly_score", object_kind="staff", object_id=subject_id,
                         site_id=site.id, summary=f"{month_text(month)} {subject_kind} {subject_id}")
        if not after_read(session, _audit):
            _audit(session)
    return row, entries


# --- closing ------------------------------------------------------------------------------------


def close_month(session: Session, *, actor: Principal, month: date, site_id: int | None = None,
                force: bool = False, ip: str = "") -> MonthClose:
    """Close a month for the actor's jurisdiction (or a site of it): every score is computed once and stored."""
    actor.require(Permission.SCORING_MANAGE)
    month = first_of(month)
    if month_end(month) >= local_today():
        raise InvalidInput("month", "error.month_not_ended", month=month_text(month))
    site = _site_for(session, actor, site_id)
    existing = closing_for(session, month=month, site_path=site.path)
    if existing is not None:
        raise Conflict("error.month_already_closed", month=month_text(month))
    found: list[str] = []
    for check in _CLOSE_CHECKS:
        found.extend(check(session, month, site.path))
    if found and not force:
        raise Conflict("error.month_close_checks", month=month_text(month), items="; ".join(found)[:600])
    rows = compute_month(session, month=month, site_path=site.path)
    # A county closed before its city: its rows are already frozen and stay as they were.
    inner = _closes_within(session, month=month, site_path=site.path)
    if inner:
        frozen = {(r.subject_kind, r.subject_id): row_of(r) for r in _current_rows(session, [c.id or 0 for c in inner])}
        rows = _ranked([frozen.get((r.subject_kind, r.subject_id), r) for r in rows])
    close = MonthClose(month=month, site_id=site.id or 0, status=CLOSED,
                       rule_version=rule_set_in_force(session, on=month).version, closed_by=actor.audit_name[:80],
                       forced_over="\n".join(found))
    session.add(close)
    try:
        session.flush()
    except IntegrityError:
        # Another manager closed it a moment ago (the unique index on active closes held).
        raise Conflict("error.month_already_closed", month=month_text(month)) from None
    session.add_all([_stored(close, r, revision=r.revision, reason="") for r in rows])
    session.flush()
    audit.record(session, actor, "scoring.month_close", object_kind="month_close", object_id=close.id,
                 site_id=site.id, summary=f"{month_text(month)} {site.name}",
                 detail={"rows": len(rows), "forced_over": found}, ip=ip)
    return close


def _close_of(session: Session, actor: Principal, month: date, site_id: int | None) -> tuple[MonthClose, Site]:
    site = _site_for(session, actor, site_id)
    close = closing_for(session, month=month, site_path=site.path)
    if close is None:
        raise Conflict("error.month_not_closed", month=month_text(month))
    close_site = session.get(Site, close.site_id)
    if close_site is None or not actor.covers_path(close_site.path):
        # Closed above the reader's reach: the one who closed it decides.
        raise Forbidden("error.month_closed_above", month=month_text(month))
    return close, close_site


def publish_month(session: Session, *, actor: Principal, month: date, site_id: int | None = None,
                  ip: str = "") -> MonthClose:
    """Publish a closed month's scores: staff see their own, and may appeal from now on."""
    actor.require(Permission.SCORING_MANAGE)
    month = first_of(month)
    close, close_site = _close_of(session, actor, month, site_id)
    if close.published_at is not None:
        raise Conflict("error.month_already_published", month=month_text(month))
    close.published_at = utcnow()
    close.published_by = actor.audit_name[:80]
    session.add(close)
    session.flush()
    audit.record(session, actor, "scoring.month_publish", object_kind="month_close", object_id=close.id,
                 site_id=close_site.id, summary=f"{month_text(month)} {close_site.name}", ip=ip)
    return close


def is_top_admin(actor: Principal) -> bool:
    """An admin of the top of the site tree (or the system)."""
    return actor.kind == "system" or actor.site_path.count("/") <= 2


def reopen_month(session: Session, *, actor: Principal, month: date, site_id: int, reason: str,
                 ip: str = "") -> MonthClose:
    """Reopen a closed month (a city admin, with a reason): its frozen rows stay as history."""
    actor.require(Permission.SCORING_WRITE)
    if not is_top_admin(actor):
        raise Forbidden("error.month_reopen_city_only")
    if not reason.strip():
        raise InvalidInput("reason", "error.required")
    if len(reason) > 400:
        raise InvalidInput("reason", "error.too_long", max=400)
    month = first_of(month)
    close, close_site = _close_of(session, actor, month, site_id)
    close.status = REOPENED
    close.reopened_at = utcnow()
    close.reopened_by = actor.audit_name[:80]
    close.reopen_reason = reason.strip()
    session.add(close)
    session.flush()
    audit.record(session, actor, "scoring.month_reopen", object_kind="month_close", object_id=close.id,
                 site_id=close_site.id, summary=f"{month_text(month)} {close_site.name}",
                 detail={"reason": reason.strip()}, ip=ip)
    return close


def refreeze(session: Session, *, close: MonthClose, subject_kind: str, subject_id: int, reason: str) -> ScoreRow:
    """Recompute one stored subject of a closed month (after an appeal grant); the old revision stays as history."""
    site = session.get(Site, close.site_id)
    if site is None:
        raise NotFound("error.not_found_kind", kind="kind.site", id=close.site_id)
    current = _current_rows(session, [close.id or 0])
    old = next((r for r in current if r.subject_kind == subject_kind and r.subject_id == subject_id), None)
    if old is None:
        raise NotFound("error.not_found_kind", kind=f"kind.{subject_kind}", id=subject_id)
    subject_site = session.get(Site, old.site_id)
    fresh = compute_month(session, month=close.month, site_path=subject_site.path if subject_site else site.path)
    new = next((r for r in fresh if r.subject_kind == subject_kind and r.subject_id == subject_id), None)
    if new is None:
        raise NotFound("error.not_found_kind", kind=f"kind.{subject_kind}", id=subject_id)
    old.superseded_at = utcnow()
    session.add(old)
    session.flush()
    stored = _stored(close, _with(new, rank=old.rank), revision=old.revision + 1, reason=reason)
    session.add(stored)
    session.flush()
    # The ranks of the kind follow the new final; nobody's score but this one changed.
    others = [r for r in current if r.subject_kind == subject_kind and r.id != old.id] + [stored]
    ranked = {(r.subject_kind, r.subject_id): r.rank for r in _ranked([row_of(r) for r in others])}
    for r in others:
        rank = ranked[(r.subject_kind, r.subject_id)]
        if r.rank != rank:
            r.rank = rank
            session.add(r)
    session.flush()
    return row_of(stored)


def score_history(session: Session, *, actor: Principal, month: date, subject_kind: str,
                  subject_id: int) -> list[MonthlyScore]:
    """Every stored revision of a subject's month, oldest first (reopened closes included)."""
    _subject_site(session, actor, subject_kind, subject_id)
    rows = session.exec(select(MonthlyScore).where(
        col(MonthlyScore.month) == first_of(month), col(MonthlyScore.subject_kind) == subject_kind,
        col(MonthlyScore.subject_id) == subject_id).order_by(col(MonthlyScore.id))).all()
    if not _may_read(actor):
        published = {c.id for c in session.exec(select(MonthClose).where(
            col(MonthClose.id).in_([r.close_id for r in rows]), col(MonthClose.published_at).is_not(None)))}
        rows = [r for r in rows if r.close_id in published]
    return list(rows)


def trend(session: Session, *, actor: Principal, subject_kind: str, subject_id: int, until: date,
          months: int = 12) -> list[tuple[date, float | None]]:
    """A subject's frozen final score per month, oldest first; None for a month not closed (or not published)."""
    site = _subject_site(session, actor, subject_kind, subject_id)
    if months < 1 or months > 120:
        raise InvalidInput("months", "error.scoring_months_range")
    wanted: list[date] = []
    cursor = first_of(until)
    for _ in range(months):
        wanted.append(cursor)
        cursor = first_of(cursor - timedelta(days=1))
    wanted.reverse()
    ids = _ancestor_ids(site.path)
    closes = session.exec(select(MonthClose).where(col(MonthClose.month).in_(wanted),
                                                   col(MonthClose.status) == CLOSED,
                                                   col(MonthClose.site_id).in_(ids))).all()
    chosen: dict[date, MonthClose] = {}
    for c in closes:
        if c.month not in chosen or ids.index(c.site_id) < ids.index(chosen[c.month].site_id):
            chosen[c.month] = c
    if not _may_read(actor):
        chosen = {m: c for m, c in chosen.items() if c.published_at is not None}
    finals: dict[int, float] = {}
    if chosen:
        for r in session.exec(select(MonthlyScore).where(
                col(MonthlyScore.close_id).in_([c.id for c in chosen.values()]),
                col(MonthlyScore.subject_kind) == subject_kind, col(MonthlyScore.subject_id) == subject_id,
                col(MonthlyScore.superseded_at).is_(None))):
            finals[r.close_id] = r.final
    return [(m, finals.get(chosen[m].id or 0) if m in chosen else None) for m in wanted]


def closes(session: Session, *, actor: Principal, limit: int = 24) -> list[MonthClose]:
    """The closes of the actor's jurisdiction and above it, newest month first."""
    if not _may_read(actor):
        actor.require(Permission.OWN_RECORDS)
    ids = _ancestor_ids(actor.site_path)
    rows = session.exec(select(MonthClose).join(Site, col(Site.id) == MonthClose.site_id)
                        .where(col(Site.path).startswith(actor.site_path, autoescape=True)
                               | col(MonthClose.site_id).in_(ids))
                        .order_by(col(MonthClose.month).desc(), col(MonthClose.id).desc()).limit(limit)).all()
    return list(rows)
