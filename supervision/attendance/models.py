"""Attendance tables: punches from the terminals, punches of unknown staff numbers, computed days, corrections."""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Column, Enum, Index, UniqueConstraint
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


def _enum(enum: type[StrEnum], name: str) -> Enum:
    # Named per package: PostgreSQL enum types share one namespace across every package's tables.
    return Enum(enum, name=name)


class VerifyMode(StrEnum):
    FINGERPRINT = "fingerprint"
    FACE = "face"
    CARD = "card"
    PASSWORD = "password"
    OTHER = "other"


class PunchSource(StrEnum):
    IMPORT = "import"
    PUSH = "push"
    CORRECTION = "correction"
    DEMO = "demo"


class DayStatus(StrEnum):
    """The headline of a person's day (the most serious fact wins)."""

    PRESENT = "present"
    LATE = "late"
    EARLY = "early"
    LATE_EARLY = "late_early"
    MISSED_PUNCH = "missed_punch"
    ABSENT_HALF = "absent_half"
    ABSENT = "absent"
    LEAVE = "leave"
    TRIP = "trip"
    DUTY = "duty"


class Punch(SQLModel, table=True):
    """One clock-in at a terminal; (device, record id) is the terminal's own key, so a re-sent punch is one row."""

    __tablename__ = "attendance_punch"
    __table_args__ = (
        UniqueConstraint("device", "record_id", name="uq_attendance_punch_record"),
        Index("ix_attendance_punch_staff_day", "staff_id", "local_day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    site_id: int = Field(foreign_key="site.id", index=True)
    punched_at: datetime = Field(sa_column=_ts())
    # The attendance day the punch counts for, in local time (a punch before the day boundary belongs to
    # the day before): kept so a month is one indexed range, whatever the server's zone.
    local_day: date
    device: str = Field(max_length=60)
    record_id: str = Field(max_length=60)
    verify_mode: VerifyMode = Field(default=VerifyMode.OTHER, sa_type=_enum(VerifyMode, "attendance_verify_mode"))
    source: PunchSource = Field(default=PunchSource.IMPORT, sa_type=_enum(PunchSource, "attendance_punch_source"))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class UnknownPunch(SQLModel, table=True):
    """A punch whose staff number matched nobody: kept apart, listed, never dropped."""

    __tablename__ = "attendance_unknown_punch"
    __table_args__ = (UniqueConstraint("device", "record_id", name="uq_attendance_unknown_record"),)

    id: int | None = Field(default=None, primary_key=True)
    staff_code: str = Field(max_length=40, index=True)
    # The site of whoever sent it (importer or gateway token): whose jurisdiction lists it.
    site_id: int = Field(foreign_key="site.id", index=True)
    punched_at: datetime = Field(sa_column=_ts())
    device: str = Field(max_length=60)
    record_id: str = Field(max_length=60)
    verify_mode: VerifyMode = Field(default=VerifyMode.OTHER, sa_type=_enum(VerifyMode, "attendance_verify_mode"))
    source: PunchSource = Field(default=PunchSource.IMPORT, sa_type=_enum(PunchSource, "attendance_punch_source"))
    received_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class AttendanceDay(SQLModel, table=True):
    """A person's computed (or corrected) working day."""

    __tablename__ = "attendance_day"
    __table_args__ = (
        UniqueConstraint("staff_id", "day", name="uq_attendance_day"),
        Index("ix_attendance_day_site_day", "site_id", "day"),
    )

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id")
    site_id: int = Field(foreign_key="site.id")
    day: date
    status: DayStatus = Field(sa_type=_enum(DayStatus, "attendance_day_status"))
    late_minutes: int = 0
    early_minutes: int = 0
    missed_punches: int = 0
    absent_halves: int = 0
    leave_kind: str | None = Field(default=None, max_length=20)
    on_duty: bool = False
    first_in: time | None = None
    last_out: time | None = None
    corrected: bool = False
    correction_reason: str = Field(default="", max_length=400)
    corrected_by: str = Field(default="", max_length=80)
    computed_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CorrectionState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class CorrectionRequest(SQLModel, table=True):
    """A member of staff's request for a missed punch (补卡): the time they were there, and why."""

    __tablename__ = "attendance_correction"

    id: int | None = Field(default=None, primary_key=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    day: date
    punch_time: time
    reason: str = Field(max_length=400)
    state: CorrectionState = Field(default=CorrectionState.PENDING,
                                   sa_type=_enum(CorrectionState, "attendance_correction_state"))
    asked_by: str = Field(max_length=80)
    asked_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    decided_by: str = Field(default="", max_length=80)
    decided_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    decision_note: str = Field(default="", max_length=400)
