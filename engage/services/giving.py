"""Giving back: the causes' running totals as the API shows them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from engage.store import causes
from engage.store.program import load


def totals(session: Session) -> list[dict]:
    """Each cause's total, in the program's currency."""
    currency = load(session).program.currency
    return [{**row, "total": f"{row['total']:.2f}", "from_purchases": f"{row['from_purchases']:.2f}",
             "currency": currency} for row in causes.totals(session)]
