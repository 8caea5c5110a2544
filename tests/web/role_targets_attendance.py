"""City-level attendance objects for the role × route walk: a computed day of 张三, his pending 补卡 request,
and a punch of an unknown staff number received at the city. County users must never see them."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from supervision import attendance
from supervision.access import Permission, Principal
from supervision.attendance import AttendanceDay, CorrectionAsk, PunchBatch, PunchIn
from supervision.db import session_scope
from supervision.models import Site
from supervision.settings import get_settings

UNKNOWN_CODE = "MY-UNKNOWN-77"
DEVICE = "市中心一楼考勤机"


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    day = datetime.now(get_settings().tz).date() - timedelta(days=3)
    with session_scope(engine, write=True) as s:
        city = s.get(Site, org.city)
        assert city is not None
        gateway = Principal(kind="token", id=1, name="gateway", site_id=org.city, site_path=city.path,
                            permissions=frozenset({Permission.ATTENDANCE_PUSH}))
        at = datetime.combine(day, time(9, 20))
        attendance.push_punches(s, actor=gateway, batch=PunchBatch(punches=[
            PunchIn(staff_code="S001", punched_at=at, device=DEVICE, record_id="rw-1"),
            PunchIn(staff_code=UNKNOWN_CODE, punched_at=at, device=DEVICE, record_id="rw-2")]))
        # A day with hours whatever the calendar says: the walk needs one row to aim at.
        s.add(AttendanceDay(staff_id=org.staff, site_id=org.city, day=day, status=attendance.DayStatus.LATE,
                            late_minutes=20))
        s.flush()
        day_id = s.exec(select(AttendanceDay.id).where(col(AttendanceDay.staff_id) == org.staff)).one()
        asked = attendance.ask_correction(s, actor=org.principals["staff"], ask=CorrectionAsk(
            day=day, punch_time=time(8, 58), reason="市级补卡理由"))
        values = {"day_id": day_id, "correction_id": asked.id, "staff_id": org.staff}
    return values, [UNKNOWN_CODE, DEVICE, "市级补卡理由"]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city's day, request and site."""
    yesterday = (date.today() - timedelta(days=1)).isoformat()
    correction = {"status": "present", "reason": "越权更正"}
    return {
        ("POST", "/api/v1/attendance/days/{day_id}/correction"): correction,
        ("POST", "/attendance/days/{day_id}/correct"): correction,
        ("POST", "/api/v1/attendance/corrections/{correction_id}/decision"): {"approve": True, "note": "越权"},
        ("POST", "/attendance/corrections/{correction_id}/decide"): {"approve": "1", "note": "越权"},
        ("POST", "/api/v1/attendance/computations"): {"start": yesterday, "end": yesterday, "site_id": org.city},
        ("POST", "/api/v1/scoring/rule-sets"): {"version": "越权版本", "effective_from": "2027-01-01",
                                                "items": [{"key": "attendance.absent_day", "points": -1}]},
    }
