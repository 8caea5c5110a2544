"""The monthly statistics roll-up: what every order and rating counts towards, kept in step with them.

Each change of an order takes the order's contribution before and after (`contribution`) and adds the
difference to its `complaints_stats_month` row in the same transaction (one upsert, `x = x + delta`,
so concurrent writers queue on the row and never lose a count). Ratings do the same in
`complaints_rating_month`. `rebuild` recomputes both tables from the orders and ratings (after a bulk
import that bypassed the services), and `differences` compares them with a direct count.

What cannot be rolled up is left to the reader: an open order past its due date depends on today, so the
statistics count those live (few rows, through ix_work_order_open_due), and days of a month only partly
inside the asked period are counted from the orders themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from sqlalchemy import String, Table, bindparam, case, cast, delete, func, literal
from sqlalchemy import select as sa_select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session

from complaints.models import Outcome, Rating, RatingMonth, StatsMonth, WorkOrder
from complaints.workflow import State
from supervision import audit
from supervision.db import table_of

ORDER_COUNTERS = ("received", "closed", "closed_on_time", "closed_late", "upheld", "callbacks", "satisfied")
ORDER_KEY = ("month", "site_id", "integrity", "dim", "value")
RATING_KEY = ("month", "site_id", "window_id", "department_key", "level")
# The groupings an order counts under; the month grouping sums the channel rows (every order has a channel).
DIMENSIONS = ("department", "window", "channel")

OrderKey = tuple[str, int, bool, str, str]
_UPHELD = frozenset({Outcome.UPHELD.value, Outcome.PARTLY.value})


@dataclass(frozen=True)
class Contribution:
    """One order's places in the roll-up (one per grouping) and what it adds to each."""

    keys: tuple[OrderKey, ...]
    counts: tuple[int, ...]


def contribution(order: WorkOrder) -> Contribution | None:
    """What an order adds to the roll-up as it stands (nothing once merged into another)."""
    if order.state == State.MERGED.value:
        return None
    base = (order.received_month, order.site_id, bool(order.integrity))
    department = order.lead_department_id or order.department_id
    values = ("" if department is None else str(department), "" if order.window_id is None else str(order.window_id),
              order.channel)
    closed = order.state == State.CLOSED.value
    level = order.callback_level
    counts = (
        1,
        int(closed),
        int(order.on_time is True),
        int(order.on_time is False and not order.is_open),
        int(order.outcome in _UPHELD),
        int(level is not None),
        int(level is not None and level >= 3),
    )
    return Contribution(tuple((*base, dim, value) for dim, value in zip(DIMENSIONS, values, strict=True)), counts)


def shift(session: Session, before: Contribution | None, after: Contribution | None) -> None:
    """Move an order's counts from what it was to what it is now: one statement, nothing when unchanged."""
    deltas: dict[OrderKey, list[int]] = {}
    for part, sign in ((before, -1), (after, 1)):
        if part is None:
            continue
        for key in part.keys:
            row = deltas.setdefault(key, [0] * len(ORDER_COUNTERS))
            for i, n in enumerate(part.counts):
                row[i] += sign * n
    # Sorted, so two transactions moving orders between the same rows lock them in the same order.
    rows = [
        {**dict(zip(ORDER_KEY, key, strict=True)), **dict(zip(ORDER_COUNTERS, deltas[key], strict=True))}
        for key in sorted(deltas)
        if any(deltas[key])
    ]
    if rows:
        audit.hold_head(session)  # the rows every writer queues on, in one order: the audit head first
        # executemany of a one-row statement: its cache key is cheap, where a multi-row VALUES with three
        # dozen parameters cost ~1.3 ms a call to look up in SQLAlchemy's statement cache (measured).
        session.connection().execute(_upsert_orders(session.get_bind().dialect.name), rows)


@lru_cache(maxsize=4)
def _upsert_orders(dialect: str) -> Any:
    """INSERT … ON CONFLICT DO UPDATE x = x + excluded.x, one row; built once per dialect."""
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    months = table_of(StatsMonth)
    stmt = ins(months).values({c: bindparam(c, type_=months.c[c].type) for c in (*ORDER_KEY, *ORDER_COUNTERS)})
    return stmt.on_conflict_do_update(
        index_elements=list(ORDER_KEY),
        set_={c: months.c[c] + stmt.excluded[c] for c in ORDER_COUNTERS},
    )


def count_rating(session: Session, rating: Rating, sign: int) -> None:
    """Add (1) or take away (-1) a rating from its month's row."""
    audit.hold_head(session)  # the rows every writer queues on, in one order: the audit head first
    session.connection().execute(
        _upsert_rating(session.get_bind().dialect.name),
        {
            "month": rating.rated_month,
            "site_id": rating.site_id,
            "window_id": rating.window_id,
            "department_key": rating.department_id or 0,
            "level": rating.level,
            "n": sign,
        },
    )


@lru_cache(maxsize=4)
def _upsert_rating(dialect: str) -> Any:
    ins = pg_insert if dialect == "postgresql" else sqlite_insert
    ratings = table_of(RatingMonth)
    stmt = ins(ratings).values({c: bindparam(c) for c in (*RATING_KEY, "n")})
    return stmt.on_conflict_do_update(index_elements=list(RATING_KEY), set_={"n": ratings.c.n + stmt.excluded.n})


# --- recomputing and checking -----------------------------------------------------------------


def _order_select(dim: str) -> Any:
    """One grouping of the roll-up as a GROUP BY over the orders: what `rebuild` writes, `differences` compares."""
    w = table_of(WorkOrder).c
    one, zero = literal(1), literal(0)
    value = {
        "department": func.coalesce(cast(func.coalesce(w.lead_department_id, w.department_id), String), ""),
        "window": func.coalesce(cast(w.window_id, String), ""),
        "channel": w.channel,
    }[dim]
    return (
        sa_select(
            w.received_month.label("month"),
            w.site_id.label("site_id"),
            w.integrity.label("integrity"),
            literal(dim, String).label("dim"),
            value.label("value"),
            func.count().label("received"),
            func.sum(case((w.state == State.CLOSED.value, one), else_=zero)).label("closed"),
            func.sum(case((w.on_time.is_(True), one), else_=zero)).label("closed_on_time"),
            func.sum(case(((w.on_time.is_(False)) & (w.is_open.is_(False)), one), else_=zero)).label("closed_late"),
            func.sum(case((w.outcome.in_(sorted(_UPHELD)), one), else_=zero)).label("upheld"),
            func.count(w.callback_level).label("callbacks"),
            func.sum(case((w.callback_level >= 3, one), else_=zero)).label("satisfied"),
        )
        .where(w.state != State.MERGED.value)
        .group_by(w.received_month, w.site_id, w.integrity, value)
    )


def _rating_select() -> Any:
    r = table_of(Rating).c
    dept = func.coalesce(r.department_id, 0)
    return (
        sa_select(
            r.rated_month.label("month"),
            r.site_id.label("site_id"),
            r.window_id.label("window_id"),
            dept.label("department_key"),
            r.level.label("level"),
            func.count().label("n"),
        )
        .where(r.void.is_(False))
        .group_by(r.rated_month, r.site_id, r.window_id, dept, r.level)
    )


def rebuild(session: Session) -> None:
    """Recompute both roll-ups from the orders and ratings (after a bulk import that bypassed the services)."""
    months, ratings = table_of(StatsMonth), table_of(RatingMonth)
    session.execute(delete(months))
    session.execute(delete(ratings))
    for dim in DIMENSIONS:
        session.execute(months.insert().from_select([*ORDER_KEY, *ORDER_COUNTERS], _order_select(dim)))
    session.execute(ratings.insert().from_select([*RATING_KEY, "n"], _rating_select()))


def _as_map(rows: Iterable[Any], width: int, flag_at: int | None) -> dict[tuple[Any, ...], tuple[int, ...]]:
    out: dict[tuple[Any, ...], tuple[int, ...]] = {}
    for row in rows:
        # SQLite gives a boolean back as 0/1.
        key = tuple(bool(v) if i == flag_at else v for i, v in enumerate(row[:width]))
        counts = tuple(int(v or 0) for v in row[width:])
        if any(counts):
            out[key] = counts
    return out


def differences(session: Session) -> list[str]:
    """Where the roll-ups differ from a direct count of the orders and ratings; empty when they agree."""
    problems: list[str] = []
    months, ratings = table_of(StatsMonth), table_of(RatingMonth)
    checks: list[tuple[Table, tuple[str, ...], tuple[str, ...], list[Any], int | None]] = [
        (months, ORDER_KEY, ORDER_COUNTERS, [_order_select(dim) for dim in DIMENSIONS], ORDER_KEY.index("integrity")),
        (ratings, RATING_KEY, ("n",), [_rating_select()], None),
    ]
    for table, key, counters, selects, flag_at in checks:
        columns = [table.c[c] for c in (*key, *counters)]
        stored = _as_map(session.execute(sa_select(*columns)).all(), len(key), flag_at)
        direct: dict[tuple[Any, ...], tuple[int, ...]] = {}
        for stmt in selects:
            direct.update(_as_map(session.execute(stmt).all(), len(key), flag_at))
        for k in sorted(set(stored) | set(direct), key=repr):
            if stored.get(k) != direct.get(k):
                problems.append(f"{table.name} {k}: roll-up {stored.get(k)} ≠ direct {direct.get(k)}")
    return problems
