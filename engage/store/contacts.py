"""A member's reachability as plain values: consent, opt-outs, suppressions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import bindparam, select, tuple_
from sqlalchemy.orm import Session

from engage.messaging import ContactState
from engage.messaging.personal_data import address_key
from engage.models import Member, Suppression
from engage.vocabulary import Channel

CONTACT_COLUMNS = ("id", "first_name", "last_name", "email", "phone", "locale", "timezone", "tier_id",
                   "sms_consent", "email_consent", "sms_opted_out", "email_opted_out", "unsubscribe_token")


@dataclass(frozen=True)
class Contact:
    """A member row as plain values: what writing a message to them and answering them read.

    Reading it costs a fraction of loading the ORM `Member` (purchases and inbound messages are the
    hot paths); it has the attributes of `Member` those paths use, so both can be passed."""

    id: int
    first_name: str
    last_name: str | None
    email: str | None
    phone: str | None
    locale: str | None
    timezone: str | None
    tier_id: int
    sms_consent: bool
    email_consent: bool
    sms_opted_out: bool
    email_opted_out: bool
    unsubscribe_token: str

    @classmethod
    def of(cls, row) -> Contact:
        return cls(*(row[i] for i in range(len(CONTACT_COLUMNS))))


CONTACT_ROW = [Member.__table__.c[name] for name in CONTACT_COLUMNS]  # select(*CONTACT_ROW) → Contact.of
_CONTACT = select(*CONTACT_ROW).where(Member.id == bindparam("id"))


def read_contact(session: Session, member_id: int) -> Contact | None:
    """The member's contact row (after flushing the session's pending changes), or None.

    On the session's connection: flows read it inside purchases, where the ORM's execution path
    costs more than the plain Core select it would run."""
    session.flush()
    row = session.connection().execute(_CONTACT, {"id": member_id}).first()
    return Contact.of(row) if row is not None else None


INVALID = "invalid"  # suppression reasons starting with this mean "bad address", not "don't send"


def suppressions(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(channel, address): reason} for the given channel/address pairs."""
    keyed = {(channel, address_key(channel, address)): (channel, address) for channel, address in pairs if address}
    if not keyed:
        return {}
    rows = session.execute(select(Suppression.channel, Suppression.address_hash, Suppression.reason)
                           .where(tuple_(Suppression.channel, Suppression.address_hash).in_(list(keyed))))
    return {keyed[(channel, key)]: reason for channel, key, reason in rows}


def member_pairs(member: Member) -> list[tuple[str, str]]:
    return [(Channel.SMS, member.phone or ""), (Channel.EMAIL, (member.email or "").lower())]


def contact_state(member: Member, suppressed: dict[tuple[str, str], str]) -> ContactState:
    """What the eligibility rules need to know about one member."""
    sms_reason = suppressed.get((Channel.SMS, member.phone or ""))
    email_reason = suppressed.get((Channel.EMAIL, (member.email or "").lower()))
    return ContactState(
        phone=member.phone, email=member.email,
        sms_consent=member.sms_consent, email_consent=member.email_consent,
        sms_opted_out=member.sms_opted_out, email_opted_out=member.email_opted_out,
        phone_suppressed=bool(sms_reason) and not sms_reason.startswith(INVALID),
        email_suppressed=bool(email_reason) and not email_reason.startswith(INVALID),
        phone_invalid=bool(sms_reason) and sms_reason.startswith(INVALID),
        email_invalid=bool(email_reason) and email_reason.startswith(INVALID),
    )


def state_of(session: Session, member: Member) -> ContactState:
    return contact_state(member, suppressions(session, member_pairs(member)))
