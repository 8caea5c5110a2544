"""handlers (承办人): a role, and the departments each handler acts for

Revision ID: core_0006
Revises: core_0005_audit_head_seal
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0006'
down_revision = 'core_0005_audit_head_seal'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        # PostgreSQL refuses to use an enum value added in the same transaction: add it in its own
        # (committed) block. SQLite stores the role as text with no check.
        with op.get_context().autocommit_block():
            op.execute("ALTER TYPE role ADD VALUE IF NOT EXISTS 'HANDLER'")
    op.create_table('user_department',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['department.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['user.id'], ),
    sa.PrimaryKeyConstraint('user_id', 'department_id')
    )
    with op.batch_alter_table('user_department', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_department_department_id'), ['department_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_department', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_department_department_id'))
    op.drop_table('user_department')
    # PostgreSQL cannot drop an enum value: HANDLER stays in the type, unused.
