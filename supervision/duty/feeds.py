"""Each person's duties as an iCalendar feed (RFC 5545) behind a secret-token URL; only the token's hash is kept."""

from __future__ import annotations

import hmac
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event
from sqlmodel import Session, col, select

from supervision import audit
from supervision.access import Principal
from supervision.db import utcnow
from supervision.duty.models import DutyAssignment, DutyCalendarToken
from supervision.duty.rosters import _check_person
from supervision.duty.settings import get_duty_settings
from supervision.errors import NotFound
from supervision.i18n import translate
from supervision.models import Site, Staff
from supervision.passwords import new_token, token_digest


def rotate_calendar_token(session: Session, actor: Principal, *, staff_id: int, ip: str = "") -> str:
    """Make a new secret for the person's feed (the old URL stops working); return it once."""
    _check_person(session, actor, staff_id)
    token = new_token(24)
    row = session.get(DutyCalendarToken, staff_id)
    if row is None:
        row = DutyCalendarToken(staff_id=staff_id, token_hash=token_digest(token))
    else:
        row.token_hash, row.created_at = token_digest(token), utcnow()
    session.add(row)
    audit.record(session, actor, "duty.calendar_token", object_kind="staff", object_id=staff_id, ip=ip)
    return token


def has_calendar_token(session: Session, *, staff_id: int) -> bool:
    return session.get(DutyCalendarToken, staff_id) is not None


def feed(session: Session, *, token: str, tz: ZoneInfo, locale: str = "zh-CN", today: date) -> bytes:
    """The feed of the person the token belongs to: their duties from 60 days back on, in local time."""
    digest = token_digest(token)
    row = session.exec(select(DutyCalendarToken).where(DutyCalendarToken.token_hash == digest)).first()
    if row is None or not hmac.compare_digest(row.token_hash, digest):
        raise NotFound("error.not_found")
    staff = session.get(Staff, row.staff_id)
    if staff is None or not staff.active:
        raise NotFound("error.not_found")
    settings = get_duty_settings()
    rows = session.exec(select(DutyAssignment, Site).join(Site, col(Site.id) == DutyAssignment.site_id).where(
        DutyAssignment.staff_id == row.staff_id, col(DutyAssignment.day) >= today - timedelta(days=60))
        .order_by(col(DutyAssignment.day)))
    cal = Calendar()
    cal.add("prodid", "-//supervision//duty roster//CN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", translate("duty.feed_name", locale, name=staff.name))
    cal.add("x-wr-timezone", str(tz))
    start_time, end_time = settings.day_start_time(), settings.day_end_time()
    for assignment, site in rows:
        event = Event()
        event.add("uid", f"duty-{assignment.id}@supervision")
        event.add("dtstamp", assignment.changed_at)
        event.add("dtstart", datetime.combine(assignment.day, start_time, tzinfo=tz))
        event.add("dtend", datetime.combine(assignment.day, end_time, tzinfo=tz))
        event.add("summary", translate("duty.feed_event", locale, role=f"duty_role.{assignment.role.value}",
                                       site=site.name))
        event.add("location", site.address or site.name)
        cal.add_component(event)
    cal.add_missing_timezones()
    ical: bytes = cal.to_ical()
    return ical
