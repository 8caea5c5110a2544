"""score appeals (申诉)

Revision ID: scoring_0003
Revises: scoring_0002
Create Date: 2026-12-05 11:30:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import supervision.db


revision = 'scoring_0003'
down_revision = 'scoring_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('scoring_appeal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('close_id', sa.Integer(), nullable=False),
    sa.Column('staff_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('filed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('filed_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('decision_reason', sa.Text(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('decided_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reversal_ids', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['close_id'], ['month_close.id'], ),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('dedupe_key', name='uq_scoring_appeal_dedupe')
    )
    with op.batch_alter_table('scoring_appeal', schema=None) as batch_op:
        batch_op.create_index('ix_scoring_appeal_status_month', ['status', 'month'], unique=False)
        batch_op.create_index(batch_op.f('ix_scoring_appeal_staff_id'), ['staff_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('scoring_appeal', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_scoring_appeal_staff_id'))
        batch_op.drop_index('ix_scoring_appeal_status_month')

    op.drop_table('scoring_appeal')
