"""purchase line items and personalised offers

Revision ID: 0015
Revises: 0013
Create Date: 2026-12-06 06:10:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0015'
down_revision = "0013"  # rechained onto main's head at the merge of main
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('purchase_items',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('sku', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=True),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('amount', sa.Numeric(precision=14, scale=2), nullable=False),
    sa.Column('occurred_at', engage.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_purchase_items_event_id_events')),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_purchase_items_member_id_members')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_purchase_items'))
    )
    op.create_index(op.f('ix_purchase_items_event_id'), 'purchase_items', ['event_id'], unique=False)
    op.create_index('ix_purchase_items_member_occurred', 'purchase_items', ['member_id', 'occurred_at'],
                    unique=False)
    op.create_table('offers',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('rule_key', sa.String(length=40), nullable=False),
    sa.Column('reward_id', sa.Integer(), nullable=False),
    sa.Column('product', sa.String(length=120), nullable=False),
    sa.Column('cost', sa.Integer(), nullable=False),
    sa.Column('keyword', sa.String(length=16), nullable=False),
    sa.Column('created_at', engage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ends_at', engage.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('redemption_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_offers_member_id_members')),
    sa.ForeignKeyConstraint(['redemption_id'], ['redemptions.id'], name=op.f('fk_offers_redemption_id_redemptions')),
    sa.ForeignKeyConstraint(['reward_id'], ['rewards.id'], name=op.f('fk_offers_reward_id_rewards')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_offers')),
    sa.UniqueConstraint('redemption_id', name=op.f('uq_offers_redemption_id'))
    )
    op.create_index('ix_offers_member_rule', 'offers', ['member_id', 'rule_key', 'created_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_offers_member_rule', table_name='offers')
    op.drop_table('offers')
    op.drop_index('ix_purchase_items_member_occurred', table_name='purchase_items')
    op.drop_index(op.f('ix_purchase_items_event_id'), table_name='purchase_items')
    op.drop_table('purchase_items')
