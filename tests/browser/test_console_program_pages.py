"""The program pages and the API keys page in Chromium: each form saved with errors, then fixed;
axe-core at 375 and 1280 pixels wide on each (screenshots in test-artifacts/console/)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import check_page


def test_program_settings_tiers_and_rewards(site, admin):
    admin.goto(site.url + "/console/")
    admin.get_by_role("navigation", name="Console").get_by_role("link", name="Program").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Program")
    check_page(admin, "program")
    admin.get_by_label("Time zone").fill("Mars/Olympus")
    admin.get_by_label("Quiet hours start").fill("25:00")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("alert")).to_contain_text("The settings were not saved")
    expect(admin.locator("#timezone-error")).to_have_text("Not an IANA time zone (e.g. Europe/Amsterdam).")
    expect(admin.locator("#quiet_hours-start-error")).to_have_text("Use HH:MM.")
    expect(admin.get_by_label("Time zone")).to_have_attribute("aria-invalid", "true")
    check_page(admin, "program-errors")
    admin.get_by_role("alert").get_by_role("link", name="Timezone: Not an IANA time zone").click()
    expect(admin.get_by_label("Time zone")).to_be_focused()  # the summary leads to the field
    admin.get_by_label("Time zone").fill("Europe/Bucharest")
    admin.get_by_label("Quiet hours start").fill("22:30")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("status")).to_have_text("Program settings saved.")
    expect(admin.get_by_label("Time zone")).to_have_value("Europe/Bucharest")

    tiers = admin.get_by_role("region", name="Tiers, lowest first")
    tiers.get_by_role("link").nth(1).click()
    check_page(admin, "tier")
    admin.get_by_label("Points multiplier").fill("one and a half")
    admin.get_by_role("button", name="Save tier").click()
    expect(admin.locator("#multiplier-error")).to_contain_text("Must be a decimal string")
    check_page(admin, "tier-errors")
    admin.get_by_label("Points multiplier").fill("1.5")
    admin.get_by_role("button", name="Save tier").click()
    expect(admin.get_by_role("status")).to_contain_text("saved.")
    expect(tiers).to_contain_text("1.50")

    admin.get_by_role("navigation", name="Console").get_by_role("link", name="Rewards").click()
    check_page(admin, "rewards")
    admin.get_by_role("link", name="Add a reward").click()
    admin.get_by_label("Name").fill("Tote bag")
    admin.get_by_label("Cost in points").fill("lots")
    admin.get_by_role("button", name="Save reward").click()
    expect(admin.locator("#cost-error")).to_have_text("Not a valid integer.")
    check_page(admin, "reward-errors")
    admin.get_by_label("Cost in points").fill("300")
    admin.get_by_label("Kind").select_option("gift")
    admin.get_by_role("button", name="Save reward").click()
    expect(admin.get_by_role("status")).to_have_text("Reward Tote bag saved.")
    admin.get_by_role("button", name="Disable Tote bag").click()
    expect(admin.get_by_role("status")).to_have_text("Reward Tote bag is disabled.")
    expect(admin.get_by_role("button", name="Enable Tote bag")).to_be_visible()

    admin.get_by_role("link", name="Audit").click()
    table = admin.get_by_role("table")
    for change in ("program.update program", "tier.update tier", "reward.create reward", "reward.update reward"):
        expect(table).to_contain_text(change)


def test_api_keys_created_shown_once_and_revoked(site, admin):
    admin.goto(site.url + "/console/")
    admin.get_by_role("link", name="API keys").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("API keys")
    check_page(admin, "keys")
    admin.get_by_role("button", name="Create key").click()
    expect(admin.get_by_role("alert")).to_contain_text("The key was not saved")
    expect(admin.get_by_label("Name")).to_have_attribute("aria-invalid", "true")
    admin.get_by_label("Name").fill("Checkout")
    admin.get_by_label("Role").select_option("integration")
    admin.get_by_role("button", name="Create key").click()
    expect(admin.get_by_role("status")).to_contain_text("shown this once")
    key = admin.get_by_label("The key").input_value()
    assert key.startswith("egk_")
    check_page(admin, "keys-created")
    assert admin.request.get(site.url + "/api/v1/rewards", headers={"Authorization": f"Bearer {key}"}).status == 200
    admin.goto(site.url + "/console/keys")
    row = admin.get_by_role("row").filter(has_text="Checkout")
    expect(row).not_to_contain_text("never")  # just used
    row.get_by_role("link", name="Revoke Checkout").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Revoke key Checkout?")
    check_page(admin, "revoke-key")
    admin.get_by_role("button", name="Revoke Checkout").click()
    expect(admin.get_by_role("status")).to_contain_text("Key Checkout")
    expect(admin.get_by_role("row").filter(has_text="Checkout")).to_contain_text("Revoked")
    assert admin.request.get(site.url + "/api/v1/rewards", headers={"Authorization": f"Bearer {key}"}).status == 401
