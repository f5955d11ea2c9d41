"""experiments: variant B of a flow template, and each message's experiment and variant

Revision ID: 0014
Revises: 0016
Create Date: 2026-12-06 06:00:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0014'
down_revision = "0016"
branch_labels = None
depends_on = None

RUNNING = sa.text("status = 'running'")
IN_EXPERIMENT = sa.text("experiment_id IS NOT NULL")
A_REPLY = sa.text("in_reply_to_id IS NOT NULL")


def upgrade() -> None:
    op.create_table(
        'experiments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('flow', sa.String(length=40), nullable=False),
        sa.Column('channel', sa.String(length=5), nullable=False),
        sa.Column('locale', sa.String(length=10), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('parts', sa.JSON(), nullable=False),
        sa.Column('split_percent', sa.Integer(), nullable=False),
        sa.Column('outcome', sa.String(length=12), nullable=False),
        sa.Column('window_days', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('promoted_version', sa.Integer(), nullable=True),
        sa.Column('created_by', sa.String(length=120), nullable=True),
        sa.Column('started_at', engage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('stopped_at', engage.db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ux_experiments_running', 'experiments', ['flow', 'channel', 'locale'], unique=True,
                    postgresql_where=RUNNING, sqlite_where=RUNNING)
    # In place, no batch copy of messages (other tables reference it): SQLite takes a REFERENCES
    # clause in ADD COLUMN for a column whose default is NULL, though Alembic won't write one.
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE messages ADD COLUMN experiment_id INTEGER REFERENCES experiments (id)')
    else:
        op.add_column('messages', sa.Column('experiment_id', sa.Integer(), nullable=True))
        op.create_foreign_key('messages_experiment_id_fkey', 'messages', 'experiments', ['experiment_id'],
                              ['id'])
    op.add_column('messages', sa.Column('variant', sa.String(length=1), nullable=True))
    op.create_index('ix_messages_experiment', 'messages', ['experiment_id', 'variant'],
                    postgresql_where=IN_EXPERIMENT, sqlite_where=IN_EXPERIMENT)
    op.create_index('ix_messages_in_reply_to', 'messages', ['in_reply_to_id'],
                    postgresql_where=A_REPLY, sqlite_where=A_REPLY)
    op.create_index('ix_events_member_type_occurred', 'events', ['member_id', 'type', 'occurred_at'])
    op.create_index('ix_redemptions_member_created', 'redemptions', ['member_id', 'created_at'])


def downgrade() -> None:
    op.drop_index('ix_redemptions_member_created', table_name='redemptions')
    op.drop_index('ix_events_member_type_occurred', table_name='events')
    op.drop_index('ix_messages_in_reply_to', table_name='messages')
    op.drop_index('ix_messages_experiment', table_name='messages')
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('variant')
        batch.drop_column('experiment_id')
    op.drop_index('ux_experiments_running', table_name='experiments')
    op.drop_table('experiments')
