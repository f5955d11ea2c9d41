"""Limited rewards through the API: dates with early access for chosen tiers, a stock taken one
unit per redemption (sold out → 409, nothing debited), a category scope, and the rewards a member
is shown with why they cannot redeem them."""

from __future__ import annotations

from datetime import timedelta

from engage.services import redemption


def iso(moment) -> str:
    return moment.isoformat()


def black_friday(api, clock, **fields) -> dict:
    """Early access for Gold a week before the public start, two days from now."""
    now = clock.current
    body = {"name": "Black Friday EUR 20 off", "kind": "discount", "cost": 120, "value": "20.00",
            "early_access_from": iso(now - timedelta(days=5)), "early_access_tiers": ["Gold"],
            "starts_at": iso(now + timedelta(days=2)), "ends_at": iso(now + timedelta(days=6)), **fields}
    response = api.post("/rewards", body, role="admin")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def shown(api, member_id, **query) -> dict:
    response = api.get(f"/members/{member_id}/rewards", query_string=query)
    assert response.status_code == 200, response.get_json()
    return {item["id"]: item for item in response.get_json()["items"]}


def test_early_access_for_gold_then_everyone_then_nobody(api, clock):
    sale = black_friday(api, clock)
    assert sale["early_access_tiers"] == ["Gold"] and sale["starts_at"].startswith(
        (clock.current + timedelta(days=2)).date().isoformat())
    bronze, gold = api.enrol("bf-bronze"), api.enrol("bf-gold")
    api.purchase(gold["id"], "1500")  # Gold
    api.purchase(bronze["id"], "100")
    assert sale["id"] not in shown(api, bronze["id"])
    assert shown(api, gold["id"])[sale["id"]]["redeemable"] is True
    refused = api.post(f"/members/{bronze['id']}/redemptions", {"reward_id": sale["id"]})
    assert refused.status_code == 422 and "opens at" in refused.get_json()["message"]
    assert api.post(f"/members/{gold['id']}/redemptions", {"reward_id": sale["id"]}).status_code == 201
    clock.advance(days=2)
    assert shown(api, bronze["id"])[sale["id"]]["redeemable"] is True
    assert api.post(f"/members/{bronze['id']}/redemptions", {"reward_id": sale["id"]}).status_code == 201
    clock.advance(days=4)
    assert sale["id"] not in shown(api, gold["id"])
    ended = api.post(f"/members/{gold['id']}/redemptions", {"reward_id": sale["id"]})
    assert ended.status_code == 422 and "ended at" in ended.get_json()["message"]


def test_stock_runs_out_with_409_and_nothing_debited(api):
    mugs = api.post("/rewards", {"name": "Mug", "kind": "gift", "cost": 50, "stock": 2}, role="admin").get_json()
    member = api.enrol("stock-1")  # 100 points
    api.purchase(member["id"], "100")  # 200
    path = f"/members/{member['id']}/redemptions"
    assert [api.post(path, {"reward_id": mugs["id"]}).status_code for _ in range(2)] == [201, 201]
    assert api.get(f"/rewards/{mugs['id']}").get_json()["stock"] == 0
    sold_out = api.post(path, {"reward_id": mugs["id"]})
    assert sold_out.status_code == 409 and sold_out.get_json()["message"] == "Mug is sold out"
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 100
    item = shown(api, member["id"])[mugs["id"]]
    assert (item["redeemable"], item["reason"], item["left"]) == (False, "Mug is sold out", 0)
    assert mugs["id"] not in shown(api, member["id"], redeemable="true")
    assert api.patch(f"/rewards/{mugs['id']}", {"stock": 5}, role="admin").status_code == 200
    assert api.post(path, {"reward_id": mugs["id"]}).status_code == 201


def test_category_scope(api):
    coffee = api.post("/rewards", {"name": "Free espresso", "kind": "gift", "cost": 50, "category": "coffee"},
                      role="admin").get_json()
    member = api.enrol("cat-1")
    path = f"/members/{member['id']}/redemptions"
    tea = api.post(path, {"reward_id": coffee["id"], "category": "tea"})
    assert tea.status_code == 422 and tea.get_json()["message"] == "Free espresso applies to coffee only, not tea"
    assert shown(api, member["id"], category="tea")[coffee["id"]]["redeemable"] is False
    assert api.post(path, {"reward_id": coffee["id"], "category": "Coffee"}).status_code == 201
    assert api.post(path, {"reward_id": coffee["id"]}).status_code == 201  # no category given: not checked


def test_calendar_mistakes_are_422_on_their_field(api, clock):
    now = clock.current
    base = {"name": "Odd", "kind": "gift", "cost": 10}
    backwards = api.post("/rewards", {**base, "starts_at": iso(now), "ends_at": iso(now - timedelta(days=1))},
                         role="admin")
    assert backwards.status_code == 422 and "ends_at" in backwards.get_json()["errors"]
    no_tiers = api.post("/rewards", {**base, "starts_at": iso(now), "early_access_from": iso(now - timedelta(days=1))},
                        role="admin")
    assert no_tiers.status_code == 422 and "early_access_tiers" in no_tiers.get_json()["errors"]
    unknown = api.post("/rewards", {**base, "starts_at": iso(now), "early_access_from": iso(now - timedelta(days=1)),
                                    "early_access_tiers": ["Platinum"]}, role="admin")
    assert unknown.status_code == 422 and "early_access_tiers" in unknown.get_json()["errors"]
    naive = api.post("/rewards", {**base, "starts_at": "2026-11-27T00:00:00"}, role="admin")
    assert naive.status_code == 422 and "starts_at" in naive.get_json()["errors"]
    sale = black_friday(api, clock)
    late_start = api.patch(f"/rewards/{sale['id']}", {"starts_at": iso(now + timedelta(days=9))}, role="admin")
    assert late_start.status_code == 422 and "ends_at" in late_start.get_json()["errors"]
    assert api.get(f"/rewards/{sale['id']}").get_json()["starts_at"] == sale["starts_at"]


def test_redeem_cheapest_skips_sold_out_and_closed_rewards(api, db, clock):
    """What REDEEM by text takes: the cheapest affordable paid reward, not one sold out or not open."""
    api.post("/rewards", {"name": "Sticker", "kind": "gift", "cost": 5, "stock": 0}, role="admin")
    black_friday(api, clock, cost=6)
    member = api.enrol("text-1")  # 100 points, Bronze
    done = redemption.redeem_cheapest(db.session(), member["id"], clock.current)
    assert done["reward"] == "EUR 10 off"


def test_the_redemption_reminder_names_only_what_is_open_and_in_stock(api, clock):
    """Earning to 300 points makes free shipping (150) newly affordable; a cheaper sold-out mug
    and a sale not open yet to Bronze are left out of the reminder."""
    api.post("/rewards", {"name": "Mug", "kind": "gift", "cost": 120, "stock": 0}, role="admin")
    black_friday(api, clock, cost=130)
    member = api.enrol("remind-1", phone="+31612345679")  # 100 points: EUR 10 off already
    api.purchase(member["id"], "200")  # 300 points: the mug (120) would be the cheapest new one
    items = api.get(f"/members/{member['id']}/messages").get_json()["items"]
    [body] = [m["body"] for m in items if m["flow"] == "redemption_reminder"]
    assert "enough for Free shipping" in body
