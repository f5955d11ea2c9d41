"""dispatch hand-off: who holds a `sending` row and whether it was handed to a provider

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06 04:30:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.add_column(sa.Column('claimant', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('handed_at', engage.db.UTCDateTime(timezone=True), nullable=True))
    # Rows claimed by the previous dispatcher may have been sent: they count as handed.
    op.execute("UPDATE messages SET handed_at = claimed_at WHERE status = 'sending'")


def downgrade() -> None:
    with op.batch_alter_table('messages') as batch:
        batch.drop_column('handed_at')
        batch.drop_column('claimant')
