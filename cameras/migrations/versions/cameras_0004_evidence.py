"""event evidence: the hash-chained evidence log, a legal hold on video events, the disk-full camera alert

Revision ID: cameras_0004
Revises: cameras_0003
Create Date: 2026-12-05 11:15:00
"""
import sqlalchemy as sa
from alembic import op

import supervision.db

revision = 'cameras_0004'
down_revision = 'cameras_0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("ALTER TYPE alertkind ADD VALUE IF NOT EXISTS 'EVIDENCE_DISK_FULL'")
    else:  # SQLite keeps the enum as a VARCHAR as long as its longest name
        with op.batch_alter_table('camera_alert', schema=None) as batch_op:
            batch_op.alter_column('kind', existing_type=sa.VARCHAR(length=7), existing_nullable=False,
                                  type_=sa.Enum('OFFLINE', 'FROZEN', 'EVIDENCE_DISK_FULL', name='alertkind'))
    with op.batch_alter_table('video_event', schema=None) as batch_op:
        batch_op.add_column(sa.Column('legal_hold', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table('evidence_item',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('label', sa.String(length=10), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('captured_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_s', sa.Float(), nullable=False),
    sa.Column('created_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('chain_hash', sa.String(length=64), nullable=False),
    sa.Column('key_id', sa.String(length=40), nullable=False),
    sa.Column('purged_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('seq')
    )
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.create_index('ix_evidence_item_event', ['event_id', 'kind'], unique=False)
        batch_op.create_index(batch_op.f('ix_evidence_item_sha256'), ['sha256'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('evidence_item', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evidence_item_sha256'))
        batch_op.drop_index('ix_evidence_item_event')
    op.drop_table('evidence_item')
    with op.batch_alter_table('video_event', schema=None) as batch_op:
        batch_op.drop_column('legal_hold')
    # PostgreSQL cannot drop one value of an enum type; the unused 'EVIDENCE_DISK_FULL' stays.
    if op.get_bind().dialect.name != 'postgresql':
        with op.batch_alter_table('camera_alert', schema=None) as batch_op:
            batch_op.alter_column('kind', existing_type=sa.VARCHAR(length=18), existing_nullable=False,
                                  type_=sa.Enum('OFFLINE', 'FROZEN', name='alertkind'))
