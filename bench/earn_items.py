"""Earning throughput with line items: the earn bench (bench/earn.py) with three items in every
purchase (two of them coffee) and an active category bonus, double points on coffee.

Target: as earn's, at least 0.6x the bare endpoint's requests per second (the bare endpoint gets
the same body). On PostgreSQL the purchase and its items are still one statement.
"""

from __future__ import annotations

from bench import Row
from bench.earn import measure

ITEMS = (
    {"sku": "BLEND-1", "name": "House blend 250 g", "category": "coffee", "quantity": 2, "amount": "17.80"},
    {"sku": "MUG-3", "name": "Mug", "category": "homeware", "quantity": 1, "amount": "6.10"},
    {"sku": "DECAF-2", "name": "Decaf 250 g", "category": "coffee", "quantity": 1, "amount": "2.00"},
)
PROGRAM = {"item_bonuses": [{"match": "category", "value": "coffee", "multiplier": "2"}]}


def run() -> list[Row]:
    return measure("earn_items", ITEMS, PROGRAM)
