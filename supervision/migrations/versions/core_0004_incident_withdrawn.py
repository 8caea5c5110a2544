"""incidents can be withdrawn (an outcome revised, a rating appeal granted), never deleted

Revision ID: core_0004
Revises: core_0003
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
import supervision.db


revision = 'core_0004'
down_revision = 'core_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', supervision.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_reason', sa.String(length=400), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_column('withdrawn_reason')
        batch_op.drop_column('withdrawn_at')
