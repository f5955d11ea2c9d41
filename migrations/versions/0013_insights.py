"""insights: daily rollup tables, and date indexes that let a day's rows be read without a scan

Revision ID: 0013
Revises: 0017
Create Date: 2026-12-06 06:30:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0013'
down_revision = '0017'
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def _counts(*names):
    return [sa.Column(name, sa.Integer(), nullable=False) for name in names]


def upgrade() -> None:
    op.create_table(
        'insight_days',
        sa.Column('day', sa.Date(), primary_key=True),
        *_counts('members_new', 'members_erased', 'referrals', 'referred_buyers', 'purchases', 'first_buyers',
                 'repeat_buyers', 'active_members', 'points_issued', 'points_redeemed', 'points_donated',
                 'points_expired', 'points_adjusted', 'redemptions', 'feedback', 'ratings', 'rating_sum'),
        sa.Column('computed_at', engage.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_table(
        'insight_flow_days',
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('flow', sa.String(40), primary_key=True),
        sa.Column('channel', sa.String(5), primary_key=True),
        *_counts('queued', 'waiting', 'sent', 'delivered', 'failed', 'suppressed', 'skipped', 'replied',
                 'opted_out', 'redeemed_after'),
    )
    op.create_table(
        'insight_revenue_days',
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('flow', sa.String(40), primary_key=True),
        sa.Column('currency', sa.String(3), primary_key=True),
        sa.Column('purchases', sa.Integer(), nullable=False),
        sa.Column('amount', sa.Numeric(16, 2), nullable=False),
    )
    op.create_table(
        'insight_cohort_days',
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('cohort', sa.Date(), primary_key=True),
        sa.Column('members', sa.Integer(), nullable=False),
    )
    op.create_table(
        'insight_tier_days',
        sa.Column('day', sa.Date(), primary_key=True),
        sa.Column('tier', sa.String(60), primary_key=True),
        sa.Column('members', sa.Integer(), nullable=False),
    )
    op.create_table(
        'insight_stale',
        sa.Column('id', BIG_ID, primary_key=True),
        sa.Column('first_day', sa.Date(), nullable=False),
        sa.Column('last_day', sa.Date(), nullable=False),
        sa.Column('marked_at', engage.db.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index('ix_messages_created', 'messages', ['created_at'])
    op.create_index('ix_feedback_created', 'feedback', ['created_at'])
    op.create_index('ix_members_created', 'members', ['created_at'])
    op.create_index('ix_members_erased', 'members', ['erased_at'])
    op.create_index('ix_ledger_entries_occurred', 'ledger_entries', ['occurred_at', 'kind'],
                    postgresql_include=['points'])
    op.create_index('ix_events_occurred', 'events', ['occurred_at'])
    # ix_messages_in_reply_to and ix_events_member_type_occurred, which the rollups read too, come
    # with the experiments (0014).


def downgrade() -> None:
    for index, table in (('ix_events_occurred', 'events'),
                         ('ix_ledger_entries_occurred', 'ledger_entries'), ('ix_members_erased', 'members'),
                         ('ix_members_created', 'members'), ('ix_feedback_created', 'feedback'),
                         ('ix_messages_created', 'messages')):
        op.drop_index(index, table_name=table)
    for table in ('insight_stale', 'insight_tier_days', 'insight_cohort_days', 'insight_revenue_days',
                  'insight_flow_days', 'insight_days'):
        op.drop_table(table)
