"""GDPR erasure: a member's personal data goes, the anonymised ledger stays (docs/api.md).

What goes: names, email, phone, the shop's external id, locale and time zone; every message's
addresses, subject, body and HTML, the member's words in its details (answers, MMS links) and in
provider error texts; feedback texts; the member's Idempotency-Keys and the Message-IDs of their
emails. The referral code and unsubscribe token are replaced, so neither leads back to the person.

What stays, about nobody: the ledger, lots, events, redemptions, ratings, consent history and
message statuses, so the program's totals still add up. An opt-out stays in force as a suppression
keyed by a hash of the number or address (engage.messaging.personal_data): a number that texted
STOP is not texted again when the shop enrols the person anew.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engage.loyalty import codes
from engage.messaging.personal_data import address_key, phone_forms, redact
from engage.models import Feedback, IdempotencyRecord, Member, Message, Suppression, WebhookEvent
from engage.services import consent
from engage.services.inbound import PROVIDER_EMAIL
from engage.store import transaction
from engage.store.members import lock
from engage.vocabulary import PENDING, Channel, Direction, MessageStatus

ERASED_REASON = "member erased"
SOURCE = "api:erase"
_BATCH = 1000

# The keys of `Message.data` that say nothing about the person (ids, dates, counts, what a reply
# did); erasure drops every other key: answers quoting the member, MMS links, template variables.
# A new key holding no personal data belongs here, or erased members' messages lose it.
KEPT_DATA = frozenset({
    "answer", "automatic", "channels", "chosen_again", "event_id", "expires_on", "force", "kind",
    "ledger_source", "not_before_at", "num_media", "offset_days", "points", "rating", "reason",
    "redemption_id", "requested_by", "reward_id", "tier_id",
})


def erase(session: Session, member_id: int, now: datetime) -> None:
    """Erase the member's personal data in one transaction; NotFound if unknown or already erased."""
    with transaction(session):
        member = lock(session, member_id)
        known = identifying(member)
        _keep_opt_outs(session, member, now)
        _redact_suppressions(session, member, known)
        for channel in Channel:
            consent.set_consent(session, member, channel, False, SOURCE, now)
        _skip_waiting_messages(session, member.id, now)
        _erase_messages(session, member.id, known)
        session.execute(update(Feedback).where(Feedback.member_id == member.id).values(text=None))
        session.execute(delete(IdempotencyRecord).where(IdempotencyRecord.member_id == member.id))
        _erase_member_row(member, now)


def identifying(member: Member) -> list[str]:
    """What provider texts (bounce reasons, error messages) may quote of the member: names,
    the shop's id, the email address and the phone number in every format."""
    values = [member.first_name, member.last_name, member.external_id, member.email]
    return [value for value in values if value] + sorted(phone_forms(member.phone))


def _keep_opt_outs(session: Session, member: Member, now: datetime) -> None:
    """An opt-out outlives the member: suppress the address (lifted as a live member's would be)."""
    for channel, opted_out, address in ((Channel.SMS, member.sms_opted_out, member.phone),
                                        (Channel.EMAIL, member.email_opted_out, member.email)):
        if opted_out:
            consent.suppress(session, channel, address, f"erased member: {consent.OPTED_OUT}", now)


def _redact_suppressions(session: Session, member: Member, known: list[str]) -> None:
    """Reasons written before they were redacted may quote the member (a bounce text)."""
    keys = [address_key(Channel.SMS, member.phone), address_key(Channel.EMAIL, member.email)]
    for row in session.execute(select(Suppression.id, Suppression.reason)
                               .where(Suppression.address_hash.in_([key for key in keys if key]))):
        session.execute(update(Suppression).where(Suppression.id == row.id)
                        .values(reason=redact(row.reason, known)))


def _skip_waiting_messages(session: Session, member_id: int, now: datetime) -> None:
    session.execute(update(Message).where(Message.member_id == member_id, Message.status.in_(PENDING))
                    .values(status=MessageStatus.SKIPPED, reason=ERASED_REASON, updated_at=now))


def _erase_messages(session: Session, member_id: int, known: list[str]) -> None:
    """Contents and addresses in one statement; details, errors and email ids a batch at a time."""
    session.execute(update(Message).where(Message.member_id == member_id).values(
        to_address=None, from_address=None, subject=None, body="", html=None))
    after = 0
    while True:
        rows = session.execute(
            select(Message.id, Message.direction, Message.channel, Message.provider_id, Message.data,
                   Message.error, Message.reason)
            .where(Message.member_id == member_id, Message.id > after).order_by(Message.id).limit(_BATCH)).all()
        if not rows:
            return
        after = rows[-1].id
        changes = [change for change in (_erased_row(row, known) for row in rows) if change]
        if changes:
            session.execute(update(Message), changes)
        _forget_email_ids(session, [row.provider_id for row in rows
                                    if row.direction == Direction.IN and row.channel == Channel.EMAIL
                                    and row.provider_id])


def _erased_row(row, known: list[str]) -> dict | None:
    """The new values of one message's details, or None if nothing in them changes."""
    data = {key: value for key, value in (row.data or {}).items() if key in KEPT_DATA}
    change = {"data": data, "error": redact(row.error, known), "reason": redact(row.reason, known)}
    if row.direction == Direction.IN and row.channel == Channel.EMAIL:
        change["provider_id"] = None  # the sender's own Message-ID: their mail system may name them
    if all(getattr(row, name) == value for name, value in change.items()):
        return None
    return {"id": row.id, **change}


def _forget_email_ids(session: Session, provider_ids: list[str]) -> None:
    """Drop the dedupe record of the member's emails: it is their Message-ID (stored whole, up
    to 120 characters, where the message keeps 80). A late retry finds no member to credit."""
    if provider_ids:
        session.execute(delete(WebhookEvent).where(
            WebhookEvent.provider == PROVIDER_EMAIL, func.substr(WebhookEvent.event_id, 1, 80).in_(provider_ids)))


def _erase_member_row(member: Member, now: datetime) -> None:
    member.external_id = None  # NULL, not a tombstone: it can't collide with a shop's id
    member.first_name, member.last_name = "", None
    member.email = member.phone = member.locale = member.timezone = None
    member.referral_code, member.unsubscribe_token = codes.referral_code(), codes.token()
    member.erased_at = now
