"""Consent changes, each with its audit event: consent given or withdrawn, opt-out and opt-in,
suppressions. Inbound keywords, delivery results, provider callbacks, the unsubscribe link and
the API all change a member's reachability through here, so every change leaves a record."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from engage.db import InsertIgnoring
from engage.messaging.personal_data import address_key, redact
from engage.models import ConsentEvent, Member, Suppression
from engage.store.contacts import INVALID
from engage.vocabulary import Channel

_SUPPRESS = InsertIgnoring(Suppression.__table__, ["channel", "address_hash"])
# In a suppression's reason: an opt-out, lifted by the member's START (SMS) or by the shop giving
# email consent again; other suppressions (bounces, invalid, spam reports) stay.
OPTED_OUT = "recipient opted out"


def _record(session: Session, member_id: int, channel: str, change: str, source: str, now: datetime) -> None:
    session.add(ConsentEvent(member_id=member_id, channel=channel, change=change, source=source, at=now))


def set_consent(session: Session, member: Member, channel: str, given: bool, source: str,
                now: datetime) -> None:
    """Record marketing consent given or withdrawn for a channel (the shop says so)."""
    if given == getattr(member, f"{channel}_consent"):
        return
    setattr(member, f"{channel}_consent", given)
    _record(session, member.id, channel, "consent_given" if given else "consent_withdrawn", source, now)


def opt_out(session: Session, member_id: int, channel: str, source: str, now: datetime) -> bool:
    """Opt the member out of a channel at once; True if that changed anything."""
    column = Member.sms_opted_out if channel == Channel.SMS else Member.email_opted_out
    changed = session.execute(update(Member).where(Member.id == member_id, column.is_(False))
                              .values({column.key: True})).rowcount
    if changed:
        _record(session, member_id, channel, "opt_out", source, now)
    return bool(changed)


def lift_email_opt_out(session: Session, member: Member, source: str, now: datetime) -> None:
    """The shop has the member's email consent again. An email STOP or unsubscribe link can't be
    undone by email (a sender can be forged); SMS opt-outs are lifted only by the member's START,
    which the carrier also waits for. Also lifts the opt-out an erased member with this address
    left behind (services.erasure)."""
    if member.email_opted_out:
        member.email_opted_out = False
        _record(session, member.id, Channel.EMAIL, "opt_in", source, now)
    _lift_suppression(session, Channel.EMAIL, member.email)


def _lift_suppression(session: Session, channel: str, address: str | None) -> None:
    if address:
        session.execute(delete(Suppression).where(
            Suppression.channel == channel, Suppression.address_hash == address_key(channel, address),
            Suppression.reason.like(f"%{OPTED_OUT}%")))


def opt_in_sms(session: Session, member_id: int, source: str, now: datetime) -> None:
    """START: lift the SMS opt-out (and the matching opt-out suppression) and give consent."""
    member = session.get(Member, member_id)
    if member is None:
        return
    if session.execute(update(Member).where(Member.id == member_id, Member.sms_opted_out.is_(True))
                       .values(sms_opted_out=False)).rowcount:
        _record(session, member_id, Channel.SMS, "opt_in", source, now)
    if session.execute(update(Member).where(Member.id == member_id, Member.sms_consent.is_(False))
                       .values(sms_consent=True)).rowcount:
        _record(session, member_id, Channel.SMS, "consent_given", source, now)
    _lift_suppression(session, Channel.SMS, member.phone)  # Twilio unblocks the number on START; so do we


def suppress(session: Session, channel: str, address: str | None, reason: str, now: datetime) -> None:
    """Never send to this address again (first reason wins). Only a hash of the address is kept,
    and the reason (a provider's bounce text may quote the address) is kept without it."""
    if not address:
        return
    _SUPPRESS.run(session, {"channel": channel, "address_hash": address_key(channel, address),
                            "reason": redact(reason, [address])[:200], "created_at": now})


def recipient_opted_out(session: Session, member_id: int | None, number: str | None, source: str,
                        cause: str, now: datetime) -> None:
    """The provider says the number sent STOP to the carrier (Twilio 21610): opt out, suppress."""
    if member_id:
        opt_out(session, member_id, Channel.SMS, source, now)
    suppress(session, Channel.SMS, number, f"{cause}: {OPTED_OUT}", now)


def address_invalid(session: Session, channel: str, address: str | None, cause: str, now: datetime) -> None:
    """The provider refused the address as invalid: never try it again."""
    suppress(session, channel, address, f"{INVALID}: {cause}", now)
