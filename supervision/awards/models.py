"""Quarterly awards (votes, selections) and the yearly appraisal, as rows."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, UniqueConstraint
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow


class SubjectKind(StrEnum):
    WINDOW = "window"  # 文明服务窗口
    STAFF = "staff"  # 服务标兵


class Grade(StrEnum):
    EXCELLENT = "excellent"  # 优秀
    COMPETENT = "competent"  # 称职
    BASIC = "basic"  # 基本称职
    INCOMPETENT = "incompetent"  # 不称职


class LeaderBallot(SQLModel, table=True):
    """One duty leader's vote for one candidate of a quarter (an approval ballot: a tick)."""

    __tablename__ = "award_leader_vote"
    __table_args__ = (UniqueConstraint("quarter", "leader_id", "subject_kind", "subject_id",
                                       name="uq_award_leader_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(max_length=7, index=True)  # "2026Q3"
    leader_id: int = Field(foreign_key="staff.id", index=True)
    subject_kind: str = Field(max_length=10)
    subject_id: int
    site_id: int = Field(foreign_key="site.id", index=True)  # the candidate's site
    entered_by: str = Field(default="", max_length=80)
    entered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class LeaderBallotCast(SQLModel, table=True):
    """That a leader cast a ballot for a quarter in a jurisdiction (also when they ticked nobody)."""

    __tablename__ = "award_ballot"
    __table_args__ = (UniqueConstraint("quarter", "leader_id", name="uq_award_ballot"),)

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(max_length=7, index=True)
    leader_id: int = Field(foreign_key="staff.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)  # the leader's duty site
    entered_by: str = Field(default="", max_length=80)
    entered_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class CitizenVote(SQLModel, table=True):
    """Citizens' votes for a candidate, imported from a spreadsheet (the latest import wins)."""

    __tablename__ = "award_citizen_vote"
    __table_args__ = (UniqueConstraint("quarter", "subject_kind", "subject_id", name="uq_award_citizen_vote"),)

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(max_length=7, index=True)
    subject_kind: str = Field(max_length=10)
    subject_id: int
    site_id: int = Field(foreign_key="site.id", index=True)
    votes: int = 0
    imported_by: str = Field(default="", max_length=80)
    imported_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class AwardSelection(SQLModel, table=True):
    """A window or person the manager selected for the quarter's award, with the score it had then."""

    __tablename__ = "award_selection"
    __table_args__ = (UniqueConstraint("quarter", "subject_kind", "subject_id", name="uq_award_selection"),)

    id: int | None = Field(default=None, primary_key=True)
    quarter: str = Field(max_length=7, index=True)
    subject_kind: str = Field(max_length=10)
    subject_id: int
    site_id: int = Field(foreign_key="site.id", index=True)
    name: str = Field(default="", max_length=120)
    score: float = 0.0
    rank: int = 0
    certificate_no: str = Field(default="", max_length=40, unique=True)
    selected_by: str = Field(default="", max_length=80)
    selected_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))


class Appraisal(SQLModel, table=True):
    """A person's yearly appraisal: the figures it was suggested from, the suggestion and the confirmed grade."""

    __tablename__ = "appraisal"
    __table_args__ = (UniqueConstraint("year", "staff_id", name="uq_appraisal_year_staff"),)

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(index=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    site_id: int = Field(foreign_key="site.id", index=True)
    average: float | None = None
    months: int = 0
    awards: int = 0
    days_late: int = 0
    days_absent: float = 0.0
    leave_days: float = 0.0
    suggested: str = Field(max_length=12)
    grade: str | None = Field(default=None, max_length=12)  # set when confirmed
    reason: str = Field(default="", max_length=400)  # why the confirmed grade differs from the suggestion
    confirmed_by: str = Field(default="", max_length=80)
    confirmed_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
