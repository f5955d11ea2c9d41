"""Every figure of GET /api/v1/insights for a small program whose history is known, each worked
out by hand below. The program runs in Europe/Amsterdam (UTC+1 in March), so a member who
enrols at 23:30 UTC counts on the next local day."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from engage import jobs
from tests.support.messaging import provider_config, queue
from tests.support.sms import Phone

ANA, BEN = "+31612345678", "+31612345002"


def utc(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=timezone.utc)


@pytest.fixture
def program(database_url, fake_provider, clock):
    from engage import create_app
    from tests.support.api import ApiClient
    from tests.support.messaging import disable_flows

    app = create_app(provider_config(database_url, fake_provider, timezone="Europe/Amsterdam"), clock=clock)
    disable_flows(app)  # only the messages the test queues
    yield app, ApiClient(app, app.test_client()), fake_provider
    app.extensions["engage.db"].dispose()


def roll_up(app, now: datetime) -> dict:
    day, _ = jobs.resolve_as_of(app, "insights", now.isoformat())
    return jobs.run(app, jobs.JOBS["insights"], day, now)


def build_history(app, api, fake, clock) -> dict:
    db = app.extensions["engage.db"]
    clock.set(utc(2, 9))
    ana = api.enrol("ana", phone=ANA)  # 2 Mar: +100 signup
    clock.set(utc(2, 9, 5))
    ben = api.enrol("ben", phone=BEN, email=None, consent={"sms": True, "email": False},
                    referral_code=ana["referral_code"])  # 2 Mar: ben +100, ana +200 referral
    clock.set(utc(2, 12))
    assert api.purchase(ana["id"], "50.00").status_code == 201  # 2 Mar: +50, ana's first purchase
    clock.set(utc(2, 23, 30))
    cleo = api.enrol("cleo", phone=None, consent={"sms": False, "email": True})  # 3 Mar local: +100
    clock.set(utc(3, 10))
    assert api.purchase(ana["id"], "20.00").status_code == 201  # 3 Mar: +20, ana repeats
    assert api.purchase(ben["id"], "30.00").status_code == 201  # 3 Mar: +30, ben's first (referred)
    clock.set(utc(3, 11))
    queue(db, ana["id"], clock(), flow="redemption_reminder", channels=("sms",))
    queue(db, ben["id"], clock(), flow="redemption_reminder", channels=("sms",))
    queue(db, cleo["id"], clock(), flow="welcome", channels=("sms", "email"))  # no phone: email
    queue(db, cleo["id"], clock(), flow="tier_congratulations", channels=("sms",))  # suppressed
    clock.set(utc(3, 11, 30))
    queue(db, ana["id"], clock(), flow="feedback_request", channels=("sms",))
    jobs.deliver(app, clock())  # 4 sent
    clock.set(utc(4, 10))
    Phone(app, fake.twilio_auth_token, ANA).text("4")  # rates the feedback request: +25
    Phone(app, fake.twilio_auth_token, BEN).text("STOP")  # opts out of SMS a day after the reminder
    clock.set(utc(4, 11))
    assert api.post(f"/members/{ana['id']}/redemptions", {"reward_id": 1}).status_code == 201  # -100
    assert api.post(f"/members/{ana['id']}/redemptions", {"reward_id": 4}).status_code == 201  # donate -50
    clock.set(utc(5, 9))
    roll_up(app, clock())  # 2-5 Mar rolled up before the late purchase arrives
    # reported on 5 Mar, made on 3 Mar (19:00 local), after ben's reminder: +40, ben repeats on 3 Mar
    assert api.purchase(ben["id"], "40.00", occurred_at="2026-03-03T18:00:00Z").status_code == 201
    assert api.purchase(ana["id"], "10.00").status_code == 201  # 5 Mar: +10, 2 days after her reminder
    clock.set(utc(6, 8))
    roll_up(app, clock())
    return {"ana": ana, "ben": ben, "cleo": cleo}


def test_every_figure_matches_the_hand_worked_history(program, clock):
    app, api, fake = program
    build_history(app, api, fake, clock)
    response = api.get("/insights?from=2026-03-02&to=2026-03-05", role="marketer")
    assert response.status_code == 200, response.get_json()
    got = response.get_json()
    headlines = {row["key"]: (row["value"], row["previous"], row["change"]) for row in got["headlines"]}
    assert got["previous"] == {"from": "2026-02-26", "to": "2026-03-01"} and got["pending_days"] == []
    # Before 2 March nothing happened: nothing to compare with.
    assert headlines == {"members": (3, 0, None), "new_members": (3, 0, None), "active_members": (2, None, None),
                         "repeat_purchase_rate": (1.0, None, None), "purchases": (5, 0, None),
                         "points_issued": (675, 0, None), "points_redeemed": (100, 0, None),
                         "redemption_rate": (0.2222, None, None), "liability": (52.5, 0, None),
                         "referrals": (1, 0, None), "mean_rating": (4.0, None, None)}
    # Members: ana and ben on 2 March; cleo at 23:30 UTC, which is 3 March in Amsterdam. Points: 2 Mar
    # 100 + 100 + 200 referral + 50; 3 Mar 100 + 20 + 30 + 40 (late); 4 Mar 25 for the rating, 100 (EUR 10
    # off) and 50 (donation) spent; 5 Mar 10. Ben's first purchase (3 Mar) is a referred member's.
    daily = ("date", "new_members", "erased_members", "members", "active_members", "purchases", "points_issued",
             "points_redeemed", "points_expired", "points_donated", "referrals", "referred_buyers", "feedback",
             "ratings", "mean_rating")
    assert [tuple(d[c] for c in daily) for d in got["daily"]] == [
        ("2026-03-02", 2, 0, 2, 1, 1, 450, 0, 0, 0, 1, 0, 0, 0, None),
        ("2026-03-03", 1, 0, 3, 2, 3, 190, 0, 0, 0, 0, 1, 0, 0, None),
        ("2026-03-04", 0, 0, 3, 2, 0, 25, 100, 0, 50, 0, 0, 1, 1, 4.0),
        ("2026-03-05", 0, 0, 3, 2, 1, 10, 0, 0, 0, 0, 0, 0, 0, None)]
    members = got["members"]
    assert (members["total"], members["new"], members["active"]) == (3, 3, 2)
    # Qualifying points: ana 100 + 200 + 50 + 20 + 25 + 10 = 405 < 500, everyone Bronze.
    assert {t["tier"]: t["members"] for t in members["by_tier"]} == {"Bronze": 3, "Silver": 0, "Gold": 0}
    # Retention: ana (2 Mar) and ben (3 Mar) bought; both bought twice (ben's late purchase counts on 3 Mar).
    retention = got["retention"]
    assert (retention["buyers"], retention["repeat_buyers"], retention["repeat_purchase_rate"]) == (2, 2, 1.0)
    assert (retention["first_buyers"], retention["new_repeat_buyers"]) == (2, 2)
    assert retention["cohorts"] == [{"cohort": "2026-03", "members": 3, "active": [2], "rates": [0.6667]}]
    # Points: 675 issued, 150 spent; 0.10 a point.
    points = got["points"]
    assert {k: points[k] for k in ("issued", "redeemed", "donated", "expired", "adjusted", "redemptions",
                                   "outstanding", "point_value", "liability", "redemption_rate")} == {
        "issued": 675, "redeemed": 100, "donated": 50, "expired": 0, "adjusted": 0, "redemptions": 2,
        "outstanding": 525, "point_value": "0.1000", "liability": "52.50", "redemption_rate": round(150 / 675, 4)}
    advocacy = got["advocacy"]
    assert (advocacy["referrals"], advocacy["referred_buyers"], advocacy["referred_buyers_total"]) == (1, 1, 1)
    # Messages: ana's "4" answers her feedback request; ben's STOP answers his reminder (an opt-out,
    # not a reply); ana redeemed within 7 days of both of hers; cleo has no phone.
    flows = {(f["flow"], f["channel"]): f for f in got["messages"]["flows"]}
    columns = ("queued", "waiting", "sent", "delivered", "failed", "suppressed", "skipped", "replied",
               "opted_out", "redeemed_after", "reply_rate", "redemption_rate_7_days")
    assert {key: tuple(f[c] for c in columns) for key, f in flows.items()} == {
        ("feedback_request", "sms"): (1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1.0, 1.0),
        ("redemption_reminder", "sms"): (2, 0, 2, 0, 0, 0, 0, 0, 1, 1, 0.0, 0.5),
        ("tier_congratulations", "sms"): (1, 0, 0, 0, 0, 1, 0, 0, 0, 0, None, None),
        ("welcome", "email"): (1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0.0, 0.0)}
    feedback = got["messages"]["feedback"]
    assert (feedback["given"], feedback["ratings"], feedback["mean_rating"]) == (1, 1, 4.0)
    # Revenue: 50 + (20 + 30 + 40) + 10. The reminders (3 Mar 11:00 UTC) reached ana and ben before
    # ben's 40 (18:00) and ana's 10 (5 Mar); ana's feedback request (11:30) before her 10.
    revenue = got["revenue"]
    assert revenue["members"] == [{"currency": "EUR", "purchases": 5, "amount": "150.00"}]
    assert [(d["date"], d["purchases"], d["amount"]) for d in revenue["daily"]] == [
        ("2026-03-02", 1, "50.00"), ("2026-03-03", 3, "90.00"), ("2026-03-05", 1, "10.00")]
    assert revenue["after_flows"] == [
        {"flow": "feedback_request", "currency": "EUR", "purchases": 1, "amount": "10.00"},
        {"flow": "redemption_reminder", "currency": "EUR", "purchases": 2, "amount": "50.00"}]


def test_the_next_period_compares_with_this_one_and_a_late_purchase_is_recounted(program, clock):
    app, api, fake = program
    names = build_history(app, api, fake, clock)
    clock.set(utc(12, 9))
    assert api.purchase(names["cleo"]["id"], "25.00").status_code == 201  # 12 Mar: cleo's first
    clock.set(utc(20, 9))
    roll_up(app, clock())
    # 4 March is now outside the days every run recomputes: only the late event's mark brings it back.
    assert api.purchase(names["cleo"]["id"], "5.00", occurred_at="2026-03-04T12:00:00Z").status_code == 201
    roll_up(app, clock())
    # Nothing happened since: the 8 recent days are recomputed and only today is rewritten (its tier
    # snapshot is taken on every run).
    again = roll_up(app, clock())
    assert again["days"] == 8 and again["changed"] == 1, again
    got = api.get("/insights?from=2026-03-06&to=2026-03-19", role="marketer").get_json()
    earlier = api.get("/insights?from=2026-02-21&to=2026-03-05", role="marketer").get_json()
    headlines = {row["key"]: (row["value"], row["previous"], row["change"]) for row in got["headlines"]}
    # 6-19 Mar: cleo's 25 is the one purchase; 2-5 Mar now has 6 purchases (cleo's late 5 on 4 Mar).
    assert headlines["purchases"] == (1, 6, round((1 - 6) / 6, 4))
    assert headlines["points_issued"] == (25, 680, round((25 - 680) / 680, 4))
    assert earlier["retention"]["buyers"] == 3 and earlier["retention"]["first_buyers"] == 3
    # cleo's first purchase is now 4 March, so 12 March is her second: a repeat buyer.
    assert got["retention"]["new_repeat_buyers"] == 1 and got["retention"]["first_buyers"] == 0
    assert got["retention"]["repeat_purchase_rate"] == 1.0
    assert got["members"]["active"] == 3


@pytest.mark.parametrize("query, field", [
    ("", "from"), ("from=2026-03-02", "to"), ("from=2026-03-05&to=2026-03-02", "to"),
    ("from=2026-13-01&to=2026-03-02", "from"), ("from=2025-03-01&to=2026-03-05", "to"),
    ("from=2026-03-01&to=2026-03-09", "to"), ("from=1999-12-31&to=2000-01-02", "from")])
def test_bad_ranges_are_422_naming_the_field(api, clock, query, field):
    clock.set(utc(6, 8))
    response = api.get(f"/insights?{query}", role="marketer")
    assert response.status_code == 422, response.get_json()
    body = response.get_json()
    assert body["message"] and field in body["errors"], body
