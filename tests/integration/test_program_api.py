"""Program settings, rewards and tiers as an admin edits them."""

from __future__ import annotations


def test_patch_program_changes_rules(api):
    response = api.patch("/program", {"points_per_currency_unit": 2, "action_points": {"signup": 150}},
                         role="admin")
    assert response.status_code == 200
    body = response.get_json()
    assert body["points_per_currency_unit"] == 2 and body["action_points"]["signup"] == 150
    assert body["action_points"]["review"] == 50
    member = api.enrol("prog-1")
    assert member["points"] == 150
    assert api.purchase(member["id"], "10").get_json()["points_awarded"] == 20


def test_patch_program_validates(api):
    assert api.patch("/program", {"timezone": "Nowhere/Land"}, role="admin").status_code == 422
    assert api.patch("/program", {"sms_daily_cap": -1}, role="admin").status_code == 422
    assert api.patch("/program", {"quiet_hours": {"start": "25:00", "end": "08:00"}},
                     role="admin").status_code == 422
    assert api.patch("/program", {"name": "X"}, role="marketer").status_code == 403


def test_admin_edits_rewards_and_tiers(api):
    created = api.post("/rewards", {"name": "Tote bag", "kind": "gift", "cost": 300, "min_tier": "Silver"},
                       role="admin")
    assert created.status_code == 201, created.get_json()
    reward = created.get_json()
    assert reward["min_tier"] == "Silver"
    assert api.post("/rewards", {"name": "Tote bag", "kind": "gift", "cost": 1}, role="admin").status_code == 409
    assert api.post("/rewards", {"name": "X", "kind": "gift", "cost": 1, "min_tier": "Platinum"},
                    role="admin").status_code == 422
    assert api.patch(f"/rewards/{reward['id']}", {"cost": 250}, role="admin").get_json()["cost"] == 250
    assert api.post("/rewards", {"name": "Y", "kind": "gift", "cost": 1}, role="integration").status_code == 403
    tier = api.patch("/tiers/2", {"threshold": 400, "benefits": ["Free gift wrap"]}, role="admin").get_json()
    assert tier["threshold"] == 400
    assert api.patch("/tiers/1", {"threshold": 10}, role="admin").status_code == 422
    assert api.patch("/tiers/2", {"threshold": 1500}, role="admin").status_code == 409
    past_gold = api.patch("/tiers/2", {"threshold": 2000}, role="admin")
    assert past_gold.status_code == 422 and "below Gold's 1500" in past_gold.get_json()["message"]
    under_silver = api.patch("/tiers/3", {"threshold": 300}, role="admin")  # Gold, the top: one bound
    assert under_silver.status_code == 422 and under_silver.get_json()["message"] == (
        "Gold's threshold must stay above Silver's 400")
    assert [tier["name"] for tier in api.get("/tiers").get_json()["items"]] == ["Bronze", "Silver", "Gold"]


def test_sms_caps_of_zero_are_refused_and_enrolment_still_works(api):
    """A cap of 0 left no slot for any flow SMS: every enrolment with SMS consent was a 500."""
    for cap in ("sms_daily_cap", "sms_weekly_cap"):
        response = api.patch("/program", {cap: 0}, role="admin")
        assert response.status_code == 422, response.get_json()
        assert cap in response.get_json()["errors"]
    assert api.patch("/program", {"sms_daily_cap": 1, "sms_weekly_cap": 1}, role="admin").status_code == 200
    member = api.enrol("caps-1")
    messages = api.get(f"/messages?member_id={member['id']}", role="marketer").get_json()["items"]
    assert [m["flow"] for m in messages] == ["welcome"]
