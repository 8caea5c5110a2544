"""What the complaints domain references of other domains' records: video events named by work orders and notices.

A work order or a notice may name a video event as its source (`source_ref` "video:<id>"); that event's evidence is
then kept past its retention (cameras.evidence asks through the wiring of web/composition.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlmodel import Session, col, select

from complaints.models import Notice, WorkOrder


def video_events_referenced(session: Session, event_ids: Sequence[int]) -> set[int]:
    """Which of these video events a work order or a notice names as its source."""
    if not event_ids:
        return set()
    refs = [f"video:{int(i)}" for i in event_ids]
    found: set[str] = set()
    for model in (WorkOrder, Notice):
        found.update(session.exec(select(model.source_ref).where(col(model.source_ref).in_(refs))).all())
    return {int(ref.split(":", 1)[1]) for ref in found}
