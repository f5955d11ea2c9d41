"""Enrolling, reading, changing and erasing members."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from engage.services import transaction
from engage import flows
from engage.errors import Conflict, NotFound, Unprocessable
from engage.events import MemberEnrolled
from engage.loyalty import codes, lots, tiers
from engage.messaging.phones import InvalidPhoneNumber, normalize_phone
from engage.models import ConsentEvent, Feedback, Member, Message
from engage.services import ledger
from engage.services.program import ProgramView, load

CONTACT_FIELDS = ("first_name", "last_name", "email", "phone", "locale", "timezone")


def get(session: Session, member_id: int) -> Member:
    member = session.get(Member, member_id)
    if member is None or member.erased_at is not None:
        raise NotFound(f"member {member_id} not found")
    return member


def by_external_id(session: Session, external_id: str) -> Member:
    member = session.scalar(select(Member).where(Member.external_id == external_id))
    if member is None or member.erased_at is not None:
        raise NotFound(f"no member with external_id {external_id!r}")
    return member


def lock(session: Session, member_id: int) -> Member:
    """The member's row, locked until the transaction ends (serialises balance changes)."""
    member = session.scalar(select(Member).where(Member.id == member_id).with_for_update()
                            .execution_options(populate_existing=True))
    if member is None or member.erased_at is not None:
        raise NotFound(f"member {member_id} not found")
    return member


def _phone(view: ProgramView, raw: str | None) -> str | None:
    if raw is None or raw == "":
        return None
    try:
        return normalize_phone(raw, view.settings.get("phone_region"))
    except InvalidPhoneNumber as error:
        raise Unprocessable(f"phone: {error}", {"phone": [str(error)]}) from None


def _record_consent(session, member: Member, channel: str, given: bool, source: str, now) -> None:
    change = "consent_given" if given else "consent_withdrawn"
    session.add(ConsentEvent(member_id=member.id, channel=channel, change=change, source=source, at=now))


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
    from engage.services.earning import award  # earning imports this module

    with transaction(session):
        view = load(session)
        if session.scalar(select(Member.id).where(Member.external_id == data["external_id"])):
            raise Conflict(f"a member with external_id {data['external_id']!r} already exists")
        referrer = _referrer(session, data.get("referral_code"))
        consent = data.get("consent") or {}
        member = Member(
            external_id=data["external_id"], first_name=data["first_name"],
            last_name=data.get("last_name"), email=data.get("email"),
            phone=_phone(view, data.get("phone")), locale=data.get("locale"),
            timezone=data.get("timezone"), sms_consent=bool(consent.get("sms")),
            email_consent=bool(consent.get("email")), tier_id=view.tiers[0].id,
            referral_code=codes.referral_code(), referred_by_id=referrer.id if referrer else None,
            unsubscribe_token=codes.token(), created_at=now,
        )
        session.add(member)
        session.flush()
        for channel in ("sms", "email"):
            if getattr(member, f"{channel}_consent"):
                _record_consent(session, member, channel, True, "api:enrol", now)
        signup = award(session, view, member, view.rules.action_points.get("signup", 0),
                       reason="signup bonus", source="signup", occurred_at=now, now=now)
        events = [MemberEnrolled(member.id, signup.points)]
        if referrer is not None:
            bonus = award(session, view, referrer, view.rules.action_points.get("referral", 0),
                          reason=f"referral of member {member.id}", source=f"referral:{member.id}",
                          occurred_at=now, now=now)
            events += bonus.events
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
            if given != getattr(member, f"{channel}_consent"):
                setattr(member, f"{channel}_consent", given)
                _record_consent(session, member, channel, given, "api:update", now)
            if given and channel == "email" and member.email_opted_out:
                # The shop has the member's consent again (an email STOP or unsubscribe link can't
                # be undone by email: a sender can be forged). SMS opt-outs are lifted only by the
                # member's START, which the carrier also waits for.
                member.email_opted_out = False
                session.add(ConsentEvent(member_id=member.id, channel="email", change="opt_in",
                                         source="api:update", at=now))
        return member


def erase(session: Session, member_id: int, now: datetime) -> None:
    """GDPR erasure: drop personal data and message contents; keep the anonymised ledger."""
    with transaction(session):
        member = lock(session, member_id)
        member.external_id = None
        member.first_name, member.last_name = "", None
        member.email = member.phone = member.locale = member.timezone = None
        member.sms_consent = member.email_consent = False
        member.erased_at = now
        session.execute(update(Message).where(Message.member_id == member.id).values(
            to_address=None, from_address=None, subject=None, body="", html=None, data={}))
        # What the member wrote as feedback is theirs too; the rating alone stays for statistics.
        session.execute(update(Feedback).where(Feedback.member_id == member.id).values(text=None))
        session.execute(update(Message).where(
            Message.member_id == member.id, Message.status.in_(("scheduled", "queued"))
        ).values(status="skipped", reason="member erased", updated_at=now))


def summaries(session: Session, page: list[Member], now: datetime, view: ProgramView | None = None) -> dict[int, dict]:
    """`summary` of each member of a page, by id, in two statements whatever the page size.

    The balance is the one on the member rows just read (the ledger trigger keeps it)."""
    view = view or load(session)
    ids = [member.id for member in page]
    qualifying = ledger.qualifying_of(session, ids, tiers.qualifying_since(now, view.rules.qualifying_window_days))
    open_lots = ledger.open_lots_of(session, ids)
    return {member.id: summary(session, member, now, view, open_lots=open_lots[member.id],
                               totals=(int(member.points_balance), qualifying[member.id]))
            for member in page}


def summary(session: Session, member: Member, now: datetime, view: ProgramView | None = None,
            open_lots: list[lots.OpenLot] | None = None, totals: tuple[int, int] | None = None) -> dict:
    """Points, tier, qualifying points, next tier and next expiry, for the API and templates.

    `open_lots` and `totals` (balance, qualifying points) when the caller read them already.
    """
    view = view or load(session)
    if totals is None:
        totals = (ledger.balance(session, member.id), ledger.qualifying(
            session, member.id, tiers.qualifying_since(now, view.rules.qualifying_window_days)))
    balance, qualifying = totals
    upcoming = tiers.next_tier(qualifying, view.tiers)
    open_lots = ledger.open_lots(session, member.id) if open_lots is None else open_lots
    expiry = lots.next_expiry(open_lots, now, view.zone)
    return {
        "points": balance,
        "tier": view.tier(member.tier_id).name,
        "qualifying_points": qualifying,
        "next_tier": {"name": upcoming[0].name, "points_needed": upcoming[1]} if upcoming else None,
        "expiring": {"points": expiry[0], "date": expiry[1].isoformat()} if expiry else None,
    }

