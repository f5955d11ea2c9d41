"""Which variables templates may use, and how a caller's context is turned into them.

The render context is projected onto plain dicts, lists and scalars: templates never see the
caller's objects (an ORM row would expose relationships and methods), and a template that
validates against this schema sees exactly these names at render time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import Enum
from typing import Any

from engage.vocabulary import Channel

Fields = frozenset[str] | None  # None: a scalar variable

FLOW_VARIABLES: Mapping[str, Fields] = {
    "member": frozenset({"first_name", "last_name", "points", "tier", "locale"}),
    "program": frozenset({"name", "help_text"}),
    "next_tier": frozenset({"name", "points_needed"}),
    "expiring": frozenset({"points", "date"}),
    "reward": frozenset({"name", "description", "cost"}),
    "tier": frozenset({"name", "benefits"}),
    "purchase": frozenset({"amount", "currency", "date"}),
    # The member's paid membership active now (its chain's end), or none.
    "membership": frozenset({"tier", "ends_on", "price", "currency"}),
    # The program's giving back: what members and program gave together to its cause, or none.
    "giving": frozenset({"cause", "total", "currency"}),
    # The open challenge the member is closest to completing, or none.
    "challenge": frozenset({"name", "kind", "goal", "progress", "remaining", "bonus", "ends_on"}),
    # A personalised offer (the offer flow): what the member kept buying and what they are offered.
    "offer": frozenset({"product", "reward", "cost", "regular_cost", "keyword", "ends"}),
}
EMAIL_VARIABLES: Mapping[str, Fields] = {"unsubscribe_url": None}
# The email layout also gets the flow's rendered HTML, to place where it goes.
LAYOUT_VARIABLES: Mapping[str, Fields] = {"content": None}
# Replies to inbound SMS. `redeemed` is the reward just redeemed (redeem_ok) or the cheapest
# one the member is saving for (redeem_none); `shortfall` is the points still missing.
REPLY_VARIABLES: Mapping[str, Fields] = {
    "coupon_code": None,
    # `partner`: the partner whose code `coupon_code` is (partner rewards), else None.
    "redeemed": frozenset({"name", "cost", "kind", "partner"}),
    "shortfall": None,
    # offer_refused: ended, redeemed (already), points (short by
    # `shortfall`) or unavailable (the reward was withdrawn or needs a higher tier)
    "offer_problem": None,
}


def variables_for(channel: str, *, reply: bool = False, layout: bool = False) -> dict[str, Fields]:
    """The variables a template for `channel` ("sms" or "email"), or its layout, may use."""
    allowed = dict(FLOW_VARIABLES)
    if channel == Channel.EMAIL:
        allowed.update(EMAIL_VARIABLES)
    if reply:
        allowed.update(REPLY_VARIABLES)
    if layout:
        allowed.update(LAYOUT_VARIABLES)
    return allowed


def project_context(
    context: Mapping[str, Any], allowed: Mapping[str, Fields], locale: str
) -> dict[str, Any]:
    """Plain-data copy of `context` with every allowed name present (None when absent)."""
    projected: dict[str, Any] = {}
    for name, fields in allowed.items():
        raw = context.get(name)
        if fields is None or raw is None:
            projected[name] = _plain(raw)
        else:
            projected[name] = {field: _plain(_field(raw, field)) for field in sorted(fields)}
    member = projected.get("member")
    if isinstance(member, dict) and member.get("locale") is None:
        member["locale"] = locale
    return projected


def _field(raw: Any, field: str) -> Any:
    if isinstance(raw, Mapping):
        return raw.get(field)
    return getattr(raw, field, None)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, (bool, int, float, Decimal, date)):
        return value
    if isinstance(value, str):
        return str(value)  # drops str subclasses such as Markup: data is never pre-escaped
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_plain(item) for item in value]
    if isinstance(value, Enum):
        return _plain(value.value)
    # A tier or reward object where a name is expected ("member.tier" may be a relationship).
    name = getattr(value, "name", None)
    return str(name) if isinstance(name, str) else str(value)
