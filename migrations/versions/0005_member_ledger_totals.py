"""members carry their ledger totals, kept by a trigger on every ledger insert

`members.points_balance` is the sum of the member's ledger entries and `members.points_earned`
the sum of its `earn` entries. A trigger on `ledger_entries` adds every inserted entry to them
in the inserting transaction, so whichever code writes the ledger (a purchase, a redemption, the
sweep's set-based expiry debits, a hand-written INSERT) they stay the sums by construction; the
ledger itself is still only ever inserted into, and stays the record.

Why: a purchase or an inbound SMS needs the member's balance, and summing the ledger costs one
index entry (and, before vacuum, one heap page) per entry in the member's history. Read from the
member's row, locked with FOR UPDATE, it is one row whatever the history, and it is the latest
committed value (the row lock waits for any other writer of this member's ledger, because that
writer's trigger updates the same row).

PostgreSQL: one statement-level trigger with a transition table, so a set-based insert of many
entries (the sweep) is one set-based UPDATE of members, not one per row. SQLite has no
statement-level triggers: a row-level one does the same.

Note for later migrations: a SQLite batch operation that recreates `ledger_entries` drops its
triggers; recreate this one afterwards.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-04 17:00:00
"""
import sqlalchemy as sa
from alembic import op


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

POSTGRESQL_FUNCTION = """
CREATE FUNCTION engage_add_ledger_totals() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE members AS m
    SET points_balance = m.points_balance + added.points,
        points_earned = m.points_earned + added.earned
    FROM (SELECT member_id, sum(points) AS points,
                 coalesce(sum(points) FILTER (WHERE kind = 'earn'), 0) AS earned
          FROM inserted_entries GROUP BY member_id) AS added
    WHERE m.id = added.member_id;
    RETURN NULL;
END
$$
"""
POSTGRESQL_TRIGGER = """
CREATE TRIGGER ledger_entries_add_totals AFTER INSERT ON ledger_entries
REFERENCING NEW TABLE AS inserted_entries
FOR EACH STATEMENT EXECUTE FUNCTION engage_add_ledger_totals()
"""
SQLITE_TRIGGER = """
CREATE TRIGGER ledger_entries_add_totals AFTER INSERT ON ledger_entries FOR EACH ROW
BEGIN
    UPDATE members
    SET points_balance = points_balance + NEW.points,
        points_earned = points_earned + CASE WHEN NEW.kind = 'earn' THEN NEW.points ELSE 0 END
    WHERE id = NEW.member_id;
END
"""
BACKFILL = """
UPDATE members SET
    points_balance = coalesce((SELECT sum(l.points) FROM ledger_entries AS l WHERE l.member_id = members.id), 0),
    points_earned = coalesce((SELECT sum(l.points) FROM ledger_entries AS l
                              WHERE l.member_id = members.id AND l.kind = 'earn'), 0)
"""


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == 'postgresql'
    if postgresql:
        # No ledger insert may land between the backfill and the trigger (the migration is one
        # transaction on PostgreSQL); reads go on.
        op.execute("LOCK TABLE ledger_entries IN SHARE ROW EXCLUSIVE MODE")
    op.add_column('members', sa.Column('points_balance', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.add_column('members', sa.Column('points_earned', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.execute(BACKFILL)
    if postgresql:
        op.execute(POSTGRESQL_FUNCTION)
        op.execute(POSTGRESQL_TRIGGER)
    else:
        op.execute(SQLITE_TRIGGER)


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("DROP TRIGGER ledger_entries_add_totals ON ledger_entries")
        op.execute("DROP FUNCTION engage_add_ledger_totals()")
    else:
        op.execute("DROP TRIGGER ledger_entries_add_totals")
    # Plain ALTER TABLE (SQLite >= 3.35 drops a column in place): a batch copy of `members` would
    # trip the foreign keys pointing at it.
    op.execute("ALTER TABLE members DROP COLUMN points_earned")
    op.execute("ALTER TABLE members DROP COLUMN points_balance")
