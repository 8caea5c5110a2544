"""A person's working day from their punches: pure logic, no I/O (tested directly in tests/supervision).

Decisions (README "Design"):
- An attendance day runs from 04:00 local to 04:00 the next day (`DAY_BOUNDARY`): a punch at 00:20 after
  an extended evening belongs to the day before, not to a day with no hours.
- Two punches are required: one to sign in (签到) and one to sign out (签退). When the day's punches span
  an hour or more, the first is the sign-in and the last the sign-out (someone who first punches at 13:40
  came in the afternoon). Punches within the hour are one punch (people press twice): it signs in if it lies
  before the middle of the expected span, out otherwise, and the other side is a missed punch (缺卡), which
  the person puts right with a 补卡 request. Punches at lunch need not be made.
- Later than `absent_after_minutes` past the start (or leaving that much before the end) is not lateness
  but half a day's absence (旷工半天); lateness is then measured against the afternoon's start.
- Half a day's leave (`half` "am"/"pm") moves the expected start or end to the lunch break.
- Seasons, lunch, extended hours and swapped working days come in through `periods` (office hours on the
  working-day calendar); a closed day has no periods, and is a day only for a person on duty.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from supervision.attendance.models import DayStatus
from supervision.scoring import SHORT_MINUTES

DAY_BOUNDARY = time(4, 0)
# Punches closer together than this are one punch pressed twice, not a sign-in and a sign-out.
SAME_PUNCH_MINUTES = 60
TRIP_KINDS = frozenset({"trip"})


def attendance_day(local: datetime) -> date:
    """The attendance day a local punch time counts for (before 04:00 it is the day before's)."""
    return local.date() - timedelta(days=1) if local.time() < DAY_BOUNDARY else local.date()


@dataclass(frozen=True)
class DayRules:
    grace_minutes: int = 0
    absent_after_minutes: int = 60


@dataclass(frozen=True)
class Leave:
    kind: str
    half: str | None = None  # "am" | "pm" | None (the whole day)


@dataclass(frozen=True)
class DayResult:
    status: DayStatus
    late_minutes: int = 0
    early_minutes: int = 0
    missed_punches: int = 0
    absent_halves: int = 0
    leave_kind: str | None = None
    on_duty: bool = False
    first_in: time | None = None
    last_out: time | None = None


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


def _of_day(day: date, at: datetime) -> int:
    """Minutes since the day's midnight (a punch after midnight counts past 24:00)."""
    delta = at.replace(tzinfo=None) - datetime.combine(day, time(0))
    return int(delta.total_seconds() // 60)


def compute_day(
    day: date,
    periods: Sequence[tuple[time, time]] | None,
    punches: Sequence[datetime],
    *,
    leave: Leave | None = None,
    on_duty: bool = False,
    rules: DayRules = DayRules(),
) -> DayResult | None:
    """The day's result; None for a closed day with nobody on duty (nothing to record)."""
    ordered = sorted(punches)
    first = ordered[0].time() if ordered else None
    last = ordered[-1].time() if len(ordered) > 1 else None
    if not periods:
        return DayResult(DayStatus.DUTY, on_duty=True, first_in=first, last_out=last) if on_duty else None
    if leave is not None and leave.half is None:
        status = DayStatus.TRIP if leave.kind in TRIP_KINDS else DayStatus.LEAVE
        return DayResult(status, leave_kind=leave.kind, on_duty=on_duty, first_in=first, last_out=last)
    spans = sorted((_minutes(a), _minutes(b)) for a, b in periods)
    start, end = spans[0][0], spans[-1][1]
    if len(spans) > 1:
        morning_end, afternoon_start = spans[0][1], spans[1][0]
    else:
        morning_end = afternoon_start = (start + end) // 2
    need_am = not (leave is not None and leave.half == "am")
    need_pm = not (leave is not None and leave.half == "pm")
    expected_in = start if need_am else afternoon_start
    expected_out = end if need_pm else morning_end
    halves_needed = int(need_am) + int(need_pm)
    leave_kind = leave.kind if leave is not None else None
    if not ordered:
        status = DayStatus.ABSENT if halves_needed == 2 else DayStatus.ABSENT_HALF
        return DayResult(status, absent_halves=halves_needed, leave_kind=leave_kind, on_duty=on_duty)
    minutes = [_of_day(day, p) for p in ordered]
    sign_in: int | None
    sign_out: int | None
    if minutes[-1] - minutes[0] >= SAME_PUNCH_MINUTES:
        sign_in, sign_out = minutes[0], minutes[-1]
    else:
        # One punch (or a few within the hour, people press twice): the side it is on, by the middle of the day.
        middle = (expected_in + expected_out) / 2
        sign_in = minutes[0] if minutes[0] <= middle else None
        sign_out = minutes[-1] if minutes[-1] > middle else None
    late = early = missed = halves = 0
    if sign_in is None:
        missed += 1
    else:
        late = max(0, sign_in - expected_in - rules.grace_minutes)
        if late > rules.absent_after_minutes:
            halves += 1
            late = max(0, sign_in - afternoon_start - rules.grace_minutes) if need_am and need_pm else 0
    if sign_out is None:
        missed += 1
    else:
        early = max(0, expected_out - sign_out - rules.grace_minutes)
        if early > rules.absent_after_minutes:
            halves += 1
            early = max(0, morning_end - sign_out - rules.grace_minutes) if need_am and need_pm else 0
    halves = min(halves, halves_needed)
    if halves >= 2:
        status = DayStatus.ABSENT
    elif halves == 1:
        status = DayStatus.ABSENT_HALF
    elif missed:
        status = DayStatus.MISSED_PUNCH
    elif late and early:
        status = DayStatus.LATE_EARLY
    elif late:
        status = DayStatus.LATE
    elif early:
        status = DayStatus.EARLY
    else:
        status = DayStatus.PRESENT
    return DayResult(
        status, late_minutes=late, early_minutes=early, missed_punches=missed, absent_halves=halves,
        leave_kind=leave_kind, on_duty=on_duty,
        first_in=ordered[0].time() if sign_in is not None else None,
        last_out=ordered[-1].time() if sign_out is not None else None,
    )


@dataclass(frozen=True)
class ScoredFact:
    """One fact of a day that the rule set scores: the rule item and the ledger kind it is recorded as."""

    item: str
    ledger_kind: str
    detail: str  # the message key of the ledger reason (ledger_reason.attendance_*), rendered in the reader's language
    minutes: int = 0


def scored_facts(result: DayResult) -> list[ScoredFact]:
    """What a day's result deducts for, item by item (the points come from the rule set in force)."""
    facts: list[ScoredFact] = []
    if result.status in (DayStatus.LEAVE, DayStatus.TRIP, DayStatus.DUTY):
        return facts
    if result.absent_halves >= 2:
        return [ScoredFact("attendance.absent_day", "absent_day", "ledger_reason.attendance_absent_day")]
    if result.absent_halves == 1:
        facts.append(ScoredFact("attendance.absent_half", "absent_half_day", "ledger_reason.attendance_absent_half"))
    for _ in range(result.missed_punches):
        facts.append(ScoredFact("attendance.missed_punch", "missed_sign_in", "ledger_reason.attendance_missed_punch"))
    if result.late_minutes:
        size = "short" if result.late_minutes <= SHORT_MINUTES else "long"
        facts.append(ScoredFact(f"attendance.late_{size}", "late", "ledger_reason.attendance_late",
                                result.late_minutes))
    if result.early_minutes:
        size = "short" if result.early_minutes <= SHORT_MINUTES else "long"
        facts.append(ScoredFact(f"attendance.early_{size}", "late", "ledger_reason.attendance_early",
                                result.early_minutes))
    return facts
