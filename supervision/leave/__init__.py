"""Leave (请假): requests asked by staff, approved by their managers, counted in working days on the calendar.

A core subpackage with its own migrations (supervision/leave/migrations). Attendance and duty ask
`absences` which days a person is away; the annual balance follows 《职工带薪年休假条例》.
"""

from supervision.leave import messages as _messages  # noqa: F401  (registers the texts)
from supervision.leave.counting import annual_entitlement, half_days, years_of_service
from supervision.leave.models import HOLDING, LeaveKind, LeaveProfile, LeaveRequest, LeaveStatus
from supervision.leave.requests import (
    Absence,
    Balance,
    absences,
    annual_balance,
    balance_target,
    cancel,
    decide,
    get_request,
    may_decide,
    month_is_closed,
    own_requests,
    queue,
    reason_of,
    request_leave,
    requests_in_jurisdiction,
    second_level_days,
    service_start,
    set_service_start,
)

__all__ = [
    "HOLDING",
    "Absence",
    "Balance",
    "LeaveKind",
    "LeaveProfile",
    "LeaveRequest",
    "LeaveStatus",
    "absences",
    "annual_balance",
    "annual_entitlement",
    "balance_target",
    "cancel",
    "decide",
    "get_request",
    "half_days",
    "may_decide",
    "month_is_closed",
    "own_requests",
    "queue",
    "reason_of",
    "request_leave",
    "requests_in_jurisdiction",
    "second_level_days",
    "service_start",
    "set_service_start",
    "years_of_service",
]
