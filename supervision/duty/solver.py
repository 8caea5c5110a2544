"""The roster's constraint model (pure: no database, no clock): who is on duty on which working day.

Inputs are the working days to fill, the people with their role, the (person, day) pairs they cannot
serve with the reason, the weight of each day, wishes, and the duties just before the period (so a
re-plan keeps the gap at its start). The output is an assignment, or the first day that cannot be
covered with the reason — found by a pre-check per day and, when CP-SAT still finds no roster, by
solving growing prefixes of the period.

Rules (issue 11 §2):
- every day exactly one person of each role, never one who is unavailable (leave, trip, blocked day);
- nobody twice within `min_gap` working days: any `min_gap` consecutive working days hold at most one
  duty of a person (gap 3: a duty on day 0 allows the next one on day 3);
- duties spread evenly: per role, each person's count is their share of the days in proportion to
  the days they are free, rounded down or up — with everyone free all period, counts within ±1;
- heavier days (before and after a long holiday) weigh more: weighted load above a person's share
  of the total weight is penalised;
- wishes (prefer / avoid a day) are soft: honoured when the rules above allow.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from ortools.sat.python import cp_model

from supervision.duty.models import DutyRole, WishKind

logger = logging.getLogger(__name__)


class Unavailability(StrEnum):
    LEAVE = "leave"  # approved leave of any kind but a trip
    TRIP = "trip"  # 公出/出差
    BLOCKED = "blocked"  # the person's own blocked day


class InfeasibleReason(StrEnum):
    NOBODY_IN_POOL = "nobody_in_pool"  # the site has no leader (or cadre) taking part
    ALL_ON_LEAVE = "all_on_leave"
    ALL_ON_TRIP = "all_on_trip"
    ALL_BLOCKED = "all_blocked"
    ALL_UNAVAILABLE = "all_unavailable"  # a mix of leave, trips and blocked days
    GAP = "gap"  # the few who are free served too recently
    SPREAD = "spread"  # every day can be covered, but not with counts within ±1
    TIME_LIMIT = "time_limit"  # the solver found nothing within its time


@dataclass(frozen=True)
class Person:
    staff_id: int
    role: DutyRole


@dataclass(frozen=True)
class RosterProblem:
    days: Sequence[date]  # the working days to fill, ascending
    people: Sequence[Person]
    unavailable: Mapping[tuple[int, date], Unavailability] = field(default_factory=dict)
    weights: Mapping[date, int] = field(default_factory=dict)  # default 1; heavier days more
    wishes: Mapping[tuple[int, date], WishKind] = field(default_factory=dict)
    # Working days since each person's last duty before the period (1 = the working day just before).
    last_duty_ago: Mapping[int, int] = field(default_factory=dict)
    min_gap: int = 3


@dataclass(frozen=True)
class SolverOptions:
    time_limit_seconds: float = 20.0
    workers: int = 1
    seed: int = 0


@dataclass(frozen=True)
class Roster:
    assignments: dict[tuple[date, DutyRole], int]
    optimal: bool


@dataclass(frozen=True)
class Infeasible:
    day: date | None  # None: the period as a whole (the spread)
    role: DutyRole | None
    reason: InfeasibleReason


# Weights of the objective: fairness of the weighted load first, then the wishes.
FAIRNESS_WEIGHT = 10
WISH_WEIGHT = 3


def _reason_of(kinds: set[Unavailability]) -> InfeasibleReason:
    if kinds == {Unavailability.LEAVE}:
        return InfeasibleReason.ALL_ON_LEAVE
    if kinds == {Unavailability.TRIP}:
        return InfeasibleReason.ALL_ON_TRIP
    if kinds == {Unavailability.BLOCKED}:
        return InfeasibleReason.ALL_BLOCKED
    return InfeasibleReason.ALL_UNAVAILABLE


def precheck(problem: RosterProblem) -> Infeasible | None:
    """Return the first day and role nobody can cover (everyone unavailable), or None."""
    pools = _pools(problem)
    for day in problem.days:
        for role in DutyRole:
            pool = pools[role]
            if not pool:
                return Infeasible(day, role, InfeasibleReason.NOBODY_IN_POOL)
            kinds = {problem.unavailable[(p, day)] for p in pool if (p, day) in problem.unavailable}
            if all((p, day) in problem.unavailable for p in pool):
                return Infeasible(day, role, _reason_of(kinds))
    return None


def _pools(problem: RosterProblem) -> dict[DutyRole, list[int]]:
    pools: dict[DutyRole, list[int]] = {role: [] for role in DutyRole}
    for person in problem.people:
        pools[person.role].append(person.staff_id)
    for pool in pools.values():
        pool.sort()
    return pools


class _Model:
    """The CP-SAT model for a prefix of the period (all of it when `length` is the number of days)."""

    def __init__(self, problem: RosterProblem, length: int, *, spread: bool, objective: bool,
                 roles: tuple[DutyRole, ...] = tuple(DutyRole)) -> None:
        self.problem = problem
        self.days = list(problem.days[:length])
        self.model = cp_model.CpModel()
        self.x: dict[tuple[int, int], cp_model.IntVar] = {}
        pools = _pools(problem)
        self.pools = pools
        gap = max(1, problem.min_gap)
        penalties: list[cp_model.LinearExprT] = []
        for role in roles:
            pool = pools[role]
            for i, day in enumerate(self.days):
                choices = []
                for p in pool:
                    if (p, day) in problem.unavailable:
                        continue
                    ago = problem.last_duty_ago.get(p)
                    if ago is not None and i + ago < gap:
                        continue  # served just before the period
                    var = self.model.new_bool_var(f"x_{p}_{i}")
                    self.x[(p, i)] = var
                    choices.append(var)
                self.model.add_exactly_one(choices)
            for p in pool:
                mine = {i: v for (q, i), v in self.x.items() if q == p}
                if gap > 1:
                    for start in range(len(self.days) - 1):
                        window = [mine[i] for i in range(start, min(start + gap, len(self.days))) if i in mine]
                        if len(window) > 1:
                            self.model.add_at_most_one(window)
            if not pool:
                continue
            mine_by_person: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
            for (q, i), v in self.x.items():
                mine_by_person[q].append((i, v))
            free = {p: len(mine_by_person[p]) for p in pool}  # the days each person could serve
            free_total = sum(free.values())
            if spread and free_total:
                # Each person's share of the days in proportion to the days they are free, rounded down
                # or up: with everyone free all period, every count is within ±1 of every other.
                for p in pool:
                    count = sum(v for _i, v in mine_by_person[p])
                    share = len(self.days) * free[p]
                    self.model.add(count >= share // free_total)
                    self.model.add(count <= -(-share // free_total))
            if objective and free_total:
                # Heavier days count more: each person's weighted load above their share of the total
                # weight (rounded up) is penalised. Linear, so a year solves in seconds.
                weight = {i: problem.weights.get(d, 1) for i, d in enumerate(self.days)}
                total_weight = sum(weight.values())
                for p in pool:
                    load = sum(weight[i] * v for i, v in mine_by_person[p])
                    allowed = -(-total_weight * free[p] // free_total)
                    excess = self.model.new_int_var(0, total_weight, f"excess_{p}")
                    self.model.add(excess >= load - allowed)
                    penalties.append(FAIRNESS_WEIGHT * excess)
        if objective:
            for (p, day), kind in problem.wishes.items():
                if day not in self.days:
                    continue
                wished = self.x.get((p, self.days.index(day)))
                if wished is None:
                    continue
                penalty = wished if kind == WishKind.AVOID else 1 - wished
                penalties.append(WISH_WEIGHT * penalty)
            if penalties:
                self.model.minimize(sum(penalties))

    def solve(self, options: SolverOptions) -> tuple[cp_model.CpSolverStatus, cp_model.CpSolver]:
        solver = cp_model.CpSolver()
        solver.parameters.max_time_in_seconds = options.time_limit_seconds
        solver.parameters.num_workers = max(1, options.workers)
        solver.parameters.random_seed = options.seed
        # Probing in presolve costs more than it saves on this model: a year (52 people) solves to the same
        # optimum in 0.6 instead of 1.0 deterministic seconds (bench/duty/RESULTS.md).
        solver.parameters.cp_model_probing_level = 0
        status = solver.solve(self.model)
        return status, solver


def _feasible(status: cp_model.CpSolverStatus) -> bool:
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def solve(problem: RosterProblem, options: SolverOptions | None = None) -> Roster | Infeasible:
    """Make the roster, or say which day cannot be covered and why."""
    options = options or SolverOptions()
    if not problem.days:
        return Roster({}, optimal=True)
    found = precheck(problem)
    if found is not None:
        return found
    full = _Model(problem, len(problem.days), spread=True, objective=True)
    status, solver = full.solve(options)
    if _feasible(status):
        role_of = {person.staff_id: person.role for person in problem.people}
        assignments = {(full.days[i], role_of[p]): p for (p, i), v in full.x.items() if solver.value(v)}
        logger.info("roster of %d days solved (%s) in %.2f s", len(full.days), solver.status_name(status),
                    solver.wall_time)
        return Roster(assignments, optimal=status == cp_model.OPTIMAL)
    if status != cp_model.INFEASIBLE:
        return Infeasible(None, None, InfeasibleReason.TIME_LIMIT)
    return _first_infeasible_day(problem, options)


def _first_infeasible_day(problem: RosterProblem, options: SolverOptions) -> Infeasible:
    """Find the shortest infeasible prefix without the spread rule (a binary search of growing prefixes)."""
    def prefix_ok(length: int) -> bool:
        status, _solver = _Model(problem, length, spread=False, objective=False).solve(options)
        return status != cp_model.INFEASIBLE

    if prefix_ok(len(problem.days)):
        return Infeasible(None, None, InfeasibleReason.SPREAD)
    lo, hi = 0, len(problem.days)  # prefix of lo days is feasible, of hi days is not
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if prefix_ok(mid):
            lo = mid
        else:
            hi = mid
    day = problem.days[hi - 1]
    for role in DutyRole:  # which role fails on that day
        lone = _Model(problem, hi, spread=False, objective=False, roles=(role,))
        if lone.solve(options)[0] == cp_model.INFEASIBLE:
            return Infeasible(day, role, InfeasibleReason.GAP)
    return Infeasible(day, None, InfeasibleReason.GAP)


def count_by_person(roster: Mapping[tuple[date, DutyRole], int]) -> dict[int, int]:
    counts: dict[int, int] = defaultdict(int)
    for staff_id in roster.values():
        counts[staff_id] += 1
    return dict(counts)
