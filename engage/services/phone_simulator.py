"""The console's phone simulator: a marketer texts as a member, with no Twilio account.

The text goes through `inbound.receive_sms`, the service behind Twilio's webhook, so STOP, START,
HELP, POINTS, REDEEM, ratings, free text and reply points behave exactly as they would from the
member's phone. What is simulated, and what is not:
- the inbound message and its answer are stored with `simulated` set. SMS answers are only
  recorded (Twilio would carry them back in the webhook's TwiML), never queued to the outbox, so
  nothing reaches a provider; flow statistics and /metrics leave simulated messages out.
- the effects are real: it is the member's account. A simulated STOP opts the member out of SMS
  (the consent history says it came from a message), POINTS shows the real balance, REDEEM spends
  real points, a rating or reply earns real points, and a flow message those effects start (a tier
  congratulation after reply points) is queued and sent like any other. Marking the effects too
  would need a shadow ledger and consent; the issue asks for a real STOP. Every simulated text is
  in the audit log under the marketer's name.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from engage.errors import Unprocessable
from engage.models import Member, Message
from engage.services import audit
from engage.services.inbound import Answer, InboundSms, receive_sms
from engage.store import transaction
from engage.store.members import get
from engage.vocabulary import Channel

MAX_TEXT_CHARS = 1600  # what Twilio delivers at most
THREAD_ROWS = 60
SID_PREFIX = "SIM"  # Twilio's ids start SM/MM: a simulated one never collides with a real one


def text_as(session: Session, member_id: int, body: str, our_number: str | None, actor: audit.Actor,
            now: datetime) -> Answer:
    """Receive `body` as an SMS from the member's phone; the answer, as the webhook gives it."""
    if not body.strip() or len(body) > MAX_TEXT_CHARS:
        raise Unprocessable("invalid text", {"body": [f"type a text of 1 to {MAX_TEXT_CHARS} characters"]})
    with transaction(session):
        phone = get(session, member_id).phone
    if not phone:
        raise Unprocessable("this member has no phone number", {"body": ["this member has no phone number"]})
    sms = InboundSms(sid=f"{SID_PREFIX}{uuid.uuid4().hex}", from_number=phone, to_number=our_number or "",
                     body=body, simulated=True)
    answer = receive_sms(session, sms, now)
    audit.record(session, actor, "member.simulate_sms", "member", str(member_id), None,
                 {"text": body, "action": answer.action, "message_id": answer.message_id}, now)
    return answer


def thread(session: Session, member_id: int) -> tuple[Member, list[Message]]:
    """The member, and their SMS in and out, real and simulated, oldest first (the newest THREAD_ROWS)."""
    with transaction(session):
        member = get(session, member_id)
        rows = session.scalars(select(Message).where(Message.member_id == member.id, Message.channel == Channel.SMS)
                               .order_by(Message.id.desc()).limit(THREAD_ROWS))
        return member, list(rows)[::-1]
