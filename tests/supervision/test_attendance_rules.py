"""The day rules, pure: each expected result written out by hand from the office's rules (no database)."""

from __future__ import annotations

from datetime import date, datetime, time

import pytest

from supervision.attendance import DayStatus, Leave, compute_day, scored_facts
from supervision.attendance.rules import attendance_day

# DOMAIN.md's timetable: winter 9:00–12:00 and 13:30–17:00, summer afternoons 14:00–17:30.
WINTER = ((time(9, 0), time(12, 0)), (time(13, 30), time(17, 0)))
SUMMER = ((time(9, 0), time(12, 0)), (time(14, 0), time(17, 30)))
DAY = date(2026, 11, 18)  # a Wednesday
SUMMER_DAY = date(2026, 7, 15)


def at(hh: int, mm: int, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hh, mm))


def test_on_time_both_punches_is_present() -> None:
    result = compute_day(DAY, WINTER, [at(8, 52), at(17, 3)])
    assert result is not None
    assert (result.status, result.late_minutes, result.early_minutes, result.missed_punches) == (
        DayStatus.PRESENT, 0, 0, 0)
    assert (result.first_in, result.last_out) == (time(8, 52), time(17, 3))


def test_late_and_early_in_minutes() -> None:
    result = compute_day(DAY, WINTER, [at(9, 7), at(16, 40)])
    assert result is not None
    assert (result.status, result.late_minutes, result.early_minutes) == (DayStatus.LATE_EARLY, 7, 20)
    assert [f.item for f in scored_facts(result)] == ["attendance.late_short", "attendance.early_long"]


def test_lunch_punches_need_not_be_made_and_do_not_count_as_sign_out() -> None:
    # In at 8:55, out for lunch 12:01, back 13:29, out 17:00: present; the lunch pair is ignored.
    result = compute_day(DAY, WINTER, [at(8, 55), at(12, 1), at(13, 29), at(17, 0)])
    assert result is not None and result.status == DayStatus.PRESENT


def test_seasons_move_the_end_of_the_day() -> None:
    # 17:10 is after the winter end (17:00) but 20 minutes before the summer end (17:30).
    winter = compute_day(DAY, WINTER, [at(8, 59), at(17, 10)])
    summer = compute_day(SUMMER_DAY, SUMMER, [at(8, 59, SUMMER_DAY), at(17, 10, SUMMER_DAY)])
    assert winter is not None and winter.status == DayStatus.PRESENT
    assert summer is not None and (summer.status, summer.early_minutes) == (DayStatus.EARLY, 20)


def test_one_punch_is_a_missed_punch_on_the_side_it_lacks() -> None:
    morning = compute_day(DAY, WINTER, [at(8, 50)])
    evening = compute_day(DAY, WINTER, [at(17, 5)])
    assert morning is not None and (morning.status, morning.missed_punches, morning.first_in, morning.last_out) == (
        DayStatus.MISSED_PUNCH, 1, time(8, 50), None)
    assert evening is not None and (evening.missed_punches, evening.first_in, evening.last_out) == (
        1, None, time(17, 5))
    assert [f.item for f in scored_facts(morning)] == ["attendance.missed_punch"]


def test_no_punch_on_a_working_day_is_a_whole_day_absent() -> None:
    result = compute_day(DAY, WINTER, [])
    assert result is not None and (result.status, result.absent_halves) == (DayStatus.ABSENT, 2)
    assert [f.item for f in scored_facts(result)] == ["attendance.absent_day"]


def test_arriving_after_lunch_is_half_a_day_absent_and_lateness_counts_from_the_afternoon() -> None:
    result = compute_day(DAY, WINTER, [at(13, 40), at(17, 2)])
    assert result is not None
    assert (result.status, result.absent_halves, result.late_minutes) == (DayStatus.ABSENT_HALF, 1, 10)
    assert [f.item for f in scored_facts(result)] == ["attendance.absent_half", "attendance.late_short"]


def test_a_closed_day_is_nothing_unless_on_duty() -> None:
    saturday = date(2026, 11, 21)
    assert compute_day(saturday, None, [at(9, 0, saturday)]) is None
    duty = compute_day(saturday, None, [at(9, 0, saturday), at(17, 0, saturday)], on_duty=True)
    assert duty is not None and duty.status == DayStatus.DUTY and scored_facts(duty) == []


def test_a_swapped_saturday_with_hours_is_a_working_day() -> None:
    # 2026-10-10 (Saturday) is not special here: the calendar decides and gives hours; no punch is absence.
    swapped = date(2026, 10, 10)
    result = compute_day(swapped, WINTER, [])
    assert result is not None and result.status == DayStatus.ABSENT


def test_whole_day_leave_and_trip_score_nothing() -> None:
    leave = compute_day(DAY, WINTER, [], leave=Leave("sick"))
    trip = compute_day(DAY, WINTER, [], leave=Leave("trip"))
    assert leave is not None and (leave.status, leave.leave_kind) == (DayStatus.LEAVE, "sick")
    assert trip is not None and trip.status == DayStatus.TRIP
    assert scored_facts(leave) == [] and scored_facts(trip) == []


def test_half_day_leave_moves_the_expected_start() -> None:
    # Morning on annual leave: in at 13:35 is 5 minutes late for the afternoon, not half a day absent.
    result = compute_day(DAY, WINTER, [at(13, 35), at(17, 0)], leave=Leave("annual", "am"))
    assert result is not None
    assert (result.status, result.late_minutes, result.absent_halves, result.leave_kind) == (
        DayStatus.LATE, 5, 0, "annual")
    afternoon_off = compute_day(DAY, WINTER, [], leave=Leave("personal", "pm"))
    assert afternoon_off is not None and (afternoon_off.status, afternoon_off.absent_halves) == (
        DayStatus.ABSENT_HALF, 1)


@pytest.mark.parametrize(("local", "day"), [
    (datetime(2026, 11, 19, 0, 20), date(2026, 11, 18)),  # just after midnight: the evening before
    (datetime(2026, 11, 19, 3, 59), date(2026, 11, 18)),
    (datetime(2026, 11, 19, 4, 0), date(2026, 11, 19)),
    (datetime(2026, 11, 19, 8, 55), date(2026, 11, 19)),
])
def test_night_punches_belong_to_the_day_before_until_four(local: datetime, day: date) -> None:
    assert attendance_day(local) == day


def test_a_sign_out_after_midnight_on_an_extended_day_is_the_days_sign_out() -> None:
    extended = ((time(9, 0), time(12, 0)), (time(13, 30), time(20, 0)))
    result = compute_day(DAY, extended, [at(8, 58), datetime(2026, 11, 19, 0, 20)])
    assert result is not None and result.status == DayStatus.PRESENT and result.last_out == time(0, 20)


def test_late_by_more_than_ten_minutes_is_the_long_item() -> None:
    result = compute_day(DAY, WINTER, [at(9, 11), at(17, 0)])
    assert result is not None and result.late_minutes == 11
    assert [f.item for f in scored_facts(result)] == ["attendance.late_long"]
    edge = compute_day(DAY, WINTER, [at(9, 10), at(17, 0)])
    assert edge is not None and [f.item for f in scored_facts(edge)] == ["attendance.late_short"]


def test_a_punch_pressed_twice_is_one_punch() -> None:
    result = compute_day(DAY, WINTER, [at(8, 55), at(8, 56)])
    assert result is not None
    assert (result.status, result.missed_punches, result.absent_halves) == (DayStatus.MISSED_PUNCH, 1, 0)


def test_leaving_before_lunch_ends_is_half_a_day_absent() -> None:
    result = compute_day(DAY, WINTER, [at(8, 50), at(11, 50)])
    assert result is not None
    assert (result.status, result.absent_halves, result.early_minutes) == (DayStatus.ABSENT_HALF, 1, 10)
