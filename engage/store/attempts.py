"""Console sign-in attempts in the database (the throttle's shared counts), by hashed key."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from engage.models import SignInAttempt


def forget_before(session: Session, since: datetime) -> None:
    """Drop the attempts that left the window, everyone's (the table stays the window's size)."""
    session.execute(delete(SignInAttempt).where(SignInAttempt.at <= since))


def in_window(session: Session, key_hashes: list[str], since: datetime) -> dict[str, tuple[int, datetime]]:
    """{key hash: (attempts since `since`, the oldest of them)} for the keys that have any."""
    rows = session.execute(select(SignInAttempt.key_hash, func.count(), func.min(SignInAttempt.at))
                           .where(SignInAttempt.key_hash.in_(key_hashes), SignInAttempt.at > since)
                           .group_by(SignInAttempt.key_hash))
    return {key: (count, oldest) for key, count, oldest in rows}


def add(session: Session, key_hashes: list[str], at: datetime) -> None:
    session.add_all(SignInAttempt(key_hash=key, at=at) for key in key_hashes)
