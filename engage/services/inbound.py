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
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from engage import flows
from engage.errors import EngageError
from engage.flows.compose import public_url
from engage.flows.context import build_context
from engage.loyalty import earning as earning_rules
from engage.loyalty import lots, replies as reply_rules, rewards
from engage.messaging import count_segments
from engage.messaging.email_reply import InboundEmail, classify_reply, reply_text
from engage.messaging.keywords import Inbound, classify, keyword_core
from engage.messaging.phones import normalize_phone
from engage.messaging.replies import REPLY_KEY, Decision, decide, with_opt_out_type
from engage.models import ConsentEvent, Feedback, Member, Message, Suppression
from engage.outbox.contacts import state_of
from engage.outbox.content import Content
from engage.outbox.enqueue import member_zone, queue_message
from engage.outbox.results import opt_out
from engage.services import feedback, ledger, members, transaction
from engage.services.delivery import first_time
from engage.services.earning import award
from engage.services.program import ProgramView, load
from engage.services.redemption import _redeem_locked
from engage.templating import render_reply

log = logging.getLogger(__name__)

PROVIDER_SMS = "twilio_sms"
PROVIDER_EMAIL = "sendgrid_inbound"
RECEIVED = "received"  # status of inbound messages
MAX_BODY_CHARS = 10_000  # Twilio caps SMS at 1,600; anything longer is not from a phone
ANSWERED = ("sending", "sent", "delivered", "unknown")


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


@dataclass
class _Outcome:
    action: str
    reply_key: str | None
    answer_always: bool = False
    in_reply_to_id: int | None = None
    extra: dict = field(default_factory=dict)  # template variables for the answer
    data: dict = field(default_factory=dict)  # stored on the inbound message


def _clean(value: str | None, limit: int) -> str:
    """Text safe for any database: no NUL (PostgreSQL refuses it), bounded length."""
    return (value or "").replace("\x00", "")[:limit]


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
        member_ids = _member_ids(session, Member.phone == phone) if phone else []
        if not member_ids:
            return _stranger(view, inbound)
        member = members.lock(session, _pick(session, member_ids, "sms"))
        message = _store_inbound(
            session, member, "sms", now, provider_id=sms.sid, from_address=phone, to_address=sms.to_number,
            body=sms.body, data={"num_media": sms.num_media, "media": list(sms.media_urls)[:10]})
        feedback_open = _open_feedback(session, member, now) is not None
        decision = decide(inbound, channel="sms", feedback_open=feedback_open, has_media=sms.num_media > 0)
        outcome = _carry_out(session, view, member, message, inbound, decision, "sms", member_ids, now)
        answer_due = _may_answer(session, member, "sms", outcome)
        text = _answer_text(session, view, member, outcome, now) if answer_due else None
        if text:
            answer = _record_sms_answer(session, member, message, text, sms.to_number, now)
            outcome.data["answer_id"] = answer.id
        _finish(message, outcome, text)
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
        to_address=inbound.from_address, from_address=_clean(our_number, 254) or None,
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
        member_ids = _member_ids(session, func.lower(Member.email) == email.sender) if email.sender else []
        if not member_ids:
            return Answer("unknown_sender")
        member = members.lock(session, _pick(session, member_ids, "email"))
        message = _store_inbound(
            session, member, "email", now, provider_id=email.message_id, from_address=email.sender,
            to_address=email.to, body=words, subject=_clean(email.subject, 998) or None,
            data={"automatic": email.automatic} if email.automatic else {})
        decision = decide(inbound, channel="email", automatic=email.automatic,
                          feedback_open=_open_feedback(session, member, now) is not None)
        outcome = _carry_out(session, view, member, message, inbound, decision, "email", member_ids, now)
        text = _answer_text(session, view, member, outcome, now) if outcome.reply_key else None
        if text:
            answer = _queue_email_answer(session, view, member, message, text, email.subject, outcome, now)
            if answer is not None:
                outcome.data["answer_id"] = answer.id
        _finish(message, outcome, text)
        return Answer(outcome.action, None, message.id, member.id)


def _email_subject(view: ProgramView, subject: str) -> str:
    subject = " ".join(subject.split())
    if not subject:
        return view.program.name
    return (subject if subject.lower().startswith("re:") else f"Re: {subject}")[:200]


def _queue_email_answer(session: Session, view: ProgramView, member: Member, inbound: Message, text: str,
                        subject: str, outcome: _Outcome, now: datetime) -> Message | None:
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


def _member_ids(session: Session, condition) -> list[int]:
    query = select(Member.id).where(condition, Member.erased_at.is_(None)).order_by(Member.id)
    return list(session.scalars(query))


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
        from_address=_clean(from_address, 254) or None, to_address=_clean(to_address, 254) or None,
        subject=subject, body=_clean(body, MAX_BODY_CHARS), provider_id=_clean(provider_id, 80) or None,
        send_after=now, sent_at=now, attempts=0, data=dict(data or {}), created_at=now, updated_at=now)
    session.add(message)
    session.flush()
    return message


def _replay(session: Session, channel: str, provider_id: str | None, view: ProgramView,
            inbound: Inbound) -> Answer:
    """A provider retry: the same answer as the first time, nothing else."""
    message = session.scalar(select(Message).where(
        Message.direction == "in", Message.channel == channel,
        Message.provider_id == _clean(provider_id, 80)).order_by(Message.id).limit(1))
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
    return Answer("unknown_sender", _render("not_member", view.program.default_locale, context, view))


def _open_feedback(session: Session, member: Member, now: datetime) -> int | None:
    """The open feedback request not answered yet (one Feedback per request)."""
    request_id = feedback.open_request(session, member.id, now)
    if request_id is None:
        return None
    answered = session.scalar(select(Feedback.id).where(Feedback.request_message_id == request_id))
    return None if answered else request_id


def _latest_flow_message(session: Session, member: Member, channel: str, now: datetime) -> int | None:
    """The flow message a reply on `channel` answers: the newest sent in the reply window."""
    return session.scalar(select(Message.id).where(
        Message.member_id == member.id, Message.direction == "out", Message.channel == channel,
        Message.flow.is_not(None), Message.is_test.is_(False), Message.status.in_(ANSWERED),
        Message.sent_at >= now - reply_rules.REPLY_WINDOW,
    ).order_by(Message.sent_at.desc(), Message.id.desc()).limit(1))


def _carry_out(session: Session, view: ProgramView, member: Member, message: Message, inbound: Inbound,
               decision: Decision, channel: str, same_contact: list[int], now: datetime) -> _Outcome:
    outcome = _Outcome(decision.action, REPLY_KEY.get(decision.action), decision.answer_always,
                       _latest_flow_message(session, member, channel, now),
                       data={"kind": inbound.kind} if inbound.kind != "empty" else {})
    if decision.action == "opt_out":
        source = f"{channel}:{_keyword(inbound, 'STOP')}:message:{message.id}"
        for member_id in same_contact:  # opt-out is about the number or address, whoever has it
            opt_out(session, member_id, channel, source, now)
    elif decision.action == "opt_in":
        source = f"sms:{_keyword(inbound, 'START')}:message:{message.id}"
        for member_id in same_contact:
            _opt_in_sms(session, member_id, source, now)
    elif decision.action == "redeem":
        _redeem(session, view, member, message, outcome, now)
    elif decision.action == "feedback":
        _feedback(session, view, member, message, inbound, outcome, channel, now)
    elif decision.action == "reply":
        _reply_points(session, view, member, message, outcome, channel, now)
    if decision.action in ("opt_out", "opt_in"):
        session.flush()
        session.refresh(member)  # the consent columns changed by UPDATE statements
    return outcome


def _keyword(inbound: Inbound, default: str) -> str:
    """The keyword the member used ("STOP", "QUIT" …) for the consent record, or `default`."""
    word = keyword_core(inbound.text.split("\n", 1)[0]).upper()
    return word if word.isalnum() and len(word) <= 16 else default


def _opt_in_sms(session: Session, member_id: int, source: str, now: datetime) -> None:
    """START: lift the SMS opt-out (and the matching 21610 suppression) and give consent."""
    member = session.get(Member, member_id)
    if member is None:
        return
    if session.execute(update(Member).where(Member.id == member_id, Member.sms_opted_out.is_(True))
                       .values(sms_opted_out=False)).rowcount:
        session.add(ConsentEvent(member_id=member_id, channel="sms", change="opt_in", source=source, at=now))
    if session.execute(update(Member).where(Member.id == member_id, Member.sms_consent.is_(False))
                       .values(sms_consent=True)).rowcount:
        session.add(ConsentEvent(member_id=member_id, channel="sms", change="consent_given", source=source,
                                 at=now))
    if member.phone:  # Twilio unblocks the number on START; so do we
        session.execute(delete(Suppression).where(
            Suppression.channel == "sms", Suppression.address == member.phone,
            Suppression.reason.like("%recipient opted out%")))


def _redeem(session: Session, view: ProgramView, member: Member, message: Message, outcome: _Outcome,
            now: datetime) -> None:
    tier = view.tier(member.tier_id)
    available = lots.available_points(ledger.open_lots(session, member.id), now)
    choice = rewards.cheapest_paid(view.rewards, tier, available)
    if choice is not None:
        try:
            done = _redeem_locked(session, member, choice.id, now)
        except EngageError as error:  # cannot happen under the member lock; answer why not
            log.warning("REDEEM by message %s refused: %s", message.id, error.message)
        else:
            outcome.reply_key = "redeem_ok"
            outcome.extra = {"coupon_code": done["coupon_code"], "redeemed": {
                "name": done["reward"], "cost": done["points_spent"], "kind": done["kind"]}}
            outcome.data.update(redemption_id=done["id"], points=-done["points_spent"])
            return
    outcome.action, outcome.reply_key = "redeem_refused", "redeem_none"
    eligible = [r for r in view.rewards if r.active and r.cost > 0 and r.kind != "donation"
                and (r.min_tier_threshold is None or tier.threshold >= r.min_tier_threshold)]
    target = min(eligible, key=lambda r: (r.cost, r.id), default=None)
    shortfall = max(0, target.cost - available) if target else 0
    saving_for = {"name": target.name, "cost": target.cost, "kind": target.kind} if target else None
    outcome.extra = {"shortfall": shortfall or None, "redeemed": saving_for}
    outcome.data["reason"] = f"short by {shortfall} points" if shortfall else "no reward available"


def _credit(session: Session, view: ProgramView, member: Member, points: int, reason: str, source: str,
            outcome: _Outcome, now: datetime) -> None:
    result = award(session, view, member, points, reason=reason, source=source, occurred_at=now, now=now)
    if result.points:
        outcome.data["points"] = result.points
        outcome.data["ledger_source"] = source
        flows.react(session, result.events, now)


def _feedback(session: Session, view: ProgramView, member: Member, message: Message, inbound: Inbound,
              outcome: _Outcome, channel: str, now: datetime) -> None:
    request_id = _open_feedback(session, member, now)
    outcome.in_reply_to_id = request_id
    text = inbound.text if inbound.kind == "text" or "\n" in inbound.text else None
    session.add(Feedback(member_id=member.id, request_message_id=request_id, inbound_message_id=message.id,
                         rating=inbound.rating, text=_clean(text, MAX_BODY_CHARS) or None, created_at=now))
    outcome.data["rating"] = inbound.rating
    source = earning_rules.action_source("feedback", 0, request_id)
    if ledger.has_source(session, member.id, source):
        outcome.data["reason"] = "this feedback request was already rewarded"
        return
    _credit(session, view, member, earning_rules.action_points("feedback", view.rules),
            f"feedback by {channel} (inbound message {message.id})", source, outcome, now)


def _reply_points(session: Session, view: ProgramView, member: Member, message: Message, outcome: _Outcome,
                  channel: str, now: datetime) -> None:
    replied_to = outcome.in_reply_to_id
    source = reply_rules.reply_source(replied_to) if replied_to else ""
    rewarded = bool(replied_to) and (
        ledger.has_source(session, member.id, source)
        or ledger.has_source(session, member.id, earning_rules.action_source("feedback", 0, replied_to)))
    try:
        zone = member_zone(member, view)
    except Exception:  # noqa: BLE001 - an unusable stored time zone: the program's day
        zone = view.zone
    since = reply_rules.local_day_start(now, zone)
    today = ledger.earned_today(session, member.id, reply_rules.REPLY_SOURCE_PREFIX, since)
    points, why_not = reply_rules.reply_points(
        earning_rules.action_points("reply", view.rules), daily_cap=view.rules.reply_daily_cap,
        earned_today=today, replied_to=replied_to, already_rewarded=rewarded)
    if why_not:
        outcome.data["reason"] = why_not
        return
    _credit(session, view, member, points, f"reply by {channel} (inbound message {message.id})", source,
            outcome, now)


def _may_answer(session: Session, member: Member, channel: str, outcome: _Outcome) -> bool:
    if outcome.reply_key is None:
        return False
    if outcome.answer_always:
        return True
    state = state_of(session, member)
    if channel == "sms":
        return not (state.sms_opted_out or state.phone_suppressed)
    return not (state.email_opted_out or state.email_suppressed or state.email_invalid)


def _render(key: str, locale: str | None, context: dict, view: ProgramView) -> str | None:
    try:
        return render_reply(key, locale or view.program.default_locale, context,
                            program_locale=view.program.default_locale) or None
    except Exception:  # noqa: BLE001 - a broken reply template must not undo an opt-out
        log.exception("reply template %r failed to render", key)
        return None


def _answer_text(session: Session, view: ProgramView, member: Member, outcome: _Outcome,
                 now: datetime) -> str | None:
    if outcome.reply_key is None:
        return None
    return _render(outcome.reply_key, member.locale, _answer_context(session, view, member, outcome, now),
                   view)


# Answers that only greet or confirm don't need the member's points: skip those queries.
NEEDS_FULL_CONTEXT = {"balance"}
NEEDS_POINTS = {"feedback_thanks", "redeem_none", "redeem_ok"}


def _answer_context(session: Session, view: ProgramView, member: Member, outcome: _Outcome,
                    now: datetime) -> dict:
    if outcome.reply_key in NEEDS_FULL_CONTEXT:
        return build_context(session, member, view, now, public_url(session), **outcome.extra)
    points = ledger.balance(session, member.id) if outcome.reply_key in NEEDS_POINTS else None
    return {"member": {"first_name": member.first_name, "last_name": member.last_name, "points": points,
                       "locale": member.locale or view.program.default_locale},
            "program": {"name": view.program.name, "help_text": view.program.help_text},
            **outcome.extra}


def _finish(message: Message, outcome: _Outcome, text: str | None) -> None:
    message.action = outcome.action
    message.in_reply_to_id = outcome.in_reply_to_id
    message.data = {**(message.data or {}), **outcome.data, "reply": text}
