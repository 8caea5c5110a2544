"""month close and monthly scores; rule items say whom they apply to; month base and caps

Revision ID: scoring_0002
Revises: scoring_0001
Create Date: 2026-12-05 11:10:00
"""
from alembic import op
import sqlalchemy as sa
import sqlmodel
import supervision.db


revision = 'scoring_0002'
down_revision = 'scoring_0001'
branch_labels = None
depends_on = None

# The items this version adds to every existing rule set (points, applies_to), and whom the existing ones apply to.
_ALL = 'staff,window,department'
_NEW_ITEMS = (
    ('complaint.upheld', -5.0, _ALL), ('complaint.partly_upheld', -2.0, _ALL), ('rating.bad', -2.0, _ALL),
    ('workorder.red_card', -3.0, 'window,department'), ('visit.finding', -2.0, _ALL), ('praise', 1.0, _ALL),
    ('bonus', 1.0, 'staff,window'), ('adjustment', 0.0, _ALL),
)


def upgrade() -> None:
    with op.batch_alter_table('scoring_rule_set', schema=None) as batch_op:
        batch_op.add_column(sa.Column('base', sa.Float(), nullable=False, server_default='100'))
        batch_op.add_column(sa.Column('deduction_cap', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('bonus_cap', sa.Float(), nullable=True))
    with op.batch_alter_table('scoring_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applies_to', sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False,
                                      server_default='staff,window'))

    op.create_table('month_close',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('rule_version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('closed_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('forced_over', sa.Text(), nullable=False),
    sa.Column('published_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('reopened_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('reopened_by', sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
    sa.Column('reopen_reason', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('month_close', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_month_close_month'), ['month'], unique=False)
        batch_op.create_index(batch_op.f('ix_month_close_site_id'), ['site_id'], unique=False)
        batch_op.create_index('uq_month_close_active', ['month', 'site_id'], unique=True,
                              sqlite_where=sa.text("status = 'closed'"),
                              postgresql_where=sa.text("status = 'closed'"))

    op.create_table('monthly_score',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('close_id', sa.Integer(), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('subject_kind', sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
    sa.Column('subject_id', sa.Integer(), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
    sa.Column('base', sa.Float(), nullable=False),
    sa.Column('deductions', sa.Float(), nullable=False),
    sa.Column('bonuses', sa.Float(), nullable=False),
    sa.Column('final', sa.Float(), nullable=False),
    sa.Column('rank', sa.Integer(), nullable=False),
    sa.Column('items_json', sa.Text(), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('superseded_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('change_reason', sqlmodel.sql.sqltypes.AutoString(length=400), nullable=False),
    sa.ForeignKeyConstraint(['close_id'], ['month_close.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('monthly_score', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_monthly_score_close_id'), ['close_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_monthly_score_site_id'), ['site_id'], unique=False)
        batch_op.create_index('ix_monthly_score_subject', ['subject_kind', 'subject_id', 'month'], unique=False)

    # Data: attendance items score the person only; the others gain the items this version knows.
    bind = op.get_bind()
    bind.execute(sa.text("UPDATE scoring_item SET applies_to = 'staff' WHERE key LIKE 'attendance.%'"))
    bind.execute(sa.text("UPDATE scoring_item SET applies_to = :a WHERE key = 'video.off_post'"), {'a': _ALL})
    item = sa.table('scoring_item', sa.column('rule_set_id', sa.Integer), sa.column('key', sa.String),
                    sa.column('points', sa.Float), sa.column('cap', sa.Float), sa.column('applies_to', sa.String))
    for (rule_set_id,) in bind.execute(sa.text("SELECT id FROM scoring_rule_set")).fetchall():
        have = {k for (k,) in bind.execute(sa.text("SELECT key FROM scoring_item WHERE rule_set_id = :r"),
                                           {'r': rule_set_id})}
        rows = [{'rule_set_id': rule_set_id, 'key': k, 'points': p, 'cap': None, 'applies_to': a}
                for k, p, a in _NEW_ITEMS if k not in have]
        if rows:
            op.bulk_insert(item, rows)


def downgrade() -> None:
    with op.batch_alter_table('monthly_score', schema=None) as batch_op:
        batch_op.drop_index('ix_monthly_score_subject')
        batch_op.drop_index(batch_op.f('ix_monthly_score_site_id'))
        batch_op.drop_index(batch_op.f('ix_monthly_score_close_id'))
    op.drop_table('monthly_score')
    with op.batch_alter_table('month_close', schema=None) as batch_op:
        batch_op.drop_index('uq_month_close_active')
        batch_op.drop_index(batch_op.f('ix_month_close_site_id'))
        batch_op.drop_index(batch_op.f('ix_month_close_month'))
    op.drop_table('month_close')
    keys = tuple(k for k, _, _ in _NEW_ITEMS)
    op.get_bind().execute(sa.text("DELETE FROM scoring_item WHERE key IN :keys")
                          .bindparams(sa.bindparam('keys', expanding=True)), {'keys': list(keys)})
    # Plain ALTER TABLE … DROP COLUMN (SQLite 3.35+): a batch would copy scoring_rule_set, which scoring_item's
    # foreign key refuses to see dropped.
    op.drop_column('scoring_item', 'applies_to')
    op.drop_column('scoring_rule_set', 'bonus_cap')
    op.drop_column('scoring_rule_set', 'deduction_cap')
    op.drop_column('scoring_rule_set', 'base')
