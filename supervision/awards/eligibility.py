"""Who may stand for a quarter's award: no barring fact in the ledger (each condition a setting)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from supervision.awards.settings import AwardsSettings
from supervision.models import LedgerEntry

# The ledger kinds that bar a candidate, per condition (the kinds the cameras and complaints write).
BARRING_KINDS: dict[str, tuple[str, ...]] = {
    "video": ("off_post",),  # a confirmed off-post video event (cameras write it only once an officer confirms)
    "complaint": ("complaint_upheld", "complaint_partly_upheld"),
    "bad_rating": ("bad_rating",),
}


@dataclass(frozen=True)
class Bar:
    """One fact that bars a candidate: its condition, day and ledger entry."""

    condition: str  # video | complaint | bad_rating
    day: date
    entry_id: int


def barring_kinds(settings: AwardsSettings) -> dict[str, str]:
    """Ledger kind -> condition, for the conditions switched on."""
    on = {"video": settings.bar_video, "complaint": settings.bar_complaint, "bad_rating": settings.bar_bad_rating}
    return {kind: condition for condition, kinds in BARRING_KINDS.items() if on[condition] for kind in kinds}


def bars(session: Session, *, start: date, end: date, staff_ids: Collection[int], window_ids: Collection[int],
         settings: AwardsSettings) -> tuple[dict[int, list[Bar]], dict[int, list[Bar]]]:
    """The barring facts of [start, end] by staff and by window; a reversed entry (a granted appeal) bars nobody.

    A window is barred by its own entries and by those of the people at it (`window_id` on the entry, or the
    person's window passed in `staff_window`)."""
    kinds = barring_kinds(settings)
    by_staff: dict[int, list[Bar]] = defaultdict(list)
    by_window: dict[int, list[Bar]] = defaultdict(list)
    if not kinds or (not staff_ids and not window_ids):
        return by_staff, by_window
    reversal = aliased(LedgerEntry)
    reversed_ids = select(reversal.reverses_id).where(col(reversal.reverses_id).is_not(None))
    stmt = select(LedgerEntry).where(
        col(LedgerEntry.day) >= start, col(LedgerEntry.day) <= end, col(LedgerEntry.kind).in_(list(kinds)),
        col(LedgerEntry.reverses_id).is_(None), col(LedgerEntry.id).not_in(reversed_ids),
        or_(col(LedgerEntry.staff_id).in_(list(staff_ids)), col(LedgerEntry.window_id).in_(list(window_ids))))
    for entry in session.exec(stmt.order_by(col(LedgerEntry.day), col(LedgerEntry.id))).all():
        assert entry.id is not None
        bar = Bar(kinds[entry.kind], entry.day, entry.id)
        if entry.staff_id is not None:
            by_staff[entry.staff_id].append(bar)
        if entry.window_id is not None:
            by_window[entry.window_id].append(bar)
    return by_staff, by_window
