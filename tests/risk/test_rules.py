"""The pure rules: grading, due dates on the working-day calendar, flags."""

from __future__ import annotations

from datetime import date

from risk import deadlines
from risk.flags import MeasureFacts, MeasureFlag, PointFacts, PointFlag, measure_flags, point_flags
from risk.grading import PowerKind, powers_in, regrade_prompted, suggest_level
from risk.models import CheckFrequency, CheckResult, RiskLevel
from supervision.workdays import WorkCalendar

TODAY = date(2026, 6, 1)


def test_direct_approval_power_at_the_deciding_step_is_level_one() -> None:
    assert suggest_level({PowerKind.APPROVAL}) is RiskLevel.HIGH
    assert suggest_level({PowerKind.FEES, PowerKind.SERVICE}) is RiskLevel.HIGH


def test_high_power_at_a_step_that_does_not_decide_is_level_two() -> None:
    assert suggest_level({PowerKind.LICENSING}, decisive=False) is RiskLevel.MEDIUM


def test_inspection_and_certification_are_level_two_and_service_level_three() -> None:
    assert suggest_level({PowerKind.INSPECTION}) is RiskLevel.MEDIUM
    assert suggest_level({PowerKind.CERTIFICATION}) is RiskLevel.MEDIUM
    assert suggest_level({PowerKind.SERVICE}) is RiskLevel.LOW
    assert suggest_level(set()) is RiskLevel.LOW


def test_powers_are_read_from_post_names() -> None:
    assert powers_in("规划许可审批岗") == {PowerKind.LICENSING, PowerKind.APPROVAL}
    assert powers_in("交通违法处罚岗") == {PowerKind.PENALTIES}
    assert powers_in("综合咨询岗") == set()


def test_regrade_threshold_is_inclusive() -> None:
    assert not regrade_prompted(2, 3)
    assert regrade_prompted(3, 3)


def test_review_due_moves_off_a_holiday_to_the_next_working_day() -> None:
    calendar = WorkCalendar()
    # 2025-07-03 + 90 days = 2025-10-01, National Day: the first working day after is 2025-10-09.
    due = deadlines.review_due(date(2025, 7, 3), 1, 90, calendar)
    assert due == deadlines.DueDate(date(2025, 10, 9), False)


def test_a_swapped_saturday_is_a_working_day() -> None:
    # 2025-09-28 (Sunday) was worked in exchange for the National Day holiday.
    assert deadlines.on_workday(date(2025, 9, 28), WorkCalendar()).day == date(2025, 9, 28)


def test_a_year_the_calendar_does_not_know_gives_a_provisional_date_not_an_error() -> None:
    calendar = WorkCalendar(package_years=frozenset({2026}))
    due = deadlines.review_due(date(2026, 12, 1), 2, 180, calendar)
    # 180 days later is Sunday 30 May 2027: the provisional rule (weekends off) moves it to Monday.
    assert due == deadlines.DueDate(date(2027, 5, 31), True)


def test_monthly_checks_clamp_to_the_end_of_a_short_month() -> None:
    assert deadlines.add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert deadlines.check_due(date(2026, 1, 31), CheckFrequency.MONTHLY, None).day == date(2026, 2, 28)
    assert deadlines.check_due(date(2026, 3, 2), CheckFrequency.QUARTERLY, WorkCalendar()).day == date(2026, 6, 2)
    assert deadlines.check_due(date(2026, 3, 2), CheckFrequency.WEEKLY, None).day == date(2026, 3, 9)


def test_measure_flags() -> None:
    assert measure_flags(MeasureFacts(date(2026, 5, 31), None), today=TODAY, lead_days=14) == {
        MeasureFlag.CHECK_OVERDUE}
    assert measure_flags(MeasureFacts(date(2026, 6, 10), CheckResult.NOT_EFFECTIVE), today=TODAY, lead_days=14) == {
        MeasureFlag.CHECK_DUE, MeasureFlag.NOT_EFFECTIVE}
    assert measure_flags(MeasureFacts(date(2026, 5, 1), None, active=False), today=TODAY, lead_days=14) == set()


def test_a_point_whose_measures_are_all_overdue_or_ineffective_is_flagged() -> None:
    overdue = MeasureFacts(date(2026, 5, 1), CheckResult.EFFECTIVE)
    ineffective = MeasureFacts(date(2026, 9, 1), CheckResult.NOT_EFFECTIVE)
    partly = MeasureFacts(date(2026, 9, 1), CheckResult.PARTLY)
    failing = PointFacts(date(2026, 12, 1), False, [overdue, ineffective], 0)
    assert point_flags(failing, today=TODAY, lead_days=14, threshold=3) == {PointFlag.MEASURES_FAILING}
    holding = PointFacts(date(2026, 12, 1), False, [overdue, partly], 0)
    assert point_flags(holding, today=TODAY, lead_days=14, threshold=3) == set()


def test_point_flags_for_review_duties_and_signal() -> None:
    facts = PointFacts(date(2026, 5, 29), True, [], 3)
    assert point_flags(facts, today=TODAY, lead_days=14, threshold=3) == {
        PointFlag.REVIEW_OVERDUE, PointFlag.DUTIES_CHANGED, PointFlag.NO_MEASURES, PointFlag.REGRADE}
    soon = PointFacts(date(2026, 6, 15), False, [MeasureFacts(date(2026, 9, 1), None)], 2)
    assert point_flags(soon, today=TODAY, lead_days=14, threshold=3) == {PointFlag.REVIEW_DUE}
