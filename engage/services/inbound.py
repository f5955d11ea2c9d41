"""Inbound SMS and email: keywords, redemptions, feedback and reply points (docs/messaging.md).

Each inbound message is handled in one transaction: the provider's id is recorded (so a retried
webhook changes nothing), the message is stored on the member's thread with what it did, the
action is carried out (opt-out, redemption, feedback, points) and the answer is recorded with it.
The transaction commits before the webhook answers, so a STOP is in force before Twilio even
hears back.

Answers:
- SMS: the answer travels back in the webhook's TwiML; it is also stored as an outbound message
  (status `sent`, exempt, `in_reply_to_id` = the inbound message) so the thread shows it. It is
  never queued, capped or held by quiet hours.
- Email: the answer is queued in the outbox (exempt: no caps) and the dispatcher sends it.
- Answers respect opt-out and suppression, except the direct answer to the member's own STOP
  or HELP. SMS answers don't need marketing consent (the member just texted us); email answers
  go through the outbox's normal consent check.
- A retried webhook (same MessageSid / email Message-ID) gets the same answer replayed from the
  stored inbound message, and nothing else happens.

Unknown senders: only the provider event id is stored (webhook_events), no number, no text.
SMS strangers get the "not a member" answer (but nothing after a STOP); email strangers get no
answer at all: answering arbitrary senders would make Engage a backscatter source.

Points:
- reply: `action_points.reply` once per outbound flow message (the newest one sent to the member
  on that channel within 7 days), ledger source `reply:message:{outbound id}`, at most
  `reply_daily_cap` a local day (member's time zone, else the program's).
- feedback: a rating 1-5 or free text while a feedback request is open stores one Feedback row
  per request and earns `action_points.feedback` once, source `feedback:message:{request id}`
  (the same source the API's feedback event uses, so the two never both pay).
Every ledger entry's reason names the inbound message it came from.
"""

from __future__ import annotations

import hashlib
import html as html_lib
import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.loyalty import replies as reply_rules
from engage.loyalty import tiers
from engage.messaging import count_segments
from engage.messaging.email_reply import InboundEmail, classify_reply, reply_text
from engage.messaging.keywords import Inbound, classify
from engage.messaging.phones import normalize_phone
from engage.messaging.replies import decide, with_opt_out_type
from engage.models import Member, Message
from engage.outbox.content import Content
from engage.outbox.enqueue import member_zone, queue_forced_answer, queue_message
from engage.services import feedback, inbound_store
from engage.services.inbound_actions import Outcome, carry_out
from engage.services.inbound_answers import answer_text, may_answer, render
from engage.services.inbound_common import MAX_BODY_CHARS, clean
from engage.services.inbound_store import Contact, SmsAnswer, Window
from engage.store import transaction
from engage.store.program import ProgramView, load
from engage.vocabulary import WENT_OUT, Channel, Direction

log = logging.getLogger(__name__)

PROVIDER_SMS = "twilio_sms"
PROVIDER_EMAIL = "sendgrid_inbound"


@dataclass(frozen=True)
class InboundSms:
    """Twilio's inbound message webhook, as plain values."""

    sid: str | None
    from_number: str
    to_number: str = ""
    body: str = ""
    num_media: int = 0
    media_urls: tuple[str, ...] = ()
    opt_out_type: str | None = None
    # Typed in the console's phone simulator: the message and its answer are marked `simulated`
    # (the answer, like every SMS answer, is only stored: it never goes to a provider).
    simulated: bool = False


@dataclass(frozen=True)
class Answer:
    """What became of an inbound message. `reply` is the SMS answer for TwiML (None: silence)."""

    action: str
    reply: str | None = None
    message_id: int | None = None
    member_id: int | None = None
    duplicate: bool = False


# ---------------------------------------------------------------------------------------------
# SMS


def receive_sms(session: Session, sms: InboundSms, now: datetime) -> Answer:
    """Handle one inbound SMS in one transaction; a repeated MessageSid only replays the answer."""
    with transaction(session):
        view = load(session)
        inbound = with_opt_out_type(classify(sms.body), sms.opt_out_type)
        phone = _phone(sms.from_number, view)
        claim = inbound_store.claim(session, PROVIDER_SMS, sms.sid, "phone", phone, now)
        if not claim.first:
            return _replay(session, Channel.SMS, sms.sid, view, inbound)
        if not claim.contacts:
            return _stranger(view, inbound)
        contact = _pick(session, claim.contacts, Channel.SMS)
        data = {"num_media": sms.num_media, "media": list(sms.media_urls)[:10]}
        facts = inbound_store.store(
            session, contact, Channel.SMS, _window(view, contact, now), from_address=phone,
            to_address=clean(sms.to_number, 254) or None, subject=None, body=clean(sms.body, MAX_BODY_CHARS),
            provider_id=clean(sms.sid, 80) or None, data=data, want_lots=inbound.kind == "balance", now=now,
            simulated=sms.simulated)
        decision = decide(inbound, channel=Channel.SMS, feedback_open=facts.feedback_request_id is not None,
                          has_media=sms.num_media > 0)
        outcome = carry_out(session, view, contact, facts, inbound, decision, Channel.SMS,
                            [other.id for other in claim.contacts], now)
        answer_due = may_answer(session, contact, facts, Channel.SMS, outcome)
        text = answer_text(session, view, contact, facts, outcome, now) if answer_due else None
        inbound_store.finish(session, contact, facts.message_id, action=outcome.action,
                             in_reply_to_id=outcome.in_reply_to_id, data={**data, **outcome.data, "reply": text},
                             answer=_sms_answer(contact, phone, sms.to_number, text, sms.simulated), now=now)
        return Answer(outcome.action, text, facts.message_id, contact.id)


def _phone(raw: str, view: ProgramView) -> str | None:
    try:
        return normalize_phone(raw, view.settings.get("phone_region"))
    except (ValueError, TypeError):  # malformed, short code, alphanumeric sender, bad region setting
        return None


def _sms_answer(contact: Contact, phone: str | None, our_number: str, text: str | None,
                simulated: bool) -> SmsAnswer | None:
    if not text:
        return None
    segments = count_segments(text)
    return SmsAnswer(text=text, to_address=phone, from_address=clean(our_number, 254) or None,
                     locale=contact.locale, segments=segments.segments, encoding=segments.encoding,
                     simulated=simulated)


# ---------------------------------------------------------------------------------------------
# Email


def email_event_id(email: InboundEmail) -> str:
    """The dedupe key of an inbound email: its Message-ID, else a hash of what it says."""
    if email.message_id:
        return email.message_id[:120]
    digest = hashlib.sha256("\x1f".join((email.sender or "", email.to, email.subject, email.text))
                            .encode("utf-8", "replace")).hexdigest()
    return f"sha256:{digest}"


def receive_email(session: Session, email: InboundEmail, now: datetime) -> Answer:
    """Handle one inbound email (Inbound Parse) in one transaction; a retry changes nothing."""
    with transaction(session):
        view = load(session)
        words = reply_text(email.text)
        inbound = classify_reply(words)
        claim = inbound_store.claim(session, PROVIDER_EMAIL, email_event_id(email), Channel.EMAIL,
                                    email.sender, now)
        if not claim.first:
            return Answer("duplicate", duplicate=True)
        if not claim.contacts:
            return Answer("unknown_sender")
        contact = _pick(session, claim.contacts, Channel.EMAIL)
        data = {"automatic": email.automatic} if email.automatic else {}
        facts = inbound_store.store(
            session, contact, Channel.EMAIL, _window(view, contact, now),
            from_address=clean(email.sender, 254) or None,
            to_address=clean(email.to, 254) or None, subject=clean(email.subject, 998) or None,
            body=clean(words, MAX_BODY_CHARS),
            provider_id=clean(email.message_id, 80) or None, data=data, want_lots=inbound.kind == "balance",
            now=now)
        decision = decide(inbound, channel=Channel.EMAIL, automatic=email.automatic,
                          feedback_open=facts.feedback_request_id is not None)
        outcome = carry_out(session, view, contact, facts, inbound, decision, Channel.EMAIL,
                            [other.id for other in claim.contacts], now)
        text = answer_text(session, view, contact, facts, outcome, now) if outcome.reply_key else None
        if text:
            _queue_email_answer(session, view, session.get(Member, contact.id), facts.message_id, text,
                                email.subject, outcome, now)
        inbound_store.finish(session, contact, facts.message_id, action=outcome.action,
                             in_reply_to_id=outcome.in_reply_to_id, data={**data, **outcome.data, "reply": text},
                             answer=None, now=now)
        return Answer(outcome.action, None, facts.message_id, contact.id)


def _email_subject(view: ProgramView, subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        return view.program.name
    return (subject if subject.lower().startswith("re:") else f"Re: {subject}")[:200]


def _queue_email_answer(session: Session, view: ProgramView, member: Member, inbound_id: int, text: str,
                        subject: str, outcome: Outcome, now: datetime) -> None:
    content = Content(body=text, subject=_email_subject(view, subject),
                      html="<p>" + html_lib.escape(text).replace("\n", "<br>") + "</p>", locale=member.locale)
    if not outcome.answer_always:
        queue_message(session, member, flow=None, channels=[Channel.EMAIL], render=lambda _channel: content,
                      now=now, exempt=True, in_reply_to_id=inbound_id, data={"answer": True}, view=view)
        return
    queue_forced_answer(session, member, content, now, in_reply_to_id=inbound_id)


# ---------------------------------------------------------------------------------------------
# Shared steps


def _pick(session: Session, contacts: list[Contact], channel: str) -> Contact:
    """Of several members sharing a number or address, the one we last wrote to on it."""
    if len(contacts) == 1:
        return contacts[0]
    by_id = {contact.id: contact for contact in contacts}
    latest = session.scalar(select(Message.member_id).where(
        Message.member_id.in_(by_id), Message.direction == Direction.OUT, Message.channel == channel,
        Message.status.in_(WENT_OUT)).order_by(Message.id.desc()).limit(1))
    return by_id.get(latest) or contacts[-1]


def _window(view: ProgramView, contact: Contact, now: datetime) -> Window:
    """The instants the facts about a member are read against."""
    try:
        zone = member_zone(contact, view)
    except Exception:  # noqa: BLE001 - an unusable stored time zone: the program's day
        zone = view.zone
    return Window(feedback_since=now - feedback.ANSWER_WINDOW, reply_since=now - reply_rules.REPLY_WINDOW,
                  day_start=reply_rules.local_day_start(now, zone),
                  qualifying_since=tiers.qualifying_since(now, view.rules.qualifying_window_days))


def _replay(session: Session, channel: str, provider_id: str | None, view: ProgramView,
            inbound: Inbound) -> Answer:
    """A provider retry: the same answer as the first time, nothing else."""
    message = session.scalar(select(Message).where(
        Message.direction == Direction.IN, Message.channel == channel,
        Message.provider_id == clean(provider_id, 80)).order_by(Message.id).limit(1))
    if message is None:  # the first delivery came from an unknown sender: answer alike
        first = _stranger(view, inbound)
        return Answer(first.action, first.reply, duplicate=True)
    return Answer(message.action or "duplicate", (message.data or {}).get("reply"), message.id,
                  message.member_id, duplicate=True)


def _stranger(view: ProgramView, inbound: Inbound) -> Answer:
    """Not a member: say so (except after STOP, when nothing more is said); store nothing."""
    if inbound.kind == "opt_out":
        return Answer("unknown_sender")
    context = {"program": {"name": view.program.name, "help_text": view.program.help_text}}
    return Answer("unknown_sender", render("not_member", view.program.default_locale, context, view))


