"""audit head sealed by an HMAC of (seq, newest hash); each entry names the key that signed it

Revision ID: core_0005_audit_head_seal
Revises: core_0004
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = 'core_0005_audit_head_seal'
down_revision = 'core_0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    inspector = sa.inspect(bind)
    head_columns = {c['name'] for c in inspector.get_columns('audit_head')}
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        for name, length in (('last_hash', 64), ('key_id', 16), ('mac', 64)):
            if name not in head_columns:
                batch_op.add_column(sa.Column(name, sa.String(length=length), nullable=False, server_default=''))
    if 'key_id' not in {c['name'] for c in inspector.get_columns('audit_entry')}:
        # A plain ADD COLUMN, not a batch copy: the copy would drop the append-only triggers on SQLite.
        op.add_column('audit_entry', sa.Column('key_id', sa.String(length=16), nullable=False, server_default=''))
    _seal_head(bind)


def _seal_head(bind: sa.engine.Connection) -> None:
    """Seal the head of an existing chain with the newest key (an empty chain is sealed by its first entry)."""
    from supervision import keys
    from supervision.audit import head_mac

    seq = bind.execute(sa.text("SELECT seq FROM audit_head WHERE id = 1")).scalar()
    if not seq:
        return
    newest = bind.execute(sa.text("SELECT hash FROM audit_entry WHERE seq = :seq"), {"seq": seq}).scalar()
    if newest is None:  # already broken: leave the head unsealed, so `audit verify` says so
        return
    key = keys.ring().newest
    bind.execute(sa.text("UPDATE audit_head SET last_hash = :h, key_id = :k, mac = :m WHERE id = 1 AND mac = ''"),
                 {"h": newest, "k": key.id, "m": head_mac(key, seq, newest)})


def downgrade() -> None:
    op.drop_column('audit_entry', 'key_id')
    with op.batch_alter_table('audit_head', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('key_id')
        batch_op.drop_column('last_hash')
