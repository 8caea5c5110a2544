"""What the reports read: the month's bulletin as a file (audited), the manager's month at a glance, a trend.

Every function checks the reader through the engine (`month_view`, `trend`): the jurisdiction and the role.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal
from supervision.errors import InvalidInput
from supervision.models import Site
from supervision.scoring.bulletin import (
    Bulletin,
    Laggard,
    RowLike,
    bulletin_pdf,
    bulletin_xlsx,
    display_name,
    furthest_down,
    ranked,
)
from supervision.scoring.monthly import MonthView, ScoreRow, first_of, month_view, trend

FORMATS = {
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def site_names(session: Session, rows: Sequence[RowLike]) -> dict[int, str]:
    """The name of each centre the rows come from."""
    ids = {r.site_id for r in rows}
    if not ids:
        return {}
    return {int(s.id or 0): s.name for s in session.exec(select(Site).where(col(Site.id).in_(ids)))}


@dataclass(frozen=True)
class BulletinFile:
    filename: str
    media_type: str
    body: bytes


def bulletin_file(session: Session, *, actor: Principal, month: date, fmt: str, locale: str,
                  site_id: int | None = None, ip: str = "") -> BulletinFile:
    """The month's bulletin of the reader's jurisdiction (or a site in it) as PDF or Excel; the download is audited."""
    actor.require(Permission.SCORING_READ)
    if fmt not in FORMATS:
        raise InvalidInput("format", "error.bulletin_format")
    view = month_view(session, actor=actor, month=month, site_id=site_id)
    site = session.get(Site, view.site_id)
    site_name = site.name if site is not None else ""
    bulletin = Bulletin(site_name=site_name, month=view.month, rule_version=view.rule_version, closed=view.closed,
                        published=view.published, rows=view.rows, locale=locale,
                        site_names=site_names(session, view.rows))
    body = bulletin_pdf(bulletin) if fmt == "pdf" else bulletin_xlsx(bulletin)
    code = site.code if site is not None else str(view.site_id)
    # A bulletin names every person with their score: who took one away is on record (written after the read).
    audit.record(session, actor, "scoring.bulletin_download", object_kind="bulletin",
                 object_id=f"{view.month:%Y-%m}/{code}", site_id=view.site_id,
                 summary=f"{view.month:%Y-%m} {site_name} {fmt}", detail={"format": fmt, "rows": len(view.rows)},
                 ip=ip)
    return BulletinFile(f"bulletin-{code}-{view.month:%Y-%m}.{fmt}", FORMATS[fmt], body)


@dataclass(frozen=True)
class MonthGlance:
    """The manager's home: the month's state, the top and bottom of each ranking, who is furthest down and why."""

    view: MonthView
    top_windows: list[ScoreRow]
    bottom_windows: list[ScoreRow]
    top_staff: list[ScoreRow]
    bottom_staff: list[ScoreRow]
    laggards: list[tuple[str, Laggard]]
    names: dict[tuple[str, int], str]  # each listed subject's name, with its centre when there are several


def _ends(rows: list[ScoreRow], count: int) -> tuple[list[ScoreRow], list[ScoreRow]]:
    """The first `count` and the last `count` (lowest last), never the same row in both: a small ranking is
    split in halves."""
    if len(rows) <= 2 * count:
        half = (len(rows) + 1) // 2
        return rows[:half], rows[half:]
    return rows[:count], rows[-count:]


def month_glance(session: Session, *, actor: Principal, month: date, count: int = 5) -> MonthGlance:
    """This month (provisional until closed) or a past one, for the reader's jurisdiction."""
    actor.require(Permission.SCORING_READ)
    view = month_view(session, actor=actor, month=first_of(month))
    windows, staff = ranked(view.rows, "window"), ranked(view.rows, "staff")
    top_w, bottom_w = _ends(windows, count)
    top_s, bottom_s = _ends(staff, count)
    laggards = [(kind, lag) for kind in ("window", "staff") for lag in furthest_down(view.rows, kind)]
    listed = [*top_w, *bottom_w, *top_s, *bottom_s, *(lag.row for _, lag in laggards)]
    sites = site_names(session, listed)
    names = {(r.subject_kind, r.subject_id): display_name(r, sites, view.rows) for r in listed}
    return MonthGlance(view, top_w, bottom_w, top_s, bottom_s, laggards, names)


def trend_of(session: Session, *, actor: Principal, subject_kind: str, subject_id: int, until: date,
             months: int = 12) -> list[tuple[date, float | None]]:
    """A subject's final score of each of the last `months` closed months (None: not closed or not published)."""
    return trend(session, actor=actor, subject_kind=subject_kind, subject_id=subject_id, until=until, months=months)
