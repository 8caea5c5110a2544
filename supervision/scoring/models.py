"""The scoring rule set as data: versions in force from a month, each with its items (key, points, cap)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, Index, Text, UniqueConstraint, text
from sqlmodel import Field, SQLModel

from supervision.db import UTCDateTime, utcnow


class ScoringRuleSet(SQLModel, table=True):
    """One version of the rules; it is in force from the first day of `effective_from`'s month."""

    __tablename__ = "scoring_rule_set"

    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=40, unique=True, index=True)
    effective_from: date = Field(unique=True)
    note: str = Field(default="", max_length=400)
    created_by: str = Field(default="", max_length=80)
    created_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    # The month's starting score, and the most a month may deduct / add in all (positive numbers; None = no cap).
    base: float = 100.0
    deduction_cap: float | None = None
    bonus_cap: float | None = None


class ScoringItemBase(SQLModel):
    key: str = Field(max_length=60)
    points: float
    # The most this item may deduct (or add) in one month, as a positive number; None = no cap.
    cap: float | None = None
    # Whom the item scores: a comma list of staff, window, department.
    applies_to: str = Field(default="staff,window", max_length=60)


class ScoringItem(ScoringItemBase, table=True):
    __tablename__ = "scoring_item"
    __table_args__ = (UniqueConstraint("rule_set_id", "key", name="uq_scoring_item_key"),)

    id: int | None = Field(default=None, primary_key=True)
    rule_set_id: int = Field(foreign_key="scoring_rule_set.id", index=True)


class ScoringItemPublic(ScoringItemBase):
    label: str = ""


class RuleSetPublic(SQLModel):
    version: str
    effective_from: date
    note: str
    items: list[ScoringItemPublic]
    base: float = 100.0
    deduction_cap: float | None = None
    bonus_cap: float | None = None


class RuleSetCreate(SQLModel):
    """A new version: items not named keep the points of the version in force before it."""

    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    note: str = Field(default="", max_length=400)
    items: list[ScoringItemBase] = []
    # Not given: the version in force before it decides.
    base: float | None = None
    deduction_cap: float | None = None
    bonus_cap: float | None = None


class MonthClose(SQLModel, table=True):
    """A month closed for a jurisdiction (the closer's site and every site under it): its scores are frozen."""

    __tablename__ = "month_close"
    __table_args__ = (
        # Two managers closing at once close it once: at most one active close per month and site.
        Index("uq_month_close_active", "month", "site_id", unique=True,
              sqlite_where=text("status = 'closed'"), postgresql_where=text("status = 'closed'")),
    )

    id: int | None = Field(default=None, primary_key=True)
    month: date = Field(index=True)  # the first day of the month
    site_id: int = Field(foreign_key="site.id", index=True)
    status: str = Field(default="closed", max_length=12)  # closed | reopened
    rule_version: str = Field(default="", max_length=40)
    closed_at: datetime = Field(default_factory=utcnow, sa_column=Column(UTCDateTime(), nullable=False))
    closed_by: str = Field(default="", max_length=80)
    # What the close checks found when it was forced (one description a line); empty when none.
    forced_over: str = Field(default="", sa_type=Text)
    published_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    published_by: str = Field(default="", max_length=80)
    reopened_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    reopened_by: str = Field(default="", max_length=80)
    reopen_reason: str = Field(default="", max_length=400)


class MonthlyScore(SQLModel, table=True):
    """One subject's frozen score of a closed month; a later revision (after an appeal) keeps the older one."""

    __tablename__ = "monthly_score"
    __table_args__ = (
        Index("ix_monthly_score_subject", "subject_kind", "subject_id", "month"),
    )

    id: int | None = Field(default=None, primary_key=True)
    close_id: int = Field(foreign_key="month_close.id", index=True)
    month: date
    subject_kind: str = Field(max_length=12)  # staff | window | department
    subject_id: int
    site_id: int = Field(foreign_key="site.id", index=True)
    name: str = Field(default="", max_length=120)
    base: float
    deductions: float  # <= 0
    bonuses: float  # >= 0
    final: float
    rank: int
    items_json: str = Field(default="[]", sa_type=Text)
    revision: int = 1
    superseded_at: datetime | None = Field(default=None, sa_column=Column(UTCDateTime(), nullable=True))
    change_reason: str = Field(default="", max_length=400)
