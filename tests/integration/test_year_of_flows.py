"""A simulated year for a handful of members, driven day by day with `--as-of` (the jobs module
the CLI calls): which messages each member gets, when, in which language, on which channel."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engage import create_app, jobs
from engage.models import LedgerEntry, Message
from tests.support.api import ApiClient
from tests.support.messaging import provider_config
from tests.support.sms import Phone

AMS = ZoneInfo("Europe/Amsterdam")
START = date(2026, 1, 5)


def at(day: int, hour: int = 12) -> datetime:
    return datetime.combine(START + timedelta(days=day), time(hour), tzinfo=AMS).astimezone(timezone.utc)


@pytest.fixture
def year(database_url, fake_provider, clock):
    app = create_app(provider_config(database_url, fake_provider), clock=clock)
    yield app, ApiClient(app, app.test_client())
    app.extensions["engage.db"].dispose()


def run_day(app, clock, day: int) -> None:
    """What the scheduler does in a day: the sweep after midnight, then due flows and the outbox."""
    sweep_day, sweep_now = jobs.resolve_as_of(app, "sweep", (START + timedelta(days=day)).isoformat())
    jobs.run(app, jobs.JOBS["sweep"], sweep_day, sweep_now)
    for hour in (9, 13, 18):
        clock.set(at(day, hour))
        jobs.run(app, jobs.JOBS["outbox"], sweep_day, at(day, hour))


def outbound(app, member_id):
    with app.extensions["engage.db"].session() as session:
        rows = session.scalars(select(Message).where(Message.member_id == member_id, Message.direction == "out")
                               .order_by(Message.id)).all()
    return [(m.flow, m.channel, m.status, m.locale, m.sent_at.astimezone(AMS).date() if m.sent_at else None)
            for m in rows]


def test_a_year_of_lifecycle_messages(year, clock, fake_provider):
    app, api = year
    clock.set(at(0, 10))
    ana = api.enrol("ana", locale="nl", timezone="Europe/Amsterdam", phone="+31612345001")
    ben = api.enrol("ben", locale="de", phone=None, email="ben@example.com")
    cleo = api.enrol("cleo", locale="ro", phone="+40721234567", consent={"sms": True, "email": False})
    dan = api.enrol("dan", consent={"sms": False, "email": False})
    for day in range(0, 400):
        clock.set(at(day, 10))
        if day == 1:
            api.purchase(ana["id"], "450.00")  # 550: Silver, and two rewards newly in reach
        if day == 30:
            api.purchase(ben["id"], "120.00")  # 220: free shipping newly in reach
        if day == 5:
            assert api.post(f"/members/{ana['id']}/events", {"type": "feedback"}).get_json()["points_awarded"] == 25
            assert api.post(f"/members/{ana['id']}/events", {"type": "feedback"}).get_json()["points_awarded"] == 0
        if day == 10:
            assert api.post(f"/members/{ana['id']}/redemptions", {"reward_id": 3}).status_code == 201
        run_day(app, clock, day)

    ana_msgs = outbound(app, ana["id"])
    assert sorted(ana_msgs[:4], key=lambda m: (m[4], m[0])) == [
        ("welcome", "sms", "sent", "nl", START),
        ("redemption_reminder", "sms", "sent", "nl", START + timedelta(days=1)),
        ("tier_congratulations", "sms", "sent", "nl", START + timedelta(days=1)),
        ("feedback_request", "sms", "sent", "nl", START + timedelta(days=4)),
    ]
    warnings = [m for m in ana_msgs if m[0] == "expiry_warning"]
    # 300 points left of the day-1 lot expire on 2027-01-06: warned 30 and 7 days before, by email
    # first; once they are gone, the 25 feedback points expiring on 2027-01-10 get their own warning.
    assert warnings == [("expiry_warning", "email", "sent", "nl", date(2026, 12, 7)),
                        ("expiry_warning", "email", "sent", "nl", date(2026, 12, 30)),
                        ("expiry_warning", "email", "sent", "nl", date(2027, 1, 7))]
    assert not [m for m in ana_msgs[4:] if m[0] == "redemption_reminder"]  # she redeemed
    with app.extensions["engage.db"].session() as session:
        first_warning = session.scalar(select(Message).where(
            Message.member_id == ana["id"], Message.flow == "expiry_warning").order_by(Message.id))
        cleo_welcome = session.scalar(select(Message).where(Message.member_id == cleo["id"]))
    assert "300" in first_warning.body and "2027" in first_warning.body
    assert "Bun venit" in cleo_welcome.body and cleo_welcome.segments >= 1

    ben_msgs = outbound(app, ben["id"])
    assert ben_msgs[0] == ("welcome", "email", "sent", "de", START)
    reminders = [m[4] for m in ben_msgs if m[0] == "redemption_reminder"]
    assert reminders[0] == START + timedelta(days=30)
    gaps = [(later - earlier).days for earlier, later in zip(reminders, reminders[1:])]
    assert gaps and all(gap >= 30 for gap in gaps)
    assert ("feedback_request", "email", "sent", "de", START + timedelta(days=33)) in ben_msgs

    cleo_msgs = outbound(app, cleo["id"])
    assert cleo_msgs[0] == ("welcome", "sms", "sent", "ro", START)
    dan_msgs = outbound(app, dan["id"])
    assert dan_msgs and {m[2] for m in dan_msgs} == {"suppressed"}

    with app.extensions["engage.db"].session() as session:
        expired = session.scalar(select(func.sum(LedgerEntry.points)).where(
            LedgerEntry.member_id == ana["id"], LedgerEntry.kind == "expire"))
    assert expired == -325  # the 300 left of the day-1 lot, then the 25 feedback points
    assert api.get(f"/members/{ana['id']}").get_json()["tier"] == "Bronze"

    before = {m: len(outbound(app, m)) for m in (ana["id"], ben["id"], cleo["id"], dan["id"])}
    sent_before = fake_provider.request_count()
    run_day(app, clock, 399)  # the same day again changes nothing
    assert {m: len(outbound(app, m)) for m in before} == before
    assert fake_provider.request_count() == sent_before


COFFEE = {"sku": "BLEND-1", "name": "House blend 250 g", "category": "coffee", "amount": "17.80"}
BLEND_FAN = {"key": "blend-fan", "match": "sku", "value": "BLEND-1", "times": 3, "days": 30, "reward_id": 1,
             "cost": 40, "valid_days": 14, "keyword": "COFFEE"}


def test_a_season_of_personalised_offers(year, clock, fake_provider):
    """A weekly coffee buyer earns an offer with every third purchase (never while one is open),
    hears of it by SMS in her language, redeems the first by text and lets the second end; an
    email-only member hears of hers by email."""
    app, api = year
    clock.set(at(0, 10))
    assert api.patch("/program", {"offer_rules": [BLEND_FAN]}, role="admin").status_code == 200
    eva = api.enrol("eva", phone="+31612345002")
    fay = api.enrol("fay", locale="de", phone=None, email="fay@example.com")
    phone = Phone(app, fake_provider.twilio_auth_token, "+31612345002")
    replies = {}
    for day in range(0, 75):
        clock.set(at(day, 10))
        if day % 7 == 1:
            assert api.purchase(eva["id"], "17.80", items=[COFFEE]).status_code == 201
        if day in (2, 9, 16):
            assert api.purchase(fay["id"], "17.80", items=[COFFEE]).status_code == 201
        if day in (20, 52, 53):
            clock.set(at(day, 11))
            replies[day] = phone.text("REDEEM COFFEE")
        run_day(app, clock, day)

    offer_days = [m[4] for m in outbound(app, eva["id"]) if m[0] == "offer"]
    assert offer_days == [START + timedelta(days=15), START + timedelta(days=36), START + timedelta(days=57)]
    assert {m[1:4] for m in outbound(app, eva["id"]) if m[0] == "offer"} == {("sms", "sent", "en")}
    assert "EUR 10 off is yours" in replies[20] and "code" in replies[20]
    assert "has ended" in replies[52] and replies[53] == replies[52]
    statuses = [offer["status"] for offer in api.get(f"/members/{eva['id']}/offers").get_json()["items"]]
    assert statuses == ["ended", "ended", "redeemed"]  # the third ended on day 71
    assert [m for m in outbound(app, fay["id"]) if m[0] == "offer"] == [
        ("offer", "email", "sent", "de", START + timedelta(days=16))]
    with app.extensions["engage.db"].session() as session:
        first = session.scalar(select(Message).where(Message.member_id == eva["id"], Message.flow == "offer"))
    assert "House blend 250 g" in first.body and "REDEEM COFFEE" in first.body and "STOP" in first.body

    before = len(outbound(app, eva["id"]))
    run_day(app, clock, 74)  # the same day again changes nothing
    assert len(outbound(app, eva["id"])) == before
