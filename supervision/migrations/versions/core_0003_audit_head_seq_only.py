"""audit head keeps only the sequence (the previous hash is read from the previous entry)

Revision ID: core_0003
Revises: core_0002
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0003'
down_revision = 'core_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('hash')


def downgrade() -> None:
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hash', sa.String(length=64), nullable=False, server_default='0' * 64))
