"""when each API key was last used

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06 04:20:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('api_keys') as batch:
        batch.add_column(sa.Column('last_used_at', engage.db.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_keys') as batch:
        batch.drop_column('last_used_at')
