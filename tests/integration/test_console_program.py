"""The program pages and the API keys page through Flask's test client, on SQLite and PostgreSQL:
each form saved with errors (shown by their field, the same as the API's) then fixed, and the
audit entry each change leaves. (tests/browser drives the same pages in Chromium.)"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from engage.models import ApiKey, AuditEntry
from tests.support.console import signed_in


def program_form(api) -> dict[str, str]:
    """The program form as the page fills it: the current settings, nested ones as "parent-child"."""
    form = {}
    for name, value in api.get("/program", role="admin").get_json().items():
        if name == "donations":
            continue
        if isinstance(value, dict):
            form.update({f"{name}-{child}": str(each) for child, each in value.items()})
        else:
            form[name] = "" if value is None else str(value)
    return form


@pytest.fixture
def admin(app, people):
    return signed_in(app, people["admin"])


def audit_entries(db, action: str) -> list[AuditEntry]:
    with db.session() as session:
        return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


def field_error(page: str, name: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{re.escape(name)}-error">([^<]*)</p>', page)
    return found.group(1) if found else None


def test_program_pages_are_for_admins(app, people):
    for role in ("viewer", "marketer"):
        client = signed_in(app, people[role])
        for path in ("/console/program", "/console/program/rewards", "/console/program/tiers/1",
                     "/console/program/rewards/new", "/console/keys"):
            assert client.get(path).status_code == 403, (role, path)
        assert "API keys" not in client.get("/console/").get_data(as_text=True).split("<main")[0]
    nav = signed_in(app, people["admin"]).get("/console/").get_data(as_text=True).split("<main")[0]
    assert all(label in nav for label in (">Program<", ">Rewards<", ">API keys<"))


def test_program_settings_saved_with_errors_then_fixed(app, api, admin, db):
    page = admin.get("/console/program").get_data(as_text=True)
    before = api.get("/program", role="admin").get_json()
    assert f'value="{before["help_text"]}"' not in page  # a textarea: the text is its content
    assert before["help_text"] in page and 'id="quiet_hours-start"' in page
    bad = {**program_form(api), "timezone": "Mars/Olympus", "quiet_hours-start": "25:00", "sms_daily_cap": "0",
           "action_points-review": "many", "phone_region": "XX", "max_purchase_amount": "1.234"}
    answer = admin.post("/console/program", bad)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "The settings were not saved" in page
    assert field_error(page, "timezone") == "Not an IANA time zone (e.g. Europe/Amsterdam)."
    assert field_error(page, "quiet_hours-start") == "Use HH:MM."
    assert field_error(page, "sms_daily_cap") == "Must be greater than or equal to 1 and less than or equal to 100."
    assert field_error(page, "action_points-review") == "Not a valid integer."
    assert field_error(page, "phone_region").startswith("Not a region phone numbers are known for")
    assert field_error(page, "max_purchase_amount").startswith("Must be a decimal string")
    assert 'value="Mars/Olympus"' in page and 'aria-invalid="true"' in page  # the posted text kept
    # The API refuses the same values with the same messages.
    refused = api.patch("/program", {"timezone": "Mars/Olympus", "quiet_hours": {"start": "25:00", "end": "09:00"}},
                        role="admin").get_json()["errors"]
    assert refused["timezone"] == ["Not an IANA time zone (e.g. Europe/Amsterdam)."]
    assert refused["quiet_hours"]["start"] == ["Use HH:MM."]
    assert api.get("/program", role="admin").get_json() == before  # nothing saved
    assert audit_entries(db, "program.update") == []

    good = {**program_form(api), "timezone": "Europe/Bucharest", "quiet_hours-start": "22:30", "sms_daily_cap": "2",
            "action_points-review": "25", "phone_region": "RO"}
    answer = admin.post("/console/program", good)
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/program"
    page = admin.get("/console/program").get_data(as_text=True)
    assert "Program settings saved." in page and 'value="Europe/Bucharest"' in page
    after = api.get("/program", role="admin").get_json()
    assert after["timezone"] == "Europe/Bucharest" and after["quiet_hours"]["start"] == "22:30"
    assert after["sms_daily_cap"] == 2 and after["action_points"]["review"] == 25 and after["phone_region"] == "RO"
    [entry] = audit_entries(db, "program.update")
    assert entry.actor == "admin@example.com" and entry.object_type == "program"
    assert entry.before["timezone"] == before["timezone"] and entry.after["timezone"] == "Europe/Bucharest"
    assert entry.after["quiet_hours"]["start"] == "22:30" and "donations" not in entry.after
    assert "name" not in entry.after  # only what changed
    # Saving the same values again changes nothing and records nothing.
    assert admin.post("/console/program", good).status_code == 302
    assert len(audit_entries(db, "program.update")) == 1


def test_an_empty_phone_region_clears_it(app, api, admin):
    assert admin.post("/console/program", {**program_form(api), "phone_region": ""}).status_code == 302
    assert api.get("/program", role="admin").get_json()["phone_region"] is None


def test_tier_saved_with_errors_then_fixed(app, api, admin, db):
    tiers = api.get("/tiers").get_json()["items"]
    assert len(tiers) >= 2, "the program comes with tiers"
    second = tiers[1]
    page = admin.get(f"/console/program/tiers/{second['id']}").get_data(as_text=True)
    assert f'value="{second["threshold"]}"' in page
    form = {"name": second["name"], "threshold": str(second["threshold"]), "multiplier": "1.5x",
            "benefits": "Free shipping\nBirthday gift"}
    answer = admin.post(f"/console/program/tiers/{second['id']}", form)
    assert answer.status_code == 422
    assert field_error(answer.get_data(as_text=True), "multiplier").startswith("Must be a decimal string")
    # Past the tier above: the service's own rule, by its field.
    above = tiers[2]["threshold"] if len(tiers) > 2 else None
    if above is not None:
        answer = admin.post(f"/console/program/tiers/{second['id']}",
                            {**form, "multiplier": "1.5", "threshold": str(above + 1)})
        assert answer.status_code == 422
        assert field_error(answer.get_data(as_text=True), "threshold").startswith("Must stay")
    answer = admin.post(f"/console/program/tiers/{second['id']}",
                        {**form, "multiplier": "1.5", "threshold": str(second["threshold"] + 1)})
    assert answer.status_code == 302
    saved = next(t for t in api.get("/tiers").get_json()["items"] if t["id"] == second["id"])
    assert saved["multiplier"] == "1.50" and saved["benefits"] == ["Free shipping", "Birthday gift"]
    assert saved["threshold"] == second["threshold"] + 1
    [entry] = audit_entries(db, "tier.update")
    assert entry.object_id == str(second["id"])
    assert entry.before["threshold"] == second["threshold"] and entry.after["threshold"] == second["threshold"] + 1


def test_the_lowest_tier_keeps_threshold_zero(app, api, admin):
    lowest = api.get("/tiers").get_json()["items"][0]
    answer = admin.post(f"/console/program/tiers/{lowest['id']}",
                        {"name": lowest["name"], "threshold": "5", "multiplier": "1.00", "benefits": ""})
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "threshold") == "Must be 0."


def test_reward_created_with_errors_then_fixed_edited_and_disabled(app, api, admin, db):
    form = {"name": "", "kind": "voucher", "cost": "-5", "value": "ten", "min_tier": "Platinum", "active": "on"}
    answer = admin.post("/console/program/rewards/new", form)
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "The reward was not saved" in page
    assert field_error(page, "name") == "Length must be between 1 and 120."
    assert field_error(page, "kind").startswith("Must be one of: discount")
    assert field_error(page, "cost") == "Must be greater than or equal to 0 and less than or equal to 10000000."
    assert field_error(page, "value").startswith("Must be a decimal string")
    tier = api.get("/tiers").get_json()["items"][-1]["name"]
    answer = admin.post("/console/program/rewards/new", {**form, "name": "Tote bag", "kind": "gift", "cost": "300",
                                                        "value": "", "min_tier": tier})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/program/rewards"
    reward = next(r for r in api.get("/rewards").get_json()["items"] if r["name"] == "Tote bag")
    assert reward == {**reward, "kind": "gift", "cost": 300, "value": None, "min_tier": tier, "active": True}
    [created] = audit_entries(db, "reward.create")
    assert created.before is None and created.after["name"] == "Tote bag" and created.object_id == str(reward["id"])
    listed = admin.get("/console/program/rewards").get_data(as_text=True)
    assert "Tote bag" in listed and 'aria-label="Disable Tote bag"' in listed

    # A second reward by the same name: the service's 409, by the name field.
    answer = admin.post("/console/program/rewards/new", {**form, "name": "Tote bag", "kind": "gift", "cost": "1",
                                                        "value": "", "min_tier": ""})
    assert answer.status_code == 422 and "already exists" in field_error(answer.get_data(as_text=True), "name")

    edit = f"/console/program/rewards/{reward['id']}"
    assert 'value="300"' in admin.get(edit).get_data(as_text=True)
    answer = admin.post(edit, {"name": "Tote bag", "kind": "gift", "cost": "abc", "value": "", "min_tier": tier,
                               "active": "on"})
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "cost") == "Not a valid integer."
    answer = admin.post(edit, {"name": "Tote bag", "kind": "gift", "cost": "250", "value": "4.50", "min_tier": "",
                               "active": "on"})
    assert answer.status_code == 302
    [updated] = audit_entries(db, "reward.update")
    assert updated.before == {"cost": 300, "value": None, "min_tier": tier}
    assert updated.after == {"cost": 250, "value": "4.50", "min_tier": None}

    assert admin.post(f"{edit}/active", {}, page="/console/program/rewards").status_code == 302
    assert api.get(f"/rewards/{reward['id']}").get_json()["active"] is False
    assert "Reward Tote bag is disabled." in admin.get("/console/program/rewards").get_data(as_text=True)
    assert admin.post(f"{edit}/active", {"active": "on"}, page="/console/program/rewards").status_code == 302
    assert api.get(f"/rewards/{reward['id']}").get_json()["active"] is True
    switches = audit_entries(db, "reward.update")[1:]
    assert [(e.before, e.after) for e in switches] == [({"active": True}, {"active": False}),
                                                       ({"active": False}, {"active": True})]


def test_unknown_tier_and_reward_are_404_pages(admin):
    assert admin.get("/console/program/tiers/999").status_code == 404
    assert admin.get("/console/program/rewards/999").status_code == 404
    assert admin.get("/console/keys/999/revoke").status_code == 404


def test_api_key_created_with_errors_then_fixed_shown_once_and_revoked(app, api, admin, db, clock):
    answer = admin.post("/console/keys", {"name": " ", "role": "superuser"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 422 and "The key was not saved" in page
    assert field_error(page, "role") == "Must be one of: integration, marketer, admin."
    answer = admin.post("/console/keys", {"name": "Checkout", "role": "integration"})
    page = answer.get_data(as_text=True)
    assert answer.status_code == 201 and answer.headers["Cache-Control"] == "no-store"
    secret = re.search(r'id="new-key" class="secret" readonly value="(egk_[^"]+)"', page).group(1)
    assert "shown this once" in page
    assert secret not in admin.get("/console/keys").get_data(as_text=True)  # never again
    [created] = audit_entries(db, "key.create")
    assert created.after["name"] == "Checkout" and secret not in str(created.after)

    # It works, and the page shows when it was last used.
    with db.session() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.name == "Checkout"))
        assert key.last_used_at is None
    assert "never" in admin.get("/console/keys").get_data(as_text=True)
    used_at = clock()
    assert app.test_client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    assert used_at.strftime("%Y-%m-%d %H:%M") in admin.get("/console/keys").get_data(as_text=True)

    confirm = admin.get(f"/console/keys/{key.id}/revoke").get_data(as_text=True)
    assert "Revoke key Checkout?" in confirm and "cannot be undone" in confirm
    answer = admin.post(f"/console/keys/{key.id}/revoke", {})
    assert answer.status_code == 302 and answer.headers["Location"] == "/console/keys"
    assert "is revoked" in admin.get("/console/keys").get_data(as_text=True)
    assert app.test_client().get("/api/v1/rewards", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    [revoked] = audit_entries(db, "key.revoke")
    assert revoked.before["revoked_at"] is None and revoked.after["revoked_at"] is not None
    # Revoking again changes nothing, and records nothing.
    assert admin.post(f"/console/keys/{key.id}/revoke", {}, page=f"/console/keys/{key.id}/revoke").status_code == 302
    assert len(audit_entries(db, "key.revoke")) == 1


def test_hostile_input_is_never_a_500(admin):
    for path in ("/console/program", "/console/program/tiers/1", "/console/program/rewards/new", "/console/keys"):
        answer = admin.post(path, {"name": "\x00" * 3, "threshold": "9" * 40, "cost": "9" * 40,
                                   "points_per_currency_unit": "9" * 40, "timezone": "\x00"})
        assert answer.status_code in (201, 302, 422), (path, answer.status_code)


def test_a_nul_is_refused_by_its_field_as_the_api_does(app, api, admin):
    answer = admin.post("/console/program", {**program_form(api), "help_text": "Reply\x00STOP"})
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "help_text")
    answer = admin.post("/console/keys", {"name": "till\x00", "role": "integration"})
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "name")
    answer = admin.post("/console/program/rewards/new", {"name": "Bag\x00", "kind": "gift", "cost": "1"})
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "name")


def test_purchase_rules_saved_with_errors_then_fixed_and_removed(app, api, admin, db, people):
    assert signed_in(app, people["marketer"]).get("/console/program/purchase-rules").status_code == 403
    page = admin.get("/console/program/purchase-rules").get_data(as_text=True)
    assert 'name="item_bonuses-0-match"' in page and 'name="offer_rules-1-keyword"' in page
    offer = {"offer_rules-rows": "2", "offer_rules-0-key": "blend-fan", "offer_rules-0-match": "sku",
             "offer_rules-0-value": "BLEND-1", "offer_rules-0-times": "4", "offer_rules-0-days": "30",
             "offer_rules-0-reward_id": "99", "offer_rules-0-cost": "50", "offer_rules-0-valid_days": "14",
             "offer_rules-0-keyword": "COFFEE"}
    bonus = {"item_bonuses-rows": "2", "item_bonuses-0-match": "category", "item_bonuses-0-value": "coffee",
             "item_bonuses-0-multiplier": "two", "item_bonuses-0-points_per_unit": ""}
    answer = admin.post("/console/program/purchase-rules", {**offer, **bonus})
    assert answer.status_code == 422
    assert "decimal" in field_error(answer.get_data(as_text=True), "item_bonuses-0-multiplier")
    answer = admin.post("/console/program/purchase-rules", {**offer, **bonus, "item_bonuses-0-multiplier": "2"})
    assert answer.status_code == 422
    assert "no reward 99" in field_error(answer.get_data(as_text=True), "offer_rules-0-reward_id")
    assert api.get("/program", role="admin").get_json()["offer_rules"] == []  # nothing saved

    good = {**offer, **bonus, "item_bonuses-0-multiplier": "2", "offer_rules-0-reward_id": "1"}
    assert admin.post("/console/program/purchase-rules", good).status_code == 302
    program = api.get("/program", role="admin").get_json()
    assert program["item_bonuses"] == [{"match": "category", "value": "coffee", "multiplier": "2",
                                        "points_per_unit": 0}]
    assert program["offer_rules"][0]["reward_id"] == 1 and program["offer_rules"][0]["keyword"] == "COFFEE"
    [entry] = audit_entries(db, "program.update")
    assert entry.after["offer_rules"][0]["key"] == "blend-fan"
    page = admin.get("/console/program/purchase-rules").get_data(as_text=True)
    assert 'value="blend-fan"' in page

    removed = {**good, "item_bonuses-0-remove": "on"}
    assert admin.post("/console/program/purchase-rules", removed).status_code == 302
    assert api.get("/program", role="admin").get_json()["item_bonuses"] == []


def test_reward_limits_and_partner_pool_on_the_rewards_pages(app, api, admin, db):
    base = {"name": "Black Friday deal", "kind": "discount", "cost": "120", "value": "", "min_tier": "",
            "active": "on", "category": "coffee", "stock": "50", "starts_at": "2026-11-27T00:00:00+01:00",
            "ends_at": "2026-11-20T00:00:00+01:00", "early_access_from": "2026-11-20T00:00:00+01:00",
            "early_access_tiers": "Gold", "partner": "", "low_codes_threshold": ""}
    answer = admin.post("/console/program/rewards/new", base)
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "ends_at") == \
        "Must be after starts_at."
    answer = admin.post("/console/program/rewards/new", {**base, "ends_at": "2026-12-01T00:00:00+01:00"})
    assert answer.status_code == 302
    reward = next(r for r in api.get("/rewards").get_json()["items"] if r["name"] == "Black Friday deal")
    assert (reward["stock"], reward["category"], reward["early_access_tiers"]) == (50, "coffee", ["Gold"])
    assert reward["early_access_from"] == "2026-11-19T23:00:00+00:00"
    listed = admin.get("/console/program/rewards").get_data(as_text=True)
    assert "coffee only, 50 in stock, Gold from 2026-11-19, from 2026-11-26, until 2026-11-30" in listed

    edit = f"/console/program/rewards/{reward['id']}"
    assert admin.post(edit, {**base, "ends_at": "", "early_access_from": "", "early_access_tiers": "",
                             "partner": "Kinepolis", "low_codes_threshold": "3"}).status_code == 302
    api.post(f"/rewards/{reward['id']}/codes", {"codes": ["KP-1", "KP-2"]}, role="admin")
    listed = admin.get("/console/program/rewards").get_data(as_text=True)
    assert "Partner codes running low" in listed and "Black Friday deal</a> (Kinepolis): 2 left, under 3" in listed
    assert "Codes left: <strong>2</strong> — running low" in admin.get(edit).get_data(as_text=True)
    [updated] = [e for e in audit_entries(db, "reward.update") if "partner" in e.after]
    assert updated.after["partner"] == "Kinepolis" and updated.before["partner"] is None


def test_partner_codes_imported_from_the_reward_page(app, api, admin, db):
    import io

    reward = api.post("/rewards", {"name": "Cinema", "kind": "gift", "cost": 60, "partner": "Kinepolis"},
                      role="admin").get_json()
    edit = f"/console/program/rewards/{reward['id']}"
    assert "Import Kinepolis codes" in admin.get(edit).get_data(as_text=True)
    path = f"{edit}/codes"
    bad = admin.post(path, {"file": (io.BytesIO(b"code\nKP-1\nnot a code\n"), "codes.csv")}, page=edit,
                     content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "Codes not imported: 1 row is not a code; nothing imported." in bad and "line 3: only printable" in bad
    good = admin.post(path, {"file": (io.BytesIO(b"code\nKP-1\nKP-2\n"), "codes.csv")}, page=edit,
                      content_type="multipart/form-data", follow_redirects=True).get_data(as_text=True)
    assert "2 codes imported into Cinema (0 already in the pool, 0 repeated in the file); 2 available." in good
    assert "Codes left: <strong>2</strong>" in good
    [entry] = audit_entries(db, "reward.codes_import")
    assert entry.after == {"imported": 2, "already_in_pool": 0, "repeated": 0, "available": 2}
    assert "Import" not in admin.get("/console/program/rewards/1").get_data(as_text=True).split("Save reward")[1]


def test_giving_back_and_a_paid_tier_set_in_the_console(app, api, admin, db):
    form = {**program_form(api), "giving_back-enabled": "on", "giving_back-cause": "the food bank",
            "giving_back-mode": "percent", "giving_back-percent": "150"}
    answer = admin.post("/console/program", form)
    assert answer.status_code == 422 and field_error(answer.get_data(as_text=True), "giving_back-percent")
    assert admin.post("/console/program", {**form, "giving_back-percent": "2.50"}).status_code == 302
    giving = api.get("/program", role="admin").get_json()["giving_back"]
    assert giving["enabled"] is True and giving["cause"] == "the food bank" and giving["percent"] == "2.50"
    member = api.enrol("console-give")
    api.purchase(member["id"], "40.00")
    assert "the food bank" in admin.get("/console/program").get_data(as_text=True)
    gold = api.get("/tiers").get_json()["items"][2]
    tier_form = {"name": gold["name"], "threshold": str(gold["threshold"]), "multiplier": gold["multiplier"],
                 "benefits": "\n".join(gold["benefits"]), "paid": "on"}
    assert admin.post(f"/console/program/tiers/{gold['id']}", tier_form).status_code == 302
    assert api.get("/tiers").get_json()["items"][2]["paid"] is True
    [entry] = audit_entries(db, "tier.update")
    assert entry.after == {"paid": True}


def test_a_challenge_added_with_errors_then_fixed(app, api, admin, db):
    form = {"name": "3 purchases in March", "kind": "purchase", "goal": "3", "bonus": "200",
            "starts_at": "2026-03-01T00:00", "ends_at": "2026-03-01T00:00", "join": "auto", "keyword": ""}
    answer = admin.post("/console/program/challenges", form)
    assert answer.status_code == 422
    assert field_error(answer.get_data(as_text=True), "ends_at") == "Must be after starts_at."
    assert admin.post("/console/program/challenges", {**form, "ends_at": "2026-04-01T00:00"}).status_code == 302
    [challenge] = api.get("/challenges").get_json()["items"]
    assert challenge["starts_at"] == "2026-02-28T23:00:00+00:00"  # the program's clock, Amsterdam
    assert "3 purchases in March" in admin.get("/console/program/challenges").get_data(as_text=True)
    [entry] = audit_entries(db, "challenge.create")
    assert entry.after["name"] == "3 purchases in March"
