"""Duty rosters (值班表) and the duty log (值班日志): a bureau leader and a section-level cadre every working day.

Part of the core: it imports no domain. Work orders made from log entries are created by the web layer.
"""

from supervision.duty import messages as _messages  # noqa: F401  (registers the texts)
from supervision.duty.feeds import feed, has_calendar_token, rotate_calendar_token
from supervision.duty.log import DutyLogCreate, MonthCount, get_entry, link_work_order, list_entries, month_counts
from supervision.duty.log import record_entry as record_log_entry
from supervision.duty.models import (
    AssignmentSource,
    DutyAssignment,
    DutyBlockedDay,
    DutyCalendarToken,
    DutyLogEntry,
    DutyPoolMember,
    DutyRole,
    DutySwap,
    DutyWish,
    SwapStatus,
    WishKind,
)
from supervision.duty.queries import on_duty
from supervision.duty.rosters import (
    DutyDay,
    GenerationInput,
    PoolEntry,
    TodayPair,
    assign,
    counts,
    generate_roster,
    generation_input,
    get_assignment,
    pool,
    roster_days,
    roster_sites,
    save_roster,
    set_blocked_day,
    set_pool,
    set_wish,
    solve_roster,
    today_for,
    today_pairs,
)
from supervision.duty.settings import DutySettings, get_duty_settings
from supervision.duty.swaps import act_on_swap, answer_swap, ask_swap, decide_swap, list_swaps, withdraw_swap

__all__ = [
    "AssignmentSource",
    "DutyAssignment",
    "DutyBlockedDay",
    "DutyCalendarToken",
    "DutyDay",
    "DutyLogCreate",
    "DutyLogEntry",
    "DutyPoolMember",
    "DutyRole",
    "DutySettings",
    "DutySwap",
    "DutyWish",
    "GenerationInput",
    "MonthCount",
    "PoolEntry",
    "SwapStatus",
    "TodayPair",
    "WishKind",
    "act_on_swap",
    "answer_swap",
    "ask_swap",
    "assign",
    "counts",
    "decide_swap",
    "feed",
    "generate_roster",
    "generation_input",
    "get_assignment",
    "get_duty_settings",
    "get_entry",
    "has_calendar_token",
    "link_work_order",
    "list_entries",
    "list_swaps",
    "month_counts",
    "on_duty",
    "pool",
    "record_log_entry",
    "roster_days",
    "roster_sites",
    "rotate_calendar_token",
    "save_roster",
    "set_blocked_day",
    "set_pool",
    "set_wish",
    "solve_roster",
    "today_for",
    "today_pairs",
    "withdraw_swap",
]
