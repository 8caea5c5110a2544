"""Duty rosters and the duty log for the role × route walk: the city's pool, a duty, a swap and a log entry,
which county users must never reach."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from supervision import duty, org
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyLogCreate, DutyRole
from supervision.org import OrgKind
from supervision.settings import get_settings
from tests.conftest import SYSTEM

LEADER_NAME = "市级带班局长"
PROBLEM = "市级值班日志的问题"


def _ahead(days: int) -> date:
    return datetime.now(get_settings().tz).date() + timedelta(days=days)


def targets(engine: Engine, ns: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    settings = get_settings()
    with session_scope(engine, write=True) as s:
        leader = int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
            "code": "DUTY-L1", "name": LEADER_NAME, "site_id": ns.city, "rank": "bureau_leader"}).id)
        leader2 = int(org.create_entity(s, SYSTEM, OrgKind.STAFF, {
            "code": "DUTY-L2", "name": "市级带班局长二", "site_id": ns.city, "rank": "bureau_leader"}).id)
        duty.set_pool(s, SYSTEM, site_id=ns.city, staff_ids=[leader, leader2, ns.staff2])
        row = DutyAssignment(site_id=ns.city, day=_ahead(20), role=DutyRole.LEADER, staff_id=leader,
                             source=AssignmentSource.MANUAL)
        s.add(row)
        s.flush()
        swap = duty.DutySwap(site_id=ns.city, assignment_id=row.id or 0, requester_id=leader, counterpart_id=leader2,
                             status=duty.SwapStatus.ACCEPTED)
        s.add(swap)
        entry = duty.record_log_entry(s, ns.principals["manager"], DutyLogCreate(
            site_id=ns.city, occurred_at=datetime.now(settings.tz) - timedelta(hours=1), problem=PROBLEM,
            handling="现场协调"), tz=settings.tz, now=datetime.now(settings.tz))
        s.flush()
        ns.duty_leader, ns.duty_assignment = leader, row.id
        values = {"swap_id": swap.id, "log_id": entry.id}
    return values, [LEADER_NAME, PROBLEM]


def bodies(ns: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city (see test_role_routes)."""
    start, end = _ahead(30).isoformat(), _ahead(40).isoformat()
    generate = {"site_id": ns.city, "start": start, "end": end}
    assign = {"site_id": ns.city, "day": _ahead(21).isoformat(), "role": "leader", "staff_id": ns.duty_leader}
    swap = {"assignment_id": ns.duty_assignment, "counterpart_id": ns.duty_leader, "reason": "越权调班"}
    log = {"site_id": ns.city, "occurred_at": datetime.now(get_settings().tz).strftime("%Y-%m-%dT%H:%M"),
           "problem": "越权记录", "handling": "越权"}
    return {
        ("POST", "/duty/generate"): generate, ("POST", "/api/v1/duty-rosters/generate"): generate,
        ("POST", "/duty/assign"): assign, ("PUT", "/api/v1/duty-rosters/assignments"): assign,
        ("POST", "/duty/pool"): {"site_id": ns.city, "staff_ids": ns.duty_leader},
        ("PUT", "/api/v1/duty-rosters/{site_id}/pool"): {"staff_ids": [ns.duty_leader]},
        ("POST", "/duty/swaps/{swap_id}"): {"action": "approve", "back": "/duty"},
        ("POST", "/api/v1/duty-rosters/swaps/{swap_id}/actions"): {"action": "approve"},
        ("POST", "/duty/mine/swaps"): swap, ("POST", "/api/v1/duty-rosters/swaps"): swap,
        ("POST", "/duty/mine/days"): {"day": _ahead(25).isoformat(), "choice": "blocked"},
        ("POST", "/duty/log"): log, ("POST", "/api/v1/duty-log"): log,
        ("POST", "/duty/log/{log_id}/work-order"): {"type": "help"},
        ("POST", "/api/v1/duty-log/{log_id}/work-order"): {"type": "help"},
    }
