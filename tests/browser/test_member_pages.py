"""The member page's adjustment form and the phone simulator in Chromium: an admin adjusts points
with a reason; a STOP texted in the simulator turns the member's SMS opt-out on, visible on the
member page."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import check_page


def _member_page(site, admin):
    admin.goto(site.url + "/console/members?q=shop-7")
    admin.get_by_role("link", name="Ana Popescu").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Ana Popescu")


def test_an_adjustment_via_the_page(site, admin):
    _member_page(site, admin)
    expect(admin.get_by_role("heading", name="What Engage plans to send next")).to_be_visible()
    expect(admin.locator("#next-expiry-warning")).to_contain_text("Next expiry warning")
    admin.get_by_label("Points (negative to take away)").fill("40")
    admin.get_by_role("button", name="Adjust").click()
    expect(admin.get_by_text("say why")).to_be_visible()  # the reason is required
    check_page(admin, "member-adjust-error")
    admin.get_by_label("Reason (required, shown in the ledger and the audit log)").fill("Parcel arrived late")
    admin.get_by_role("button", name="Adjust").click()
    expect(admin.get_by_text("Adjusted by +40 points; the balance is 400.")).to_be_visible()
    expect(admin.locator(".big")).to_have_text("400")
    expect(admin.get_by_role("region", name="Ledger")).to_contain_text("Parcel arrived late")


def test_stop_in_the_simulator_shows_as_opted_out_on_the_member_page(site, admin):
    _member_page(site, admin)
    admin.get_by_role("link", name="Text as this member (phone simulator)").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Text as Ana")
    text = admin.get_by_label("Text", exact=True)
    text.fill("POINTS")
    text.press("Enter")  # the keyboard is enough
    thread = admin.get_by_role("list", name="Text messages with Ana")
    expect(thread).to_contain_text(re.compile(r"\d+ points"))
    check_page(admin, "phone")
    admin.get_by_label("Text", exact=True).fill("STOP")
    admin.get_by_role("button", name="Send").click()
    expect(admin.locator("#sms-state")).to_have_text("opted out (STOP)")
    expect(thread).to_contain_text("opt out")
    admin.get_by_role("link", name="Ana Popescu").click()
    expect(admin.get_by_text("(opted out: STOP)")).to_be_visible()
    expect(admin.get_by_role("region", name="Consent and opt-out history")).to_contain_text("sms:STOP:message:")
