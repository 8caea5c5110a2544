"""Duty rosters (值班表) and the duty log (值班日志): a bureau leader and a section-level cadre every working day.

Part of the core: it imports no domain. Work orders made from log entries are created by the web layer.
"""

from supervision.duty import messages as _messages  # noqa: F401  (registers the texts)
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

__all__ = [
    "AssignmentSource",
    "DutyAssignment",
    "DutyBlockedDay",
    "DutyCalendarToken",
    "DutyLogEntry",
    "DutyPoolMember",
    "DutyRole",
    "DutySwap",
    "DutyWish",
    "SwapStatus",
    "WishKind",
    "on_duty",
]
