"""Delivery reports from providers: move message statuses on, suppress bad addresses."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engage.db import InsertIgnoring
from engage.messaging import delivery
from engage.models import Member, Message, WebhookEvent
from engage.outbox.ports import ATTEMPT_ARG, attempt_id
from engage.services import consent
from engage.store import transaction
from engage.store.program import load
from engage.templating.defaults import locale_chain
from engage.vocabulary import Channel, MessageStatus

# Runs first in every webhook call.
_RECORD_EVENT = InsertIgnoring(WebhookEvent.__table__, ["provider", "event_id"])


def first_time(session: Session, provider: str, event_id: str | None, now: datetime) -> bool:
    """Record a provider event id; False if it was seen before (provider retries)."""
    if not event_id:
        return True
    values = {"provider": provider, "event_id": event_id[:120], "received_at": now}
    return _RECORD_EVENT.run(session, values) is not None


def _apply(message: Message, status: str, now: datetime, provider_id: str | None = None,
           error_code: str | None = None, error: str | None = None) -> None:
    if not delivery.moves_forward(message.status, status):
        return
    if message.status == MessageStatus.UNKNOWN:  # the provider's own report settles an ambiguous attempt
        message.reason = f"settled by the provider's report: {status}"
    message.status, message.updated_at = status, now
    if provider_id and not message.provider_id:
        message.provider_id = provider_id
    if status in (MessageStatus.SENT, MessageStatus.DELIVERED) and message.sent_at is None:
        message.sent_at = now
    if status == MessageStatus.DELIVERED:
        message.delivered_at = now
    if error_code:
        message.error_code, message.error = error_code, error or message.error


def twilio_status(session: Session, message_id: int | None, sid: str | None, reported: str,
                  error_code: str | None, now: datetime) -> bool:
    """Apply a Twilio status callback. False if no message matches."""
    with transaction(session):
        message = session.get(Message, message_id) if message_id else None
        if message is None and sid:
            message = session.scalar(select(Message).where(Message.provider_id == sid))
        if message is None:
            return False
        status = delivery.twilio_status(reported)
        if status:
            _apply(message, status, now, sid, error_code or None, f"Twilio status {reported}")
        if error_code in delivery.TWILIO_OPT_OUT_CODES and message.member_id:
            consent.recipient_opted_out(session, message.member_id, message.to_address,
                                        f"twilio:{error_code}", f"twilio {error_code}", now)
        elif error_code in delivery.TWILIO_INVALID_CODES:
            consent.address_invalid(session, Channel.SMS, message.to_address, f"twilio {error_code}", now)
        return True


def _message_for(session: Session, event: dict) -> Message | None:
    ours = str(event.get("engage_message_id") or "")
    if ours.isdigit():
        return session.get(Message, int(ours))
    sg_id = str(event.get("sg_message_id") or "").split(".")[0]
    return session.scalar(select(Message).where(Message.provider_id == sg_id)) if sg_id else None


def _this_attempt(message: Message, event: dict) -> bool:
    """An `unknown` message is settled only by an event for its own ambiguous attempt."""
    attempt = event.get(ATTEMPT_ARG)
    return (message.status != MessageStatus.UNKNOWN or attempt is None
            or str(attempt) == attempt_id(message.id, message.attempts))


def sendgrid_events(session: Session, events: list[dict], now: datetime) -> int:
    """Apply a batch of SendGrid events; each `sg_event_id` only once. Returns events applied."""
    applied = 0
    with transaction(session):
        for event in events:
            if not isinstance(event, dict) or not first_time(session, "sendgrid", event.get("sg_event_id"), now):
                continue
            applied += 1
            status, suppress_it, unsubscribe = delivery.sendgrid_effect(str(event.get("event", "")))
            message = _message_for(session, event)
            if message is not None and status and _this_attempt(message, event):
                _apply(message, status, now, error_code=event.get("type") or event.get("event"),
                       error=event.get("reason"))
            address = str(event.get("email") or "").lower()
            if suppress_it and address:
                consent.suppress(session, Channel.EMAIL, address,
                                 f"sendgrid {event.get('event')}: {event.get('reason', '')}", now)
            if unsubscribe and address:
                for member_id in session.scalars(select(Member.id).where(func.lower(Member.email) == address)):
                    consent.opt_out(session, member_id, Channel.EMAIL, f"sendgrid:{event.get('event')}", now)
    return applied


@dataclass(frozen=True)
class UnsubscribeLink:
    """What the link's page shows: whether the member is out already, in which language."""

    opted_out: bool
    locales: tuple[str, ...]  # the member's language first, then the program's, then English
    program_name: str


def unsubscribe_link(session: Session, token: str) -> UnsubscribeLink | None:
    """The member behind an unsubscribe link, for its page; None for an unknown token.

    A read only: the link's GET page calls it, and mail scanners fetch links."""
    row = session.execute(select(Member.email_opted_out, Member.locale)
                          .where(Member.unsubscribe_token == token)).first()
    program = load(session).program if row is not None else None
    session.rollback()  # don't hold a read transaction open until the request ends
    if row is None or program is None:
        return None
    return UnsubscribeLink(row.email_opted_out, locale_chain(row.locale, program.default_locale), program.name)


def unsubscribe(session: Session, token: str, now: datetime) -> bool:
    """One-click email unsubscribe (RFC 8058 POST, or the confirm page's button); idempotent.
    False for an unknown token."""
    with transaction(session):
        member_id = session.scalar(select(Member.id).where(Member.unsubscribe_token == token))
        if member_id is None:
            return False
        consent.opt_out(session, member_id, Channel.EMAIL, "unsubscribe_link", now)
        return True
