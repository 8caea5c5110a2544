# mypy: ignore-errors
# ruff: noqa
"""provisional due dates: a partial index to find them, one name for their source

Revision ID: complaints_0003
Revises: complaints_0002
Create Date: 2026-12-05 05:00:00

A year nobody has entered no longer stops intake: its due dates are provisional and every calendar change
recomputes them, so they must be found without reading every order. The index holds only those rows (a few
weeks' orders at the turn of the year). The source once called "fallback" (Mon–Fri) is now "provisional".
"""
import sqlalchemy as sa
from alembic import op

revision = 'complaints_0003'
down_revision = 'complaints_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_work_order_provisional', 'work_order', ['due_provisional'], unique=False,
                    sqlite_where=sa.text('due_provisional = 1'), postgresql_where=sa.text('due_provisional'))
    op.execute("UPDATE work_order SET due_source = 'provisional' WHERE due_source = 'fallback'")


def downgrade() -> None:
    op.drop_index('ix_work_order_provisional', table_name='work_order')
