"""The duty tables: who takes part at a site, their blocked days and wishes, the roster, swaps, the log.

Days are local calendar days (`date`); moments are UTC timestamps.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Column, Enum, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


def _enum(enum: type[StrEnum], name: str) -> Enum:
    # Named after this package: PostgreSQL enum types share one namespace with the other packages'.
    return Enum(enum, name=name)


class DutyRole(StrEnum):
    LEADER = "leader"  # 带班领导 (a bureau leader)
    CADRE = "cadre"  # 值班干部 (a section-level cadre)


class AssignmentSource(StrEnum):
    GENERATED = "generated"
    MANUAL = "manual"
    SWAP = "swap"


class SwapStatus(StrEnum):
    ASKED = "asked"  # the requester asked; waits for the counterpart
    ACCEPTED = "accepted"  # the counterpart accepted; waits for a manager
    APPROVED = "approved"  # a manager approved: the roster changed
    DECLINED = "declined"  # the counterpart said no
    REJECTED = "rejected"  # a manager said no
    WITHDRAWN = "withdrawn"  # the requester took it back


class WishKind(StrEnum):
    PREFER = "prefer"
    AVOID = "avoid"


class DutyPoolMember(SQLModel, table=True):
    """A person who takes part in a site's roster; the role follows their rank."""

    __tablename__ = "duty_pool_member"
    __table_args__ = (UniqueConstraint("site_id", "staff_id", name="uq_duty_pool_site_staff"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    role: DutyRole = Field(sa_column=Column(_enum(DutyRole, "duty_pool_role"), nullable=False))
    added_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DutyBlockedDay(SQLModel, table=True):
    """A day a person cannot be on duty (a standing commitment), beside leave and trips."""

    __tablename__ = "duty_blocked_day"
    __table_args__ = (UniqueConstraint("staff_id", "day", name="uq_duty_blocked_staff_day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    day: date = Field(index=True)
    note: str = Field(default="", max_length=200)


class DutyWish(SQLModel, table=True):
    """A soft wish: a person prefers or would rather avoid a day."""

    __tablename__ = "duty_wish"
    __table_args__ = (UniqueConstraint("staff_id", "day", name="uq_duty_wish_staff_day"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    day: date = Field(index=True)
    kind: WishKind = Field(sa_column=Column(_enum(WishKind, "duty_wish_kind"), nullable=False))


class DutyAssignment(SQLModel, table=True):
    """One person on duty at a site on a day, in one role (a row of the roster, 值班表)."""

    __tablename__ = "duty_assignment"
    __table_args__ = (UniqueConstraint("site_id", "day", "role", name="uq_duty_assignment_site_day_role"),)

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    day: date = Field(index=True)
    role: DutyRole = Field(sa_column=Column(_enum(DutyRole, "duty_role"), nullable=False))
    staff_id: int = Field(foreign_key="staff.id", index=True)
    source: AssignmentSource = Field(
        sa_column=Column(_enum(AssignmentSource, "duty_assignment_source"), nullable=False))
    changed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DutySwap(SQLModel, table=True):
    """A swap of two duties (or a hand-over of one), asked, accepted and approved (调班)."""

    __tablename__ = "duty_swap"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    assignment_id: int = Field(foreign_key="duty_assignment.id", index=True)
    requester_id: int = Field(foreign_key="staff.id", index=True)
    counterpart_id: int = Field(foreign_key="staff.id", index=True)
    # The counterpart's duty taken in exchange; none: the counterpart just takes the requester's day.
    counterpart_assignment_id: int | None = Field(default=None, foreign_key="duty_assignment.id")
    reason: str = Field(default="", max_length=400)
    status: SwapStatus = Field(sa_column=Column(_enum(SwapStatus, "duty_swap_status"), nullable=False))
    asked_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decided_by_id: int | None = Field(default=None, foreign_key="user.id")


class DutyCalendarToken(SQLModel, table=True):
    """The secret of a person's iCalendar feed; only its hash is kept."""

    __tablename__ = "duty_calendar_token"

    staff_id: int = Field(foreign_key="staff.id", primary_key=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class DutyLogEntry(SQLModel, table=True):
    """A problem the people on duty coordinated on the spot (值班日志)."""

    __tablename__ = "duty_log_entry"

    id: int | None = Field(default=None, primary_key=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    occurred_at: datetime = Field(sa_column=Column(UTCDateTime(), nullable=False, index=True))
    window_id: int | None = Field(default=None, foreign_key="window.id")
    problem: str = Field(sa_type=Text)
    handling: str = Field(sa_type=Text)
    result: str = Field(default="", sa_type=Text)
    recorded_by_id: int = Field(foreign_key="user.id")
    # The work order this entry became (complaints' reference, e.g. "GD-2026-000123"), if any.
    work_order_ref: str = Field(default="", max_length=40)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
