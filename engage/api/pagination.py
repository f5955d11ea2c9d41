"""Keyset pagination: {"items": [...], "next": cursor-or-null}, newest first."""

from __future__ import annotations

import base64

from flask_smorest import abort
from sqlalchemy import BigInteger, Select, cast


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        value = int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode().removeprefix("id:"))
    except (ValueError, UnicodeDecodeError):
        value = 0
    if not 0 < value < 2**62:
        abort(400, message="cursor is not valid; pass the `next` value of the previous page")
    return value


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def page(session, query: Select, id_column, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """Rows older than the cursor, newest first, and the cursor of the next page."""
    before = decode(cursor)
    if before is not None:
        query = query.where(id_column < cast(before, BigInteger))  # int4 ids vs a big cursor
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(rows[-1].id) if more and rows else None
