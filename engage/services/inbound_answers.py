"""The answer to an inbound message, in the member's language, with only the context it needs."""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.orm import Session

from engage.flows.compose import public_url
from engage.flows.context import build_context
from engage.models import Member
from engage.services.inbound_actions import Outcome
from engage.services.inbound_store import Contact, Facts
from engage.store import ledger
from engage.store.contacts import state_of
from engage.store.program import ProgramView
from engage.templating import render_reply
from engage.vocabulary import Channel

log = logging.getLogger(__name__)


def may_answer(session: Session, contact: Contact, facts: Facts, channel: str, outcome: Outcome) -> bool:
    if outcome.reply_key is None:
        return False
    if outcome.answer_always:
        return True
    state = facts.state
    if outcome.action == "opt_in":  # START just changed the consent and suppressions read before it
        state = state_of(session, session.get(Member, contact.id, populate_existing=True))
    if channel == Channel.SMS:
        return not (state.sms_opted_out or state.phone_suppressed)
    return not (state.email_opted_out or state.email_suppressed or state.email_invalid)


def render(key: str, locale: str | None, context: dict, view: ProgramView) -> str | None:
    try:
        return render_reply(key, locale or view.program.default_locale, context,
                            program_locale=view.program.default_locale) or None
    except Exception:  # noqa: BLE001 - a broken reply template must not undo an opt-out
        log.exception("reply template %r failed to render", key)
        return None


def answer_text(session: Session, view: ProgramView, member: Contact, facts: Facts, outcome: Outcome,
                now: datetime) -> str | None:
    if outcome.reply_key is None:
        return None
    return render(outcome.reply_key, member.locale,
                  _answer_context(session, view, member, facts, outcome, now), view)


# Answers that only greet or confirm don't need the member's points: skip those queries.
NEEDS_FULL_CONTEXT = {"balance"}
NEEDS_POINTS = {"feedback_thanks", "redeem_none", "redeem_ok", "offer_refused"}


def _answer_context(session: Session, view: ProgramView, member: Contact, facts: Facts, outcome: Outcome,
                    now: datetime) -> dict:
    if outcome.reply_key in NEEDS_FULL_CONTEXT:  # a balance changes nothing: the facts still hold
        return build_context(session, member, view, now, public_url(session), open_lots=facts.open_lots,
                             totals=None if facts.qualifying is None else (facts.balance, facts.qualifying),
                             **outcome.extra)
    points = ledger.balance(session, member.id) if outcome.reply_key in NEEDS_POINTS else None
    return {"member": {"first_name": member.first_name, "last_name": member.last_name, "points": points,
                       "locale": member.locale or view.program.default_locale},
            "program": {"name": view.program.name, "help_text": view.program.help_text},
            **outcome.extra}
