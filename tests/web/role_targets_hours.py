"""Office hours and leave for the role × route walk: the city's own timetable and a city staff member's leave
request, which county users must never reach."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from supervision import leave, officehours
from supervision.db import session_scope
from supervision.leave import LeaveKind
from tests.conftest import SYSTEM

REASON = "市级人员请假事由"


def _next_monday(weeks: int) -> date:
    today = date.today()
    return today + timedelta(days=7 * weeks - today.weekday())


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    with session_scope(engine, write=True) as s:
        officehours.set_timetable(s, SYSTEM, site_id=org.city, summer=None,
                                  periods=list(officehours.DEFAULT_PERIODS[:10]))
        start = _next_monday(3)
        row = leave.request_leave(s, org.principals["staff"], kind=LeaveKind.SICK, start_day=start,
                                  end_day=start + timedelta(days=1), reason=REASON)
        values = {"site_id": org.city, "request_id": row.id, "staff_id": org.staff}
    return values, [REASON]


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city (see test_role_routes)."""
    start = _next_monday(5)
    ask = {"kind": "personal", "start_day": start.isoformat(), "end_day": (start + timedelta(days=1)).isoformat()}
    timetable = {"summer_start": "", "summer_end": "", "note": "越权修改",
                 "periods": [{"season": "winter", "weekday": 0, "start": "09:00", "end": "12:00"}]}
    return {
        ("PUT", "/api/v1/office-hours/{site_id}"): timetable,
        ("POST", "/office-hours/{site_id}"): {"winter_0": "09:00-12:00", "note": "越权修改"},
        ("POST", "/api/v1/leave-requests"): ask, ("POST", "/me/leave"): ask,
        ("POST", "/api/v1/leave-requests/{request_id}/decision"): {"approve": True, "note": "越权"},
        ("POST", "/leave/{request_id}/decision"): {"approve": "1", "note": "越权"},
        ("PUT", "/api/v1/leave-profiles/{staff_id}"): {"service_start": "2010-03-01"},
        ("POST", "/leave/service-start"): {"staff_id": org.staff, "service_start": "2010-03-01"},
    }
