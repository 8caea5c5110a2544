"""incidents linked to the risk points they concern

Revision ID: risk_0002
Revises: risk_0001
Create Date: 2026-12-05 07:50:00.000000

Existing incidents get their links from the re-link job (risk.signal.relink_incidents), which the
scheduler runs every 15 minutes and the morning reminder job runs first: the mapping reads the
complaints' records, which a migration of this package must not import.
"""

import sqlalchemy as sa
from alembic import op

import supervision.db

revision = "risk_0002"
down_revision = "risk_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "risk_incident_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("incident_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("made_by", sa.Enum("RULE", "OFFICER", name="risk_link_maker"), nullable=False),
        sa.Column("concern", sa.String(length=40), nullable=False),
        sa.Column("matched", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.String(length=400), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", supervision.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("removed_at", supervision.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("removed_by", sa.String(length=80), nullable=False),
        sa.Column("removed_reason", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(["incident_id"], ["incident.id"]),
        sa.ForeignKeyConstraint(["point_id"], ["risk_point.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("incident_id", "point_id", name="uq_risk_incident_link"),
    )
    with op.batch_alter_table("risk_incident_link", schema=None) as batch_op:
        batch_op.create_index("ix_risk_incident_link_point", ["point_id", "removed_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("risk_incident_link", schema=None) as batch_op:
        batch_op.drop_index("ix_risk_incident_link_point")
    op.drop_table("risk_incident_link")
    if op.get_bind().dialect.name == "postgresql":
        op.execute(sa.text("DROP TYPE IF EXISTS risk_link_maker"))
