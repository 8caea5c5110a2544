"""zones on a camera's picture and their presence spans

Revision ID: cameras_0002
Revises: cameras_0001
Create Date: 2026-12-05 07:50:00
"""
import sqlalchemy as sa
from alembic import op

import supervision.db

revision = 'cameras_0002'
down_revision = 'cameras_0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('zone',
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('kind', sa.Enum('POST', 'QUEUE', 'ENTRANCE', name='zonekind'), nullable=False),
    sa.Column('post_id', sa.Integer(), nullable=True),
    sa.Column('window_id', sa.Integer(), nullable=True),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('occupied_after_seconds', sa.Float(), nullable=False),
    sa.Column('vacant_after_seconds', sa.Float(), nullable=False),
    sa.Column('queue_alert_count', sa.Integer(), nullable=False),
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('camera_id', sa.Integer(), nullable=True),
    sa.Column('site_id', sa.Integer(), nullable=False),
    sa.Column('device_key', sa.String(length=800), nullable=False),
    sa.Column('polygon_json', sa.Text(), nullable=False),
    sa.Column('created_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['camera_id'], ['camera.id'], ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['hall_id'], ['hall.id'], ),
    sa.ForeignKeyConstraint(['post_id'], ['post.id'], ),
    sa.ForeignKeyConstraint(['site_id'], ['site.id'], ),
    sa.ForeignKeyConstraint(['window_id'], ['window.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('zone', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zone_camera_id'), ['camera_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_zone_device_key'), ['device_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_zone_post_id'), ['post_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_zone_site_id'), ['site_id'], unique=False)

    op.create_table('zone_presence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('zone_id', sa.Integer(), nullable=False),
    sa.Column('state', sa.Enum('OCCUPIED', 'VACANT', 'UNKNOWN', name='presencestate'), nullable=False),
    sa.Column('started_at', supervision.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ended_at', supervision.db.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['zone_id'], ['zone.id'], ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('zone_presence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_zone_presence_zone_id'), ['zone_id'], unique=False)
        batch_op.create_index('ix_zone_presence_open', ['zone_id', 'ended_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('zone_presence', schema=None) as batch_op:
        batch_op.drop_index('ix_zone_presence_open')
        batch_op.drop_index(batch_op.f('ix_zone_presence_zone_id'))
    op.drop_table('zone_presence')
    with op.batch_alter_table('zone', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_zone_site_id'))
        batch_op.drop_index(batch_op.f('ix_zone_post_id'))
        batch_op.drop_index(batch_op.f('ix_zone_device_key'))
        batch_op.drop_index(batch_op.f('ix_zone_camera_id'))
    op.drop_table('zone')
    sa.Enum(name='presencestate').drop(op.get_bind(), checkfirst=True)
    sa.Enum(name='zonekind').drop(op.get_bind(), checkfirst=True)
