"""rewards: a description and texts per locale

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06 04:30:00
"""
from alembic import op
import sqlalchemy as sa

from engage.defaults import REWARD_TEXTS, REWARDS


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('rewards') as batch_op:
        batch_op.add_column(sa.Column('description', sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column('texts', sa.JSON(), nullable=True))
    rewards = sa.table('rewards', sa.column('id', sa.Integer()), sa.column('name', sa.String()),
                       sa.column('texts', sa.JSON()))
    op.execute(rewards.update().values(texts={}))
    # The shipped rewards get their Dutch, German and Romanian names, unless an admin renamed them.
    for reward in REWARDS:
        op.execute(rewards.update().where(rewards.c.id == reward["id"], rewards.c.name == reward["name"])
                   .values(texts=REWARD_TEXTS[reward["id"]]))
    with op.batch_alter_table('rewards') as batch_op:
        batch_op.alter_column('texts', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('rewards') as batch_op:
        batch_op.drop_column('texts')
        batch_op.drop_column('description')
