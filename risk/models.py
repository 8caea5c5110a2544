"""The risk register's tables and its input and output shapes.

Levels are stored as integers (1 = 一级, the highest) so "highest level" is a plain MIN() in SQL.
Dates a user reads as calendar days (due dates, check and review days) are `date` in local time;
moments are UTC timestamps.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import IntEnum, StrEnum

from sqlalchemy import Column, Enum, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow
from supervision.shapes import UpdateModel


def _ts(nullable: bool = False) -> Column[datetime]:
    return Column(UTCDateTime(), nullable=nullable)


def _enum(enum: type[StrEnum], name: str) -> Enum:
    # Named after this package: PostgreSQL enum types share one namespace with the other domains'.
    return Enum(enum, name=name)


class RiskCategory(StrEnum):
    MORAL = "moral"  # 思想道德
    DUTY = "duty"  # 岗位职责
    SYSTEM = "system"  # 制度机制
    PROCESS = "process"  # 业务流程
    EXTERNAL = "external"  # 外部环境


class RiskLevel(IntEnum):
    HIGH = 1  # 一级
    MEDIUM = 2  # 二级
    LOW = 3  # 三级


class MeasureType(StrEnum):
    REGULATION = "regulation"  # 制度
    PROCESS = "process"  # 流程
    TECHNOLOGY = "technology"  # 技术
    EDUCATION = "education"  # 教育
    SUPERVISION = "supervision"  # 监督


class CheckFrequency(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"
    HALF_YEARLY = "half_yearly"
    YEARLY = "yearly"


class CheckResult(StrEnum):
    EFFECTIVE = "effective"
    PARTLY = "partly"
    NOT_EFFECTIVE = "not_effective"


class ReviewOutcome(StrEnum):
    CONFIRMED = "confirmed"  # 维持
    REGRADED = "regraded"  # 调整等级
    REVISED = "revised"  # 修订内容或措施
    RETIRED = "retired"  # 撤销(岗位职责不再包含该风险)


class ReminderKind(StrEnum):
    REVIEW_DUE = "review_due"
    REVIEW_OVERDUE = "review_overdue"
    DUTIES_CHANGED = "duties_changed"
    CHECK_DUE = "check_due"
    CHECK_OVERDUE = "check_overdue"
    REGRADE = "regrade"


# --- grading criteria -----------------------------------------------------------------------------


class GradingCriteriaBase(SQLModel):
    version: str = Field(max_length=40, unique=True, index=True)
    title: str = Field(max_length=200)
    effective_from: date
    text: str = Field(default="", sa_type=Text)


class GradingCriteria(GradingCriteriaBase, table=True):
    """A version of the rules levels are given by; each point records the version it was graded under."""

    __tablename__ = "risk_grading_criteria"

    id: int | None = Field(default=None, primary_key=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class GradingCriteriaCreate(GradingCriteriaBase):
    pass


class GradingCriteriaPublic(GradingCriteriaBase):
    id: int


# --- risk points ----------------------------------------------------------------------------------


class RiskPointBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    name: str = Field(max_length=200)
    post_id: int = Field(foreign_key="post.id", index=True)
    manifestation: str = Field(default="", sa_type=Text)  # 表现形式
    category: RiskCategory = Field(sa_type=_enum(RiskCategory, "risk_category"))
    grading_basis: str = Field(default="", sa_type=Text)
    power: str = Field(default="", max_length=200)  # 职权名称
    process_step: str = Field(default="", max_length=200)  # 办理环节
    direct_responsible_id: int | None = Field(default=None, foreign_key="staff.id")
    department_responsible_id: int | None = Field(default=None, foreign_key="staff.id")
    leader_responsible_id: int | None = Field(default=None, foreign_key="staff.id")


def _flagged(table: str, flag: str) -> Index:
    """An index of the rows whose flag is set only (the provisional dates a calendar change recomputes)."""
    return Index(f"ix_{table}_{flag}", flag, sqlite_where=text(f"{flag} = 1"), postgresql_where=text(flag))


class RiskPoint(RiskPointBase, table=True):
    __tablename__ = "risk_point"
    __table_args__ = (_flagged("risk_point", "review_due_provisional"),)

    id: int | None = Field(default=None, primary_key=True)
    level: int = Field(index=True)
    criteria_id: int = Field(foreign_key="risk_grading_criteria.id")
    active: bool = True
    # Kept in step by the services so the register's filters are plain comparisons.
    next_review_due: date = Field(index=True)
    # Counted in a year the working-day calendar does not know yet: recomputed from `review_due_counted`
    # (the day before moving to a working day) when an admin enters the year (risk.provisional).
    review_due_provisional: bool = False
    review_due_counted: date | None = None
    last_reviewed_on: date | None = None
    # The post's duties_changed_at as of the last review (or creation): newer means the duties changed since.
    duties_seen_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    # Incidents before this moment were weighed by the last review and no longer count towards re-grading.
    signal_reset_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class RiskPointCreate(RiskPointBase):
    level: RiskLevel
    criteria_version: str | None = None  # the version in force when omitted
    measure_ids: list[int] = []


class RiskPointUpdate(UpdateModel):
    columns_of = RiskPoint

    code: str | None = None
    name: str | None = None
    post_id: int | None = None
    manifestation: str | None = None
    category: RiskCategory | None = None
    power: str | None = None
    process_step: str | None = None
    direct_responsible_id: int | None = None
    department_responsible_id: int | None = None
    leader_responsible_id: int | None = None
    measure_ids: list[int] | None = None
    # The level is changed by a review (which keeps the history), not by an edit.


class RiskPointMeasure(SQLModel, table=True):
    """One countermeasure may cover several points, and a point has several measures."""

    __tablename__ = "risk_point_measure"

    point_id: int = Field(foreign_key="risk_point.id", primary_key=True)
    measure_id: int = Field(foreign_key="risk_countermeasure.id", primary_key=True, index=True)


# --- countermeasures ------------------------------------------------------------------------------


class CountermeasureBase(SQLModel):
    code: str = Field(max_length=40, unique=True, index=True)
    content: str = Field(sa_type=Text)
    measure_type: MeasureType = Field(sa_type=_enum(MeasureType, "risk_measure_type"))
    owner_id: int = Field(foreign_key="staff.id", index=True)
    check_frequency: CheckFrequency = Field(sa_type=_enum(CheckFrequency, "risk_check_frequency"))
    check_method: str = Field(default="", sa_type=Text)


class Countermeasure(CountermeasureBase, table=True):
    __tablename__ = "risk_countermeasure"
    __table_args__ = (_flagged("risk_countermeasure", "check_due_provisional"),)

    id: int | None = Field(default=None, primary_key=True)
    # The site whose officers own the measure: the site of its points' post (or its owner's).
    site_id: int = Field(foreign_key="site.id", index=True)
    active: bool = True
    next_check_due: date = Field(index=True)
    check_due_provisional: bool = False  # as the point's review_due_provisional
    check_due_counted: date | None = None
    last_checked_on: date | None = None
    last_result: CheckResult | None = Field(default=None, sa_type=_enum(CheckResult, "risk_check_result"))
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=_ts())


class CountermeasureCreate(CountermeasureBase):
    point_ids: list[int] = []


class CountermeasureUpdate(UpdateModel):
    columns_of = Countermeasure

    code: str | None = None
    content: str | None = None
    measure_type: MeasureType | None = None
    owner_id: int | None = None
    check_frequency: CheckFrequency | None = None
    check_method: str | None = None
    active: bool | None = None
    point_ids: list[int] | None = None


class CountermeasureCheck(SQLModel, table=True):
    """One check of a measure. Never edited: a wrong check is followed by a correcting one."""

    __tablename__ = "risk_check"
    __table_args__ = (Index("ix_risk_check_measure_on", "measure_id", "checked_on"),)

    id: int | None = Field(default=None, primary_key=True)
    measure_id: int = Field(foreign_key="risk_countermeasure.id")
    checked_on: date
    checker_id: int | None = Field(default=None, foreign_key="staff.id")
    checker_name: str = Field(max_length=60)
    result: CheckResult = Field(sa_type=_enum(CheckResult, "risk_check_result"))
    notes: str = Field(default="", sa_type=Text)
    evidence_sha256: str = Field(default="", max_length=64)
    evidence_name: str = Field(default="", max_length=200)
    evidence_type: str = Field(default="", max_length=100)
    evidence_size: int = 0
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    is_demo: bool = False


class CheckCreate(SQLModel):
    checked_on: date
    checker_id: int | None = None
    checker_name: str = Field(default="", max_length=60)
    result: CheckResult
    notes: str = ""


# --- reviews --------------------------------------------------------------------------------------


class RiskReview(SQLModel, table=True):
    """One review of a point. The history is the list of these; the point holds only the current state."""

    __tablename__ = "risk_review"
    __table_args__ = (Index("ix_risk_review_point_on", "point_id", "reviewed_on"),)

    id: int | None = Field(default=None, primary_key=True)
    point_id: int = Field(foreign_key="risk_point.id")
    reviewed_on: date
    reviewer_name: str = Field(max_length=60)
    reviewer_user_id: int | None = Field(default=None, foreign_key="user.id")
    outcome: ReviewOutcome = Field(sa_type=_enum(ReviewOutcome, "risk_review_outcome"))
    level_before: int
    level_after: int
    criteria_id: int = Field(foreign_key="risk_grading_criteria.id")
    grading_basis: str = Field(default="", sa_type=Text)
    notes: str = Field(default="", sa_type=Text)
    trigger: str = Field(default="", max_length=40)  # schedule | duties_changed | incidents | other
    incident_count: int = 0
    recorded_by: str = Field(max_length=80)
    recorded_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    is_demo: bool = False


class ReviewCreate(SQLModel):
    reviewed_on: date
    reviewer_name: str = Field(default="", max_length=60)
    outcome: ReviewOutcome = ReviewOutcome.CONFIRMED
    level: RiskLevel | None = None  # the new level when re-graded
    grading_basis: str = ""
    criteria_version: str | None = None
    notes: str = ""
    trigger: str = Field(default="schedule", max_length=40)


# --- incidents linked to points -------------------------------------------------------------------


class LinkMaker(StrEnum):
    RULE = "rule"  # the mapping table (risk.signal) linked it
    OFFICER = "officer"  # an officer linked it by hand


class RiskIncidentLink(SQLModel, table=True):
    """An incident counted against a point: made by the mapping rule or an officer, removable with a reason.

    A removed link keeps its row (removed_at set), so the re-link job never puts back what an officer took off.
    """

    __tablename__ = "risk_incident_link"
    __table_args__ = (
        UniqueConstraint("incident_id", "point_id", name="uq_risk_incident_link"),
        Index("ix_risk_incident_link_point", "point_id", "removed_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    incident_id: int = Field(foreign_key="incident.id")
    point_id: int = Field(foreign_key="risk_point.id")
    made_by: LinkMaker = Field(sa_type=_enum(LinkMaker, "risk_link_maker"))
    concern: str = Field(default="", max_length=40)  # the concern both share (rule links)
    matched: str = Field(default="", max_length=40)  # the word of the point that matched it (rule links)
    reason: str = Field(default="", max_length=400)  # an officer's reason for linking
    created_by: str = Field(max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    removed_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    removed_by: str = Field(default="", max_length=80)
    removed_reason: str = Field(default="", max_length=400)


class IncidentLinkChange(SQLModel):
    """An officer's re-link: link the incident to the point, or take it off, with a reason."""

    incident_id: int
    linked: bool
    reason: str = Field(max_length=400)


# --- reminders ------------------------------------------------------------------------------------


class RiskReminder(SQLModel, table=True):
    """A stored reminder: the officer's home page lists the open ones; each is also addressed to a person."""

    __tablename__ = "risk_reminder"
    __table_args__ = (Index("ix_risk_reminder_open", "site_id", "done_at"),)

    id: int | None = Field(default=None, primary_key=True)
    kind: ReminderKind = Field(sa_type=_enum(ReminderKind, "risk_reminder_kind"))
    site_id: int = Field(foreign_key="site.id")
    point_id: int | None = Field(default=None, foreign_key="risk_point.id")
    measure_id: int | None = Field(default=None, foreign_key="risk_countermeasure.id")
    due_on: date
    # None: for the discipline officers of the site; otherwise the responsible person it is addressed to.
    recipient_staff_id: int | None = Field(default=None, foreign_key="staff.id", index=True)
    summary: str = Field(default="", max_length=400)
    # kind:point:measure:due:recipient. NULLs never collide in a unique index, so the key is spelled out.
    dedupe_key: str = Field(max_length=120, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=_ts())
    done_at: datetime | None = Field(default=None, sa_column=_ts(nullable=True))
    done_by: str = Field(default="", max_length=80)
