"""a member's flow messages by send time (inbound replies, feedback requests)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 14:50:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.create_index('ix_messages_member_flow_sent', ['member_id', 'sent_at', 'id'], unique=False,
                              postgresql_where=sa.text("direction = 'out' AND flow IS NOT NULL"),
                              sqlite_where=sa.text("direction = 'out' AND flow IS NOT NULL"))


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index('ix_messages_member_flow_sent',
                            postgresql_where=sa.text("direction = 'out' AND flow IS NOT NULL"),
                            sqlite_where=sa.text("direction = 'out' AND flow IS NOT NULL"))
