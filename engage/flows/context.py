"""The variables a template sees (docs/flows.md "Templates"), built for one member."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from engage.loyalty import challenges, lots, rewards
from engage.loyalty.giving import GivingRules
from engage.models import Member
from engage.store import causes, ledger, members, memberships
from engage.store import challenges as progress_store
from engage.store.program import ProgramView


def _reward_variable(reward: rewards.RewardRule, member: Member) -> dict:
    text = rewards.reward_text(reward, member.locale)
    return {"name": text.name, "description": text.description, "cost": reward.cost}


def _reward(view: ProgramView, member: Member, available: int, now: datetime) -> dict | None:
    tier = view.tier(member.tier_id)
    choice = rewards.cheapest_paid(view.rewards, tier, available, now)
    return _reward_variable(choice, member) if choice else None


def _named_reward(view: ProgramView, member: Member, reward: dict) -> dict:
    """A flow's own reward ({id, name, cost}, stored with a waiting message) in the member's
    locale, with today's texts; as stored if the reward is gone from the catalog."""
    rule = next((r for r in view.rewards if r.id == reward.get("id")), None)
    if rule is None:
        return {"name": reward.get("name"), "description": None, "cost": reward.get("cost")}
    return {**_reward_variable(rule, member), "cost": reward.get("cost", rule.cost)}


def _expiring(expiring: dict | None) -> dict | None:
    if expiring is None:
        return None
    return {"points": expiring["points"], "date": date.fromisoformat(expiring["date"])}


def _giving(session: Session, view: ProgramView) -> dict | None:
    rules = GivingRules.from_settings(view.settings.get("giving_back"))
    if not rules.enabled:
        return None
    return {"cause": rules.cause, "total": causes.total_for(session, rules.cause),
            "currency": view.program.currency}


def _membership(session: Session, view: ProgramView, member: Member, now: datetime) -> dict | None:
    """Read only for a member holding a paid tier (no query for everyone else)."""
    if not view.tier(member.tier_id).paid:
        return None
    held = memberships.held(session, view, member.id, member.tier_id, now)
    return None if held is None else {name: held[name] for name in ("tier", "ends_on", "price", "currency")}


def _challenge(session: Session, view: ProgramView, member: Member, now: datetime) -> dict | None:
    """Read only while a challenge is open (no query otherwise)."""
    if not any(challenges.is_open(c, now) for c in view.challenges):
        return None
    counts = {cid: (progress if completed is None else 10**9)
              for cid, (progress, completed) in progress_store.rows_of(session, member.id).items()}
    found = challenges.closest(view.challenges, counts, now)
    return None if found is None else challenges.template_variable(found[0], found[1].done, view.zone)


def build_context(session: Session, member: Member, view: ProgramView, now: datetime, public_url: str, *,
                  open_lots: list[lots.OpenLot] | None = None, totals: tuple[int, int] | None = None,
                  **extra) -> dict:
    """member, program, next_tier, expiring, reward, tier, purchase, unsubscribe_url (+ extra).

    `open_lots` and `totals` (balance, qualifying points) when the caller read them already.
    """
    open_lots = ledger.open_lots(session, member.id) if open_lots is None else open_lots
    summary = members.summary(session, member, now, view, open_lots, totals)
    available = lots.available_points(open_lots, now)
    context = {
        "member": {"first_name": member.first_name, "last_name": member.last_name,
                   "points": summary["points"], "tier": summary["tier"],
                   "locale": member.locale or view.program.default_locale},
        "program": {"name": view.program.name, "help_text": view.program.help_text},
        "next_tier": summary["next_tier"],
        "expiring": _expiring(summary["expiring"]),
        "reward": _reward(view, member, available, now),
        "tier": {"name": summary["tier"], "benefits": view.benefits.get(member.tier_id, [])},
        "purchase": None,
        "membership": _membership(session, view, member, now),
        "giving": _giving(session, view),
        "challenge": _challenge(session, view, member, now),
        "unsubscribe_url": f"{public_url}/unsubscribe/{member.unsubscribe_token}",
    }
    context.update(extra)
    if isinstance(extra.get("reward"), dict):
        context["reward"] = _named_reward(view, member, extra["reward"])
    if isinstance(extra.get("offer"), dict):  # the offered reward's name in the member's language
        offered = {"id": extra["offer"].get("reward_id"), "name": extra["offer"].get("reward")}
        context["offer"] = {**extra["offer"], "reward": _named_reward(view, member, offered)["name"]}
    return context
