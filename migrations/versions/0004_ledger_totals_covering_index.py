"""a member's ledger totals from the index alone (INCLUDE points, PostgreSQL)

Every purchase and inbound message sums the member's ledger entries (balance, qualifying points).
With `points` in the index, PostgreSQL answers that from the index's leaf pages (an index-only
scan over pages that vacuum has marked all-visible) instead of one heap page per entry, which
grows with the member's history. SQLite has no INCLUDE: there the index is recreated unchanged.

On a large production table, build it first by hand with CREATE INDEX CONCURRENTLY under another
name, then run this migration during a quiet minute; it drops and recreates the index inside the
migration's transaction.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-04 16:40:00
"""
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

NAME = 'ix_ledger_entries_member_kind_occurred'
COLUMNS = ['member_id', 'kind', 'occurred_at']


def upgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(NAME, COLUMNS, unique=False, postgresql_include=['points'])


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index(NAME)
        batch_op.create_index(NAME, COLUMNS, unique=False)
