"""A year's roster at one site: about 250 working days, 12 bureau leaders and 40 section-level cadres.

Prints the solve time and the spread of counts per role (goal: < 5 s, spread ≤ 1), with some leave, trips,
blocked days and wishes, on the official 2026 calendar (heavy days before and after the long holidays).

    .venv/bin/python bench/duty/bench_roster.py [--year 2026] [--runs 3] [--workers 1]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections import Counter
from datetime import date

from supervision.duty import DutyRole, WishKind
from supervision.duty.rosters import heavy_days, working_days
from supervision.duty.solver import Infeasible, Person, RosterProblem, SolverOptions, Unavailability, solve
from supervision.workdays import WorkCalendar


def problem_for(year: int, leaders: int, cadres: int, seed: int) -> RosterProblem:
    calendar = WorkCalendar()
    days = working_days(calendar, date(year, 1, 1), date(year, 12, 31))
    rng = random.Random(seed)
    people = [Person(100 + i, DutyRole.LEADER) for i in range(leaders)]
    people += [Person(1000 + i, DutyRole.CADRE) for i in range(cadres)]
    unavailable: dict[tuple[int, date], Unavailability] = {}
    wishes: dict[tuple[int, date], WishKind] = {}
    for person in people:
        # Annual leave (a week), a trip (three days) and four blocked days, at random.
        for kind, length in ((Unavailability.LEAVE, 7), (Unavailability.TRIP, 3)):
            start = rng.randrange(len(days) - length)
            for day in days[start:start + length]:
                unavailable[(person.staff_id, day)] = kind
        for day in rng.sample(days, 4):
            unavailable.setdefault((person.staff_id, day), Unavailability.BLOCKED)
        for day in rng.sample(days, 6):
            wishes[(person.staff_id, day)] = rng.choice(list(WishKind))
    heavy = heavy_days(calendar, days, long_holiday=3)
    return RosterProblem(days=days, people=people, unavailable=unavailable, weights={d: 2 for d in heavy},
                         wishes=wishes, min_gap=3)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--year", type=int, default=2026)
    parser.add_argument("--leaders", type=int, default=12)
    parser.add_argument("--cadres", type=int, default=40)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--time-limit", type=float, default=20.0)
    args = parser.parse_args()
    problem = problem_for(args.year, args.leaders, args.cadres, seed=7)
    print(f"{len(problem.days)} working days in {args.year}, {args.leaders} leaders, {args.cadres} cadres, "
          f"{len(problem.unavailable)} unavailable person-days, {len(problem.wishes)} wishes, "
          f"{sum(1 for w in problem.weights.values() if w > 1)} heavy days")
    times = []
    for _ in range(args.runs):
        began = time.perf_counter()
        result = solve(problem, SolverOptions(time_limit_seconds=args.time_limit, workers=args.workers))
        times.append(time.perf_counter() - began)
        if isinstance(result, Infeasible):
            raise SystemExit(f"no roster: {result}")
    counts = Counter(result.assignments.values())
    for role in DutyRole:
        ids = [p.staff_id for p in problem.people if p.role == role]
        role_counts = [counts.get(i, 0) for i in ids]
        free = [p for p in ids if not any((p, d) in problem.unavailable for d in problem.days)]
        spread = max(role_counts) - min(role_counts)
        print(f"{role.value}: counts {min(role_counts)}–{max(role_counts)} (spread {spread}"
              f"; {len(free)} of {len(ids)} free all year)")
    wished = sum(1 for (p, d), k in problem.wishes.items()
                 if any(result.assignments.get((d, r)) == p for r in DutyRole) == (k == WishKind.PREFER))
    print(f"wishes honoured: {wished} of {len(problem.wishes)}; optimal: {result.optimal}")
    print(f"solve time: median {statistics.median(times):.2f} s, max {max(times):.2f} s over {args.runs} runs")


if __name__ == "__main__":
    main()
