"""Personalised offers: "a member who bought the same sku (or category) N times in D days gets
reward R for fewer points", and whether an offer may be redeemed.

Counted are purchases (one purchase with three bags of the blend counts once), within the
rule's last D days, made after the member's previous offer from the same rule (the purchases
that earned one offer never count towards the next). While a member holds an open offer of a
rule (not redeemed, not ended) that rule makes them no other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from engage.loyalty.items import matches

KEYWORD = re.compile(r"^[A-Z0-9]{2,16}$")


@dataclass(frozen=True)
class OfferRule:
    key: str
    match: str  # "sku" or "category"
    value: str
    times: int  # N purchases …
    days: int  # … within D days
    reward_id: int
    cost: int  # the offer's price in points (the reward's own cost is its catalog price)
    valid_days: int  # how long the offer stays open
    keyword: str  # REDEEM <keyword> by text

    @classmethod
    def from_setting(cls, setting: dict) -> "OfferRule":
        return cls(str(setting["key"]), setting["match"], str(setting["value"]), int(setting["times"]),
                   int(setting["days"]), int(setting["reward_id"]), int(setting["cost"]),
                   int(setting["valid_days"]), str(setting["keyword"]).upper())


def offer_rules(settings: Iterable[dict]) -> tuple[OfferRule, ...]:
    """The program's `offer_rules` setting as rules."""
    return tuple(OfferRule.from_setting(setting) for setting in settings)


@dataclass(frozen=True)
class Bought:
    """One item of one of the member's purchases, as the offer rules see it."""

    event_id: int
    sku: str
    name: str
    category: str | None
    occurred_at: datetime


@dataclass(frozen=True)
class OfferDue:
    rule: OfferRule
    product: str  # the name of the latest matching item: what the offer is about
    ends_at: datetime


def relevant(rules: Sequence[OfferRule], items: Iterable[Bought]) -> tuple[OfferRule, ...]:
    """The rules that one of these items (a new purchase's) could bring closer to an offer."""
    items = list(items)
    return tuple(rule for rule in rules if any(matches(rule.match, rule.value, item) for item in items))


def offers_due(rules: Sequence[OfferRule], bought: Sequence[Bought], *, last_offered: dict[str, datetime],
               open_rules: set[str], rewards_on_offer: set[int], now: datetime) -> list[OfferDue]:
    """The offers a member earns now. `last_offered`: when each rule last made them an offer;
    `open_rules`: the rules whose offer they still hold; `rewards_on_offer`: active rewards."""
    due = []
    for rule in rules:
        if rule.key in open_rules or rule.reward_id not in rewards_on_offer:
            continue
        since = now - timedelta(days=rule.days)
        previous = last_offered.get(rule.key)
        counted = sorted((item for item in bought if matches(rule.match, rule.value, item)
                          and since < item.occurred_at <= now
                          and (previous is None or item.occurred_at > previous)),
                         key=lambda item: (item.occurred_at, item.event_id))
        if len({item.event_id for item in counted}) >= rule.times:
            due.append(OfferDue(rule, counted[-1].name, now + timedelta(days=rule.valid_days)))
    return due


def refusal(*, redeemed: bool, ends_at: datetime, now: datetime) -> str | None:
    """Why an offer can no longer be redeemed, or None when it can (points are checked apart)."""
    if redeemed:
        return "this offer was already redeemed"
    if now >= ends_at:
        return f"this offer ended on {ends_at.date().isoformat()}"
    return None
