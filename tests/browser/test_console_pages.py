"""The console in Chromium: sign-in, CSRF, flow settings, keyboard use, and every page checked by
axe-core at 375 and 1280 pixels wide (screenshots in test-artifacts/console/)."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import check_page


def test_sign_in_wrong_then_right(site, page):
    page.goto(site.url + "/console/flows/welcome")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next=/console/flows/welcome$"))
    check_page(page, "sign-in")
    page.get_by_label("Email").fill(site.people["marketer"])
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Wrong email or password.")
    check_page(page, "sign-in-error")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome")  # back where it was going
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")


def test_a_form_posted_without_its_csrf_token_is_refused(site, admin):
    admin.goto(site.url + "/console/flows/welcome")
    admin.evaluate("() => document.querySelector('form.settings input[name=csrf_token]').remove()")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("This form has expired")
    check_page(admin, "csrf-refused")
    answer = admin.request.post(site.url + "/console/flows/welcome", form={"delay": "1", "delay_unit": "days"})
    assert answer.status == 400


def test_flow_settings_saved_with_an_error_then_fixed(site, admin):
    admin.goto(site.url + "/console/")
    admin.get_by_role("link", name="Feedback request").click()
    check_page(admin, "flow")
    admin.get_by_label("Delay", exact=True).fill("3.5")
    admin.get_by_label("Min days between").fill("400")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.locator("#delay-error")).to_have_text("Enter a whole number.")
    expect(admin.get_by_label("Delay", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(admin.locator("#min_days_between-error")).to_have_text("must be a whole number from 0 to 365")
    expect(admin.get_by_role("alert")).to_contain_text("The settings were not saved")
    check_page(admin, "flow-errors")
    admin.get_by_label("Delay", exact=True).fill("4")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.locator("#delay-error")).to_have_count(0)
    expect(admin.locator("#min_days_between-error")).to_have_text("must be a whole number from 0 to 365")
    admin.get_by_label("Min days between").fill("45")
    admin.get_by_role("button", name="Save settings").click()
    expect(admin.get_by_role("status")).to_have_text("Feedback request saved.")
    expect(admin.get_by_label("Min days between")).to_have_value("45")
    admin.get_by_role("link", name="Audit").click()
    expect(admin.get_by_role("table")).to_contain_text("flow.update flow feedback_request")
    check_page(admin, "audit")


def test_a_flow_switched_off_and_on_in_place(site, admin):
    admin.goto(site.url + "/console/")
    check_page(admin, "home")
    admin.get_by_role("button", name="Tier congratulations is on; turn it off").click()
    expect(admin.get_by_role("button", name="Tier congratulations is off; turn it on")).to_have_text("Off")
    assert admin.url.endswith("/console/")  # htmx swapped the row; no page load
    admin.get_by_role("button", name="Tier congratulations is off; turn it on").focus()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("button", name="Tier congratulations is on; turn it off")).to_have_text("On")
    expect(admin.get_by_role("button", name="Tier congratulations is on; turn it off")).to_be_focused()


def test_the_pages_work_by_keyboard(site, admin):
    admin.goto(site.url + "/console/")
    admin.keyboard.press("Tab")
    expect(admin.get_by_role("link", name="Skip to main content")).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin.locator("main")).to_be_focused()
    admin.keyboard.press("Tab")  # the first thing in the main content: the scrollable table
    admin.keyboard.press("Tab")
    expect(admin.get_by_role("link", name="Welcome")).to_be_focused()
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Welcome")
    admin.get_by_label("On: the flow sends messages").focus()
    admin.keyboard.press("Tab")
    expect(admin.get_by_label("First")).to_be_focused()


def test_error_pages_are_pages(site, admin):
    admin.goto(site.url + "/console/flows/no_such_flow")
    expect(admin.get_by_role("heading", level=1)).to_have_text("Not Found")
    check_page(admin, "not-found")


def test_member_search_and_page(site, admin):
    admin.goto(site.url + "/console/")
    admin.get_by_role("link", name="Members", exact=True).click()
    check_page(admin, "members")
    admin.get_by_label("Name, email, phone, external id or referral code").fill("+31 6 1234 5678")
    admin.keyboard.press("Enter")
    expect(admin.get_by_role("heading", name="1 member found")).to_be_visible()
    check_page(admin, "members-found")
    admin.get_by_role("link", name="Ana Popescu").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Ana Popescu")
    expect(admin.locator(".big")).to_have_text("360")
    expect(admin.get_by_role("list", name="Messages")).to_contain_text("To the member · SMS · welcome")
    expect(admin.get_by_role("region", name="Ledger")).to_contain_text("signup bonus")
    check_page(admin, "member")
