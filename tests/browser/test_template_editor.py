"""The template editor in Chromium: a save with an error then fixed, the SMS preview's segment count
following the typing (GSM-7, then an emoji makes it UCS-2), a version restored, a variable put at the
cursor; axe-core at 375 and 1280 pixels (screenshots in test-artifacts/console/)."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.support.browser import check_page

EDITOR = "/console/flows/redemption_reminder/templates/sms/en"


def test_a_template_saved_with_an_error_then_fixed(site, admin):
    admin.goto(site.url + "/console/flows/redemption_reminder")
    admin.get_by_role("link", name="SMS in en: shipped default").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Redemption reminder: SMS in en")
    check_page(admin, "template-editor")
    admin.get_by_label("Text", exact=True).fill("Hi!\n{{ member.frist_name }}, reply STOP to opt out")
    admin.get_by_role("button", name="Save template").click()
    expect(admin.get_by_role("alert")).to_contain_text("The template was not saved")
    expect(admin.locator("#body-error")).to_contain_text("Line 2:")
    expect(admin.get_by_label("Text", exact=True)).to_have_attribute("aria-invalid", "true")
    check_page(admin, "template-editor-errors")
    admin.get_by_role("link", name="Text, line 2:").click()  # selects the line in its field
    expect(admin.get_by_label("Text", exact=True)).to_be_focused()
    selected = admin.evaluate("() => { const f = document.getElementById('body');"
                              " return f.value.slice(f.selectionStart, f.selectionEnd); }")
    assert selected == "{{ member.frist_name }}, reply STOP to opt out"
    admin.get_by_label("Text", exact=True).fill("Hi !\n, reply STOP to opt out")
    admin.get_by_label("Text", exact=True).press("Home")
    admin.get_by_label("Text", exact=True).press("Control+Home")
    for _ in range(3):
        admin.get_by_label("Text", exact=True).press("ArrowRight")
    admin.get_by_role("button", name="member.first_name").click()  # at the cursor
    expect(admin.get_by_label("Text", exact=True)).to_have_value("Hi {{ member.first_name }}!\n, reply STOP to opt out")
    expect(admin.locator("#sms-preview")).to_contain_text("Hi Alex!")  # the preview followed, as the sample member
    admin.get_by_role("button", name="Save template").click()
    expect(admin.get_by_role("status")).to_have_text("Saved as version 1.")
    expect(admin.locator("#body-error")).to_have_count(0)


def test_the_segment_count_follows_the_typing(site, admin):
    admin.goto(site.url + EDITOR)
    text = admin.get_by_label("Text", exact=True)
    text.fill("")
    text.press_sequentially("Your points are waiting, " + "a" * 40)  # GSM-7, one segment
    expect(admin.locator("#encoding")).to_have_text("GSM-7")
    expect(admin.locator("#segment-count")).to_have_text("1")
    expect(admin.locator("#room-left")).to_have_text(str(160 - 65))
    text.press_sequentially(" 🎉" + "b" * 10)  # 78 UTF-16 units: two UCS-2 segments
    expect(admin.locator("#encoding")).to_have_text("UCS-2")
    expect(admin.locator("#segment-count")).to_have_text("2")
    expect(admin.locator("#sms-preview mark")).to_have_text("🎉")
    check_page(admin, "template-editor-ucs2")


def test_a_version_restored(site, admin):
    admin.goto(site.url + "/console/flows/expiry_warning/templates/sms/en")
    for body in ("First wording. Reply STOP to opt out", "Second wording. Reply STOP to opt out"):
        admin.get_by_label("Text", exact=True).fill(body)
        admin.get_by_role("button", name="Save template").click()
        expect(admin.get_by_role("status")).to_contain_text("Saved as version")
    admin.get_by_role("link", name="Compare version 1").click()
    expect(admin.locator("#diff .del")).to_have_text(["-First wording. Reply STOP to opt out"])
    expect(admin.locator("#diff .add")).to_have_text(["+Second wording. Reply STOP to opt out"])
    check_page(admin, "template-editor-diff")
    admin.get_by_role("button", name="Restore version 1").click()
    expect(admin.get_by_role("status")).to_have_text("Version 1 restored as version 3.")
    expect(admin.get_by_label("Text", exact=True)).to_have_value("First wording. Reply STOP to opt out")
    admin.get_by_role("button", name="Back to the shipped default").click()
    expect(admin.get_by_role("status")).to_have_text("Back to the shipped default.")


def test_the_email_editor(site, admin):
    admin.goto(site.url + "/console/flows/welcome/templates/email/en")
    expect(admin.get_by_title("The email's HTML as it will look")).to_have_attribute("sandbox", "")
    admin.get_by_label("Subject").fill("Hello {{ member.first_name }}")
    expect(admin.locator("#subject-preview")).to_have_text("Hello Alex")
    check_page(admin, "template-editor-email")
