"""office hours: a timetable per site, its periods per season and weekday

Revision ID: hours_0001
Revises: (root of the hours branch; depends on core_0005)
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import supervision.db

revision = "hours_0001"
down_revision = None
branch_labels = ("hours",)
# core_0005's full id (its file names it "core_0005_audit_head_seal"; Alembic would also take the prefix).
depends_on = "core_0005_audit_head_seal"


def upgrade() -> None:
    op.create_table(
        "office_timetable",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("summer_start_month", sa.Integer(), nullable=True),
        sa.Column("summer_start_day", sa.Integer(), nullable=True),
        sa.Column("summer_end_month", sa.Integer(), nullable=True),
        sa.Column("summer_end_day", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", supervision.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("office_timetable", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_timetable_site_id"), ["site_id"], unique=True)
    op.create_table(
        "office_period",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("timetable_id", sa.Integer(), nullable=False),
        sa.Column("season", sa.Enum("WINTER", "SUMMER", name="office_season"), nullable=False),
        sa.Column("weekday", sa.Integer(), nullable=False),
        sa.Column("start", sa.Time(), nullable=False),
        sa.Column("end", sa.Time(), nullable=False),
        sa.Column("extended", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["timetable_id"], ["office_timetable.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("timetable_id", "season", "weekday", "start"),
    )
    with op.batch_alter_table("office_period", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_office_period_timetable_id"), ["timetable_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("office_period", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_period_timetable_id"))
    op.drop_table("office_period")
    with op.batch_alter_table("office_timetable", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_office_timetable_site_id"))
    op.drop_table("office_timetable")
    sa.Enum(name="office_season").drop(op.get_bind(), checkfirst=True)
