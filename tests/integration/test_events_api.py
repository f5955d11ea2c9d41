"""Earning through the API: purchases, actions, idempotency, validation, tier upgrades."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest


def test_purchase_earns_whole_units(api):
    member = api.enrol("buy-1")
    response = api.purchase(member["id"], "25.90")
    assert response.status_code == 201
    assert response.get_json() | {"id": 0} == {"id": 0, "points_awarded": 25, "points": 125, "tier": "Bronze"}


def test_tier_multiplier_and_instant_upgrade(api):
    member = api.enrol("tier-1")
    first = api.purchase(member["id"], "400.00").get_json()
    assert first["points_awarded"] == 400 and first["tier"] == "Silver"  # 100 + 400 = 500 qualifying
    second = api.purchase(member["id"], "25.90").get_json()
    assert second["points_awarded"] == 31  # 25 × 1.25 = 31.25, rounded down
    gold = api.purchase(member["id"], "1000").get_json()
    assert gold["tier"] == "Gold" and gold["points_awarded"] == 1250


@pytest.mark.parametrize("last", [{"type": "purchase", "amount": "150.00"}, {"type": "review"}])
def test_points_earned_before_the_qualifying_window_do_not_lift(api, clock, last):
    """The member has earned more than Silver's 500 in all, but only the last year counts."""
    member = api.enrol("window-1")  # 100
    api.purchase(member["id"], "390.00")  # 490 earned: still Bronze
    clock.advance(days=366)
    after = api.post(f"/members/{member['id']}/events", last).get_json()
    assert after["tier"] == "Bronze" and after["points_awarded"] in (150, 50)
    clock.advance(days=1)
    lifting = api.purchase(member["id"], "450.00").get_json()  # 450 + the last one, within the year
    assert lifting["tier"] == "Silver"


@pytest.mark.parametrize("event,points", [("review", 50), ("newsletter_signup", 20), ("social_follow", 10)])
def test_actions_earn_fixed_points(api, event, points):
    member = api.enrol(f"act-{event}")
    response = api.post(f"/members/{member['id']}/events", {"type": event})
    assert response.status_code == 201 and response.get_json()["points_awarded"] == points


def test_social_follow_only_once(api):
    member = api.enrol("follow-1")
    api.post(f"/members/{member['id']}/events", {"type": "social_follow"})
    again = api.post(f"/members/{member['id']}/events", {"type": "social_follow"}).get_json()
    assert again["points_awarded"] == 0 and again["points"] == 110 and again["message"]
    reviews = [api.post(f"/members/{member['id']}/events", {"type": "review"}).get_json() for _ in range(2)]
    assert [r["points_awarded"] for r in reviews] == [50, 50]


def test_feedback_without_a_request_earns_nothing(api):
    member = api.enrol("fb-1")
    body = api.post(f"/members/{member['id']}/events", {"type": "feedback"}).get_json()
    assert body["points_awarded"] == 0


def test_idempotency_key_replays_and_conflicts(api):
    member = api.enrol("idem-1")
    first = api.purchase(member["id"], "50.00", key="order-1001")
    again = api.purchase(member["id"], "50.00", key="order-1001")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json()
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 150
    other = api.purchase(member["id"], "60.00", key="order-1001")
    assert other.status_code == 409 and other.get_json()["message"]
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 150


def test_replay_of_a_purchase_that_lifted_the_tier_says_the_new_tier(api):
    member = api.enrol("idem-tier")
    first = api.purchase(member["id"], "400.00", key="order-silver")
    again = api.purchase(member["id"], "400.00", key="order-silver")
    assert first.get_json()["tier"] == "Silver"
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 500


def test_key_used_for_one_member_is_refused_for_another(api):
    first, second = api.enrol("idem-a"), api.enrol("idem-b")
    assert api.purchase(first["id"], "10.00", key="shared-key").status_code == 201
    refused = api.purchase(second["id"], "10.00", key="shared-key")
    assert refused.status_code == 409
    assert api.get(f"/members/{second['id']}").get_json()["points"] == 100


def test_purchase_for_an_unknown_member_stores_no_key(api):
    assert api.purchase(999999, "10.00", key="ghost-key").status_code == 404
    member = api.enrol("idem-ghost")
    assert api.purchase(member["id"], "10.00", key="ghost-key").status_code == 201


def test_late_purchase_keeps_its_date(api, clock):
    member = api.enrol("late-1")
    earned = (clock.current - timedelta(days=100)).isoformat()
    api.purchase(member["id"], "30", occurred_at=earned)
    ledger = api.get(f"/members/{member['id']}/ledger").get_json()["items"]
    assert ledger[0]["occurred_at"].startswith((clock.current - timedelta(days=100)).date().isoformat())
    assert ledger[0]["expires_at"].startswith((clock.current + timedelta(days=265)).date().isoformat())
    assert api.get(f"/members/{member['id']}").get_json()["expiring"]["points"] == 30


def test_occurred_at_without_an_offset_is_the_programs_wall_clock(api, clock):
    zone = ZoneInfo(api.get("/program", role="admin").get_json()["timezone"])
    member = api.enrol("naive-1")
    wall = (clock.current - timedelta(days=10)).astimezone(zone).replace(tzinfo=None, microsecond=0)
    assert api.purchase(member["id"], "30", occurred_at=wall.isoformat()).status_code == 201
    day = (clock.current - timedelta(days=20)).astimezone(zone).date()
    assert api.purchase(member["id"], "40", occurred_at=day.isoformat()).status_code == 201
    entries = api.get(f"/members/{member['id']}/ledger").get_json()["items"]
    by_points = {entry["points"]: datetime.fromisoformat(entry["occurred_at"]) for entry in entries}
    assert by_points[30] == wall.replace(tzinfo=zone)
    assert by_points[40] == datetime.combine(day, time(0), tzinfo=zone)


@pytest.mark.parametrize("body,field", [
    ({"type": "purchase", "amount": "-1"}, "amount"),
    ({"type": "purchase", "amount": "1e12"}, "amount"),
    ({"type": "purchase", "amount": "NaN"}, "amount"),
    ({"type": "purchase", "amount": "Infinity"}, "amount"),
    ({"type": "purchase", "amount": "ten"}, "amount"),
    ({"type": "purchase"}, "amount"),
    ({"type": "purchase", "amount": "10", "currency": "XX1"}, "currency"),
    ({"type": "purchase", "amount": "10", "currency": "USD"}, "currency"),
    ({"type": "purchase", "amount": "10", "occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
    ({"type": "purchase", "amount": "10", "occurred_at": "yesterday"}, "occurred_at"),
    ({"type": "purchase", "amount": "10", "occurred_at": "0001-01-01T00:00:00"}, "occurred_at"),
    ({"type": "purchase", "amount": "10", "occurred_at": "2026-13-01"}, "occurred_at"),
    ({"type": "purchase", "amount": "10", "occurred_at": 1767261600}, "occurred_at"),
    ({"type": "purchase", "amount": "10", "occurred_at": "2020-01-01T10:00:00Z"}, "occurred_at"),
    ({"type": "teleport"}, "type"),
    ({"amount": "10"}, "type"),
    ({"type": "purchase", "amount": "10", "extra": True}, "extra"),
])
def test_bad_events_are_422_and_change_nothing(api, body, field):
    member = api.enrol("bad-event")
    response = api.post(f"/members/{member['id']}/events", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"] and response.get_json()["message"]
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 100


def test_malformed_json_and_unknown_member(api, app):
    member = api.enrol("json-1")
    response = api.client.post(f"/api/v1/members/{member['id']}/events", data="{oops",
                               headers={**api.headers(), "Content-Type": "application/json"})
    assert response.status_code == 400 and response.get_json()["message"]
    missing = api.post("/members/424242/events", {"type": "review"})
    assert missing.status_code == 404 and missing.get_json()["message"]
    wrong_json = api.post(f"/members/{member['id']}/events", ["not", "an", "object"])
    assert wrong_json.status_code in (400, 422)
