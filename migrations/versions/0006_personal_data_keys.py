"""suppressions keyed by a hash of the address; idempotency records know their member

GDPR erasure (engage.services.erasure) must leave no personal data, yet the suppression list must
keep refusing an erased member's number or address. So suppressions hold a SHA-256 of
"channel:address" (email lower-case) instead of the address, and their reasons lose the address a
provider's bounce text may quote. Idempotency records get the member whose request they answered,
so erasure can drop the member's keys (a shop may build them from an order number or an email);
existing records are matched to their member through the event or redemption they answered.

Downgrade cannot bring the addresses back: suppressions return with the hash in `address`, which
matches no address.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06 03:30:00
"""
import hashlib
import re

import sqlalchemy as sa
from alembic import op


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

# The key of engage.messaging.personal_data.address_key, frozen here as this migration wrote it.
def _key(channel: str, address: str) -> str:
    address = address.strip()
    address = address.lower() if channel == 'email' else address
    return hashlib.sha256(f"{channel}:{address}".encode()).hexdigest()


def _reason(reason: str, address: str) -> str:
    return re.sub(re.escape(address.strip()), '[erased]', reason, flags=re.IGNORECASE) if address.strip() else reason


BACKFILL = {
    'postgresql': [
        """UPDATE idempotency_records AS r SET member_id = e.member_id FROM events AS e
           WHERE r.scope = 'events' AND (r.response ->> 'id') ~ '^[0-9]{1,18}$'
             AND e.id = CAST(r.response ->> 'id' AS BIGINT)""",
        """UPDATE idempotency_records AS r SET member_id = d.member_id FROM redemptions AS d
           WHERE r.scope = 'redemptions' AND (r.response ->> 'id') ~ '^[0-9]{1,9}$'
             AND d.id = CAST(r.response ->> 'id' AS INTEGER)""",
    ],
    'sqlite': [
        """UPDATE idempotency_records SET member_id = (
               SELECT member_id FROM events WHERE events.id = json_extract(idempotency_records.response, '$.id'))
           WHERE scope = 'events'""",
        """UPDATE idempotency_records SET member_id = (
               SELECT member_id FROM redemptions
               WHERE redemptions.id = json_extract(idempotency_records.response, '$.id'))
           WHERE scope = 'redemptions'""",
    ],
}


def upgrade() -> None:
    bind = op.get_bind()
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('member_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_idempotency_records_member_id'), ['member_id'], unique=False)
    for statement in BACKFILL[bind.dialect.name]:
        op.execute(statement)

    op.add_column('suppressions', sa.Column('address_hash', sa.String(length=64), nullable=True))
    table = sa.table('suppressions', sa.column('id', sa.Integer()), sa.column('channel', sa.String()),
                     sa.column('address', sa.String()), sa.column('address_hash', sa.String()),
                     sa.column('reason', sa.String()))
    rows = bind.execute(sa.select(table.c.id, table.c.channel, table.c.address, table.c.reason)).all()
    for row in rows:
        bind.execute(table.update().where(table.c.id == row.id).values(
            address_hash=_key(row.channel, row.address), reason=_reason(row.reason, row.address)[:200]))
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.alter_column('address_hash', existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_constraint('uq_suppressions_channel_address', type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_suppressions_channel_address_hash'),
                                          ['channel', 'address_hash'])
        batch_op.drop_column('address')


def downgrade() -> None:
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address', sa.String(length=254), nullable=True))
    op.execute("UPDATE suppressions SET address = address_hash")
    with op.batch_alter_table('suppressions', schema=None) as batch_op:
        batch_op.alter_column('address', existing_type=sa.String(length=254), nullable=False)
        batch_op.drop_constraint('uq_suppressions_channel_address_hash', type_='unique')
        batch_op.create_unique_constraint('uq_suppressions_channel_address', ['channel', 'address'])
        batch_op.drop_column('address_hash')
    with op.batch_alter_table('idempotency_records', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_idempotency_records_member_id'))
        batch_op.drop_column('member_id')
