"""duty tables

Revision ID: duty_0001
Revises: (root of the duty branch; depends on core_0005_audit_head_seal)
Create Date: 2026-12-05 07:55:00
"""

import sqlalchemy as sa
from alembic import op

import supervision.db

revision = "duty_0001"
down_revision = None
branch_labels = ("duty",)
depends_on = "core_0005_audit_head_seal"  # the brief said core_0005: that revision's id is this

ENUM_TYPES = ("duty_pool_role", "duty_role", "duty_wish_kind", "duty_assignment_source", "duty_swap_status")


def _ts(name: str, nullable: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, supervision.db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "duty_pool_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.Enum("LEADER", "CADRE", name="duty_pool_role"), nullable=False),
        _ts("added_at"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "staff_id", name="uq_duty_pool_site_staff"),
    )
    op.create_index("ix_duty_pool_member_site_id", "duty_pool_member", ["site_id"])
    op.create_index("ix_duty_pool_member_staff_id", "duty_pool_member", ["staff_id"])

    op.create_table(
        "duty_blocked_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "day", name="uq_duty_blocked_staff_day"),
    )
    op.create_index("ix_duty_blocked_day_staff_id", "duty_blocked_day", ["staff_id"])
    op.create_index("ix_duty_blocked_day_day", "duty_blocked_day", ["day"])

    op.create_table(
        "duty_wish",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.Enum("PREFER", "AVOID", name="duty_wish_kind"), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("staff_id", "day", name="uq_duty_wish_staff_day"),
    )
    op.create_index("ix_duty_wish_staff_id", "duty_wish", ["staff_id"])
    op.create_index("ix_duty_wish_day", "duty_wish", ["day"])

    op.create_table(
        "duty_assignment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("role", sa.Enum("LEADER", "CADRE", name="duty_role"), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.Enum("GENERATED", "MANUAL", "SWAP", name="duty_assignment_source"), nullable=False),
        _ts("changed_at"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("site_id", "day", "role", name="uq_duty_assignment_site_day_role"),
    )
    op.create_index("ix_duty_assignment_site_id", "duty_assignment", ["site_id"])
    op.create_index("ix_duty_assignment_day", "duty_assignment", ["day"])
    op.create_index("ix_duty_assignment_staff_id", "duty_assignment", ["staff_id"])

    op.create_table(
        "duty_swap",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("assignment_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("counterpart_id", sa.Integer(), nullable=False),
        sa.Column("counterpart_assignment_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("status", sa.Enum("ASKED", "ACCEPTED", "APPROVED", "DECLINED", "REJECTED", "WITHDRAWN",
                                    name="duty_swap_status"), nullable=False),
        _ts("asked_at"),
        _ts("decided_at", nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["assignment_id"], ["duty_assignment.id"]),
        sa.ForeignKeyConstraint(["counterpart_assignment_id"], ["duty_assignment.id"]),
        sa.ForeignKeyConstraint(["requester_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["counterpart_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["decided_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_swap_site_id", "duty_swap", ["site_id"])
    op.create_index("ix_duty_swap_assignment_id", "duty_swap", ["assignment_id"])
    op.create_index("ix_duty_swap_requester_id", "duty_swap", ["requester_id"])
    op.create_index("ix_duty_swap_counterpart_id", "duty_swap", ["counterpart_id"])

    op.create_table(
        "duty_calendar_token",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("staff_id"),
    )
    op.create_index("ix_duty_calendar_token_token_hash", "duty_calendar_token", ["token_hash"], unique=True)

    op.create_table(
        "duty_log_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        _ts("occurred_at"),
        sa.Column("window_id", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("handling", sa.Text(), nullable=False),
        sa.Column("result", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("work_order_ref", sa.String(length=40), nullable=False),
        _ts("created_at"),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["window_id"], ["window.id"]),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_duty_log_entry_site_id", "duty_log_entry", ["site_id"])
    op.create_index("ix_duty_log_entry_occurred_at", "duty_log_entry", ["occurred_at"])


def downgrade() -> None:
    for table in ("duty_log_entry", "duty_calendar_token", "duty_swap", "duty_assignment", "duty_wish",
                  "duty_blocked_day", "duty_pool_member"):
        op.drop_table(table)
    if op.get_bind().dialect.name == "postgresql":
        for name in ENUM_TYPES:
            sa.Enum(name=name).drop(op.get_bind(), checkfirst=True)
