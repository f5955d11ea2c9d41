"""What an inbound message does: opt-out/in, redemption, feedback, reply points."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from engage import flows
from engage.errors import EngageError
from engage.loyalty import challenges as challenge_rules
from engage.loyalty import earning as earning_rules
from engage.loyalty import lots, reward_limits, rewards
from engage.loyalty import replies as reply_rules
from engage.messaging.keywords import Inbound, keyword_core
from engage.messaging.replies import REPLY_KEY, Decision
from engage.models import Feedback, Member
from engage.services import challenges, consent, offers
from engage.services.awards import award
from engage.services.inbound_common import MAX_BODY_CHARS, clean
from engage.services.inbound_store import Contact, Facts
from engage.services.redemption import _redeem_locked
from engage.store import ledger
from engage.store.program import ProgramView
from engage.vocabulary import Channel

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    action: str
    reply_key: str | None
    answer_always: bool = False
    in_reply_to_id: int | None = None
    extra: dict = field(default_factory=dict)  # template variables for the answer
    data: dict = field(default_factory=dict)  # stored on the inbound message


def carry_out(session: Session, view: ProgramView, contact: Contact, facts: Facts, inbound: Inbound,
              decision: Decision, channel: str, same_contact: list[int], now: datetime) -> Outcome:
    outcome = Outcome(decision.action, REPLY_KEY.get(decision.action), decision.answer_always,
                      facts.replied_to, data={"kind": inbound.kind} if inbound.kind != "empty" else {})
    if decision.action == "opt_out":
        if channel == Channel.EMAIL:
            outcome.reply_key = "opt_out_email"
        source = f"{channel}:{_keyword(inbound, 'STOP')}:message:{facts.message_id}"
        for member_id in same_contact:  # opt-out is about the number or address, whoever has it
            consent.opt_out(session, member_id, channel, source, now)
    elif decision.action == "opt_in":
        source = f"sms:{_keyword(inbound, 'START')}:message:{facts.message_id}"
        for member_id in same_contact:
            consent.opt_in_sms(session, member_id, source, now)
    elif decision.action == "redeem":
        _redeem(session, view, contact, facts, outcome, now)
    elif decision.action == "redeem_offer":
        offer = offers.by_keyword(session, contact.id, inbound.keyword or "")
        if offer is None:  # "redeem now" names no offer: an ordinary reply
            outcome.action, outcome.reply_key = "reply", REPLY_KEY["reply"]
            _reply_points(session, view, contact, facts, outcome, channel, now)
        else:
            _redeem_offer(session, contact, offer, inbound, outcome, now)
    elif decision.action == "feedback":
        _feedback(session, view, contact, facts, inbound, outcome, channel, now)
    elif decision.action == "reply":
        if not _join_challenge(session, view, contact, inbound, outcome, now):
            _reply_points(session, view, contact, facts, outcome, channel, now)
    return outcome


def _join_challenge(session: Session, view: ProgramView, contact: Contact, inbound: Inbound, outcome: Outcome,
                    now: datetime) -> bool:
    """A challenge's keyword alone joins it (and earns no reply points): True if it did."""
    joined = challenges.join_by_keyword(session, view, contact.id, inbound.text, now)
    if joined is None:
        return False
    challenge, count = joined
    outcome.reply_key = "challenge_joined"
    outcome.extra = {"challenge": challenge_rules.template_variable(challenge, count, view.zone)}
    outcome.data["challenge_id"] = challenge.id
    return True


def _keyword(inbound: Inbound, default: str) -> str:
    """The keyword the member used ("STOP", "QUIT" …) for the consent record, or `default`."""
    word = keyword_core(inbound.text.split("\n", 1)[0]).upper()
    return word if word.isalnum() and len(word) <= 16 else default


def _redeem(session: Session, view: ProgramView, contact: Contact, facts: Facts, outcome: Outcome,
            now: datetime) -> None:
    tier = view.tier(contact.tier_id)
    available = lots.available_points(ledger.open_lots(session, contact.id), now)
    choice = rewards.cheapest_paid(view.rewards, tier, available, now)
    if choice is not None:
        try:
            done = _redeem_locked(session, contact, choice.id, now)
        except EngageError as error:  # sold out by a concurrent redemption (nothing written); answer why not
            log.warning("REDEEM by message %s refused: %s", facts.message_id, error.message)
        else:
            outcome.reply_key = "redeem_ok"
            outcome.extra = {"coupon_code": done["coupon_code"], "redeemed": {
                "name": rewards.reward_text(choice, contact.locale).name, "cost": done["points_spent"],
                "kind": done["kind"], "partner": done["partner"]}}
            outcome.data.update(redemption_id=done["id"], points=-done["points_spent"])
            return
    outcome.action, outcome.reply_key = "redeem_refused", "redeem_none"
    eligible = [r for r in view.rewards if r.active and r.cost > 0 and r.kind != "donation"
                and (r.min_tier_threshold is None or tier.threshold >= r.min_tier_threshold)
                and reward_limits.is_open(r.calendar, tier.id, now) and not reward_limits.sold_out(r.left)]
    target = min(eligible, key=lambda r: (r.cost, r.id), default=None)
    shortfall = max(0, target.cost - available) if target else 0
    saving_for = ({"name": rewards.reward_text(target, contact.locale).name, "cost": target.cost,
                   "kind": target.kind, "partner": target.partner} if target else None)
    outcome.extra = {"shortfall": shortfall or None, "redeemed": saving_for}
    outcome.data["reason"] = f"short by {shortfall} points" if shortfall else "no reward available"


def _redeem_offer(session: Session, contact: Contact, offer, inbound: Inbound, outcome: Outcome,
                  now: datetime) -> None:
    """REDEEM <keyword>: the member's offer with that keyword, or the reason it cannot be had."""
    problem = offers.text_problem(offer, now)
    if problem is None:
        try:
            done = offers.redeem_locked(session, contact, offer, now)
        except EngageError:  # the offer is open: points fall short, or the reward was withdrawn
            problem = "points" if offers.shortfall(session, contact.id, offer, now) else "unavailable"
        else:
            outcome.reply_key = "redeem_ok"
            outcome.extra = {"coupon_code": done["coupon_code"], "redeemed": {
                "name": offers.reward_name(session, offer, contact.locale), "cost": done["points_spent"],
                "kind": done["kind"]}}
            outcome.data.update(redemption_id=done["id"], offer_id=offer.id, points=-done["points_spent"])
            return
    outcome.action, outcome.reply_key = "redeem_refused", "offer_refused"
    shortfall = offers.shortfall(session, contact.id, offer, now) if problem == "points" else None
    outcome.extra = {"offer_problem": problem, "shortfall": shortfall, "redeemed": {
        "name": offers.reward_name(session, offer, contact.locale), "cost": offer.cost, "kind": "offer"}}
    outcome.data["reason"] = f"offer {inbound.keyword}: {problem}"


def _credit(session: Session, view: ProgramView, contact: Contact, points: int, reason: str, source: str,
            outcome: Outcome, now: datetime) -> None:
    member = session.get(Member, contact.id)  # locked by the claim; award may lift its tier
    result = award(session, view, member, points, reason=reason, source=source, occurred_at=now, now=now)
    if result.points:
        outcome.data["points"] = result.points
        outcome.data["ledger_source"] = source
        flows.react(session, result.events, now)


def _feedback(session: Session, view: ProgramView, contact: Contact, facts: Facts, inbound: Inbound,
              outcome: Outcome, channel: str, now: datetime) -> None:
    request_id = facts.feedback_request_id
    outcome.in_reply_to_id = request_id
    text = inbound.text if inbound.kind == "text" or "\n" in inbound.text else None
    session.add(Feedback(member_id=contact.id, request_message_id=request_id, inbound_message_id=facts.message_id,
                         rating=inbound.rating, text=clean(text, MAX_BODY_CHARS) or None, created_at=now))
    outcome.data["rating"] = inbound.rating
    source = earning_rules.action_source("feedback", 0, request_id)
    if ledger.has_source(session, contact.id, source):
        outcome.data["reason"] = "this feedback request was already rewarded"
        return
    _credit(session, view, contact, earning_rules.action_points("feedback", view.rules),
            f"feedback by {channel} (inbound message {facts.message_id})", source, outcome, now)
    if inbound.rating is not None:  # a rating counts toward feedback challenges
        flows.react(session, challenges.after_activity(session, view, contact.id, "feedback", now, now), now)


def _reply_points(session: Session, view: ProgramView, contact: Contact, facts: Facts, outcome: Outcome,
                  channel: str, now: datetime) -> None:
    replied_to = outcome.in_reply_to_id
    points, why_not = reply_rules.reply_points(
        earning_rules.action_points("reply", view.rules), daily_cap=view.rules.reply_daily_cap,
        earned_today=facts.replies_today, replied_to=replied_to, already_rewarded=facts.reply_rewarded)
    if why_not:
        outcome.data["reason"] = why_not
        return
    _credit(session, view, contact, points, f"reply by {channel} (inbound message {facts.message_id})",
            reply_rules.reply_source(replied_to), outcome, now)
