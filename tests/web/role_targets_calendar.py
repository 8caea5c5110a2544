"""The working-day calendar's write routes for the role × route walk: it holds for the whole city, so a
county admin's change is refused (403) like any write outside the jurisdiction (issue 10 §4)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine


def targets(engine: Engine, org: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    del engine, org  # the calendar is one city-wide table: nothing to make
    return {}, []


def bodies(org: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies a city-level admin's change would be accepted with (a day and a year nobody else uses)."""
    del org
    return {
        ("PUT", "/api/v1/calendar/overrides"): {"day": "2027-10-08", "is_workday": False, "name": "越权调休"},
        ("POST", "/api/v1/calendar/years"): {"year": 2028, "notice": "越权录入"},
        ("POST", "/calendar/overrides"): {"day": "2027-10-09", "is_workday": "0", "name": "越权调休"},
        ("POST", "/calendar/years"): {"year": "2029", "notice": "越权录入"},
    }
