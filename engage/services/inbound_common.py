"""Constants and helpers shared by the inbound modules."""

from __future__ import annotations

MAX_BODY_CHARS = 10_000  # Twilio caps SMS at 1,600; anything longer is not from a phone


def clean(value: str | None, limit: int) -> str:
    """Text safe for any database: no NUL (PostgreSQL refuses it), bounded length."""
    return (value or "").replace("\x00", "")[:limit]
