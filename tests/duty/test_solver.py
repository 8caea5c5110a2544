"""The roster's constraints, one test each; every test fails when its constraint is taken out of the model.

The solver is pure: these tests build `RosterProblem`s by hand and need no database.
"""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from supervision.duty import DutyRole, WishKind
from supervision.duty.solver import (
    Infeasible,
    InfeasibleReason,
    Person,
    Roster,
    RosterProblem,
    Unavailability,
    solve,
)
from supervision.errors import InvalidInput

L, C = DutyRole.LEADER, DutyRole.CADRE
START = date(2026, 6, 1)  # a Monday


def days(n: int) -> list[date]:
    """n consecutive weekdays from START (the solver only sees the working days it is given)."""
    out, day = [], START
    while len(out) < n:
        if day.weekday() < 5:
            out.append(day)
        day += timedelta(days=1)
    return out


def people(leaders: int, cadres: int) -> list[Person]:
    return [Person(100 + i, L) for i in range(leaders)] + [Person(200 + i, C) for i in range(cadres)]


def roster(problem: RosterProblem) -> Roster:
    result = solve(problem)
    assert isinstance(result, Roster), result
    return result


def duties_of(result: Roster, staff_id: int) -> list[date]:
    return sorted(day for (day, _role), who in result.assignments.items() if who == staff_id)


def test_every_working_day_has_one_leader_and_one_cadre_of_their_pools() -> None:
    period = days(20)
    result = roster(RosterProblem(days=period, people=people(4, 5)))
    assert set(result.assignments) == {(d, r) for d in period for r in (L, C)}
    assert all(100 <= who < 200 for (_d, role), who in result.assignments.items() if role == L)
    assert all(200 <= who < 300 for (_d, role), who in result.assignments.items() if role == C)


def test_nobody_on_leave_a_trip_or_a_blocked_day_is_put_on_duty() -> None:
    period = days(6)
    # 100 would like every day; it is on leave, on a trip or blocked on the first three.
    unavailable = {(100, period[0]): Unavailability.LEAVE, (100, period[1]): Unavailability.TRIP,
                   (100, period[2]): Unavailability.BLOCKED}
    wishes = {(100, d): WishKind.PREFER for d in period}
    result = roster(RosterProblem(days=period, people=people(3, 3), unavailable=unavailable, wishes=wishes,
                                  min_gap=1))
    assert not set(duties_of(result, 100)) & set(period[:3])
    assert duties_of(result, 100)  # but on the days it is free, the wish counts


def test_nobody_is_on_duty_twice_within_the_gap() -> None:
    period = days(12)
    wishes = {(100, d): WishKind.PREFER for d in period[:3]}  # 100 would take three days running
    result = roster(RosterProblem(days=period, people=people(3, 3), wishes=wishes, min_gap=3))
    for staff_id in [100, 101, 102, 200, 201, 202]:
        indexes = [period.index(d) for d in duties_of(result, staff_id)]
        assert all(b - a >= 3 for a, b in itertools.pairwise(indexes)), (staff_id, indexes)


def test_the_gap_reaches_back_before_the_period() -> None:
    period = days(6)
    # 100 was on duty the working day before the period: with a gap of 3, not on its first two days.
    wishes = {(100, d): WishKind.PREFER for d in period[:2]}
    result = roster(RosterProblem(days=period, people=people(3, 3), wishes=wishes, last_duty_ago={100: 1},
                                  min_gap=3))
    assert not set(duties_of(result, 100)) & set(period[:2])


def test_counts_are_spread_within_one() -> None:
    period = days(5)
    # A very heavy first day: balancing weighted load alone would give one cadre that day and the other
    # the four light ones (4 = 4). The counts rule keeps them at 2 and 3.
    result = roster(RosterProblem(days=period, people=people(2, 2), weights={period[0]: 4}, min_gap=1))
    for role_ids in ([100, 101], [200, 201]):
        counts = sorted(len(duties_of(result, s)) for s in role_ids)
        assert counts == [2, 3], counts


def test_a_person_with_leave_may_serve_less_but_never_more() -> None:
    period = days(10)
    unavailable = {(100, d): Unavailability.LEAVE for d in period[:8]}
    result = roster(RosterProblem(days=period, people=people(2, 2), unavailable=unavailable, min_gap=1))
    assert len(duties_of(result, 100)) == 2  # it serves what it can: its share of the free days
    assert len(duties_of(result, 101)) == 8


def test_heavy_days_weigh_more_in_the_spread() -> None:
    period = days(4)
    heavy = {period[0]: 2, period[1]: 2}  # e.g. the two days before National Day
    wishes = {(200, period[0]): WishKind.PREFER, (200, period[1]): WishKind.PREFER}
    result = roster(RosterProblem(days=period, people=people(2, 2), weights=heavy, wishes=wishes, min_gap=1))
    # Without the weights 200 would get both heavy days (its wish); weighted, each cadre carries one.
    assert len(set(duties_of(result, 200)) & set(heavy)) == 1
    assert len(set(duties_of(result, 201)) & set(heavy)) == 1


def test_avoid_wishes_are_honoured_when_the_rules_allow() -> None:
    period = days(4)
    for avoided in period:
        result = roster(RosterProblem(days=period, people=people(2, 2), min_gap=1,
                                      wishes={(100, avoided): WishKind.AVOID}))
        assert avoided not in duties_of(result, 100)


def test_wishes_are_soft() -> None:
    period = days(2)
    # The only other leader is on leave on the avoided day: 100 serves anyway.
    result = roster(RosterProblem(days=period, people=people(2, 1), min_gap=1,
                                  unavailable={(101, period[0]): Unavailability.LEAVE},
                                  wishes={(100, period[0]): WishKind.AVOID}))
    assert result.assignments[(period[0], L)] == 100


def test_the_same_input_gives_the_same_roster() -> None:
    problem = RosterProblem(days=days(40), people=people(5, 8), min_gap=3)
    assert roster(problem).assignments == roster(problem).assignments


def test_a_day_every_leader_is_on_leave_is_named() -> None:
    period = days(30)
    bad = date(2026, 6, 23)
    unavailable = {(100, bad): Unavailability.LEAVE, (101, bad): Unavailability.LEAVE,
                   (102, bad): Unavailability.LEAVE, (200, period[1]): Unavailability.TRIP}
    result = solve(RosterProblem(days=period, people=people(3, 3), unavailable=unavailable))
    assert result == Infeasible(bad, L, InfeasibleReason.ALL_ON_LEAVE)


def test_a_day_of_mixed_absences_and_an_empty_pool_are_named() -> None:
    period = days(5)
    mixed = {(200, period[3]): Unavailability.TRIP, (201, period[3]): Unavailability.BLOCKED,
             (202, period[3]): Unavailability.LEAVE}
    assert solve(RosterProblem(days=period, people=people(3, 3), unavailable=mixed)) == Infeasible(
        period[3], C, InfeasibleReason.ALL_UNAVAILABLE)
    assert solve(RosterProblem(days=period, people=people(3, 0))) == Infeasible(
        period[0], C, InfeasibleReason.NOBODY_IN_POOL)


def test_too_few_people_for_the_gap_names_the_first_day_that_fails() -> None:
    period = days(10)
    # Three cadres with a gap of 3 rotate; with one away three days running, the third of those days fails.
    unavailable = {(202, d): Unavailability.LEAVE for d in period[5:8]}
    result = solve(RosterProblem(days=period, people=people(3, 3), unavailable=unavailable, min_gap=3))
    assert result == Infeasible(period[7], C, InfeasibleReason.GAP)


def test_the_message_names_the_day_and_the_reason_in_both_languages() -> None:
    from supervision.duty.rosters import infeasible_error

    error = infeasible_error(Infeasible(date(2026, 12, 3), L, InfeasibleReason.ALL_ON_LEAVE), 3)
    assert isinstance(error, InvalidInput)
    assert error.problems[0].message("zh-CN") == "12-03:所有带班领导都在休假"
    assert error.problems[0].message("en") == "12-03: every duty leader is on leave"
