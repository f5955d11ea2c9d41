"""A member's reachability as plain values: consent, opt-outs, suppressions."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from engage.db import InsertIgnoring
from engage.messaging import ContactState
from engage.models import Member, Suppression

_SUPPRESS = InsertIgnoring(Suppression.__table__, ["channel", "address"])
INVALID = "invalid"  # suppression reasons starting with this mean "bad address", not "don't send"


def suppressions(session: Session, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """{(channel, address): reason} for the given channel/address pairs."""
    pairs = [p for p in pairs if p[1]]
    if not pairs:
        return {}
    rows = session.execute(select(Suppression.channel, Suppression.address, Suppression.reason)
                           .where(tuple_(Suppression.channel, Suppression.address).in_(pairs)))
    return {(channel, address): reason for channel, address, reason in rows}


def member_pairs(member: Member) -> list[tuple[str, str]]:
    return [("sms", member.phone or ""), ("email", (member.email or "").lower())]


def contact_state(member: Member, suppressed: dict[tuple[str, str], str]) -> ContactState:
    """What the eligibility rules need to know about one member."""
    sms_reason = suppressed.get(("sms", member.phone or ""))
    email_reason = suppressed.get(("email", (member.email or "").lower()))
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


def suppress(session: Session, channel: str, address: str | None, reason: str, now: datetime) -> None:
    """Never send to this address again (first reason wins)."""
    if not address:
        return
    address = address.lower() if channel == "email" else address
    _SUPPRESS.run(session, {"channel": channel, "address": address, "reason": reason[:200], "created_at": now})
