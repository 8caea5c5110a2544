"""per-zone vacancy thresholds (tuned from false alarms); windows closed (窗口暂停服务)

Revision ID: cameras_0006
Revises: cameras_0003
Create Date: 2026-12-05 11:15:00
"""
import sqlalchemy as sa
from alembic import op

import supervision.db

revision = 'cameras_0006'
down_revision = 'cameras_0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zone_vacancy_threshold',
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('updated_by', sa.String(length=80), nullable=False),
    sa.Column('updated_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('zone_id')
    )
    op.create_table('window_closure',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('created_by', sa.String(length=80), nullable=False),
    sa.Column('created_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['window_id'], ['window.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('window_closure', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_window_closure_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_window_closure_window_span', ['window_id', 'starts_at', 'ends_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('window_closure', schema=None) as batch_op:
        batch_op.drop_index('ix_window_closure_window_span')
        batch_op.drop_index(batch_op.f('ix_window_closure_site_id'))
    op.drop_table('window_closure')
    op.drop_table('zone_vacancy_threshold')
