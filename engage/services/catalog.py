"""Rewards and tiers as an admin edits them."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from engage.errors import Conflict, NotFound, Unprocessable
from engage.loyalty import reward_limits
from engage.models import Program, Reward, Tier
from engage.store import reward_codes, transaction
from engage.store.program import calendar_of, changed
from engage.templating.defaults import normalize_locale

# Codes left under which admins hear about a new partner reward's pool, unless they set another.
DEFAULT_LOW_CODES = 10


def tier_json(tier: Tier) -> dict:
    return {"id": tier.id, "name": tier.name, "threshold": tier.threshold,
            "multiplier": f"{Decimal(tier.multiplier):.2f}", "benefits": list(tier.benefits)}


def _default_locale(session: Session) -> str:
    return normalize_locale(session.scalar(select(Program.default_locale))) or "en"


def _text_json(text: dict) -> dict:
    return {"name": text["name"], "description": text.get("description")}


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def reward_json(reward: Reward, default_locale: str, tier_names: dict[int, str],
                codes_left: int | None = None) -> dict:
    """The reward; `texts` holds every locale's name and description, the default locale's being
    `name` and `description`. `codes_left` counts a partner reward's free codes."""
    texts = {locale: _text_json(text) for locale, text in sorted((reward.texts or {}).items())}
    codes_left = (codes_left or 0) if reward.partner else None
    return {"id": reward.id, "name": reward.name, "description": reward.description, "kind": reward.kind,
            "cost": reward.cost, "min_tier": reward.min_tier.name if reward.min_tier else None,
            "value": f"{Decimal(reward.value):.2f}" if reward.value is not None else None,
            "active": reward.active,
            "texts": {default_locale: {"name": reward.name, "description": reward.description}, **texts},
            "partner": reward.partner, "low_codes_threshold": reward.low_codes_threshold,
            "starts_at": _moment(reward.starts_at), "ends_at": _moment(reward.ends_at),
            "early_access_from": _moment(reward.early_access_from),
            "early_access_tiers": [tier_names[i] for i in reward.early_access_tier_ids or () if i in tier_names],
            "stock": reward.stock, "category": reward.category, "codes_left": codes_left,
            "codes_low": codes_left is not None and reward_limits.pool_low(codes_left, reward.low_codes_threshold)}


def _tier_names(session: Session) -> dict[int, str]:
    return dict(session.execute(select(Tier.id, Tier.name)).all())


def list_tiers(session: Session) -> list[dict]:
    return [tier_json(t) for t in session.scalars(select(Tier).order_by(Tier.threshold))]


def list_rewards(session: Session) -> list[dict]:
    with transaction(session):
        default_locale, names = _default_locale(session), _tier_names(session)
        free = reward_codes.free_counts(session)
        rows = session.scalars(select(Reward).order_by(Reward.cost, Reward.id))
        return [reward_json(r, default_locale, names, free.get(r.id)) for r in rows]


def reward(session: Session, reward_id: int) -> dict:
    """One reward, as the API shows it."""
    with transaction(session):
        return _answer(session, get_reward(session, reward_id))


def _answer(session: Session, reward: Reward) -> dict:
    return reward_json(reward, _default_locale(session), _tier_names(session),
                       reward_codes.free_left(session, reward.id) if reward.partner else None)


def get_reward(session: Session, reward_id: int) -> Reward:
    reward = session.get(Reward, reward_id)
    if reward is None:
        raise NotFound(f"reward {reward_id} not found")
    return reward


def _tier_id(session: Session, name: str | None, field: str = "min_tier") -> int | None:
    if name is None:
        return None
    tier = session.scalar(select(Tier).where(Tier.name == name))
    if tier is None:
        raise Unprocessable(f"no tier named {name!r}", {field: ["Unknown tier."]})
    return tier.id


def _texts(data: dict, default_locale: str) -> dict:
    """`texts` keyed by canonical tags ('nl-be' → 'nl_BE'); the default locale's entry moves to
    `name` and `description` (422 if it contradicts a `name` or `description` also sent)."""
    texts: dict[str, dict] = {}
    for locale, text in data["texts"].items():
        tag = normalize_locale(locale)
        if tag in texts:
            raise Unprocessable(f"two texts for locale {tag}", {"texts": [f"Give {tag} once."]})
        texts[tag] = {key: value for key, value in text.items() if value is not None}
    default = texts.pop(default_locale, None)
    if default is not None:
        for field in ("name", "description"):
            if field in data and data[field] != default.get(field):
                raise Unprocessable(f"texts.{default_locale}.{field} differs from {field}", {"texts": [
                    f"The {default_locale} text is the reward's {field}: send one or make them equal."]})
            data[field] = default.get(field)
    return texts


SIMPLE_FIELDS = ("name", "description", "kind", "cost", "value", "active", "partner", "low_codes_threshold",
                 "starts_at", "ends_at", "early_access_from", "stock", "category")


def _apply_reward(session: Session, reward: Reward, data: dict) -> None:
    data = dict(data)
    if "texts" in data:
        reward.texts = _texts(data, _default_locale(session))
    if data.get("partner") and reward.partner is None and "low_codes_threshold" not in data:
        data["low_codes_threshold"] = DEFAULT_LOW_CODES
    for field in SIMPLE_FIELDS:
        if field in data:
            setattr(reward, field, data[field])
    if "min_tier" in data:
        reward.min_tier_id = _tier_id(session, data["min_tier"])
    if "early_access_tiers" in data:
        reward.early_access_tier_ids = [_tier_id(session, name, "early_access_tiers")
                                        for name in dict.fromkeys(data["early_access_tiers"] or [])]
    problems = reward_limits.calendar_problems(calendar_of(reward))
    if problems:
        raise Unprocessable("; ".join(problems.values()), {field: [text] for field, text in problems.items()})


def create_reward(session: Session, data: dict) -> dict:
    """Add a reward to the catalog."""
    try:
        with transaction(session):
            reward = Reward(active=True, texts={})
            _apply_reward(session, reward, data)
            session.add(reward)
            session.flush()
            session.refresh(reward)
            answer = _answer(session, reward)
        changed(session)
        return answer
    except IntegrityError:
        raise Conflict(f"a reward named {data['name']!r} already exists") from None


def update_reward(session: Session, reward_id: int, data: dict) -> dict:
    """Change a reward; past redemptions keep what they cost."""
    try:
        with transaction(session):
            reward = get_reward(session, reward_id)
            _apply_reward(session, reward, data)
            session.flush()
            session.refresh(reward)
            answer = _answer(session, reward)
        changed(session)
        return answer
    except IntegrityError:
        raise Conflict("another reward already has that name") from None


def _keep_the_order(ladder: list[Tier], tier: Tier, threshold: int) -> None:
    """A new threshold stays between the tiers below and above: moving a tier past another would
    silently swap their places (Silver above Gold, with Gold's members now 'Silver' and back)."""
    at = ladder.index(tier)
    below = ladder[at - 1] if at > 0 else None
    above = ladder[at + 1] if at + 1 < len(ladder) else None
    # Equal to a neighbour's is left to the unique index: 409, another tier has that threshold.
    if (below and threshold < below.threshold) or (above and threshold > above.threshold):
        sides = []
        if below:
            sides.append(f"above {below.name}'s {below.threshold}")
        if above:
            sides.append(f"below {above.name}'s {above.threshold}")
        bounds = " and ".join(sides)
        raise Unprocessable(f"{tier.name}'s threshold must stay {bounds}",
                            {"threshold": [f"Must stay {bounds}."]})


def update_tier(session: Session, tier_id: int, data: dict) -> dict:
    """Change a tier; the lowest tier must keep threshold 0 so every member has a tier."""
    try:
        with transaction(session):
            tier = session.get(Tier, tier_id)
            if tier is None:
                raise NotFound(f"tier {tier_id} not found")
            ladder = list(session.scalars(select(Tier).order_by(Tier.threshold)))
            if tier is ladder[0] and data.get("threshold", 0) != 0:
                raise Unprocessable("the lowest tier's threshold must stay 0", {"threshold": ["Must be 0."]})
            if "threshold" in data:
                _keep_the_order(ladder, tier, data["threshold"])
            for field, value in data.items():
                setattr(tier, field, value)
            session.flush()
            answer = tier_json(tier)
        changed(session)
        return answer
    except IntegrityError:
        raise Conflict("another tier already has that name or threshold") from None
