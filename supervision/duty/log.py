"""The duty log (值班日志): problems the people on duty coordinated on the spot, and the count per month.

An entry may become a work order: the web layer calls the complaints service (the core imports no
domain) and then `link_work_order` keeps the order's reference on the entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator
from sqlalchemy import func
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Permission, Principal, check_site, site_path_clause
from supervision.duty.models import DutyAssignment, DutyLogEntry, DutyPoolMember
from supervision.errors import Conflict, InvalidInput, NotFound
from supervision.models import Site, Window
from supervision.org import parse


class DutyLogCreate(BaseModel):
    """What the person on duty writes down; `occurred_at` is local time (naive) or carries its zone."""

    site_id: int
    occurred_at: datetime
    window_id: int | None = None
    problem: str = Field(min_length=1, max_length=4000)
    handling: str = Field(min_length=1, max_length=4000)
    result: str = Field(default="", max_length=4000)

    @field_validator("problem", "handling", "result")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()


def may_write_log(session: Session, actor: Principal, *, site_id: int, day: date) -> bool:
    """A manager of the site, or a person on its roster that day."""
    if actor.can(Permission.DUTY_WRITE):
        return True
    if actor.staff_id is None:
        return False
    return session.exec(select(DutyAssignment.id).where(
        DutyAssignment.site_id == site_id, DutyAssignment.day == day,
        DutyAssignment.staff_id == actor.staff_id)).first() is not None


def record_entry(session: Session, actor: Principal, data: DutyLogCreate, *, tz: ZoneInfo, now: datetime,
                 ip: str = "") -> DutyLogEntry:
    """Write an entry of the duty log (the manager, or someone on duty at the site that day)."""
    site = _site_for_log(session, actor, data.site_id)
    occurred = data.occurred_at if data.occurred_at.tzinfo else data.occurred_at.replace(tzinfo=tz)
    if not data.problem:
        raise InvalidInput("problem", "error.required")
    if not data.handling:
        raise InvalidInput("handling", "error.required")
    if occurred > now + timedelta(minutes=5):
        raise InvalidInput("occurred_at", "error.duty_future_time")
    if occurred < now - timedelta(days=366):
        raise InvalidInput("occurred_at", "error.invalid")
    day = occurred.astimezone(tz).date()
    if not may_write_log(session, actor, site_id=data.site_id, day=day):
        raise InvalidInput("occurred_at", "error.duty_log_not_on_duty")
    if data.window_id is not None:
        window = session.get(Window, data.window_id)
        if window is None or window.site_id != site.id:
            raise InvalidInput("window_id", "error.unknown_ref", kind="kind.window", value=data.window_id)
    entry = DutyLogEntry(site_id=data.site_id, occurred_at=occurred, window_id=data.window_id, problem=data.problem,
                         handling=data.handling, result=data.result, recorded_by_id=actor.id or 0)
    session.add(entry)
    session.flush()
    audit.record(session, actor, "duty.log", object_kind="duty_log_entry", object_id=entry.id, site_id=site.id, ip=ip)
    return entry


def _site_for_log(session: Session, actor: Principal, site_id: int) -> Site:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
    if not actor.covers_path(site.path):
        raise NotFound("error.not_found_kind", kind="kind.site", id=site_id)
    return site


def get_entry(session: Session, actor: Principal, entry_id: int) -> DutyLogEntry:
    entry = session.get(DutyLogEntry, entry_id)
    site = session.get(Site, entry.site_id) if entry is not None else None
    visible = site is not None and actor.covers_path(site.path) and (
        actor.can(Permission.DUTY_READ) or (entry is not None and actor.id is not None
                                            and entry.recorded_by_id == actor.id))
    if entry is None or not visible:
        raise NotFound("error.not_found_kind", kind="kind.duty_log_entry", id=entry_id)
    return entry


def link_work_order(session: Session, actor: Principal, *, entry_id: int, reference: str, ip: str = "") -> None:
    """Keep the reference of the work order an entry became (once)."""
    entry = get_entry(session, actor, entry_id)
    if entry.work_order_ref:
        raise Conflict("error.duty_log_has_order", ref=entry.work_order_ref)
    entry.work_order_ref = reference[:40]
    session.add(entry)
    audit.record(session, actor, "duty.log_to_order", object_kind="duty_log_entry", object_id=entry.id,
                 site_id=entry.site_id, ip=ip, detail={"work_order": reference})


def list_entries(session: Session, actor: Principal, *, site_id: int | None = None, start: datetime | None = None,
                 end: datetime | None = None, limit: int = 200, offset: int = 0) -> list[DutyLogEntry]:
    """Entries of the jurisdiction (newest first), by site and time range."""
    actor.require(Permission.DUTY_READ)
    query = select(DutyLogEntry).join(Site, col(Site.id) == DutyLogEntry.site_id).where(site_path_clause(actor))
    if site_id is not None:
        check_site(session, actor, site_id)
        query = query.where(DutyLogEntry.site_id == site_id)
    if start is not None:
        query = query.where(col(DutyLogEntry.occurred_at) >= start)
    if end is not None:
        query = query.where(col(DutyLogEntry.occurred_at) < end)
    return list(session.exec(query.order_by(col(DutyLogEntry.occurred_at).desc()).offset(offset).limit(limit)))


def entry_places(session: Session, entries: list[DutyLogEntry]) -> dict[int, tuple[str, str]]:
    """Per entry id: the name of its centre and of its window ("" when none), for the list of entries."""
    site_ids = {e.site_id for e in entries}
    window_ids = {e.window_id for e in entries if e.window_id is not None}
    sites: dict[int | None, str] = {}
    for site_id, name in (session.exec(select(Site.id, Site.name).where(col(Site.id).in_(site_ids)))
                          if site_ids else []):
        sites[site_id] = name
    windows: dict[int | None, str] = {}
    for window in (session.exec(select(Window).where(col(Window.id).in_(window_ids))) if window_ids else []):
        windows[window.id] = f"{window.name} {window.number}".strip() if window.number else window.name
    return {e.id or 0: (sites.get(e.site_id, ""), windows.get(e.window_id, "")) for e in entries}


@dataclass(frozen=True)
class MonthCount:
    month: str  # YYYY-MM (local)
    entries: int
    work_orders: int


def month_counts(session: Session, actor: Principal, *, year: int, tz: ZoneInfo,
                 site_id: int | None = None) -> list[MonthCount]:
    """The statistics: entries per local month of a year (and how many became work orders)."""
    actor.require(Permission.DUTY_READ)
    if site_id is not None:
        check_site(session, actor, site_id)
    out = []
    for month in range(1, 13):
        start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
        end = datetime.combine(date(year + month // 12, month % 12 + 1, 1), time(0), tzinfo=tz)
        query = select(func.count(col(DutyLogEntry.id)), func.count(func.nullif(DutyLogEntry.work_order_ref, ""))
                       ).join(Site, col(Site.id) == DutyLogEntry.site_id).where(
            site_path_clause(actor), col(DutyLogEntry.occurred_at) >= start, col(DutyLogEntry.occurred_at) < end)
        if site_id is not None:
            query = query.where(DutyLogEntry.site_id == site_id)
        entries, orders = session.exec(query).one()
        out.append(MonthCount(f"{year}-{month:02d}", int(entries), int(orders)))
    return out


def parse_log_form(values: dict[str, str]) -> DutyLogCreate:
    """A form's fields as an entry; problems by field (an empty window is none)."""
    data: dict[str, object] = dict(values)
    if not values.get("window_id"):
        data["window_id"] = None
    parsed: DutyLogCreate = parse(DutyLogCreate, data)
    return parsed


def log_sites(session: Session, actor: Principal, *, day: date) -> list[Site]:
    """Where the actor may write the log today: a manager's roster sites, or where they are on duty."""
    if actor.can(Permission.DUTY_WRITE):
        ids = select(DutyPoolMember.site_id).distinct()
        return list(session.exec(select(Site).where(col(Site.id).in_(ids), site_path_clause(actor))
                                 .order_by(col(Site.path))))
    if actor.staff_id is None:
        return []
    ids = select(DutyAssignment.site_id).where(DutyAssignment.staff_id == actor.staff_id, DutyAssignment.day == day)
    return list(session.exec(select(Site).where(col(Site.id).in_(ids), site_path_clause(actor))))


def site_windows(session: Session, site_ids: list[int]) -> list[Window]:
    if not site_ids:
        return []
    return list(session.exec(select(Window).where(col(Window.site_id).in_(site_ids)).order_by(col(Window.code))))
