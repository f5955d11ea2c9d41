"""Realistic sample values for template previews and validation.

`key` (a flow or reply key) adjusts the numbers to what that message would really see: a
welcome carries the signup bonus, a failed REDEEM a balance below the cheapest reward.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from engage.templating.defaults import normalize_locale

_PEOPLE = {
    "en": ("Alex", "Morgan"),
    "nl": ("Sanne", "de Vries"),
    "de": ("Lena", "Schneider"),
    "ro": ("Ioana", "Popescu"),
}
_HELP = {
    "en": "Questions? Email help@example.com.",
    "nl": "Vragen? Mail naar help@example.com.",
    "de": "Fragen? Schreib an help@example.com.",
    "ro": "Întrebări? Scrie-ne la help@example.com.",
}
_REWARDS = {"en": "€10 off", "nl": "€ 10 korting", "de": "10 € Rabatt", "ro": "Reducere de 10 €"}
_BENEFITS = {
    "en": {"Bronze": ["1 point per euro"], "Silver": ["Free shipping", "25% more points"]},
    "nl": {"Bronze": ["1 punt per euro"], "Silver": ["Gratis verzending", "25% meer punten"]},
    "de": {"Bronze": ["1 Punkt pro Euro"], "Silver": ["Kostenloser Versand", "25 % mehr Punkte"]},
    "ro": {"Bronze": ["1 punct pe euro"], "Silver": ["Livrare gratuită", "25% mai multe puncte"]},
}
_CAUSES = {"en": "the food bank", "nl": "de voedselbank", "de": "die Tafel", "ro": "banca de alimente"}
PROGRAM_NAME = "Northwind Rewards"
_PRODUCTS = {"en": "House blend coffee 250 g", "nl": "Huismelange koffie 250 g", "de": "Hausmischung Kaffee 250 g",
             "ro": "Cafea amestec casei 250 g"}


def sample_context(
    locale: str, key: str | None = None, *, today: date | None = None
) -> dict[str, Any]:
    """Sample template variables in `locale`, shaped for flow or reply `key` if given."""
    language = normalize_locale(locale).split("_")[0]
    language = language if language in _PEOPLE else "en"
    today = today or date.today()
    first_name, last_name = _PEOPLE[language]
    cheap = _REWARDS[language]
    context: dict[str, Any] = {
        "member": {
            "first_name": first_name,
            "last_name": last_name,
            "points": 620,
            "tier": "Silver",
            "locale": normalize_locale(locale) or language,
        },
        "program": {"name": PROGRAM_NAME, "help_text": _HELP[language]},
        "next_tier": {"name": "Gold", "points_needed": 880},
        "expiring": {"points": 120, "date": today + timedelta(days=21)},
        "reward": {"name": cheap, "description": None, "cost": 100},
        "tier": {"name": "Silver", "benefits": list(_BENEFITS[language]["Silver"])},
        "purchase": {"amount": Decimal("42.50"), "currency": "EUR", "date": today - timedelta(3)},
        "membership": {"tier": "Plus", "ends_on": today + timedelta(days=7), "price": Decimal("9.99"),
                       "currency": "EUR"},
        "giving": {"cause": _CAUSES[language], "total": Decimal("1240.00"), "currency": "EUR"},
        "challenge": {"name": "March madness", "kind": "purchase", "goal": 3, "progress": 2, "remaining": 1,
                      "bonus": 200, "ends_on": today + timedelta(days=10)},
        "offer": {"product": _PRODUCTS[language], "reward": cheap, "cost": 50, "regular_cost": 100,
                  "keyword": "COFFEE", "ends": today + timedelta(days=14)},
        "unsubscribe_url": "https://engage.example.com/unsubscribe/sample-token",
        "coupon_code": "NW-7KQ2-93XD",
        "redeemed": {"name": cheap, "cost": 100, "kind": "coupon", "partner": None},
        "shortfall": None,
        "offer_problem": None,
    }
    _shape(context, key, language)
    return context


def _shape(context: dict[str, Any], key: str | None, language: str) -> None:
    member = context["member"]
    if key == "welcome":
        member.update(points=100, tier="Bronze")
        context.update(
            next_tier={"name": "Silver", "points_needed": 400},
            expiring=None,
            tier={"name": "Bronze", "benefits": list(_BENEFITS[language]["Bronze"])},
        )
    elif key == "redeem_ok":
        member["points"] = 520
    elif key == "offer_refused":
        member["points"] = 20
        context.update(offer_problem="points", shortfall=30, coupon_code=None)
    elif key == "redeem_none":
        member["points"] = 70
        context.update(reward=None, shortfall=30, coupon_code=None)
    elif key == "feedback_thanks":
        member["points"] = 645
