"""Grading criteria versions, the scheduled job, texts in both languages."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlmodel import Session

import risk
from supervision.errors import Forbidden, InvalidInput
from supervision.i18n import translate
from tests.risk.conftest import TODAY, add_point
from web.composition import scheduled_jobs


def test_a_new_criteria_version_applies_to_new_points_and_old_ones_keep_theirs(
    session: Session, risk_org: SimpleNamespace
) -> None:
    officer = risk_org.principals["officer"]
    old = add_point(session, risk_org)
    risk.create_criteria(session, officer, {"version": "MY-LZ-2026", "title": "2026 版定级标准",
                                            "effective_from": "2026-01-01", "text": "..."})
    new = add_point(session, risk_org, code="FX-002")
    rows, _ = risk.list_risk_points(session, officer, today=TODAY)
    assert {r.code: r.criteria_version for r in rows} == {"FX-001": "MY-LZ-2014", "FX-002": "MY-LZ-2026"}
    assert old.criteria_id != new.criteria_id
    with pytest.raises(InvalidInput) as err:
        risk.create_criteria(session, officer, {"version": "MY-LZ-2026", "title": "x", "effective_from": "2026-02-01"})
    assert err.value.problems[0].field == "version"
    with pytest.raises(Forbidden):
        risk.create_criteria(session, risk_org.principals["manager"],
                             {"version": "X", "title": "x", "effective_from": "2026-02-01"})
    with pytest.raises(InvalidInput) as err:
        add_point(session, risk_org, code="FX-003", criteria_version="NOPE")
    assert err.value.problems[0].field == "criteria_version"


def test_the_reminder_job_is_listed_for_the_scheduler() -> None:
    jobs = {j.id: j for j in scheduled_jobs()}
    assert jobs["risk.reminders"].func == "risk.reminders:run_reminder_job"


def test_every_enumeration_and_flag_has_both_languages() -> None:
    keys = [f"risk.category.{c.value}" for c in risk.RiskCategory]
    keys += [f"risk.measure_type.{t.value}" for t in risk.MeasureType]
    keys += [f"risk.frequency.{f.value}" for f in risk.CheckFrequency]
    keys += [f"risk.result.{r.value}" for r in risk.CheckResult]
    keys += [f"risk.outcome.{o.value}" for o in risk.ReviewOutcome]
    keys += [f"risk.flag.{f.value}" for f in (*risk.PointFlag, *risk.MeasureFlag)]
    keys += [f"risk.reminder.{k.value}" for k in risk.ReminderKind]
    keys += [f"risk.level.{n}" for n in (1, 2, 3)]
    for key in keys:
        assert translate(key, "zh-CN") != key and translate(key, "en") != key, key
