# mypy: ignore-errors
# ruff: noqa
"""the unit's finding and its facts, the people an outcome holds responsible, callback tries

Revision ID: complaints_0004
Revises: complaints_0003
Create Date: 2026-12-05 08:00:00

Orders closed before this revision keep an empty list of responsible people: their ledger entries already
name the person (they were inferred from the order's subject then).
"""
import sqlalchemy as sa
from alembic import op

revision = 'complaints_0004'
down_revision = 'complaints_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMNs, not a batch copy: the copy would rebuild the table and its partial index on SQLite.
    op.add_column('work_order', sa.Column('finding', sa.String(length=12), nullable=False, server_default=''))
    op.add_column('work_order', sa.Column('finding_facts', sa.Text(), nullable=False, server_default=''))
    op.add_column('work_order', sa.Column('callback_tries', sa.Integer(), nullable=False, server_default='0'))
    op.add_column('work_order', sa.Column('responsible', sa.String(length=400), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('work_order', schema=None) as batch_op:
        batch_op.drop_column('responsible')
        batch_op.drop_column('callback_tries')
        batch_op.drop_column('finding_facts')
        batch_op.drop_column('finding')
