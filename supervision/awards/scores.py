"""The monthly scores the awards and the appraisal read: frozen rows of a closed month, else computed now."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from datetime import date, datetime

from sqlmodel import Session, col, select

from supervision.scoring import MonthlyScore, closing_for, compute_month
from supervision.settings import get_settings


def monthly_finals(session: Session, *, months: Sequence[date], site_path: str, site_ids: Collection[int],
                   kinds: Collection[str] = ("staff", "window")) -> dict[tuple[str, int], list[float]]:
    """Each subject's final score per month of `months` (the ones that began), for subjects of `site_ids`.

    A closed month gives its stored scores (the latest revision: an appeal's grant counts); an open one is
    computed from the ledger as it stands."""
    today = datetime.now(get_settings().tz).date()  # the centre's day, not the server's
    out: dict[tuple[str, int], list[float]] = defaultdict(list)
    wanted = set(site_ids)
    for month in months:
        if month > today:
            continue
        close = closing_for(session, month=month, site_path=site_path)
        if close is not None:
            rows = session.exec(select(MonthlyScore).where(
                col(MonthlyScore.close_id) == close.id, col(MonthlyScore.superseded_at).is_(None),
                col(MonthlyScore.subject_kind).in_(list(kinds)))).all()
            for stored in rows:
                if stored.site_id in wanted:
                    out[(stored.subject_kind, stored.subject_id)].append(float(stored.final))
            continue
        for row in compute_month(session, month=month, site_path=site_path):
            if row.subject_kind in kinds and row.site_id in wanted:
                out[(row.subject_kind, row.subject_id)].append(float(row.final))
    return out
