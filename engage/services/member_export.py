"""Everything held about one member (GDPR right of access), read a batch at a time.

The profile comes first; each section then comes as batches of rows, oldest first, so a member
with tens of thousands of messages is written out without holding them all (the API streams the
JSON). On PostgreSQL every section is read from one snapshot; SQLite takes the write lock for a
read, so there each batch is its own short transaction instead of holding writers back for as
long as the client takes to read.
"""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from engage.db import on_postgres
from engage.messaging.personal_data import address_key
from engage.models import (
    ConsentEvent,
    Event,
    Feedback,
    IdempotencyRecord,
    LedgerEntry,
    Lot,
    Member,
    Message,
    Offer,
    PurchaseItem,
    Redemption,
    Reward,
    Suppression,
)
from engage.store import members
from engage.vocabulary import Channel

BATCH = 500


def _sections(member: Member) -> dict[str, Select]:
    """Each section's rows (its first column is the id they are read in order of)."""
    keys = [key for key in (address_key(Channel.SMS, member.phone), address_key(Channel.EMAIL, member.email)) if key]
    of = member.id
    return {
        "consent_events": select(ConsentEvent.id, ConsentEvent.channel, ConsentEvent.change, ConsentEvent.source,
                                 ConsentEvent.at).where(ConsentEvent.member_id == of),
        "suppressions": select(Suppression.id, Suppression.channel, Suppression.reason, Suppression.created_at)
        .where(Suppression.address_hash.in_(keys)),
        "ledger": select(LedgerEntry.id, LedgerEntry.points, LedgerEntry.kind, LedgerEntry.reason, LedgerEntry.source,
                         LedgerEntry.occurred_at, LedgerEntry.expires_at, LedgerEntry.created_at)
        .where(LedgerEntry.member_id == of),
        "lots": select(Lot.id, Lot.ledger_entry_id, Lot.points, Lot.remaining, Lot.earned_at, Lot.expires_at)
        .where(Lot.member_id == of),
        "events": select(Event.id, Event.type, Event.amount, Event.currency, Event.occurred_at, Event.created_at,
                         Event.points_awarded).where(Event.member_id == of),
        "purchase_items": select(PurchaseItem.id, PurchaseItem.event_id, PurchaseItem.sku, PurchaseItem.name,
                                 PurchaseItem.category, PurchaseItem.quantity, PurchaseItem.amount,
                                 PurchaseItem.occurred_at).where(PurchaseItem.member_id == of),
        "offers": select(Offer.id, Offer.rule_key, Offer.reward_id, Offer.product, Offer.cost, Offer.keyword,
                         Offer.created_at, Offer.ends_at, Offer.redemption_id).where(Offer.member_id == of),
        "redemptions": select(Redemption.id, Redemption.reward_id, Reward.name.label("reward"), Redemption.kind,
                              Redemption.points, Redemption.value, Redemption.coupon_code, Redemption.created_at)
        .join(Reward, Reward.id == Redemption.reward_id).where(Redemption.member_id == of),
        "feedback": select(Feedback.id, Feedback.request_message_id, Feedback.inbound_message_id, Feedback.rating,
                           Feedback.text, Feedback.created_at).where(Feedback.member_id == of),
        "idempotency_records": select(IdempotencyRecord.id, IdempotencyRecord.scope, IdempotencyRecord.key,
                                      IdempotencyRecord.status_code, IdempotencyRecord.response,
                                      IdempotencyRecord.created_at).where(IdempotencyRecord.member_id == of),
        "messages": select(*Message.__table__.c).where(Message.member_id == of),
    }


def member(session: Session, member_id: int) -> Member:
    """The member to export, erased or not (NotFound if there never was one), read at the start
    of the export's snapshot."""
    if session.in_transaction():
        session.commit()  # only the API key check has read so far
    if on_postgres(session):
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    return members.known(session, member_id)


def sections(session: Session, member: Member) -> Iterator[tuple[str, Iterator[list]]]:
    """(section name, its batches of rows), section by section. The read transaction ends with
    the last batch, or when the reader stops early, not whenever the response is closed."""
    try:
        for name, statement in _sections(member).items():
            yield name, _batches(session, statement)
    finally:
        session.rollback()


def _batches(session: Session, statement: Select) -> Iterator[list]:
    id_column = statement.selected_columns[0]
    after = None
    while True:
        page = statement if after is None else statement.where(id_column > after)
        rows = session.execute(page.order_by(id_column).limit(BATCH)).all()
        if not on_postgres(session):
            session.commit()
        if rows:
            yield rows
        if len(rows) < BATCH:
            return
        after = rows[-1][0]
