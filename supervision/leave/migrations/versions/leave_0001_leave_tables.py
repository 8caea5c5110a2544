"""leave: requests and each staff member's service start date

Revision ID: leave_0001
Revises: (root of the leave branch; depends on core_0005)
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

import supervision.db

revision = "leave_0001"
down_revision = None
branch_labels = ("leave",)
depends_on = "core_0005_audit_head_seal"


def upgrade() -> None:
    op.create_table(
        "leave_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("site_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("ANNUAL", "SICK", "PERSONAL", "MARRIAGE", "MATERNITY", "BEREAVEMENT", "TRIP",
                                  "COMPENSATORY", name="leave_kind"), nullable=False),
        sa.Column("start_day", sa.Date(), nullable=False),
        sa.Column("start_pm", sa.Boolean(), nullable=False),
        sa.Column("end_day", sa.Date(), nullable=False),
        sa.Column("end_am", sa.Boolean(), nullable=False),
        sa.Column("half_days", sa.Integer(), nullable=False),
        sa.Column("reason_enc", sa.String(length=2000), nullable=False),
        sa.Column("status", sa.Enum("PENDING", "PENDING_SECOND", "APPROVED", "REJECTED", "CANCELLED",
                                    name="leave_status"), nullable=False),
        sa.Column("needs_second", sa.Boolean(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", supervision.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("first_by_id", sa.Integer(), nullable=True),
        sa.Column("first_at", supervision.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("second_by_id", sa.Integer(), nullable=True),
        sa.Column("second_at", supervision.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=400), nullable=False),
        sa.Column("cancelled_at", supervision.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["site_id"], ["site.id"]),
        sa.ForeignKeyConstraint(["requested_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["first_by_id"], ["user.id"]),
        sa.ForeignKeyConstraint(["second_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("leave_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_leave_request_staff_id"), ["staff_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leave_request_site_id"), ["site_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_leave_request_status"), ["status"], unique=False)
        batch_op.create_index("ix_leave_request_staff_days", ["staff_id", "start_day", "end_day"], unique=False)
    op.create_table(
        "leave_profile",
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("service_start", sa.Date(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", supervision.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["updated_by_id"], ["user.id"]),
        sa.PrimaryKeyConstraint("staff_id"),
    )


def downgrade() -> None:
    op.drop_table("leave_profile")
    with op.batch_alter_table("leave_request", schema=None) as batch_op:
        batch_op.drop_index("ix_leave_request_staff_days")
        batch_op.drop_index(batch_op.f("ix_leave_request_status"))
        batch_op.drop_index(batch_op.f("ix_leave_request_site_id"))
        batch_op.drop_index(batch_op.f("ix_leave_request_staff_id"))
    op.drop_table("leave_request")
    sa.Enum(name="leave_status").drop(op.get_bind(), checkfirst=True)
    sa.Enum(name="leave_kind").drop(op.get_bind(), checkfirst=True)
