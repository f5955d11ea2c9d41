"""Inbound SMS and email: keywords, redemptions, feedback and reply points (SPEC.md "Inbound replies").

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

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engage.messaging import count_segments
from engage.messaging.email_reply import InboundEmail, classify_reply, reply_text
from engage.messaging.keywords import Inbound, classify
from engage.messaging.phones import normalize_phone
from engage.messaging.replies import decide, with_opt_out_type
from engage.models import Member, Message
from engage.outbox.content import Content
from engage.outbox.enqueue import queue_message
from engage.services import transaction
from engage.services.delivery import first_time
from engage.services.inbound_actions import Outcome, carry_out, open_feedback
from engage.services.inbound_answers import answer_text, finish, may_answer, render
from engage.services.inbound_common import ANSWERED, MAX_BODY_CHARS, RECEIVED, clean
from engage.services.program import ProgramView, load

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
        if not first_time(session, PROVIDER_SMS, sms.sid, now):
            return _replay(session, "sms", sms.sid, view, inbound)
        phone = _phone(sms.from_number, view)
        locked = _lock_members(session, Member.phone == phone) if phone else {}
        member_ids = list(locked)
        if not member_ids:
            return _stranger(view, inbound)
        member = locked[_pick(session, member_ids, "sms")]
        message = _store_inbound(
            session, member, "sms", now, provider_id=sms.sid, from_address=phone, to_address=sms.to_number,
            body=sms.body, data={"num_media": sms.num_media, "media": list(sms.media_urls)[:10]})
        feedback_open = open_feedback(session, member, now) is not None
        decision = decide(inbound, channel="sms", feedback_open=feedback_open, has_media=sms.num_media > 0)
        outcome = carry_out(session, view, member, message, inbound, decision, "sms", member_ids, now)
        answer_due = may_answer(session, member, "sms", outcome)
        text = answer_text(session, view, member, outcome, now) if answer_due else None
        if text:
            answer = _record_sms_answer(session, member, message, text, sms.to_number, now)
            outcome.data["answer_id"] = answer.id
        finish(message, outcome, text)
        return Answer(outcome.action, text, message.id, member.id)


def _phone(raw: str, view: ProgramView) -> str | None:
    try:
        return normalize_phone(raw, view.settings.get("phone_region"))
    except (ValueError, TypeError):  # malformed, short code, alphanumeric sender, bad region setting
        return None


def _record_sms_answer(session: Session, member: Member, inbound: Message, text: str, our_number: str,
                       now: datetime) -> Message:
    """The TwiML answer, stored as sent so the member's thread shows it (never dispatched)."""
    segments = count_segments(text)
    answer = Message(
        member_id=member.id, direction="out", flow=None, channel="sms", status="sent",
        to_address=inbound.from_address, from_address=clean(our_number, 254) or None,
        locale=member.locale, body=text, segments=segments.segments, encoding=segments.encoding,
        priority=0, exempt=True, send_after=now, sent_at=now, attempts=0, in_reply_to_id=inbound.id,
        data={"via": "twiml"}, created_at=now, updated_at=now)
    session.add(answer)
    session.flush()
    return answer


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
        if not first_time(session, PROVIDER_EMAIL, email_event_id(email), now):
            return Answer("duplicate", duplicate=True)
        locked = _lock_members(session, func.lower(Member.email) == email.sender) if email.sender else {}
        member_ids = list(locked)
        if not member_ids:
            return Answer("unknown_sender")
        member = locked[_pick(session, member_ids, "email")]
        message = _store_inbound(
            session, member, "email", now, provider_id=email.message_id, from_address=email.sender,
            to_address=email.to, body=words, subject=clean(email.subject, 998) or None,
            data={"automatic": email.automatic} if email.automatic else {})
        decision = decide(inbound, channel="email", automatic=email.automatic,
                          feedback_open=open_feedback(session, member, now) is not None)
        outcome = carry_out(session, view, member, message, inbound, decision, "email", member_ids, now)
        text = answer_text(session, view, member, outcome, now) if outcome.reply_key else None
        if text:
            answer = _queue_email_answer(session, view, member, message, text, email.subject, outcome, now)
            if answer is not None:
                outcome.data["answer_id"] = answer.id
        finish(message, outcome, text)
        return Answer(outcome.action, None, message.id, member.id)


def _email_subject(view: ProgramView, subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        return view.program.name
    return (subject if subject.lower().startswith("re:") else f"Re: {subject}")[:200]


def _queue_email_answer(session: Session, view: ProgramView, member: Member, inbound: Message, text: str,
                        subject: str, outcome: Outcome, now: datetime) -> Message | None:
    content = Content(body=text, subject=_email_subject(view, subject),
                      html="<p>" + html_lib.escape(text).replace("\n", "<br>") + "</p>", locale=member.locale)
    if not outcome.answer_always:
        return queue_message(session, member, flow=None, channels=["email"], render=lambda _channel: content,
                             now=now, exempt=True, in_reply_to_id=inbound.id, data={"answer": True}, view=view)
    if not member.email:
        return None
    # The direct answer to the member's own STOP or HELP goes out even though they opted out.
    answer = Message(
        member_id=member.id, direction="out", flow=None, channel="email", status="queued",
        to_address=member.email, subject=content.subject, body=content.body, html=content.html,
        locale=member.locale, priority=0, exempt=True, send_after=now, attempts=0,
        in_reply_to_id=inbound.id, data={"answer": True, "force": True}, created_at=now, updated_at=now)
    session.add(answer)
    session.flush()
    return answer


# ---------------------------------------------------------------------------------------------
# Shared steps


def _lock_members(session: Session, condition) -> dict[int, Member]:
    """The members with this number or address, locked (one query; usually one member)."""
    query = (select(Member).where(condition, Member.erased_at.is_(None)).order_by(Member.id)
             .with_for_update().execution_options(populate_existing=True))
    return {member.id: member for member in session.scalars(query)}


def _pick(session: Session, member_ids: list[int], channel: str) -> int:
    """Of several members sharing a number or address, the one we last wrote to on it."""
    if len(member_ids) == 1:
        return member_ids[0]
    latest = session.scalar(select(Message.member_id).where(
        Message.member_id.in_(member_ids), Message.direction == "out", Message.channel == channel,
        Message.status.in_(ANSWERED)).order_by(Message.id.desc()).limit(1))
    return latest or member_ids[-1]


def _store_inbound(session: Session, member: Member, channel: str, now: datetime, *, provider_id: str | None,
                   from_address: str | None, to_address: str | None, body: str, subject: str | None = None,
                   data: dict | None = None) -> Message:
    message = Message(
        member_id=member.id, direction="in", flow=None, channel=channel, status=RECEIVED,
        from_address=clean(from_address, 254) or None, to_address=clean(to_address, 254) or None,
        subject=subject, body=clean(body, MAX_BODY_CHARS), provider_id=clean(provider_id, 80) or None,
        send_after=now, sent_at=now, attempts=0, data=dict(data or {}), created_at=now, updated_at=now)
    session.add(message)
    session.flush()
    return message


def _replay(session: Session, channel: str, provider_id: str | None, view: ProgramView,
            inbound: Inbound) -> Answer:
    """A provider retry: the same answer as the first time, nothing else."""
    message = session.scalar(select(Message).where(
        Message.direction == "in", Message.channel == channel,
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


