"""a zone's reference still of the empty post; video events (post vacant)

Revision ID: cameras_0003
Revises: cameras_0002
Create Date: 2026-12-05 09:00:00
"""
import sqlalchemy as sa
from alembic import op

import supervision.db

revision = 'cameras_0003'
down_revision = 'cameras_0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('zone', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reference_sha256', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('reference_taken_at', supervision.db.UTCDateTime(timezone=True),
                                      nullable=True))
    op.create_table('video_event',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.Enum('POST_VACANT', name='videoeventkind'), nullable=False),
    sa.Column('status', sa.Enum('OPEN', 'PENDING_REVIEW', 'CLOSED', name='videoeventstatus'), nullable=False),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('zone_id', sa.Integer(), nullable=True),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('staff_id', sa.Integer(), nullable=True),
    sa.Column('started_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('review_outcome', sa.Enum('CONFIRMED', 'DISMISSED', name='reviewoutcome'), nullable=True),
    sa.Column('review_reason', sa.String(length=400), nullable=False),
    sa.Column('reviewed_by', sa.String(length=80), nullable=False),
    sa.Column('reviewed_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('ledger_entry_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entry.id'], ),
    sa.ForeignKeyConstraint(['camera_id'], ['camera.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['staff_id'], ['staff.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('video_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_video_event_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_video_event_staff_id'), ['staff_id'], unique=False)
        batch_op.create_index('ix_video_event_zone_open', ['zone_id', 'ended_at'], unique=False)
        batch_op.create_index('ix_video_event_site_started', ['site_id', 'started_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('video_event', schema=None) as batch_op:
        batch_op.drop_index('ix_video_event_site_started')
        batch_op.drop_index('ix_video_event_zone_open')
        batch_op.drop_index(batch_op.f('ix_video_event_staff_id'))
        batch_op.drop_index(batch_op.f('ix_video_event_post_id'))
    op.drop_table('video_event')
    sa.Enum(name='reviewoutcome').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='videoeventstatus').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='videoeventkind').drop(op.get_bind(), checkfirst=True)
    with op.batch_alter_table('zone', schema=None) as batch_op:
        batch_op.drop_column('reference_taken_at')
        batch_op.drop_column('reference_sha256')
