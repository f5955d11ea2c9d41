"""Limited rewards: when a reward may be redeemed (its calendar, with early access for chosen
tiers), how many are left (stock, partner codes), which category it applies to."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Calendar:
    """None: no such limit. Members of `early_tier_ids` may redeem from `early_access_from`,
    everyone else from `starts_at`; nobody from `ends_at` on."""

    starts_at: datetime | None = None
    ends_at: datetime | None = None
    early_access_from: datetime | None = None
    early_tier_ids: frozenset[int] = frozenset()


ALWAYS = Calendar()


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def opens_for(calendar: Calendar, tier_id: int) -> datetime | None:
    """When a member of this tier may first redeem (None: it never was closed)."""
    if calendar.early_access_from is not None and tier_id in calendar.early_tier_ids:
        return calendar.early_access_from
    return calendar.starts_at


def is_open(calendar: Calendar, tier_id: int, now: datetime) -> bool:
    """Open to this tier now; a reward not yet open to a tier is not shown to its members."""
    opens = opens_for(calendar, tier_id)
    return (opens is None or opens <= now) and (calendar.ends_at is None or now < calendar.ends_at)


def calendar_refusal(name: str, calendar: Calendar, tier_id: int, now: datetime) -> str | None:
    """Why the reward cannot be redeemed by this tier at `now` because of its dates, or None."""
    if calendar.ends_at is not None and now >= calendar.ends_at:
        return f"{name} ended at {_when(calendar.ends_at)}"
    opens = opens_for(calendar, tier_id)
    if opens is not None and now < opens:
        return f"{name} opens at {_when(opens)}"
    return None


def calendar_problems(calendar: Calendar) -> dict[str, str]:
    """What makes a calendar meaningless, by field (empty when it is fine)."""
    problems = {}
    if calendar.starts_at and calendar.ends_at and calendar.ends_at <= calendar.starts_at:
        problems["ends_at"] = "Must be after starts_at."
    if calendar.early_access_from is not None:
        if calendar.starts_at is None:
            problems["starts_at"] = "Early access needs the public start it comes before."
        elif calendar.early_access_from >= calendar.starts_at:
            problems["early_access_from"] = "Must be before starts_at."
        if not calendar.early_tier_ids:
            problems["early_access_tiers"] = "Name the tiers that get early access."
    elif calendar.early_tier_ids:
        problems["early_access_from"] = "Give the early access start for these tiers."
    return problems


def units_left(stock: int | None, codes_left: int | None) -> int | None:
    """How many can still be redeemed: the smaller of stock and partner codes (None: no limit)."""
    limits = [n for n in (stock, codes_left) if n is not None]
    return max(0, min(limits)) if limits else None


def sold_out(left: int | None) -> bool:
    return left is not None and left <= 0


def pool_low(codes_left: int, threshold: int | None) -> bool:
    """Under the reward's threshold: admins should order more codes from the partner."""
    return threshold is not None and codes_left < threshold


def crossed_low(before: int, after: int, threshold: int | None) -> bool:
    """This claim took the pool under its threshold: reported once, not at every redemption."""
    return pool_low(after, threshold) and not pool_low(before, threshold)


def category_refusal(name: str, category: str | None, wanted: str | None) -> str | None:
    """A reward scoped to a category applies only to it; a request naming none is not checked."""
    if category is None or wanted is None or category.casefold() == wanted.strip().casefold():
        return None
    return f"{name} applies to {category} only, not {wanted}"


def pool_notice(codes_after: int, threshold: int | None) -> str | None:
    """What to tell admins when a partner code is handed out with `codes_after` codes behind it in
    the pool: "empty" for the last one, "low" for the one that takes the pool under its threshold
    (one code, so one notice per crossing however claims interleave), else nothing."""
    if codes_after == 0:
        return "empty"
    if threshold is not None and codes_after == threshold - 1:
        return "low"
    return None
