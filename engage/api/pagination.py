"""Keyset pagination: {"items": [...], "next": cursor-or-null}, newest first."""

from __future__ import annotations

import base64

from flask_smorest import abort
from sqlalchemy import Select


def decode(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(base64.urlsafe_b64decode(cursor.encode() + b"==").decode().removeprefix("id:"))
    except (ValueError, UnicodeDecodeError):
        abort(400, message="cursor is not valid; pass the `next` value of the previous page")


def encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def page(session, query: Select, id_column, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """Rows older than the cursor, newest first, and the cursor of the next page."""
    before = decode(cursor)
    if before is not None:
        query = query.where(id_column < before)
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(rows[-1].id) if more and rows else None
