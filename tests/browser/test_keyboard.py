"""The console by keyboard alone (#18 item 8): sign in, find a member, open them and adjust their
points with Tab, typing and Enter only; every control reached shows where the focus is."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.console import PASSWORD

TABS = 80  # more than any page here has controls before the one wanted


def tab_to(page, target) -> None:
    """Press Tab until `target` has the focus, and check that the focus can be seen on it."""
    for _ in range(TABS):
        page.keyboard.press("Tab")
        if target.evaluate("element => element === document.activeElement"):
            break
    else:
        raise AssertionError(f"Tab never reached {target}")
    assert target.evaluate("element => element.matches(':focus-visible') && "
                           "getComputedStyle(element).outlineStyle !== 'none'"), f"no visible focus on {target}"


def test_sign_in_search_open_and_adjust_by_keyboard(site, browser):
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(site.url + "/console/sign-in")
        tab_to(page, page.get_by_label("Email"))
        page.keyboard.type(site.people["admin"])
        tab_to(page, page.get_by_label("Password"))
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Flows")).to_be_visible()

        tab_to(page, page.get_by_role("link", name="Members", exact=True))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Members", level=1)).to_be_visible()
        tab_to(page, page.get_by_label("Name, email, phone, external id or referral code"))
        page.keyboard.type("Popescu")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="1 member found")).to_be_visible()

        tab_to(page, page.get_by_role("link", name="Ana Popescu"))
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", level=1)).to_have_text("Ana Popescu")
        tab_to(page, page.get_by_label("Points (negative to take away)"))
        page.keyboard.type("15")
        tab_to(page, page.get_by_label("Reason (required, shown in the ledger and the audit log)"))
        page.keyboard.type("Kept by keyboard")
        tab_to(page, page.get_by_role("button", name="Adjust"))
        page.keyboard.press("Enter")
        expect(page.get_by_text("Adjusted by +15 points")).to_be_visible()
        expect(page.get_by_role("region", name="Ledger")).to_contain_text("Kept by keyboard")
    finally:
        context.close()
