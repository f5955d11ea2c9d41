"""rewards: partner code pools, a calendar (starts, ends, early access), a stock, a category

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-06 06:10:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0016'
down_revision = "0012"
branch_labels = None
depends_on = None

REWARD_COLUMNS = ('partner', 'low_codes_threshold', 'starts_at', 'ends_at', 'early_access_from',
                  'early_access_tier_ids', 'stock', 'category')


def upgrade() -> None:
    # Columns added in place (no batch copy): redemptions reference `rewards`, and SQLite would
    # refuse to drop the copied table with foreign keys on.
    op.add_column('rewards', sa.Column('partner', sa.String(length=120), nullable=True))
    op.add_column('rewards', sa.Column('low_codes_threshold', sa.Integer(), nullable=True))
    op.add_column('rewards', sa.Column('starts_at', engage.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('rewards', sa.Column('ends_at', engage.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('rewards', sa.Column('early_access_from', engage.db.UTCDateTime(timezone=True), nullable=True))
    op.add_column('rewards', sa.Column('early_access_tier_ids', sa.JSON(), nullable=True))
    op.add_column('rewards', sa.Column('stock', sa.Integer(), nullable=True))
    op.add_column('rewards', sa.Column('category', sa.String(length=60), nullable=True))
    op.create_table(
        'reward_codes',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('reward_id', sa.Integer(), nullable=False),
        sa.Column('code', sa.String(length=32), nullable=False),
        sa.Column('imported_at', engage.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('redemption_id', sa.Integer(), nullable=True),
        sa.Column('claimed_at', engage.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['reward_id'], ['rewards.id']),
        sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('code'),
        sa.UniqueConstraint('redemption_id'),
    )
    op.create_index('ix_reward_codes_free', 'reward_codes', ['reward_id', 'id'],
                    postgresql_where=sa.text('redemption_id IS NULL'),
                    sqlite_where=sa.text('redemption_id IS NULL'))


def downgrade() -> None:
    op.drop_index('ix_reward_codes_free', table_name='reward_codes')
    op.drop_table('reward_codes')
    for column in reversed(REWARD_COLUMNS):
        # SQLite 3.35+ drops a column in place; batch mode would copy and drop `rewards`.
        op.execute(f'ALTER TABLE rewards DROP COLUMN {column}')
