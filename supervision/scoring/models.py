"""The scoring rule set as data: versions in force from a month, each with its items (key, points, cap)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Column, UniqueConstraint
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


class ScoringItemBase(SQLModel):
    key: str = Field(max_length=60)
    points: float
    # The most this item may deduct (or add) in one month, as a positive number; None = no cap.
    cap: float | None = None


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


class RuleSetCreate(SQLModel):
    """A new version: items not named keep the points of the version in force before it."""

    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    note: str = Field(default="", max_length=400)
    items: list[ScoringItemBase] = []
