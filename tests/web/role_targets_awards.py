"""City-level awards objects for the role × route walk: a duty leader of the last ended quarter with a ballot and
a selected award of the city's 公安窗口. County users must never reach them."""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy.engine import Engine

from supervision import awards, org
from supervision.access import SYSTEM
from supervision.awards import BallotIn, SelectionIn, SubjectKind, Tick
from supervision.db import session_scope
from supervision.duty import AssignmentSource, DutyAssignment, DutyRole
from supervision.settings import get_settings

LEADER = "孙带班"


def _quarter() -> str:
    return awards.quarter_key(*awards.last_complete_quarter(datetime.now(get_settings().tz).date()))


def targets(engine: Engine, org_data: SimpleNamespace) -> tuple[dict[str, Any], list[str]]:
    today = datetime.now(get_settings().tz).date()
    quarter = _quarter()
    start, _ = awards.quarter_bounds(*awards.parse_quarter(quarter))
    with session_scope(engine, write=True) as s:
        leader = int(org.create_entity(s, SYSTEM, org.OrgKind.STAFF, {
            "code": "AW-L1", "name": LEADER, "site_id": org_data.city, "rank": "bureau_leader"}).id)
        s.add(DutyAssignment(site_id=org_data.city, day=start, role=DutyRole.LEADER, staff_id=leader,
                             source=AssignmentSource.MANUAL))
        s.flush()
        awards.cast_ballot(s, actor=SYSTEM, body=BallotIn(quarter=quarter, leader_id=leader, ticks=[
            Tick(subject_kind=SubjectKind.WINDOW, subject_id=org_data.window)]))
        chosen = awards.select_award(s, actor=SYSTEM, today=today, body=SelectionIn(
            quarter=quarter, subject_kind=SubjectKind.WINDOW, subject_id=org_data.window))
        assert chosen is not None
        org_data.award_leader = leader
    return {"selection_id": chosen.id}, [LEADER]


def bodies(org_data: SimpleNamespace) -> dict[tuple[str, str], dict[str, Any]]:
    """Bodies accepted inside the jurisdiction, aimed at the city's leader, window and staff."""
    quarter = _quarter()
    ballot = {"quarter": quarter, "leader_id": org_data.award_leader,
              "ticks": [{"subject_kind": "window", "subject_id": org_data.comprehensive}]}
    selection = {"quarter": quarter, "subject_kind": "window", "subject_id": org_data.comprehensive, "selected": True}
    year = int(quarter[:4]) - 1
    return {
        ("POST", "/api/v1/awards/votes"): ballot,
        ("POST", "/awards/votes"): {"quarter": quarter, "leader_id": org_data.award_leader,
                                    "tick": f"window:{org_data.comprehensive}"},
        ("POST", "/api/v1/awards/selection"): selection,
        ("POST", "/awards/select"): {**selection, "selected": "1"},
        ("POST", "/api/v1/appraisals/confirm"): {"year": year, "staff_id": org_data.staff, "grade": "competent"},
        ("POST", "/appraisals/confirm"): {"year": year, "staff_id": org_data.staff, "grade": "competent"},
    }
