"""Vacancy events (issue 13 §3): a post zone vacant longer than N minutes while the post should be staffed.

"Should be staffed" is the schedule rule: inside one of the site's office-hours periods (so never on a day the
calendar says is not a working day, a swapped working weekend day included, and never in the lunch break
between two periods), and not while the post's staff member is on approved leave or a trip (supervision.leave).
A window closed for a while (窗口暂停服务, `WindowClosure`) is not watched either (`without`). A post zone may carry
an officer's own threshold (`ZoneVacancyThreshold`, tuned from its false alarms); the setting is the default.
The rule is pure (`watched_periods`, `without`, `vacancy_start`); `evaluate_vacancies` applies it to the presence
spans the ingest worker writes, run by the scheduler: reads first, then one short write, no I/O inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from cameras import mqtt
from cameras.models import (
    Camera,
    PresenceState,
    ReviewOutcome,
    VideoEvent,
    VideoEventKind,
    VideoEventPublic,
    VideoEventReview,
    VideoEventStatus,
    WindowClosure,
    Zone,
    ZoneKind,
    ZonePresence,
    ZoneVacancyThreshold,
)
from supervision import audit, incidents, ledger
from supervision.access import Permission, Principal
from supervision.db import session_scope, utcnow
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.leave import absences
from supervision.models import Post, Site, Staff
from supervision.officehours import DayHours, hours_for
from supervision.scheduler import JobSpec
from supervision.scoring import points as scoring_points
from supervision.settings import get_settings

logger = logging.getLogger(__name__)

NOON = time(12, 0)
Span = tuple[datetime, datetime]


class VacancySettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SUPERVISION_CAMERAS_", env_file=".env", extra="ignore")

    vacancy_minutes: float = Field(15.0, gt=0, le=480,
                                   description="A post vacant this long in office hours opens a vacancy event")


def watched_periods(hours: DayHours | None, tz: tzinfo, away: str | None) -> list[Span]:
    """The moments of a day when the post should be staffed, as aware datetimes.

    `hours` None: the site is closed that day (not a working day, or no hours that weekday). The lunch break is
    the gap between two periods and is never watched. `away`: "day" (approved leave or a trip all day), "am" /
    "pm" (half a day: the periods starting before / from noon are not watched) or None.
    """
    if hours is None or away == "day":
        return []
    out: list[Span] = []
    for start, end in hours.periods:
        if (away == "am" and start < NOON) or (away == "pm" and start >= NOON):
            continue
        out.append((datetime.combine(hours.day, start, tz), datetime.combine(hours.day, end, tz)))
    return out


def without(watched: Sequence[Span], closed: Sequence[Span]) -> list[Span]:
    """The watched spans minus the spans a window was closed (a closure cuts a period in two, or ends it)."""
    out = list(watched)
    for c_start, c_end in closed:
        cut: list[Span] = []
        for start, end in out:
            if c_end <= start or c_start >= end:
                cut.append((start, end))
                continue
            if start < c_start:
                cut.append((start, c_start))
            if c_end < end:
                cut.append((c_end, end))
        out = cut
    return out


def vacancy_start(vacant_since: datetime | None, now: datetime, watched: Sequence[Span],
                  threshold: timedelta) -> datetime | None:
    """The start of the vacancy event that should be open at `now`, or None when none should be.

    The event's real start is the start of the vacancy, or of the watched period if that is later (a post left
    empty over lunch counts from 13:30); it exists only once the threshold is passed inside a watched period.
    """
    if vacant_since is None:
        return None
    for start, end in watched:
        if start <= now < end:
            begin = max(vacant_since, start)
            return begin if now - begin >= threshold else None
    return None


@dataclass(frozen=True)
class _Zone:
    id: int
    camera_id: int | None
    site_id: int
    post_id: int | None
    staff_id: int | None
    state: PresenceState
    since: datetime | None  # start of the open presence span
    window_id: int | None = None  # the zone's window, or its post's
    threshold: timedelta | None = None  # the zone's own threshold, if an officer set one


def _away(session: Session, staff_id: int | None, day: date) -> str | None:
    if staff_id is None:
        return None
    absence = absences(session, staff_ids=[staff_id], start=day, end=day).get((staff_id, day))
    if absence is None:
        return None
    return absence.half or "day"


def _decide(session: Session, zone: _Zone, now: datetime, threshold: timedelta,
            closed: Sequence[Span] = ()) -> tuple[datetime | None, datetime]:
    """(the start of the event that should be open, or None; when a still-vacant post stopped being watched)."""
    if zone.state != PresenceState.VACANT or zone.since is None:
        return None, now
    tz = get_settings().tz
    day = now.astimezone(tz).date()
    watched = without(watched_periods(hours_for(session, site_id=zone.site_id, day=day), tz,
                                      _away(session, zone.staff_id, day)), closed)
    return vacancy_start(zone.since, now, watched, zone.threshold or threshold), watched_until(watched, now)


def watched_until(watched: Sequence[Span], now: datetime) -> datetime:
    """When watching last stopped before `now` (lunch, a window closing, the end of the day): an event of a
    post still empty ends there, not when the job next runs."""
    ended = [end for start, end in watched if end <= now]
    inside = any(start <= now < end for start, end in watched)
    return now if inside or not ended else max(ended)


def closures_of_day(session: Session, window_ids: Sequence[int], now: datetime) -> dict[int, list[Span]]:
    """The closures of these windows that touch the local day of `now`, by window."""
    if not window_ids:
        return {}
    tz = get_settings().tz
    day_start = datetime.combine(now.astimezone(tz).date(), time(0), tz)
    rows = session.exec(select(WindowClosure).where(
        col(WindowClosure.window_id).in_(list(window_ids)), col(WindowClosure.ends_at) > day_start,
        col(WindowClosure.starts_at) < day_start + timedelta(days=1))).all()
    out: dict[int, list[Span]] = {}
    for r in rows:
        out.setdefault(r.window_id, []).append((r.starts_at, r.ends_at))
    return out


def evaluate_vacancies(engine: Engine | None = None, *, now: datetime | None = None,
                       threshold: timedelta | None = None) -> tuple[int, int]:
    """Open and close vacancy events for every post zone; returns (opened, closed)."""
    now = now or utcnow()
    threshold = threshold or timedelta(minutes=VacancySettings().vacancy_minutes)
    with session_scope(engine) as s:
        rows = s.exec(select(Zone, ZonePresence).join(
            ZonePresence, (col(ZonePresence.zone_id) == col(Zone.id)) & col(ZonePresence.ended_at).is_(None),
            isouter=True).where(col(Zone.kind) == ZoneKind.POST, col(Zone.camera_id).is_not(None))).all()
        staff = {int(st.post_id or 0): int(st.id or 0) for st in s.exec(
            select(Staff).where(col(Staff.active), col(Staff.post_id).is_not(None)).order_by(col(Staff.id).desc()))}
        post_windows = {int(p.id or 0): p.window_id for p in s.exec(select(Post).where(
            col(Post.id).in_([z.post_id for z, _ in rows if z.post_id is not None]))).all()}
        own = {r.zone_id: timedelta(minutes=r.minutes) for r in s.exec(select(ZoneVacancyThreshold)).all()}
        zones = [_Zone(int(z.id or 0), z.camera_id, z.site_id, z.post_id,
                       staff.get(int(z.post_id)) if z.post_id is not None else None,
                       p.state if p is not None else PresenceState.UNKNOWN, p.started_at if p is not None else None,
                       z.window_id or post_windows.get(int(z.post_id or 0)), own.get(int(z.id or 0)))
                 for z, p in rows]
        closures = closures_of_day(s, sorted({z.window_id for z in zones if z.window_id is not None}), now)
        decided = {z.id: _decide(s, z, now, threshold, closures.get(z.window_id or 0, [])) for z in zones}
        wanted = {zid: start for zid, (start, _) in decided.items()}
        open_events = {int(e.zone_id or 0): e.id for e in s.exec(
            select(VideoEvent).where(col(VideoEvent.ended_at).is_(None),
                                     col(VideoEvent.kind) == VideoEventKind.POST_VACANT)).all()}
    opened = closed = 0
    to_open = [z for z in zones if wanted[z.id] is not None and z.id not in open_events]
    to_close = [z for z in zones if wanted[z.id] is None and z.id in open_events]
    gone = [eid for zid, eid in open_events.items() if zid not in wanted]
    if not (to_open or to_close or gone):
        return 0, 0
    with session_scope(engine, write=True) as s:
        for z in to_open:
            start = wanted[z.id]
            assert start is not None
            if s.exec(select(VideoEvent.id).where(col(VideoEvent.zone_id) == z.id,
                                                  col(VideoEvent.ended_at).is_(None))).first() is not None:
                continue  # another run opened it in between
            new = VideoEvent(kind=VideoEventKind.POST_VACANT, site_id=z.site_id, camera_id=z.camera_id, zone_id=z.id,
                             post_id=z.post_id, staff_id=z.staff_id, started_at=start)
            s.add(new)
            s.flush()
            mqtt.notify_event(s, new, "opened")
            opened += 1
        ends = {z.id: (z.since if z.state != PresenceState.VACANT and z.since is not None else decided[z.id][1])
                for z in to_close}
        for zid, eid in [(z.id, open_events[z.id]) for z in to_close] + [(0, e) for e in gone]:
            event = s.get(VideoEvent, eid)
            if event is None or event.ended_at is not None:
                continue
            event.ended_at = max(event.started_at, min(now, ends.get(zid, now)))
            event.status = VideoEventStatus.PENDING_REVIEW
            s.add(event)
            mqtt.notify_event(s, event, "closed")
            closed += 1
    if opened or closed:
        logger.info("vacancy events: %d opened, %d closed", opened, closed)
    return opened, closed


def get_event(session: Session, actor: Principal, event_id: int) -> VideoEvent:
    """One event of the actor's jurisdiction (NotFound otherwise, as for an unknown id)."""
    actor.require(Permission.CAMERAS_VIEW)
    event = session.get(VideoEvent, event_id)
    site = session.get(Site, event.site_id) if event is not None else None
    if event is None or site is None or not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.video", id=event_id)
    return event


def events_readable(session: Session, reader: Principal, ids: Sequence[str]) -> set[str]:
    """Which of these event ids (ledger sources `video:<id>`) this reader may open."""
    if not reader.can(Permission.CAMERAS_VIEW):
        return set()
    wanted = [int(i) for i in ids if i.isdigit()]
    if not wanted:
        return set()
    rows = session.exec(select(VideoEvent.id).join(Site, col(Site.id) == col(VideoEvent.site_id)).where(
        col(VideoEvent.id).in_(wanted), col(Site.path).startswith(reader.site_path, autoescape=True))).all()
    return {str(r) for r in rows}


def event_public(session: Session, actor: Principal, event_id: int) -> VideoEventPublic:
    event = get_event(session, actor, event_id)
    return _public(session, [event])[0]


def review_event(session: Session, actor: Principal, event_id: int, data: VideoEventReview, *,
                 ip: str = "") -> VideoEvent:
    """Confirm (a ledger entry for the post's staff member by the rule set in force on the day, source
    `video:<id>`) or dismiss (kept as a false alarm) an ended event, with the reason; audited."""
    actor.require(Permission.LEDGER_WRITE)
    event = get_event(session, actor, event_id)
    if event.review_outcome is not None:
        raise Conflict("video_event.error.reviewed")
    if event.ended_at is None:
        raise Conflict("video_event.error.still_open")
    reason = data.reason.strip()
    if not reason:
        raise InvalidInput("reason", "error.required")
    # Only a post left vacant counts against a person; a confirmed tamper or queue event is a finding for the
    # risk register and the hall's management, kept with its reason.
    if data.outcome == ReviewOutcome.CONFIRMED and event.kind == VideoEventKind.POST_VACANT:
        if event.staff_id is None:
            raise InvalidInput("outcome", "video_event.error.no_staff")
        day = event.started_at.astimezone(get_settings().tz).date()
        minutes = round((event.ended_at - event.started_at).total_seconds() / 60)
        entry = ledger.record_entry(
            session, actor=actor, day=day, kind="off_post", points=scoring_points(session, "video.off_post", on=day),
            reason=ledger.keyed_reason("ledger_reason.video_off_post", minutes=str(minutes), note=reason[:300]),
            source_kind="video", source_id=event.id, staff_id=event.staff_id, ip=ip)
        event.ledger_entry_id = entry.id
        # The risk register hears of it as it hears of an upheld complaint: an incident linked to the post's points.
        incidents.record_incident(session, kind="video", source_kind="video", source_id=event.id,
                                  occurred_at=event.started_at, post_id=event.post_id, staff_id=event.staff_id,
                                  summary=f"{event.kind.value} {minutes} min")
        event.legal_hold = True  # confirmed: its evidence is kept past the retention (cameras.evidence)
    event.review_outcome = data.outcome
    event.review_reason = reason[:400]
    event.reviewed_by = actor.audit_name[:80]
    event.reviewed_at = utcnow()
    event.status = VideoEventStatus.CLOSED
    session.add(event)
    mqtt.notify_event(session, event, "reviewed")
    audit.record(session, actor, f"video_event.{data.outcome.value}", object_kind="video_event", object_id=event.id,
                 site_id=event.site_id, summary=event.kind.value, detail={"reason": reason}, ip=ip)
    return event


def seed_demo_events(session: Session, camera_id: int, *, today: date | None = None) -> int:
    """Demo: a reviewed-to-be vacancy at the camera's first two post zones on the last working day (once per zone).

    So an officer of every demo jurisdiction finds events to look at at any hour; live ones follow in office
    hours whenever a demo post stays empty past the threshold.
    """
    tz = get_settings().tz
    today = today or utcnow().astimezone(tz).date()
    zones = list(session.exec(select(Zone).where(col(Zone.camera_id) == camera_id, col(Zone.kind) == ZoneKind.POST)
                              .order_by(col(Zone.id)).limit(2)).all())
    made = 0
    for n, zone in enumerate(zones):
        if session.exec(select(VideoEvent.id).where(col(VideoEvent.zone_id) == zone.id)).first() is not None:
            continue
        day, hours = today, None
        for back in range(1, 15):
            day = today - timedelta(days=back)
            hours = hours_for(session, site_id=zone.site_id, day=day)
            if hours is not None:
                break
        if hours is None:
            continue
        watched = watched_periods(hours, tz, None)
        start = watched[min(n, len(watched) - 1)][0] + timedelta(minutes=35 + 20 * n)
        staff = session.exec(select(Staff.id).where(col(Staff.post_id) == zone.post_id, col(Staff.active))
                             .order_by(col(Staff.id))).first() if zone.post_id is not None else None
        session.add(VideoEvent(kind=VideoEventKind.POST_VACANT, status=VideoEventStatus.PENDING_REVIEW,
                               site_id=zone.site_id, camera_id=camera_id, zone_id=zone.id, post_id=zone.post_id,
                               staff_id=staff, started_at=start, ended_at=start + timedelta(minutes=18 + 7 * n)))
        made += 1
    return made


def run_vacancy_job() -> None:
    """The scheduler's job."""
    evaluate_vacancies()


VACANCY_JOB = JobSpec("cameras.vacancies", "cameras.vacancy:run_vacancy_job", "interval", {"seconds": 30})


def list_events(session: Session, actor: Principal, *, open_only: bool = False, limit: int = 100
                ) -> list[VideoEventPublic]:
    """Video events of the actor's jurisdiction, newest first (an officer's queue to review)."""
    actor.require(Permission.CAMERAS_VIEW)
    stmt = (select(VideoEvent).join(Site, col(Site.id) == col(VideoEvent.site_id))
            .where(col(Site.path).startswith(actor.site_path, autoescape=True)))
    if open_only:
        stmt = stmt.where(col(VideoEvent.ended_at).is_(None))
    rows = list(session.exec(stmt.order_by(col(VideoEvent.started_at).desc(), col(VideoEvent.id).desc())
                             .limit(limit)).all())
    return _public(session, rows)


def _public(session: Session, rows: list[VideoEvent]) -> list[VideoEventPublic]:
    def names(model: Any, ids: set[int | None]) -> dict[int, str]:
        wanted = [i for i in ids if i is not None]
        if not wanted:
            return {}
        return {int(r.id): r.name for r in session.exec(select(model).where(col(model.id).in_(wanted))).all()}

    cams = names(Camera, {e.camera_id for e in rows})
    posts = names(Post, {e.post_id for e in rows})
    staff = names(Staff, {e.staff_id for e in rows})
    now = utcnow()
    return [VideoEventPublic(id=int(e.id or 0), kind=e.kind, status=e.status, site_id=e.site_id,
                             camera_id=e.camera_id, zone_id=e.zone_id, post_id=e.post_id, staff_id=e.staff_id,
                             started_at=e.started_at, ended_at=e.ended_at,
                             minutes=round(((e.ended_at or now) - e.started_at).total_seconds() / 60, 1),
                             camera_name=cams.get(e.camera_id or 0, ""), post_name=posts.get(e.post_id or 0, ""),
                             staff_name=staff.get(e.staff_id or 0, ""), review_outcome=e.review_outcome,
                             review_reason=e.review_reason, reviewed_at=e.reviewed_at,
                             ledger_entry_id=e.ledger_entry_id)
            for e in rows]
