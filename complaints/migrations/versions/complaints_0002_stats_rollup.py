# mypy: ignore-errors
# ruff: noqa
"""monthly statistics roll-up of work orders and ratings

Revision ID: complaints_0002
Revises: complaints_0001
Create Date: 2026-11-27 09:00:00

The tables are filled from the orders and ratings already there, with the same GROUP BY that
complaints.rollup.rebuild runs (written out here so this revision does not change when the code does).
"""
import sqlalchemy as sa
import sqlmodel
from alembic import op

revision = 'complaints_0002'
down_revision = 'complaints_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('complaints_stats_month',
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('integrity', sa.Boolean(), nullable=False),
    sa.Column('dim', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('value', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('closed', sa.Integer(), nullable=False),
    sa.Column('closed_on_time', sa.Integer(), nullable=False),
    sa.Column('closed_late', sa.Integer(), nullable=False),
    sa.Column('upheld', sa.Integer(), nullable=False),
    sa.Column('callbacks', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'site_id', 'integrity', 'dim', 'value')
    )
    op.create_table('complaints_rating_month',
    sa.Column('month', sqlmodel.sql.sqltypes.AutoString(length=7), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('window_id', sa.Integer(), nullable=False),
    sa.Column('department_key', sa.Integer(), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('n', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('month', 'site_id', 'window_id', 'department_key', 'level')
    )
    for dim, value in (
        ("department", "COALESCE(CAST(COALESCE(lead_department_id, department_id) AS VARCHAR), '')"),
        ("window", "COALESCE(CAST(window_id AS VARCHAR), '')"),
        ("channel", "channel"),
    ):
        op.execute(
            "INSERT INTO complaints_stats_month (month, site_id, integrity, dim, value, "
            "received, closed, closed_on_time, closed_late, upheld, callbacks, satisfied) "
            f"SELECT received_month, site_id, integrity, '{dim}', {value}, COUNT(*), "
            "SUM(CASE WHEN state = 'closed' THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN on_time IS TRUE THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN on_time IS FALSE AND is_open IS FALSE THEN 1 ELSE 0 END), "
            "SUM(CASE WHEN outcome IN ('upheld', 'partly') THEN 1 ELSE 0 END), "
            "COUNT(callback_level), "
            "SUM(CASE WHEN callback_level >= 3 THEN 1 ELSE 0 END) "
            "FROM work_order WHERE state <> 'merged' "
            f"GROUP BY received_month, site_id, integrity, {value}"
        )
    op.execute(
        "INSERT INTO complaints_rating_month (month, site_id, window_id, department_key, level, n) "
        "SELECT rated_month, site_id, window_id, COALESCE(department_id, 0), level, COUNT(*) "
        "FROM rating WHERE void IS FALSE "
        "GROUP BY rated_month, site_id, window_id, COALESCE(department_id, 0), level"
    )


def downgrade() -> None:
    op.drop_table('complaints_rating_month')
    op.drop_table('complaints_stats_month')
