"""Deadlines and cards over the working-day calendar, pure."""

from __future__ import annotations

from datetime import date

import pytest

from complaints.deadlines import Card, card_for, due_date, within_workdays
from supervision.errors import InvalidInput
from supervision.workdays import WorkCalendar

CAL = WorkCalendar()


def test_limit_runs_over_a_weekend() -> None:
    # Friday 6 November 2026 + 3 working days = Wednesday 11 November.
    assert due_date(CAL, date(2026, 11, 6), 3).due_on == date(2026, 11, 11)


def test_order_received_on_saturday_starts_on_monday() -> None:
    assert due_date(CAL, date(2026, 11, 7), 3).due_on == date(2026, 11, 11)


def test_national_day_holiday_and_its_swapped_saturday() -> None:
    # Received Wed 30 Sep: 1–7 Oct are holidays; Thu 8, Fri 9 and the swapped Sat 10 Oct are working days.
    deadline = due_date(CAL, date(2026, 9, 30), 3)
    assert deadline.due_on == date(2026, 10, 10)
    assert not deadline.provisional and deadline.source == "official"


def test_admin_override_moves_the_deadline() -> None:
    cal = WorkCalendar(overrides={date(2026, 11, 9): False})
    assert due_date(cal, date(2026, 11, 6), 3).due_on == date(2026, 11, 12)


def test_year_beyond_the_calendar_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as err:
        due_date(CAL, date(2026, 12, 28), 15)
    assert err.value.problems[0].field == "received_at"
    assert "2027" in err.value.message("en")


def test_fallback_marks_the_deadline_provisional() -> None:
    cal = WorkCalendar(allow_weekday_fallback=True)
    deadline = due_date(cal, date(2026, 12, 28), 15)
    assert deadline.provisional and deadline.source == "fallback"
    assert deadline.due_on == date(2027, 1, 18)


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 11, 9), Card.NONE),  # Mon, due Wed: 2 working days left
    (date(2026, 11, 10), Card.YELLOW),  # Tue: 1 left
    (date(2026, 11, 11), Card.YELLOW),  # the due day
    (date(2026, 11, 12), Card.RED),  # past due
])
def test_cards(today: date, expected: Card) -> None:
    assert card_for(CAL, today, date(2026, 11, 11), yellow_workdays=1, red_workdays_late=0) is expected


def test_red_card_can_wait_for_some_days_late() -> None:
    due = date(2026, 11, 11)
    assert card_for(CAL, date(2026, 11, 12), due, yellow_workdays=1, red_workdays_late=2) is Card.YELLOW
    assert card_for(CAL, date(2026, 11, 16), due, yellow_workdays=1, red_workdays_late=2) is Card.RED


def test_send_back_window_is_one_working_day() -> None:
    friday = date(2026, 11, 6)
    assert within_workdays(CAL, friday, date(2026, 11, 9), 1)  # Monday still counts
    assert not within_workdays(CAL, friday, date(2026, 11, 10), 1)
