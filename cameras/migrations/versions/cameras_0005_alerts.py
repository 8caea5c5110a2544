"""tamper and queue alerts: the camera's reference still, queue counts, new alert and event kinds

Revision ID: cameras_0005
Revises: cameras_0003
Create Date: 2026-12-05 11:20:00
"""
import sqlalchemy as sa
from alembic import op

import supervision.db

revision = 'cameras_0005'
down_revision = 'cameras_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # Enum columns store the member names; SQLite keeps them as plain text (no CHECK), nothing to change.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE alertkind ADD VALUE IF NOT EXISTS 'TAMPER'")
            op.execute("ALTER TYPE videoeventkind ADD VALUE IF NOT EXISTS 'TAMPER'")
            op.execute("ALTER TYPE videoeventkind ADD VALUE IF NOT EXISTS 'QUEUE_VACANT'")
    # SQLite keeps enum columns as VARCHAR without a CHECK (and ignores their length): nothing to change there.
    op.create_table('camera_reference',
    sa.Column('camera_id', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('taken_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('taken_by', sa.String(length=80), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['camera.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('camera_id')
    )
    op.create_table('zone_count',
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('counted_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('zone_id')
    )


def downgrade() -> None:
    op.drop_table('zone_count')
    op.drop_table('camera_reference')
    # PostgreSQL cannot drop a value from an enum type: TAMPER / QUEUE_VACANT stay known (and unused).
    op.execute("DELETE FROM camera_alert WHERE kind = 'TAMPER'")
    op.execute("DELETE FROM video_event WHERE kind IN ('TAMPER', 'QUEUE_VACANT')")
