"""paid tiers and memberships, gifts to causes, challenges

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-06 06:10:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0017'
down_revision = "0014"
branch_labels = None
depends_on = None

_TIME = engage.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    # In place (no batch copy): rewards, members and memberships reference tiers.
    op.add_column('tiers', sa.Column('paid', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_table(
        'memberships',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('tier_id', sa.Integer(), nullable=False),
        sa.Column('payment_reference', sa.String(length=120), nullable=False),
        sa.Column('fingerprint', sa.String(length=64), nullable=False),
        sa.Column('starts_at', _TIME, nullable=False),
        sa.Column('ends_at', _TIME, nullable=False),
        sa.Column('price', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.Column('cancelled_at', _TIME, nullable=True),
        sa.Column('lapsed_at', _TIME, nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['tier_id'], ['tiers.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('payment_reference'),
    )
    op.create_index('ix_memberships_member', 'memberships', ['member_id', 'ends_at'])
    op.create_table(
        'cause_gifts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('cause', sa.String(length=120), nullable=False),
        sa.Column('source', sa.String(length=12), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=True),
        sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
        sa.Column('redemption_id', sa.Integer(), nullable=True),
        sa.Column('amount', sa.Numeric(precision=12, scale=2), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('occurred_at', _TIME, nullable=False),
        sa.Column('created_at', _TIME, nullable=False),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.ForeignKeyConstraint(['event_id'], ['events.id']),
        sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('event_id'),
        sa.UniqueConstraint('redemption_id'),
    )
    op.create_index('ix_cause_gifts_cause', 'cause_gifts', ['cause'])
    op.create_table(
        'challenges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('kind', sa.String(length=20), nullable=False),
        sa.Column('goal', sa.Integer(), nullable=False),
        sa.Column('bonus', sa.Integer(), nullable=False),
        sa.Column('starts_at', _TIME, nullable=False),
        sa.Column('ends_at', _TIME, nullable=False),
        sa.Column('join', sa.String(length=10), nullable=False),
        sa.Column('keyword', sa.String(length=20), nullable=True),
        sa.Column('created_at', _TIME, nullable=False),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('keyword'),
    )
    op.create_table(
        'challenge_members',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('challenge_id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('joined_at', _TIME, nullable=False),
        sa.Column('progress', sa.Integer(), nullable=False),
        sa.Column('completed_at', _TIME, nullable=True),
        sa.ForeignKeyConstraint(['challenge_id'], ['challenges.id']),
        sa.ForeignKeyConstraint(['member_id'], ['members.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('challenge_id', 'member_id'),
    )
    op.create_index('ix_challenge_members_member_id', 'challenge_members', ['member_id'])
    # Donations made before count toward the program's charity as it is named now.
    op.execute("""
        INSERT INTO cause_gifts (cause, source, member_id, redemption_id, amount, points, occurred_at, created_at)
        SELECT (SELECT charity_name FROM program WHERE id = 1), 'donation', r.member_id, r.id,
               COALESCE(r.value, 0), r.points, r.created_at, r.created_at
        FROM redemptions r WHERE r.kind = 'donation'
    """)


def downgrade() -> None:
    op.drop_index('ix_challenge_members_member_id', table_name='challenge_members')
    op.drop_table('challenge_members')
    op.drop_table('challenges')
    op.drop_index('ix_cause_gifts_cause', table_name='cause_gifts')
    op.drop_table('cause_gifts')
    op.drop_index('ix_memberships_member', table_name='memberships')
    op.drop_table('memberships')
    if op.get_bind().dialect.name == 'sqlite':
        op.execute('ALTER TABLE tiers DROP COLUMN paid')
    else:
        op.drop_column('tiers', 'paid')
