"""the console at a million members and ten million messages: name and email search, flow counts

Member search by a name prefix and by email in any case, the members list of one tier, a member's
waiting messages, and the flows page's last-30-days counts read indexes instead of whole tables
(bench/console.py measures every page). The name and email indexes are PostgreSQL's only
(text_pattern_ops, expressions); SQLite gets the others.

Console sign-in attempts move from each process's memory to the sign_in_attempts table (or Redis
with ENGAGE_REDIS_URL), so the throttle counts every process's attempts.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06 06:10:00
"""
from alembic import op
import sqlalchemy as sa
import engage.db


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OUT_FLOWS = "direction = 'out' AND flow IS NOT NULL AND is_test = false"
REPLIES = "direction = 'in' AND in_reply_to_id IS NOT NULL AND simulated = false"
PENDING = "direction = 'out' AND status IN ('scheduled', 'queued')"


def upgrade() -> None:
    op.create_table(
        'sign_in_attempts',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('at', engage.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts')),
    )
    op.create_index('ix_sign_in_attempts_key_at', 'sign_in_attempts', ['key_hash', 'at'])
    op.create_index('ix_sign_in_attempts_at', 'sign_in_attempts', ['at'])
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("CREATE INDEX ix_members_name_prefix ON members "
                   "(lower(first_name) text_pattern_ops, lower(last_name) text_pattern_ops)")
        op.execute("CREATE INDEX ix_members_last_name_prefix ON members (lower(last_name) text_pattern_ops)")
        op.execute("CREATE INDEX ix_members_email_lower ON members (lower(email))")
    op.create_index('ix_members_tier', 'members', ['tier_id', 'id'])
    op.create_index('ix_messages_flow_counts', 'messages', ['created_at', 'flow', 'status'],
                    postgresql_where=sa.text(OUT_FLOWS), sqlite_where=sa.text(OUT_FLOWS))
    op.create_index('ix_messages_replies', 'messages', ['created_at', 'in_reply_to_id'],
                    postgresql_where=sa.text(REPLIES), sqlite_where=sa.text(REPLIES))
    op.create_index('ix_messages_member_pending', 'messages', ['member_id', 'send_after', 'id'],
                    postgresql_where=sa.text(PENDING), sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_table('sign_in_attempts')
    op.drop_index('ix_messages_member_pending', 'messages')
    op.drop_index('ix_messages_replies', 'messages')
    op.drop_index('ix_messages_flow_counts', 'messages')
    op.drop_index('ix_members_tier', 'members')
    if op.get_bind().dialect.name == 'postgresql':
        for name in ('ix_members_email_lower', 'ix_members_last_name_prefix', 'ix_members_name_prefix'):
            op.drop_index(name, 'members')
