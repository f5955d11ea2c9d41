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
    sqlite = op.get_bind().dialect.name == 'sqlite'
    if sqlite:
        # Batch mode would copy and drop `rewards`, which redemptions reference: with foreign keys
        # on, SQLite refuses the DROP TABLE. ADD COLUMN ... NOT NULL DEFAULT needs no copy.
        op.add_column('rewards', sa.Column('description', sa.String(length=500), nullable=True))
        op.add_column('rewards', sa.Column('texts', sa.JSON(), nullable=False, server_default=sa.text("'{}'")))
    else:
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
    if not sqlite:
        with op.batch_alter_table('rewards') as batch_op:
            batch_op.alter_column('texts', existing_type=sa.JSON(), nullable=False)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'sqlite':
        # Batch mode would copy and drop `rewards`, which redemptions reference: with foreign keys
        # on, SQLite refuses the DROP TABLE. SQLite 3.35+ drops a column in place.
        op.execute('ALTER TABLE rewards DROP COLUMN texts')
        op.execute('ALTER TABLE rewards DROP COLUMN description')
        return
    with op.batch_alter_table('rewards') as batch_op:
        batch_op.drop_column('texts')
        batch_op.drop_column('description')
