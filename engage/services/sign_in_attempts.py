"""The console's sign-in throttle over the database: every process counts the same attempts."""

from __future__ import annotations

import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from engage.store import attempts, transaction


def key_hash(key: str) -> str:
    """What is stored for a key ("ip:…", "email:…"): its SHA-256, never the address or email."""
    return hashlib.sha256(key.encode()).hexdigest()


def wait_seconds(windows: dict[str, tuple[int, datetime]], limits: dict[str, int], window: timedelta,
                 now: datetime) -> int:
    """Seconds until every key is under its limit (0: go ahead), from {key: (attempts, oldest)}."""
    waits = [(oldest + window - now).total_seconds() for key, (count, oldest) in windows.items()
             if count >= limits[key]]
    return max(1, math.ceil(max(waits))) if waits else 0


def retry_after(session: Session, limits: dict[str, int], window: timedelta, now: datetime) -> int:
    """As engage.console.throttle.Throttle.retry_after, in one transaction: this attempt counts
    against each key only if all may go ahead now (0)."""
    hashed = {key_hash(key): limit for key, limit in limits.items()}
    with transaction(session):
        attempts.forget_before(session, now - window)
        wait = wait_seconds(attempts.in_window(session, list(hashed), now - window), hashed, window, now)
        if not wait:
            attempts.add(session, list(hashed), now)
    return wait
