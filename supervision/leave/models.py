"""Leave tables: requests (请假申请) and each staff member's service start date (参加工作时间)."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Enum, Index
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


class LeaveKind(StrEnum):
    ANNUAL = "annual"  # 年休假
    SICK = "sick"  # 病假
    PERSONAL = "personal"  # 事假
    MARRIAGE = "marriage"  # 婚假
    MATERNITY = "maternity"  # 产假
    BEREAVEMENT = "bereavement"  # 丧假
    TRIP = "trip"  # 公出/出差
    COMPENSATORY = "compensatory"  # 调休


class LeaveStatus(StrEnum):
    PENDING = "pending"  # waiting for the manager
    PENDING_SECOND = "pending_second"  # the manager agreed; waiting for the second level
    APPROVED = "approved"
    REJECTED = "rejected"
    CANCELLED = "cancelled"


# Requests that hold their days: they block an overlapping request and count against the balance.
HOLDING = (LeaveStatus.PENDING, LeaveStatus.PENDING_SECOND, LeaveStatus.APPROVED)


class LeaveRequest(SQLModel, table=True):
    """One request: whole days from `start_day` to `end_day`, less a morning and/or an afternoon at the ends."""

    __tablename__ = "leave_request"
    __table_args__ = (Index("ix_leave_request_staff_days", "staff_id", "start_day", "end_day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)  # the staff member's site when asked
    kind: LeaveKind = Field(sa_column=Column(Enum(LeaveKind, name="leave_kind"), nullable=False))
    start_day: date
    start_pm: bool = False  # starts at noon: the first day's morning is worked
    end_day: date
    end_am: bool = False  # ends at noon: the last day's afternoon is worked
    half_days: int = 0  # working half-days on the calendar when asked (days × 2)
    reason_enc: str = Field(default="", max_length=2000)  # encrypted: a sick note's reason is personal
    status: LeaveStatus = Field(default=LeaveStatus.PENDING,
                                sa_column=Column(Enum(LeaveStatus, name="leave_status"), nullable=False, index=True))
    needs_second: bool = False
    requested_by_id: int | None = Field(default=None, foreign_key="user.id")
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    first_by_id: int | None = Field(default=None, foreign_key="user.id")
    first_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    second_by_id: int | None = Field(default=None, foreign_key="user.id")
    second_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decision_note: str = Field(default="", max_length=400)
    cancelled_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    is_demo: bool = False

    @property
    def days(self) -> float:
        return self.half_days / 2


class LeaveProfile(SQLModel, table=True):
    """What leave needs to know about a staff member that core `Staff` does not hold."""

    __tablename__ = "leave_profile"

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    service_start: date  # 参加工作时间: years of service give the annual entitlement
    updated_by_id: int | None = Field(default=None, foreign_key="user.id")
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
