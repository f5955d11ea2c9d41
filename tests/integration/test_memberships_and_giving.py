"""Paid memberships (a tier bought for a period, its renewal reminder and its lapse) and giving
back (the program's share of purchases, the causes' totals, the `giving` template variable)."""

from __future__ import annotations

from sqlalchemy import select

from engage.models import AuditEntry, Message
from tests.integration.test_year_of_flows import at, outbound, run_day, year  # noqa: F401

PLUS = {"name": "Plus", "threshold": 1000, "multiplier": "1.4", "benefits": ["Free returns"], "paid": True}


def buy(api, member_id, reference="pay-1", **body):
    body = {"payment_reference": reference, "tier": "Plus", "months": 1, "price": "9.99", **body}
    return api.post(f"/members/{member_id}/memberships", {k: v for k, v in body.items() if v is not None})


def test_a_bought_tier_gives_its_multiplier_whatever_the_points_and_is_idempotent(api):
    assert api.post("/tiers", PLUS, role="admin").status_code == 201
    member = api.enrol("paid-1")
    answer = buy(api, member["id"])
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["tier"] == "Plus" and answer.get_json()["status"] == "active"
    assert buy(api, member["id"]).get_json() == answer.get_json()  # the shop retried: nothing twice
    assert buy(api, member["id"], price="19.99").status_code == 409
    assert len(api.get(f"/members/{member['id']}/memberships").get_json()["items"]) == 1
    shown = api.get(f"/members/{member['id']}").get_json()
    assert shown["tier"] == "Plus" and shown["next_tier"]["name"] == "Gold"
    assert api.purchase(member["id"], "100.00").get_json()["points_awarded"] == 140
    assert api.get(f"/members/{member['id']}").get_json()["tier"] == "Plus"  # 240 points earn no Plus


def test_only_paid_tiers_are_bought_and_the_period_is_checked(api):
    api.post("/tiers", PLUS, role="admin")
    member = api.enrol("paid-2")
    assert buy(api, member["id"], tier="Gold").status_code == 422
    assert buy(api, member["id"], tier="Nope").status_code == 422
    assert buy(api, member["id"], ends_at="2026-05-01T00:00:00+00:00").status_code == 422  # both
    assert buy(api, member["id"], months=None).status_code == 422  # neither
    assert buy(api, member["id"], starts_at="2026-05-01", ends_at="2026-04-01", months=None).status_code == 422
    assert api.patch("/tiers/1", {"paid": True}, role="admin").status_code == 422  # the lowest tier
    assert buy(api, 999999).status_code == 404


def test_cancel_or_refund_falls_back_at_once_with_an_audit_entry(api, db):
    api.post("/tiers", PLUS, role="admin")
    member = api.enrol("paid-3")
    bought = buy(api, member["id"]).get_json()
    cancel = f"/members/{member['id']}/memberships/{bought['id']}/cancel"
    answer = api.post(cancel, {"refund": True})
    assert answer.status_code == 200 and answer.get_json()["status"] == "refunded"
    assert api.post(cancel, {}).status_code == 409
    assert api.get(f"/members/{member['id']}").get_json()["tier"] == "Bronze"
    with db.session() as session:
        actions = session.scalars(select(AuditEntry.action).where(AuditEntry.object_type == "membership")).all()
    assert actions == ["membership.buy", "membership.refund"]


def test_renewal_reminder_a_week_before_the_lapse_then_the_sweep_falls_back(year, clock):  # noqa: F811
    app, api = year
    clock.set(at(0, 10))
    api.post("/tiers", PLUS, role="admin")
    eva = api.enrol("eva", locale="de", phone=None, email="eva@example.com")
    assert buy(api, eva["id"], ends_at=at(20, 10).isoformat(), months=None).status_code == 201
    for day in range(1, 22):
        clock.set(at(day, 10))
        run_day(app, clock, day)
    renewals = [m for m in outbound(app, eva["id"]) if m[0] == "membership_renewal"]
    assert renewals == [("membership_renewal", "email", "sent", "de", at(14).date())]
    assert api.get(f"/members/{eva['id']}").get_json()["tier"] == "Bronze"
    assert api.get(f"/members/{eva['id']}/memberships").get_json()["items"][0]["lapsed_at"] is not None
    with app.extensions["engage.db"].session() as session:
        body = session.scalar(select(Message.body).where(Message.flow == "membership_renewal"))
        lapse = session.scalar(select(AuditEntry).where(AuditEntry.action == "membership.lapse"))
    assert "Plus-Mitgliedschaft" in body and lapse.actor == "sweep"


def test_an_early_renewal_extends_the_membership_and_skips_the_reminder(year, clock):  # noqa: F811
    app, api = year
    clock.set(at(0, 10))
    api.post("/tiers", PLUS, role="admin")
    fay = api.enrol("fay", phone=None, email="fay@example.com")
    buy(api, fay["id"], ends_at=at(20, 10).isoformat(), months=None)
    for day in range(1, 16):
        clock.set(at(day, 10))
        run_day(app, clock, day)
    renewed = buy(api, fay["id"], reference="pay-2").get_json()
    assert renewed["starts_at"].startswith(at(20, 10).date().isoformat())
    for day in range(16, 23):
        clock.set(at(day, 10))
        run_day(app, clock, day)
    assert api.get(f"/members/{fay['id']}").get_json()["tier"] == "Plus"
    assert [m[0] for m in outbound(app, fay["id"])].count("membership_renewal") == 1


def test_giving_back_shares_each_purchase_beside_members_donations(api):
    setting = {"enabled": True, "cause": "the food bank", "mode": "percent", "percent": "2.00"}
    assert api.patch("/program", {"giving_back": setting, "charity_name": "the food bank"},
                     role="admin").status_code == 200
    member = api.enrol("give-1")
    api.purchase(member["id"], "100.00", key="k-1")
    api.purchase(member["id"], "100.00", key="k-1")  # a replay gives nothing twice
    answer = api.purchase(member["id"], "25.90")
    assert answer.get_json()["points"] == 100 + 100 + 25  # the share never takes the member's points
    api.post(f"/members/{member['id']}/redemptions", {"reward_id": 4})  # donate EUR 5 (50 points)
    [cause] = api.get("/causes").get_json()["items"]
    assert cause == {"cause": "the food bank", "total": "7.52", "currency": "EUR", "points": 50,
                     "purchases": 2, "donations": 1, "from_purchases": "2.52"}
    preview = api.post("/flows/welcome/preview", {
        "member_id": member["id"], "channel": "sms",
        "body": "Together we have given {{ giving.total|money(giving.currency) }} to {{ giving.cause }}. STOP"},
        role="marketer")
    assert preview.status_code == 200, preview.get_json()
    assert preview.get_json()["body"].startswith("Together we have given €7.52 to the food bank.")


def test_giving_back_in_points_counts_at_the_point_value(api):
    setting = {"enabled": True, "cause": "trees", "mode": "points", "points_per_purchase": 10,
               "point_value": "0.0500"}
    api.patch("/program", {"giving_back": setting}, role="admin")
    member = api.enrol("give-2")
    api.purchase(member["id"], "10.00")
    assert api.get("/causes").get_json()["items"][0] == {
        "cause": "trees", "total": "0.50", "currency": "EUR", "points": 10, "purchases": 1, "donations": 0,
        "from_purchases": "0.50"}
