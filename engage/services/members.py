"""Enrolling and changing members (erasing them: engage.services.erasure)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage import flows
from engage.errors import Conflict, Unprocessable
from engage.events import MemberEnrolled
from engage.loyalty import codes
from engage.messaging.phones import InvalidPhoneNumber, normalize_phone
from engage.models import Member
from engage.services import challenges, consent
from engage.services.awards import award
from engage.store import transaction
from engage.store.members import lock
from engage.store.program import ProgramView, load
from engage.vocabulary import Channel

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "locale", "timezone")


def _phone(view: ProgramView, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return normalize_phone(raw, view.settings.get("phone_region"))
    except InvalidPhoneNumber as error:
        raise Unprocessable(f"phone: {error}", {"phone": [str(error)]}) from None


def _referrer(session: Session, code: str | None) -> Member | None:
    if not code:
        return None
    referrer = session.scalar(select(Member).where(Member.referral_code == code.strip().upper())
                              .with_for_update())
    if referrer is None or referrer.erased_at is not None:
        raise Unprocessable("unknown referral_code", {"referral_code": ["No member has this code."]})
    return referrer


def enrol(session: Session, data: dict, now: datetime) -> Member:
    """Create a member with the signup bonus; reward the referrer; queue the welcome flow."""
    with transaction(session):
        view = load(session)
        if session.scalar(select(Member.id).where(Member.external_id == data["external_id"])):
            raise Conflict(f"a member with external_id {data['external_id']!r} already exists")
        referrer = _referrer(session, data.get("referral_code"))
        wanted = data.get("consent") or {}
        member = Member(
            external_id=data["external_id"], first_name=data["first_name"],
            last_name=data.get("last_name"), email=data.get("email"),
            phone=_phone(view, data.get("phone")), locale=data.get("locale"),
            timezone=data.get("timezone"), sms_consent=False, email_consent=False, tier_id=view.tiers[0].id,
            referral_code=codes.referral_code(), referred_by_id=referrer.id if referrer else None,
            unsubscribe_token=codes.token(), created_at=now,
        )
        session.add(member)
        session.flush()
        for channel in Channel:
            consent.set_consent(session, member, channel, bool(wanted.get(channel)), "api:enrol", now)
        signup = award(session, view, member, view.rules.action_points.get("signup", 0),
                       reason="signup bonus", source="signup", occurred_at=now, now=now)
        events = [MemberEnrolled(member.id, signup.points)]
        if referrer is not None:
            bonus = award(session, view, referrer, view.rules.action_points.get("referral", 0),
                          reason=f"referral of member {member.id}", source=f"referral:{member.id}",
                          occurred_at=now, now=now)
            events += bonus.events
            events += challenges.after_activity(session, view, referrer.id, "referral", now, now)
        flows.react(session, events, now)
        return member


def update_member(session: Session, member_id: int, data: dict, now: datetime) -> Member:
    """Change contact details, consent, locale or time zone."""
    with transaction(session):
        member = lock(session, member_id)
        view = load(session)
        for field in CONTACT_FIELDS:
            if field in data:
                value = _phone(view, data[field]) if field == "phone" else data[field]
                setattr(member, field, value)
        for channel, given in (data.get("consent") or {}).items():
            consent.set_consent(session, member, channel, given, "api:update", now)
            if given and channel == Channel.EMAIL:
                consent.lift_email_opt_out(session, member, "api:update", now)
        return member

