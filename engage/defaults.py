"""The default program (docs/loyalty.md): inserted by the first migration, reused by tests."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

import sqlalchemy as sa

from engage.loyalty.settings import DEFAULT_SETTINGS
from engage.messaging.flow_params import PARAMS, as_json

PROGRAM = {
    "id": 1,
    "name": "Engage Rewards",
    "currency": "EUR",
    "default_locale": "en",
    "timezone": "Europe/Amsterdam",
    "help_text": "Questions? Email support@example.com.",
    "charity_name": "the program's charity",
    "settings": DEFAULT_SETTINGS,
}

TIERS = [
    {"id": 1, "name": "Bronze", "threshold": 0, "multiplier": "1.0",
     "benefits": ["Earn 1 point per euro"]},
    {"id": 2, "name": "Silver", "threshold": 500, "multiplier": "1.25",
     "benefits": ["Earn 1.25 points per euro", "Free shipping on orders over EUR 50"]},
    {"id": 3, "name": "Gold", "threshold": 1500, "multiplier": "1.5",
     "benefits": ["Earn 1.5 points per euro", "Free shipping on every order", "Early access to sales"]},
]

REWARDS = [
    {"id": 1, "name": "EUR 10 off", "kind": "discount", "cost": 100, "min_tier_id": None, "value": "10.00"},
    {"id": 2, "name": "Free shipping", "kind": "free_shipping", "cost": 150, "min_tier_id": None,
     "value": None},
    {"id": 3, "name": "EUR 25 off", "kind": "discount", "cost": 250, "min_tier_id": None, "value": "25.00"},
    {"id": 4, "name": "Donate EUR 5 to charity", "kind": "donation", "cost": 50, "min_tier_id": None,
     "value": "5.00"},
    {"id": 5, "name": "Early access to sales", "kind": "early_access", "cost": 0, "min_tier_id": 3,
     "value": None},
]

# The shipped rewards' names in the other shipped languages (set by migration 0008 on the
# rewards that still have their default English name).
REWARD_TEXTS = {
    1: {"nl": {"name": "EUR 10 korting"}, "de": {"name": "10 EUR Rabatt"}, "ro": {"name": "Reducere de 10 EUR"}},
    2: {"nl": {"name": "Gratis verzending"}, "de": {"name": "Kostenloser Versand"},
        "ro": {"name": "Livrare gratuită"}},
    3: {"nl": {"name": "EUR 25 korting"}, "de": {"name": "25 EUR Rabatt"}, "ro": {"name": "Reducere de 25 EUR"}},
    4: {"nl": {"name": "Doneer EUR 5 aan het goede doel"}, "de": {"name": "5 EUR an den guten Zweck spenden"},
        "ro": {"name": "Donează 5 EUR în scop caritabil"}},
    5: {"nl": {"name": "Eerder toegang tot de uitverkoop"}, "de": {"name": "Früher Zugang zum Sale"},
        "ro": {"name": "Acces anticipat la reduceri"}},
}

# Each flow's parameters default to its dataclass's (engage.messaging.flow_params).
FLOWS = {key: {**flow, "params": as_json(PARAMS[key]())} for key, flow in {
    "welcome": {"channels": ["sms", "email"], "delay_seconds": 0},
    "redemption_reminder": {"channels": ["sms", "email"], "delay_seconds": 0},
    "expiry_warning": {"channels": ["email", "sms"], "delay_seconds": 0},
    "tier_congratulations": {"channels": ["sms", "email"], "delay_seconds": 0},
    "feedback_request": {"channels": ["sms", "email"], "delay_seconds": 3 * 86400},
    "membership_renewal": {"channels": ["email", "sms"], "delay_seconds": 0},
    "challenge_progress": {"channels": ["sms", "email"], "delay_seconds": 0},
    "offer": {"channels": ["sms", "email"], "delay_seconds": 0},
}.items()}


def insert_defaults(connection: sa.Connection) -> None:
    """Insert the default program, tiers, rewards and flow settings (tables reflected, so the
    first migration stays valid however the models change later)."""
    now = datetime.now(timezone.utc)
    meta = sa.MetaData()
    meta.reflect(connection, only=("program", "tiers", "rewards", "flow_settings"))

    def texts(reward: dict) -> dict:  # the column exists from migration 0008 on (which fills it)
        return {"texts": REWARD_TEXTS[reward["id"]]} if "texts" in meta.tables["rewards"].c else {}

    rows = {
        "program": [{**PROGRAM, "updated_at": now}],
        "tiers": [{**t, "multiplier": Decimal(t["multiplier"])} for t in TIERS],
        "rewards": [{**r, "value": Decimal(r["value"]) if r["value"] else None, "active": True, **texts(r)}
                    for r in REWARDS],
        "flow_settings": [{"key": key, "enabled": True, "updated_at": now, **flow}
                          for key, flow in FLOWS.items()],
    }
    for table, values in rows.items():
        connection.execute(meta.tables[table].insert(), values)
    if connection.dialect.name == "postgresql":
        # Explicit ids don't advance PostgreSQL sequences; the next admin insert would collide.
        for table in ("program", "tiers", "rewards"):
            connection.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
