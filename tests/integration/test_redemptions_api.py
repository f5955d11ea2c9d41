"""Redeeming through the API: FIFO, coupons, donations, tiers, refusals."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engage.models import Lot


def test_redeem_returns_unique_coupon_and_debits(api):
    member = api.enrol("red-1")
    api.purchase(member["id"], "150")
    first = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 1})
    second = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 1})
    assert first.status_code == second.status_code == 201
    assert first.get_json()["coupon_code"] != second.get_json()["coupon_code"]
    assert second.get_json()["points"] == 50
    ledger = api.get(f"/members/{member['id']}/ledger").get_json()["items"]
    assert ledger[0]["kind"] == "redeem" and ledger[0]["points"] == -100


def test_not_enough_points_is_422_with_reason(api):
    member = api.enrol("red-2")
    response = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 3})
    assert response.status_code == 422
    assert "250" in response.get_json()["message"] and "100" in response.get_json()["message"]


def test_min_tier_refusal_and_gold_perk(api):
    member = api.enrol("red-3")
    refused = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 5})
    assert refused.status_code == 422 and "Gold" in refused.get_json()["message"]
    api.purchase(member["id"], "1400")
    ok = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 5})
    assert ok.status_code == 201 and ok.get_json()["coupon_code"]


def test_donation_has_no_coupon_and_counts_in_totals(api):
    member = api.enrol("don-1")
    response = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 4})
    assert response.status_code == 201 and response.get_json()["coupon_code"] is None
    ledger = api.get(f"/members/{member['id']}/ledger").get_json()["items"]
    assert ledger[0]["kind"] == "donate" and ledger[0]["points"] == -50
    totals = api.get("/program", role="admin").get_json()["donations"]
    assert totals == {"count": 1, "points": 50, "value": "5.00"}


def test_fifo_takes_oldest_lots_first(api, db, clock):
    member = api.enrol("fifo-1")  # 100 signup now
    api.purchase(member["id"], "80", occurred_at=(clock.current - timedelta(days=200)).isoformat())
    api.purchase(member["id"], "70", occurred_at=(clock.current - timedelta(days=10)).isoformat())
    api.post(f"/members/{member['id']}/redemptions", {"reward_id": 2})  # 150 points
    with db.session() as session:
        remaining = session.execute(select(Lot.points, Lot.remaining).where(Lot.member_id == member["id"])
                                    .order_by(Lot.earned_at)).all()
    assert [tuple(r) for r in remaining] == [(80, 0), (70, 0), (100, 100)]


def test_redemption_idempotency_and_bad_input(api):
    member = api.enrol("red-4")
    headers = {"Idempotency-Key": "r-1"}
    one = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 1}, headers=headers)
    two = api.post(f"/members/{member['id']}/redemptions", {"reward_id": 1}, headers=headers)
    assert one.get_json() == two.get_json() and two.get_json()["points"] == 0
    assert api.post(f"/members/{member['id']}/redemptions", {"reward_id": 4}, headers=headers).status_code == 409
    assert api.post(f"/members/{member['id']}/redemptions", {"reward_id": 999}).status_code == 404
    assert api.post(f"/members/{member['id']}/redemptions", {"reward_id": "1"}).status_code == 422
    assert api.post(f"/members/{member['id']}/redemptions", {}).status_code == 422


def test_rewards_and_tiers_catalog(api):
    rewards = api.get("/rewards").get_json()["items"]
    assert {r["name"]: r["cost"] for r in rewards} == {
        "EUR 10 off": 100, "Free shipping": 150, "EUR 25 off": 250, "Donate EUR 5 to charity": 50,
        "Early access to sales": 0}
    early = next(r for r in rewards if r["kind"] == "early_access")
    assert early["min_tier"] == "Gold"
    assert set(rewards[0]) >= {"id", "name", "kind", "cost", "min_tier", "value"}
    tiers = api.get("/tiers").get_json()["items"]
    assert [(t["name"], t["threshold"], t["multiplier"]) for t in tiers] == [
        ("Bronze", 0, "1.00"), ("Silver", 500, "1.25"), ("Gold", 1500, "1.50")]
    assert all(t["benefits"] for t in tiers)


def test_huge_reward_id_is_422_not_500(api):
    member = api.enrol("huge-reward")
    assert api.post(f"/members/{member['id']}/redemptions", {"reward_id": 2**40}).status_code == 422
