"""Offers on real PostgreSQL: two redemptions of one offer racing (one wins), and a purchase with
items taking the one-statement path."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from engage.db import HotStatement
from engage.models import Offer, Redemption

pytestmark = pytest.mark.postgres_only

COFFEE = {"sku": "BLEND-1", "name": "House blend", "category": "coffee", "quantity": 1, "amount": "17.80"}
RULE = {"key": "blend", "match": "sku", "value": "BLEND-1", "times": 1, "days": 30, "reward_id": 1, "cost": 10,
        "valid_days": 7, "keyword": "COFFEE"}


def test_two_redemptions_of_one_offer_racing_one_wins(pg_api):
    assert pg_api.patch("/program", {"offer_rules": [RULE]}, role="admin").status_code == 200
    member = pg_api.enrol("race-offer")
    assert pg_api.purchase(member["id"], "17.80", items=[COFFEE]).status_code == 201
    [offer] = pg_api.get(f"/members/{member['id']}/offers").get_json()["items"]
    path = f"/api/v1/members/{member['id']}/offers/{offer['id']}/redemptions"
    for attempt in range(5):  # a few rounds: each a fresh offer made by a fresh purchase
        with ThreadPoolExecutor(max_workers=2) as pool:
            responses = list(pool.map(lambda _: pg_api.app.test_client().post(path, headers=pg_api.headers()),
                                      range(2)))
        assert sorted(r.status_code for r in responses) == [201, 422], [r.get_json() for r in responses]
        refused = next(r for r in responses if r.status_code == 422)
        assert "already redeemed" in refused.get_json()["message"]
        pg_api.app.extensions["engage.clock"].advance(minutes=1)
        assert pg_api.purchase(member["id"], "17.80", items=[COFFEE]).status_code == 201
        offer = pg_api.get(f"/members/{member['id']}/offers").get_json()["items"][0]
        path = f"/api/v1/members/{member['id']}/offers/{offer['id']}/redemptions"
    with pg_api.app.extensions["engage.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(Redemption)) == 5
        assert session.scalar(select(func.count()).select_from(Offer).where(Offer.redemption_id.is_not(None))) == 5


def test_a_purchase_with_items_takes_the_one_statement_path(pg_api):
    """The fast path carries items (tests/integration/test_fast_paths.py compares it with the plain one)."""
    assert pg_api.patch("/program", {"item_bonuses": [{"match": "category", "value": "coffee", "multiplier": "2"}]},
                        role="admin").status_code == 200
    member = pg_api.enrol("items-fast")
    seen = []
    HotStatement.observers.append(lambda sql, params: seen.append(sql))
    try:
        answer = pg_api.purchase(member["id"], "17.80", items=[COFFEE]).get_json()
    finally:
        HotStatement.observers.pop()
    assert answer["points_awarded"] == 17 + 17
    assert any("INSERT INTO purchase_items" in sql for sql in seen)
