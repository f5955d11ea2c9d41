"""The experiment pages in Chromium: started from the template editor's link, results with the
sentence once sends and replies are in (numbers worked out by hand in the API's test), stop then
promote; axe-core at 375 and 1280 pixels (screenshots in test-artifacts/console/)."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from engage.models import Member, Message
from engage.store import transaction
from tests.support.browser import check_page

EDITOR = "/console/flows/tier_congratulations/templates/sms/en"


def _sends_and_replies(app, experiment_id: int) -> None:
    """A: 16 replies of 200 sends; B: 30 of 200 (z = 2.194, p = 0.0282: about 1 time in 35)."""
    db, now = app.extensions["engage.db"], app.extensions["engage.clock"]()
    with db.session() as session, transaction(session):
        member_id = session.scalar(select(Member.id).where(Member.external_id == "shop-7"))
        for variant, replied in (("A", 16), ("B", 30)):
            for n in range(200):
                sent = Message(member_id=member_id, direction="out", flow="tier_congratulations", channel="sms",
                               status="sent", body="x", send_after=now, sent_at=now, created_at=now,
                               updated_at=now, data={}, experiment_id=experiment_id, variant=variant)
                session.add(sent)
                session.flush()
                if n < replied:
                    later = now + timedelta(hours=2)
                    session.add(Message(member_id=member_id, direction="in", channel="sms", status="received",
                                        body="thanks", send_after=later, created_at=later, updated_at=later,
                                        data={}, in_reply_to_id=sent.id))


def test_an_experiment_started_read_stopped_and_promoted(site, admin):
    admin.goto(site.url + EDITOR)
    admin.get_by_role("link", name="Try a variant B of this template in an experiment").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Start an experiment")
    check_page(admin, "experiment-new")
    admin.get_by_label("Name").fill("Cheerier upgrade")
    admin.get_by_label("Share of members that get B (%)").fill("40")
    admin.get_by_label("Variant B: Text").fill("Up to {{ tier.name }}! Reply STOP to opt out")
    admin.get_by_role("button", name="Start the experiment").click()
    expect(admin.get_by_role("heading", level=1)).to_have_text("Cheerier upgrade")
    expect(admin.get_by_role("status")).to_contain_text("40% of members get B")
    expect(admin.locator("#verdict")).to_have_text("No sends yet.")
    experiment_id = int(admin.url.rsplit("/", 1)[-1])
    _sends_and_replies(site.app, experiment_id)
    admin.reload()
    expect(admin.locator("#verdict")).to_have_text(
        "B gets more replies within 7 days (15.0% against 8.0%); a difference this large would come by chance "
        "about 1 time in 35.")
    expect(admin.get_by_role("row", name="B 200 30 15.0%")).to_be_visible()
    check_page(admin, "experiment-results")
    admin.get_by_role("button", name="Stop the experiment (keep A)").click()
    expect(admin.get_by_role("status")).to_have_text("Stopped: new messages get the live template (A).")
    expect(admin.locator("#verdict")).to_contain_text("about 1 time in 35")  # the sends keep their variant
    admin.get_by_role("button", name="Promote B: make it the live template").click()
    expect(admin.get_by_role("status")).to_have_text("Variant B is now the live template (version 1).")
    admin.get_by_role("link", name="Experiments").first.click()
    expect(admin.get_by_role("row", name="Cheerier upgrade")).to_contain_text("Promoted")
    check_page(admin, "experiments")
