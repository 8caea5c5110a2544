"""provisional review and check dates: flagged, with the day they counted from, to be recomputed

Revision ID: risk_0003
Revises: risk_0002
Create Date: 2026-12-05 11:30:00.000000

A review or check that falls due in a year the calendar does not know is stored as provisional and
recomputed when an admin enters the year (risk.provisional). Rows already stored with a date past the last
year the calendar knows are flagged here; their count is found again from their last review or check.
"""

from datetime import date

import sqlalchemy as sa
from alembic import op

from supervision.workdays import PACKAGE_YEARS

revision = "risk_0003"
down_revision = "risk_0002"
branch_labels = None
depends_on = None

_COLUMNS = {
    "risk_point": ("review_due_provisional", "review_due_counted", "next_review_due"),
    "risk_countermeasure": ("check_due_provisional", "check_due_counted", "next_check_due"),
}


def _last_known_day() -> date:
    """The last day of the last year the calendar knows without a gap (the package's, or declared after it)."""
    bind = op.get_bind()
    declared: set[int] = set()
    if sa.inspect(bind).has_table("workday_year"):  # the core's migration may come after this one
        declared = {int(y) for (y,) in bind.execute(sa.text("SELECT year FROM workday_year"))}
    year = max(PACKAGE_YEARS)
    while year + 1 in declared:
        year += 1
    return date(year, 12, 31)


def upgrade() -> None:
    last_known = _last_known_day()
    for table, (flag, counted, due) in _COLUMNS.items():
        # Plain ADD COLUMN (SQLite has it): a batch copy would drop and rebuild the table, which SQLite refuses
        # while other tables' foreign keys point at it (an existing register).
        op.add_column(table, sa.Column(flag, sa.Boolean(), nullable=False, server_default=sa.false()))
        op.add_column(table, sa.Column(counted, sa.Date(), nullable=True))
        op.create_index(f"ix_{table}_{flag}", table, [flag], unique=False,
                        sqlite_where=sa.text(f"{flag} = 1"), postgresql_where=sa.text(flag))
        op.get_bind().execute(sa.text(f"UPDATE {table} SET {flag} = :yes WHERE {due} > :last"),
                              {"yes": True, "last": last_known})


def downgrade() -> None:
    for table, (flag, counted, _due) in _COLUMNS.items():
        op.drop_index(f"ix_{table}_{flag}", table_name=table)
        op.drop_column(table, counted)
        op.drop_column(table, flag)
