"""messages.simulated: the console's phone simulator marks its traffic

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 04:30:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default: PostgreSQL adds the column without rewriting the (large) table.
    op.add_column('messages', sa.Column('simulated', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('simulated')
