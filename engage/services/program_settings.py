"""Reading and changing the program's settings."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from engage.errors import Unprocessable
from engage.loyalty.settings import DEFAULT_SETTINGS, merged_settings
from engage.models import Redemption, Reward
from engage.store import transaction
from engage.store.program import changed, get_program

COLUMNS = ("name", "currency", "default_locale", "timezone", "help_text", "charity_name")


def read(session: Session) -> dict:
    """Every setting (defaults filled in) and the donation totals."""
    program = get_program(session)
    body = {column: getattr(program, column) for column in COLUMNS}
    body.update(merged_settings(program.settings))
    body["donations"] = donation_totals(session)
    return body


def donation_totals(session: Session) -> dict:
    """How many donations, the points they took and the money they are worth."""
    count, points, value = session.execute(
        select(func.count(Redemption.id), func.coalesce(func.sum(Redemption.points), 0),
               func.coalesce(func.sum(Redemption.value), 0)).where(Redemption.kind == "donation")
    ).one()
    return {"count": count, "points": int(points), "value": f"{Decimal(value):.2f}"}


def _check_offer_rewards(session: Session, rules: list[dict]) -> None:
    known = set(session.scalars(select(Reward.id)))
    missing = {index: {"reward_id": [f"There is no reward {rule['reward_id']}."]}
               for index, rule in enumerate(rules) if rule["reward_id"] not in known}
    if missing:
        raise Unprocessable("an offer rule names a reward that does not exist", {"offer_rules": missing})


def update(session: Session, data: dict, now: datetime) -> dict:
    """Change the given settings; the rest keep their value."""
    with transaction(session):
        program = get_program(session)
        for column in COLUMNS:
            if column in data:
                setattr(program, column, data[column])
        settings = merged_settings(program.settings)
        _check_offer_rewards(session, data.get("offer_rules") or [])
        for key in DEFAULT_SETTINGS:
            if key not in data:
                continue
            value = data[key]
            if isinstance(value, Decimal):
                value = str(value)
            if isinstance(value, list):  # rule lists: replaced whole, their decimals as strings
                value = [{name: str(each) if isinstance(each, Decimal) else each for name, each in rule.items()}
                         for rule in value]
                settings[key] = value
            elif isinstance(value, dict):
                # JSON keeps decimals as their text (giving_back.percent).
                value = {name: str(item) if isinstance(item, Decimal) else item for name, item in value.items()}
                settings[key] = {**settings[key], **value}
            else:
                settings[key] = value
        program.settings = settings
        program.updated_at = now
    changed(session)
    return read(session)
