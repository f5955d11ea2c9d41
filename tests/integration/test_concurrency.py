"""Races on real PostgreSQL: no double redemption, no double credit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from engage.models import LedgerEntry, Lot


def _race(calls):
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def test_twenty_redemptions_racing_for_three(pg_api):
    member = pg_api.enrol("race-1")
    pg_api.purchase(member["id"], "200")  # 300 points: three EUR 10 off
    path = f"/members/{member['id']}/redemptions"
    calls = [lambda: pg_api.app.test_client().post(
        "/api/v1" + path, json={"reward_id": 1}, headers=pg_api.headers()) for _ in range(20)]
    statuses = sorted(r.status_code for r in _race(calls))
    assert statuses == [201] * 3 + [422] * 17
    db = pg_api.app.extensions["engage.db"]
    with db.session() as session:
        balance = session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == member["id"]))
        negative = session.scalar(select(func.count()).where(Lot.remaining < 0))
    assert balance == 0 and negative == 0


def test_twenty_events_with_one_key_credit_once(pg_api):
    member = pg_api.enrol("race-2")
    path = f"/api/v1/members/{member['id']}/events"
    headers = {**pg_api.headers(), "Idempotency-Key": "order-77"}
    calls = [lambda: pg_api.app.test_client().post(path, json={"type": "purchase", "amount": "42.00"},
                                                    headers=headers) for _ in range(20)]
    responses = _race(calls)
    assert {r.status_code for r in responses} == {201}
    assert len({r.get_data() for r in responses}) == 1
    assert pg_api.get(f"/members/{member['id']}").get_json()["points"] == 142


def test_one_key_racing_across_two_members_credits_one(pg_api):
    """The key's unique index decides between members: one 201, the rest replays or 409."""
    first, second = pg_api.enrol("race-3"), pg_api.enrol("race-4")
    headers = {**pg_api.headers(), "Idempotency-Key": "order-88"}
    calls = [lambda member=member: pg_api.app.test_client().post(
        f"/api/v1/members/{member['id']}/events", json={"type": "purchase", "amount": "42.00"}, headers=headers)
        for member in [first, second] * 10]
    responses = _race(calls)
    assert {r.status_code for r in responses} <= {201, 409}
    winners = {r.get_data() for r in responses if r.status_code == 201}
    assert len(winners) == 1
    points = sorted(pg_api.get(f"/members/{m['id']}").get_json()["points"] for m in (first, second))
    assert points == [100, 142]


def test_twenty_purchases_racing_at_one_member_each_see_the_one_before(pg_api):
    """Every answer's balance is the previous answer's plus its own points: each purchase read the
    balance committed just before it (the member's row lock orders them), none a stale one."""
    member = pg_api.enrol("race-5")  # 100 signup points
    path = f"/api/v1/members/{member['id']}/events"
    calls = [lambda n=n: pg_api.app.test_client().post(
        path, json={"type": "purchase", "amount": "42.00"},
        headers={**pg_api.headers(), "Idempotency-Key": f"order-{n}"}) for n in range(20)]
    responses = _race(calls)
    assert {r.status_code for r in responses} == {201}
    answers = sorted((r.get_json() for r in responses), key=lambda answer: answer["points"])
    balance = 100
    for answer in answers:
        balance += answer["points_awarded"]
        assert answer["points"] == balance
    assert pg_api.get(f"/members/{member['id']}").get_json()["points"] == balance
    assert answers[-1]["tier"] == "Silver"  # crossed 500 on the way: later purchases earned 1.25x
    assert answers[-1]["points_awarded"] == 52


def _redeemers(pg_api, reward_id, count):
    """`count` members with points enough, each about to redeem `reward_id` once."""
    members = [pg_api.enrol(f"last-{reward_id}-{n}") for n in range(count)]  # 100 signup points each
    return [lambda member=member: pg_api.app.test_client().post(
        f"/api/v1/members/{member['id']}/redemptions", json={"reward_id": reward_id}, headers=pg_api.headers())
        for member in members], members


def test_two_redemptions_of_the_last_partner_code(pg_api):
    """Concurrent claims skip each other's locked code (SKIP LOCKED): two codes, two winners with
    different codes; the last one left is handed out once, the loser gets 409 and keeps its points."""
    reward = pg_api.post("/rewards", {"name": "Cinema", "kind": "gift", "cost": 10, "partner": "Kinepolis"},
                         role="admin").get_json()
    pg_api.post(f"/rewards/{reward['id']}/codes", {"codes": ["KP-1", "KP-2"]}, role="admin")
    calls, members = _redeemers(pg_api, reward["id"], 3)
    responses = _race(calls)
    assert sorted(r.status_code for r in responses) == [201, 201, 409]
    assert sorted(r.get_json()["coupon_code"] for r in responses if r.status_code == 201) == ["KP-1", "KP-2"]
    points = sorted(pg_api.get(f"/members/{m['id']}").get_json()["points"] for m in members)
    assert points == [90, 90, 100]
    pool = pg_api.get(f"/rewards/{reward['id']}/codes", role="admin").get_json()
    assert (pool["available"], pool["handed_out"]) == (0, 2)


def test_two_redemptions_of_the_last_stock_unit(pg_api):
    reward = pg_api.post("/rewards", {"name": "Mug", "kind": "gift", "cost": 10, "stock": 1},
                         role="admin").get_json()
    calls, members = _redeemers(pg_api, reward["id"], 2)
    responses = _race(calls)
    assert sorted(r.status_code for r in responses) == [201, 409]
    assert sorted(pg_api.get(f"/members/{m['id']}").get_json()["points"] for m in members) == [90, 100]
    assert pg_api.get(f"/rewards/{reward['id']}").get_json()["stock"] == 0
