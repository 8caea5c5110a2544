"""Where a point from the complaints loop leads, for each reader, and the record view a point rests on.

A ledger entry written by an order's outcome, a bad rating or a visit finding names that record. Who may open
which view of it:
- the full page, to whoever works the record: the order to those `visibility.can_read` lets read it, a
  finding's visit to complaints readers of the jurisdiction;
- the record view (`order_record`, `rating_record`, `finding_record`): the facts the point rests on — what,
  when, where, the outcome, the points — never the caller, the complainant, the content or the people who
  handled it. Ledger readers of the jurisdiction open it for a record that is the source of a ledger entry
  there (they score the month); a staff member opens it for a record whose ledger entry names them, for the
  rating or visit finding that is about them, and for the rectification order a bad rating about them opened.
  An order about a person stays unknown to them until its outcome has put points in their ledger;
- anyone else: its name only, no link (`view` None).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Session, col, select

from complaints import visibility
from complaints.models import Channel, Rating, RatingAppeal, Visit, VisitFinding, WorkOrder
from complaints.ratings import LEVEL_KEYS
from supervision import audit, ledger
from supervision.access import Permission, Principal
from supervision.errors import NotFound
from supervision.models import LedgerEntry, Site


class View(StrEnum):
    FULL = "full"  # the record's own page
    RECORD = "record"  # the record view of a point's source


@dataclass(frozen=True)
class SourceAccess:
    """A record named by a ledger entry or a notice, and the view of it this reader may open (None: none)."""

    record_id: int
    name: str
    view: View | None
    visit_id: int | None = None


@dataclass(frozen=True)
class _Points:
    staff_ids: set[int] = field(default_factory=set)
    site_paths: set[str] = field(default_factory=set)


def _points(session: Session, kind: str, ids: Sequence[str]) -> dict[str, _Points]:
    """Whom the ledger entries of these sources name, and where they lie."""
    found: dict[str, _Points] = {}
    if not ids:
        return found
    stmt = (
        select(LedgerEntry.source_id, LedgerEntry.staff_id, Site.path)
        .join(Site, col(Site.id) == LedgerEntry.site_id)
        .where(col(LedgerEntry.source_kind) == kind, col(LedgerEntry.source_id).in_(list(ids)))
    )
    for source_id, staff_id, path in session.exec(stmt).all():
        points = found.setdefault(source_id, _Points())
        if staff_id is not None:
            points.staff_ids.add(staff_id)
        points.site_paths.add(path)
    return found


def _scores_it(reader: Principal, points: _Points | None) -> bool:
    """A ledger reader of the jurisdiction of one of the record's entries, or the person an entry names."""
    if points is None:
        return False
    if reader.can(Permission.LEDGER_READ) and any(reader.covers_path(p) for p in points.site_paths):
        return True
    return reader.staff_id is not None and reader.staff_id in points.staff_ids


def _own(reader: Principal, staff_id: int | None) -> bool:
    return reader.kind == "user" and reader.staff_id is not None and staff_id == reader.staff_id


def _reads_complaints_at(session: Session, reader: Principal, site_id: int) -> bool:
    return reader.can(Permission.COMPLAINTS_READ) and visibility.in_jurisdiction(session, reader, site_id)


# --- work orders ------------------------------------------------------------------------------------


def _rating_of(order: WorkOrder) -> str | None:
    """The rating a rectification order was opened for ("rating:12" → "12")."""
    kind, _, ident = order.source_ref.partition(":")
    return ident if order.channel == Channel.RATING.value and kind == "rating" and ident.isdigit() else None


def _may_see_order_record(reader: Principal, order: WorkOrder, points: _Points | None,
                          rating_points: _Points | None) -> bool:
    if _scores_it(reader, points):
        return True
    # The rectification a bad rating opened is the person's to put right (DOMAIN.md: ratings), and part of
    # that rating's story for whoever scores it.
    return order.channel == Channel.RATING.value and (_own(reader, order.staff_id) or _scores_it(reader, rating_points))


def order_access(session: Session, reader: Principal, numbers: Sequence[str]) -> dict[str, SourceAccess]:
    """The orders with these numbers, each with the view this reader may open."""
    if not numbers:
        return {}
    orders = session.exec(select(WorkOrder).where(col(WorkOrder.number).in_(list(numbers)))).all()
    points = _points(session, "work_order", [o.number for o in orders])
    ratings = _points(session, "rating", [r for r in map(_rating_of, orders) if r is not None])
    viewer = visibility.viewer_for(session, reader)
    found = {}
    for order in orders:
        view: View | None = None
        if visibility.can_read(session, viewer, order):
            view = View.FULL
        elif _may_see_order_record(reader, order, points.get(order.number), ratings.get(_rating_of(order) or "")):
            view = View.RECORD
        found[order.number] = SourceAccess(order.id or 0, order.number, view)
    return found


@dataclass(frozen=True)
class OrderRecord:
    """What a point from an order rests on: no caller, no content, no handler."""

    order_id: int
    number: str
    type: str
    received_on: date
    window_id: int | None
    staff_id: int | None
    state: str
    outcome: str
    disposition: list[str]
    closed_on: date | None
    due_on: date
    rectification: bool  # opened by a bad rating: the person puts it right
    rating_id: int | None
    full_page: bool
    entries: list[LedgerEntry]


def order_record(session: Session, reader: Principal, order_id: int, *, ip: str = "") -> OrderRecord:
    """The record view of an order that is the source of points (404 for anyone it is not open to)."""
    order = session.get(WorkOrder, order_id)
    number = order.number if order is not None else ""
    rating = _rating_of(order) if order is not None else None
    if order is None or not _may_see_order_record(
            reader, order, _points(session, "work_order", [number]).get(number),
            _points(session, "rating", [rating]).get(rating) if rating is not None else None):
        raise NotFound("error.not_found_kind", kind="kind.work_order", id=order_id)
    if order.confidential or order.integrity:
        # Like the order's own page: who looked at a confidential order, even at its bare facts, is on record.
        audit.record(session, reader, "view.work_order", object_kind="work_order", object_id=order.id,
                     site_id=order.site_id, summary=order.number, detail={"view": "record"}, ip=ip)
    viewer = visibility.viewer_for(session, reader)
    rating_id = int(rating) if rating is not None else None
    entries, _ = ledger.entries(session, actor=reader, source_kind="work_order", source_id=number, limit=50)
    return OrderRecord(
        order_id=order.id or 0, number=order.number, type=order.type, received_on=order.received_on,
        window_id=order.window_id, staff_id=order.staff_id,
        state=order.state, outcome=order.outcome, disposition=order.disposition.split(), closed_on=order.closed_on,
        due_on=order.due_on, rectification=order.channel == Channel.RATING.value, rating_id=rating_id,
        full_page=visibility.can_read(session, viewer, order), entries=list(entries),
    )


# --- ratings ----------------------------------------------------------------------------------------


def _may_see_rating(session: Session, reader: Principal, rating: Rating, points: _Points | None) -> bool:
    return (_reads_complaints_at(session, reader, rating.site_id) or _scores_it(reader, points)
            or _own(reader, rating.staff_id))


def rating_access(session: Session, reader: Principal, ids: Sequence[str]) -> dict[str, SourceAccess]:
    """The ratings with these ids: the rating's record view is its page, for whoever may see it."""
    wanted = [int(i) for i in ids if i.isdigit() and len(i) < 10]
    if not wanted:
        return {}
    ratings = session.exec(select(Rating).where(col(Rating.id).in_(wanted))).all()
    points = _points(session, "rating", [str(r.id) for r in ratings])
    return {
        str(r.id): SourceAccess(r.id or 0, r.case_no,
                                View.RECORD if _may_see_rating(session, reader, r, points.get(str(r.id))) else None)
        for r in ratings
    }


@dataclass(frozen=True)
class RatingRecord:
    """A rating as its point rests on it: the level, the rater's reason (pads are anonymous), the appeal."""

    rating_id: int
    case_no: str
    window_id: int
    staff_id: int | None
    level: int
    level_key: str  # its label's message key (非常不满意)
    reason: str
    rated_at: datetime
    void: bool
    appeal: RatingAppeal | None
    rectification_number: str | None
    own: bool  # the reader is the person rated (they may appeal on the ratings page)
    entries: list[LedgerEntry]


def rating_record(session: Session, reader: Principal, rating_id: int) -> RatingRecord:
    """A rating's page for whoever may see it (404 for anyone else)."""
    rating = session.get(Rating, rating_id)
    if rating is None or not _may_see_rating(session, reader, rating,
                                             _points(session, "rating", [str(rating_id)]).get(str(rating_id))):
        raise NotFound("error.not_found_kind", kind="kind.rating", id=rating_id)
    appeal = session.exec(select(RatingAppeal).where(col(RatingAppeal.rating_id) == rating_id)).first()
    order = session.get(WorkOrder, rating.work_order_id) if rating.work_order_id is not None else None
    entries, _ = ledger.entries(session, actor=reader, source_kind="rating", source_id=str(rating_id), limit=50)
    return RatingRecord(
        rating_id=rating_id, case_no=rating.case_no, window_id=rating.window_id, staff_id=rating.staff_id,
        level=rating.level, level_key=LEVEL_KEYS[rating.level], reason=rating.reason, rated_at=rating.rated_at,
        void=rating.void, appeal=appeal,
        rectification_number=order.number if order is not None else None, own=_own(reader, rating.staff_id),
        entries=list(entries),
    )


# --- visits and their findings ----------------------------------------------------------------------


def _may_see_finding_record(reader: Principal, finding: VisitFinding, points: _Points | None) -> bool:
    return _scores_it(reader, points) or _own(reader, finding.staff_id)


def finding_access(session: Session, reader: Principal, ids: Sequence[str]) -> dict[str, SourceAccess]:
    """The visit findings with these ids: the visit's page for complaints readers, else the record view."""
    wanted = [int(i) for i in ids if i.isdigit() and len(i) < 10]
    if not wanted:
        return {}
    rows = session.exec(
        select(VisitFinding, Visit).join(Visit, col(Visit.id) == VisitFinding.visit_id)
        .where(col(VisitFinding.id).in_(wanted))
    ).all()
    points = _points(session, "visit_finding", [str(f.id) for f, _ in rows])
    found = {}
    for finding, visit in rows:
        view: View | None = None
        if _reads_complaints_at(session, reader, visit.site_id):
            view = View.FULL
        elif _may_see_finding_record(reader, finding, points.get(str(finding.id))):
            view = View.RECORD
        # Named by the visit's day: "检查发现问题 2026-12-02" says more than a row number.
        found[str(finding.id)] = SourceAccess(finding.id or 0, visit.visited_on.isoformat(), view, visit_id=visit.id)
    return found


def visit_access(session: Session, reader: Principal, ids: Sequence[str]) -> dict[str, SourceAccess]:
    """Visits (a notice's source): their page for complaints readers of the jurisdiction only."""
    wanted = [int(i) for i in ids if i.isdigit() and len(i) < 10]
    if not wanted:
        return {}
    visits = session.exec(select(Visit).where(col(Visit.id).in_(wanted))).all()
    return {str(v.id): SourceAccess(v.id or 0, str(v.id),
                                    View.FULL if _reads_complaints_at(session, reader, v.site_id) else None,
                                    visit_id=v.id)
            for v in visits}


@dataclass(frozen=True)
class FindingRecord:
    """A visit finding as its point rests on it: when, how, where and what was found — not who visited."""

    finding_id: int
    visit_id: int
    visited_on: date
    mode: str
    window_id: int | None
    staff_id: int | None
    description: str
    order_number: str | None
    full_page: bool
    entries: list[LedgerEntry]


def finding_record(session: Session, reader: Principal, finding_id: int) -> FindingRecord:
    """The record view of a visit finding (404 for anyone it is not open to)."""
    finding = session.get(VisitFinding, finding_id)
    visit = session.get(Visit, finding.visit_id) if finding is not None else None
    if finding is None or visit is None or not _may_see_finding_record(
            reader, finding, _points(session, "visit_finding", [str(finding_id)]).get(str(finding_id))):
        raise NotFound("error.not_found_kind", kind="kind.visit_finding", id=finding_id)
    order = session.get(WorkOrder, finding.work_order_id) if finding.work_order_id is not None else None
    entries, _ = ledger.entries(session, actor=reader, source_kind="visit_finding", source_id=str(finding_id),
                                limit=50)
    return FindingRecord(
        finding_id=finding_id, visit_id=visit.id or 0, visited_on=visit.visited_on, mode=visit.mode,
        window_id=finding.window_id or visit.window_id, staff_id=finding.staff_id,
        description=finding.description, order_number=order.number if order is not None else None,
        full_page=_reads_complaints_at(session, reader, visit.site_id), entries=list(entries),
    )
