"""Keyset pagination: {"items": [...], "next": cursor-or-null}, newest first."""

from __future__ import annotations

import re

from marshmallow import fields, validate
from sqlalchemy import BigInteger, Select, cast

CURSOR = re.compile(r"^[1-9][0-9]{0,17}$")  # the last id a page showed (ids stay below 2**62)


def is_cursor(text: str) -> bool:
    """Whether `text` is a cursor `page` can take (for callers outside the API's schemas)."""
    return bool(CURSOR.match(text))


def cursor_field() -> fields.String:
    """The `next` value of the previous page: the last id it showed."""
    return fields.String(validate=validate.Regexp(
        CURSOR, error="Not a cursor: pass the `next` value of the previous page."),
        metadata={"description": "the `next` value of the previous page"})


def encode(last_id: int) -> str:
    return str(last_id)


def page(session, query: Select, id_column, limit: int, cursor: str | None) -> tuple[list, str | None]:
    """Rows older than the cursor, newest first, and the cursor of the next page."""
    if cursor:
        before = int(cursor)
        query = query.where(id_column < cast(before, BigInteger))  # int4 ids vs a big cursor
    rows = list(session.scalars(query.order_by(id_column.desc()).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode(rows[-1].id) if more and rows else None
