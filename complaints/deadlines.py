"""Deadline and card arithmetic over a working-day calendar: pure, no I/O.

A time limit of N working days runs from the day of receipt (not counted); an order received on a
Saturday starts on Monday. Cards: yellow when `yellow_workdays` or fewer working days are left,
red once the order is more than `red_workdays_late` working days past its due day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from supervision.errors import CalendarNotCovered
from supervision.workdays import Answer, WorkCalendar


class Card(StrEnum):
    NONE = ""
    YELLOW = "yellow"
    RED = "red"


CARD_RANK = {Card.NONE: 0, Card.YELLOW: 1, Card.RED: 2}
_MAX_SPANS = 20_000  # (today, due day) pairs a process keeps: a few days' worth of every due day


@dataclass(frozen=True)
class Deadline:
    due_on: date
    provisional: bool
    source: str


def due_date(calendar: WorkCalendar, start: date, workdays: int) -> Deadline:
    """`workdays` working days after `start`; provisional when it counts days of a year nobody entered.

    A citizen's complaint is registered whatever the calendar knows: a provisional due date is recomputed
    when an admin enters its year (complaints.provisional).
    """
    answer = calendar.add_workdays(start, workdays)
    return Deadline(answer.value, answer.provisional, answer.source)


def workdays_left(calendar: WorkCalendar, today: date, due_on: date) -> int | None:
    """Working days from today to the due day (0 on the due day, negative when late); None if unknown."""
    try:
        return calendar.workdays_between(today, due_on).value
    except CalendarNotCovered:
        return None


def card_for(
    calendar: WorkCalendar, today: date, due_on: date, *, yellow_workdays: int, red_workdays_late: int
) -> Card:
    """The card an open order deserves today."""
    if today > due_on:
        late = workdays_left(calendar, due_on, today)
        # A year the calendar does not know cannot make an order less late: count it as late.
        if late is None or late > red_workdays_late or (red_workdays_late == 0):
            return Card.RED
        return Card.YELLOW
    left = workdays_left(calendar, today, due_on)
    if left is not None and left <= yellow_workdays:
        return Card.YELLOW
    return Card.NONE


def within_workdays(calendar: WorkCalendar, since: date, today: date, workdays: int) -> bool:
    """Whether `today` is no later than `workdays` working days after `since` (the send-back window)."""
    try:
        limit = calendar.add_workdays(since, workdays).value
    except CalendarNotCovered:
        return False
    return today <= limit


class MemoCalendar(WorkCalendar):
    """A calendar that remembers each day it has decided.

    The package's per-day check is slow (it validates the date against its whole table every call);
    a list of fifty orders with their cards asks about the same few weeks thousands of times.
    """

    def __init__(self, base: WorkCalendar) -> None:
        super().__init__(
            base.overrides,
            base.declared_years,
            strict=base.strict,
            package_years=base.package_years,
        )
        self._memo: dict[date, tuple[bool, bool]] = {}
        self._spans: dict[tuple[date, date], Answer[int]] = {}

    def _day(self, day: date) -> tuple[bool, bool]:
        known = self._memo.get(day)
        if known is None:
            known = self._memo[day] = super()._day(day)
        return known

    def workdays_between(self, start: date, end: date) -> Answer[int]:
        # Each open order of a list counts from today to its due day, twice (days left, card): most share both.
        known = self._spans.get((start, end))
        if known is None:
            if len(self._spans) > _MAX_SPANS:
                self._spans.clear()
            known = self._spans[(start, end)] = super().workdays_between(start, end)
        return known
