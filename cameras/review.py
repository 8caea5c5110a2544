"""Reviewing video events (issue 13 §7): the post's presence timeline of the event's day, false alarms per zone and
the per-zone threshold an officer tunes from them.

The timeline is laid out here (positions in per cent of the day's width) so the page only draws it; the chart
is inline SVG with its spans also written out as text for screen readers and for print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlmodel import Session, col, func, select

from cameras.models import (
    Camera,
    PresenceState,
    ReviewOutcome,
    VideoEvent,
    VideoEventStatus,
    Zone,
    ZoneFalseAlarms,
    ZoneKind,
    ZonePresence,
    ZoneThresholdChange,
    ZoneVacancyThreshold,
)
from cameras.vacancy import VacancySettings, closures_of_day, get_event, watched_periods
from supervision import audit
from supervision.access import Permission, Principal, site_path_clause
from supervision.db import utcnow
from supervision.errors import InvalidInput, NotFound
from supervision.incidents import Concern
from supervision.models import Post, Site
from supervision.officehours import hours_for
from supervision.settings import get_settings

# The chart shows the working part of the day; spans outside it are clipped to it (still listed as text).
CHART_START, CHART_END = time(7, 0), time(20, 0)


@dataclass(frozen=True)
class TimelineBar:
    """One stretch of the chart: its place (per cent of the chart's width) and what it is."""

    x: float
    width: float
    state: str  # occupied | vacant | unknown | closed (window) | lunch | hours
    start: datetime
    end: datetime


@dataclass(frozen=True)
class EventTimeline:
    day: date
    start: datetime
    end: datetime
    hours: list[TimelineBar]  # office-hours periods (shaded)
    lunch: list[TimelineBar]  # the breaks between them
    closed: list[TimelineBar]  # the window closed
    spans: list[TimelineBar]  # presence spans
    event: TimelineBar | None  # the event's own span
    ticks: list[tuple[float, str]]  # (x, "HH:00")


def _bar(start: datetime, end: datetime, lo: datetime, hi: datetime, state: str) -> TimelineBar | None:
    a, b = max(start, lo), min(end, hi)
    if b <= a:
        return None
    whole = (hi - lo).total_seconds()
    x = (a - lo).total_seconds() / whole * 100
    return TimelineBar(round(x, 3), round((b - a).total_seconds() / whole * 100, 3), state, start, end)


def layout_timeline(day: date, *, periods: Sequence[tuple[datetime, datetime]],
                    presence: Sequence[tuple[PresenceState, datetime, datetime | None]],
                    closed: Sequence[tuple[datetime, datetime]], event: tuple[datetime, datetime | None] | None,
                    now: datetime) -> EventTimeline:
    """Lay out a post's day: office hours and lunch shaded, presence spans, closures and the event's span."""
    tz = get_settings().tz
    lo, hi = datetime.combine(day, CHART_START, tz), datetime.combine(day, CHART_END, tz)

    def bars(items: Sequence[tuple[datetime, datetime]], state: str) -> list[TimelineBar]:
        return [b for b in (_bar(s, e, lo, hi, state) for s, e in items) if b is not None]

    lunch = [(periods[i][1], periods[i + 1][0]) for i in range(len(periods) - 1)]
    spans = [b for b in (_bar(s, min(e or now, hi), lo, hi, state.value) for state, s, e in presence)
             if b is not None]
    mark = None
    if event is not None:
        mark = _bar(event[0], event[1] or now, lo, hi, "event")
    ticks = [(round((h - CHART_START.hour) / (CHART_END.hour - CHART_START.hour) * 100, 3), f"{h:02d}:00")
             for h in range(CHART_START.hour, CHART_END.hour + 1)]
    return EventTimeline(day, lo, hi, bars(periods, "hours"), bars(lunch, "lunch"), bars(closed, "closed"), spans,
                         mark, ticks)


def event_timeline(session: Session, actor: Principal, event_id: int, *, now: datetime | None = None
                   ) -> EventTimeline:
    """The post's presence timeline on the day of the event, for its page."""
    event = get_event(session, actor, event_id)
    tz = get_settings().tz
    day = event.started_at.astimezone(tz).date()
    lo, hi = datetime.combine(day, time(0), tz), datetime.combine(day + timedelta(days=1), time(0), tz)
    presence: list[tuple[PresenceState, datetime, datetime | None]] = []
    window_id = None
    if event.zone_id is not None:
        rows = session.exec(select(ZonePresence).where(
            col(ZonePresence.zone_id) == event.zone_id, col(ZonePresence.started_at) < hi,
            (col(ZonePresence.ended_at).is_(None)) | (col(ZonePresence.ended_at) > lo))
            .order_by(col(ZonePresence.started_at))).all()
        presence = [(r.state, r.started_at, r.ended_at) for r in rows]
        zone = session.get(Zone, event.zone_id)
        window_id = zone.window_id if zone is not None else None
    post = session.get(Post, event.post_id) if event.post_id is not None else None
    window_id = window_id or (post.window_id if post is not None else None)
    closed = closures_of_day(session, [window_id], lo).get(window_id or 0, []) if window_id else []
    periods = watched_periods(hours_for(session, site_id=event.site_id, day=day), tz, None)
    return layout_timeline(day, periods=periods, presence=presence, closed=closed,
                           event=(event.started_at, event.ended_at), now=now or utcnow())


# --- false alarms and thresholds ------------------------------------------------------------------------------


def _default_minutes() -> float:
    return VacancySettings().vacancy_minutes


def false_alarms(session: Session, actor: Principal, *, zone_id: int | None = None, limit: int = 500
                 ) -> list[ZoneFalseAlarms]:
    """Per post zone of the actor's jurisdiction: its events, confirmed, dismissed (false alarms) and the rate,
    beside the threshold in force, most false alarms first."""
    actor.require(Permission.CAMERAS_VIEW)
    zones = session.exec(select(Zone, Camera, Post).join(Site, col(Site.id) == col(Zone.site_id))
                         .join(Camera, col(Camera.id) == col(Zone.camera_id), isouter=True)
                         .join(Post, col(Post.id) == col(Zone.post_id), isouter=True)
                         .where(site_path_clause(actor), col(Zone.kind) == ZoneKind.POST,
                                (col(Zone.id) == zone_id) if zone_id is not None else col(Zone.id).is_not(None))
                         .order_by(col(Zone.id)).limit(limit)).all()
    ids = [int(z.id or 0) for z, _, _ in zones]
    counts: dict[tuple[int, str], int] = {}
    if ids:
        for zone_id, outcome, n in session.exec(
                select(VideoEvent.zone_id, VideoEvent.review_outcome, func.count())
                .where(col(VideoEvent.zone_id).in_(ids))
                .group_by(col(VideoEvent.zone_id), col(VideoEvent.review_outcome))).all():
            key = outcome.value if isinstance(outcome, ReviewOutcome) else str(outcome or "")
            counts[(int(zone_id or 0), key)] = int(n)
    own = {r.zone_id: r.minutes for r in session.exec(
        select(ZoneVacancyThreshold).where(col(ZoneVacancyThreshold.zone_id).in_(ids))).all()} if ids else {}
    default = _default_minutes()
    out = []
    for zone, camera, post in zones:
        zid = int(zone.id or 0)
        confirmed = counts.get((zid, ReviewOutcome.CONFIRMED.value), 0)
        dismissed = counts.get((zid, ReviewOutcome.DISMISSED.value), 0)
        pending = counts.get((zid, ""), 0)
        reviewed = confirmed + dismissed
        out.append(ZoneFalseAlarms(
            zone_id=zid, zone_name=zone.name, camera_id=zone.camera_id, camera_name=camera.name if camera else "",
            post_name=post.name if post else "", events=reviewed + pending, confirmed=confirmed,
            dismissed=dismissed, pending=pending,
            false_alarm_rate=round(dismissed / reviewed, 3) if reviewed else None,
            threshold_minutes=own.get(zid, default), threshold_override=zid in own))
    out.sort(key=lambda r: (-(r.false_alarm_rate or 0), -r.dismissed, r.zone_id))
    return out


def set_zone_threshold(session: Session, actor: Principal, zone_id: int, change: ZoneThresholdChange, *,
                       ip: str = "") -> float:
    """Set (or, with none, drop) a post zone's own vacancy threshold; audited. Returns the threshold in force."""
    actor.require(Permission.ZONES_MANAGE)
    zone = session.get(Zone, zone_id)
    site = session.get(Site, zone.site_id) if zone is not None else None
    if zone is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.zone", id=zone_id)
    if zone.kind != ZoneKind.POST:
        raise InvalidInput("zone_id", "review.error.not_post_zone")
    row = session.get(ZoneVacancyThreshold, zone_id)
    before = row.minutes if row is not None else None
    if change.minutes is None:
        if row is not None:
            session.delete(row)
    else:
        row = row or ZoneVacancyThreshold(zone_id=zone_id, minutes=change.minutes)
        row.minutes, row.updated_by, row.updated_at = change.minutes, actor.audit_name[:80], utcnow()
        session.add(row)
    session.flush()
    audit.record(session, actor, "zone.threshold", object_kind="zone", object_id=zone_id, site_id=zone.site_id,
                 summary=zone.name, detail={"before": before, "after": change.minutes, "reason": change.reason},
                 ip=ip)
    return change.minutes if change.minutes is not None else _default_minutes()


def video_concerns(session: Session, ids: Sequence[str]) -> Mapping[str, frozenset[Concern]]:
    """What a confirmed video event is about, for the risk register: its post left vacant (脱岗)."""
    return {i: frozenset({Concern.OFF_POST}) for i in ids}


CONCERN_READERS = {"video": video_concerns}


def review_neighbours(session: Session, actor: Principal, event_id: int, *, limit: int = 1000
                      ) -> tuple[int | None, int | None]:
    """The events to review before and after this one in the officer's queue (newest first): (previous, next)."""
    actor.require(Permission.CAMERAS_VIEW)
    ids = [int(i or 0) for i in session.exec(
        select(VideoEvent.id).join(Site, col(Site.id) == col(VideoEvent.site_id))
        .where(site_path_clause(actor), (col(VideoEvent.status) == VideoEventStatus.PENDING_REVIEW)
               | (col(VideoEvent.id) == event_id))
        .order_by(col(VideoEvent.started_at).desc(), col(VideoEvent.id).desc()).limit(limit)).all()]
    if event_id not in ids:
        return None, (ids[0] if ids else None)
    k = ids.index(event_id)
    return (ids[k - 1] if k > 0 else None), (ids[k + 1] if k + 1 < len(ids) else None)


def seed_demo_thresholds(session: Session, camera_id: int, minutes: float) -> int:
    """Demo data: the camera's post zones open vacancy events after `minutes` (once; an officer's later change
    stays)."""
    made = 0
    for zone_id in session.exec(select(Zone.id).where(col(Zone.camera_id) == camera_id,
                                                     col(Zone.kind) == ZoneKind.POST)).all():
        if zone_id is None or session.get(ZoneVacancyThreshold, zone_id) is not None:
            continue
        session.add(ZoneVacancyThreshold(zone_id=zone_id, minutes=minutes, updated_by="system:demo"))
        made += 1
    return made


def seed_demo_false_alarm(session: Session, camera_id: int) -> int:
    """Demo data: one vacancy an officer dismissed at the camera's first post zone (once), so the false-alarm
    counts have something to show; dated on the day of the zone's earliest demo event."""
    zone = session.exec(select(Zone).where(col(Zone.camera_id) == camera_id, col(Zone.kind) == ZoneKind.POST)
                        .order_by(col(Zone.id))).first()
    if zone is None or session.exec(select(VideoEvent.id).where(
            col(VideoEvent.zone_id) == zone.id, col(VideoEvent.review_outcome) == ReviewOutcome.DISMISSED)).first():
        return 0
    first = session.exec(select(VideoEvent).where(col(VideoEvent.zone_id) == zone.id)
                         .order_by(col(VideoEvent.started_at))).first()
    if first is None:
        return 0
    start = first.started_at - timedelta(minutes=25)
    session.add(VideoEvent(
        status=VideoEventStatus.CLOSED, site_id=zone.site_id, camera_id=camera_id, zone_id=zone.id,
        post_id=zone.post_id, staff_id=first.staff_id, started_at=start, ended_at=start + timedelta(minutes=16),
        review_outcome=ReviewOutcome.DISMISSED, review_reason="人员俯身在柜台下整理材料,被柜台遮挡,实际在岗",
        reviewed_by="system:demo", reviewed_at=first.started_at + timedelta(hours=2)))
    return 1
