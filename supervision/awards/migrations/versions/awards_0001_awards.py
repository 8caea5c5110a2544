"""awards: duty leaders' votes, citizens' votes, selections and the yearly appraisal

Revision ID: awards_0001
Revises: (root of the awards branch; depends on scoring_0002, the monthly scores it reads)
Create Date: 2026-12-05
"""

import sqlalchemy as sa
import sqlmodel
from alembic import op

import supervision.db

revision = "awards_0001"
down_revision = None
branch_labels = ("awards",)
depends_on = "scoring_0002"


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, supervision.db.UTCDateTime(timezone=True), nullable=nullable)


def _text(name: str, length: int) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sqlmodel.sql.sqltypes.AutoString(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "award_leader_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("quarter", 7),
        sa.Column("leader_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        _text("subject_kind", 10),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        _text("entered_by", 80),
        _ts("entered_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter", "leader_id", "subject_kind", "subject_id", name="uq_award_leader_vote"),
    )
    op.create_index("ix_award_leader_vote_quarter", "award_leader_vote", ["quarter"])
    op.create_index("ix_award_leader_vote_leader_id", "award_leader_vote", ["leader_id"])
    op.create_index("ix_award_leader_vote_site_id", "award_leader_vote", ["site_id"])
    op.create_table(
        "award_ballot",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("quarter", 7),
        sa.Column("leader_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        _text("entered_by", 80),
        _ts("entered_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter", "leader_id", name="uq_award_ballot"),
    )
    op.create_index("ix_award_ballot_quarter", "award_ballot", ["quarter"])
    op.create_index("ix_award_ballot_leader_id", "award_ballot", ["leader_id"])
    op.create_index("ix_award_ballot_site_id", "award_ballot", ["site_id"])
    op.create_table(
        "award_citizen_vote",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("quarter", 7),
        _text("subject_kind", 10),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("votes", sa.Integer(), nullable=False),
        _text("imported_by", 80),
        _ts("imported_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter", "subject_kind", "subject_id", name="uq_award_citizen_vote"),
    )
    op.create_index("ix_award_citizen_vote_quarter", "award_citizen_vote", ["quarter"])
    op.create_index("ix_award_citizen_vote_site_id", "award_citizen_vote", ["site_id"])
    op.create_table(
        "award_selection",
        sa.Column("id", sa.Integer(), nullable=False),
        _text("quarter", 7),
        _text("subject_kind", 10),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        _text("name", 120),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        _text("certificate_no", 40),
        _text("selected_by", 80),
        _ts("selected_at"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("quarter", "subject_kind", "subject_id", name="uq_award_selection"),
        sa.UniqueConstraint("certificate_no"),
    )
    op.create_index("ix_award_selection_quarter", "award_selection", ["quarter"])
    op.create_index("ix_award_selection_site_id", "award_selection", ["site_id"])
    op.create_table(
        "appraisal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), sa.ForeignKey("staff.id"), nullable=False),
        sa.Column("site_id", sa.Integer(), sa.ForeignKey("site.id"), nullable=False),
        sa.Column("average", sa.Float(), nullable=True),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("awards", sa.Integer(), nullable=False),
        sa.Column("days_late", sa.Integer(), nullable=False),
        sa.Column("days_absent", sa.Float(), nullable=False),
        sa.Column("leave_days", sa.Float(), nullable=False),
        _text("suggested", 12),
        sa.Column("grade", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=True),
        _text("reason", 400),
        _text("confirmed_by", 80),
        _ts("confirmed_at", nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("year", "staff_id", name="uq_appraisal_year_staff"),
    )
    op.create_index("ix_appraisal_year", "appraisal", ["year"])
    op.create_index("ix_appraisal_staff_id", "appraisal", ["staff_id"])
    op.create_index("ix_appraisal_site_id", "appraisal", ["site_id"])


def downgrade() -> None:
    for table in ("appraisal", "award_selection", "award_citizen_vote", "award_ballot", "award_leader_vote"):
        op.drop_table(table)
