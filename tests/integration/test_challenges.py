"""Challenges: progress at each activity, the one-step-left nudge, the bonus credited once (late
and repeated events included, and under a race on PostgreSQL), joining by texting a keyword."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from engage.models import ChallengeMember, LedgerEntry, Message
from tests.support.sms import Phone

MARCH = {"name": "3 purchases in March", "kind": "purchase", "goal": 3, "bonus": 200,
         "starts_at": "2026-03-01T00:00:00+01:00", "ends_at": "2026-04-01T00:00:00+02:00"}


@pytest.fixture
def flows_on():
    return True


def bonuses(app, member_id) -> list[int]:
    with app.extensions["engage.db"].session() as session:
        return list(session.scalars(select(LedgerEntry.points).where(
            LedgerEntry.member_id == member_id, LedgerEntry.source.like("challenge:%"))))


def nudges(app, member_id) -> list[Message]:
    with app.extensions["engage.db"].session() as session:
        return list(session.scalars(select(Message).where(Message.member_id == member_id,
                                                          Message.flow == "challenge_progress")))


def test_three_purchases_nudge_once_then_credit_once(papp, papi, clock):
    challenge = papi.post("/challenges", MARCH, role="admin")
    assert challenge.status_code == 201, challenge.get_json()
    member = papi.enrol("ch-1")
    papi.purchase(member["id"], "10.00", key="o-1")
    assert nudges(papp, member["id"]) == []
    papi.purchase(member["id"], "10.00", key="o-2")
    [nudge] = nudges(papp, member["id"])
    assert "1 more to go in 3 purchases in March" in nudge.body and "200 points bonus" in nudge.body
    answer = papi.purchase(member["id"], "10.00", key="o-3").get_json()
    assert answer["points"] == 100 + 30 + 200  # the bonus is in the answer's balance
    assert papi.purchase(member["id"], "10.00", key="o-3").get_json() == answer  # a replay: the same answer
    papi.purchase(member["id"], "10.00", key="o-4")
    assert bonuses(papp, member["id"]) == [200]
    assert len(nudges(papp, member["id"])) == 1
    [shown] = papi.get(f"/members/{member['id']}/challenges").get_json()["items"]
    assert shown["progress"] == 3 and shown["remaining"] == 0 and shown["completed_at"] is not None


def test_a_purchase_reported_after_the_end_still_completes_it(papp, papi, clock):
    papi.post("/challenges", MARCH, role="admin")
    member = papi.enrol("ch-2")
    papi.purchase(member["id"], "10.00")
    papi.purchase(member["id"], "10.00")
    clock.advance(days=35)  # April: the challenge has ended
    papi.purchase(member["id"], "10.00", occurred_at="2026-03-30T18:00:00+02:00")
    papi.purchase(member["id"], "10.00")  # an April purchase counts for nothing
    assert bonuses(papp, member["id"]) == [200]


def test_a_keyword_challenge_counts_only_members_who_texted_it(papp, papi, fake_provider):
    body = {**MARCH, "name": "Rate 2", "kind": "review", "goal": 2, "bonus": 50, "join": "keyword",
            "keyword": "rate2"}
    assert papi.post("/challenges", body, role="admin").get_json()["keyword"] == "RATE2"
    assert papi.post("/challenges", body, role="admin").status_code == 409
    member = papi.enrol("ch-3")
    other = papi.enrol("ch-4", phone="+31612345679")
    for who in (member, other):
        papi.post(f"/members/{who['id']}/events", {"type": "review"})
    answer = Phone(papp, fake_provider.twilio_auth_token).text("Rate2 ")
    assert answer.startswith("You're in, Ana! Rate 2: 1 to go for 50 points bonus")
    for who in (member, other):
        papi.post(f"/members/{who['id']}/events", {"type": "review"})
    assert bonuses(papp, member["id"]) == [50] and bonuses(papp, other["id"]) == []
    assert papi.get(f"/members/{other['id']}/challenges").get_json()["items"] == []


def test_the_challenge_variable_in_any_template(papp, papi):
    papi.post("/challenges", MARCH, role="admin")
    member = papi.enrol("ch-5")
    papi.purchase(member["id"], "10.00")
    preview = papi.post("/flows/welcome/preview", {
        "member_id": member["id"], "channel": "sms",
        "body": "{{ challenge.remaining }} more purchases to earn {{ challenge.bonus|points }}. STOP"},
        role="marketer")
    assert preview.get_json()["body"].startswith("2 more purchases to earn 200 points.")


def test_bad_challenges_are_refused(papi):
    assert papi.post("/challenges", {**MARCH, "ends_at": MARCH["starts_at"]}, role="admin").status_code == 422
    assert papi.post("/challenges", {**MARCH, "keyword": "X1"}, role="admin").status_code == 422  # auto + keyword
    assert papi.post("/challenges", {**MARCH, "join": "keyword"}, role="admin").status_code == 422
    assert papi.post("/challenges", {**MARCH, "kind": "dance"}, role="admin").status_code == 422


def test_completed_by_concurrent_purchases_credits_once(pg_api):  # noqa: F811
    pg_api.post("/challenges", MARCH, role="admin")
    member = pg_api.enrol("ch-race")
    pg_api.purchase(member["id"], "10.00")
    pg_api.purchase(member["id"], "10.00")
    path = f"/api/v1/members/{member['id']}/events"

    def purchase(n):
        return pg_api.app.test_client().post(path, json={"type": "purchase", "amount": "10.00"},
                                             headers={**pg_api.headers(), "Idempotency-Key": f"race-{n}"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = {r.status_code for r in pool.map(purchase, range(8))}
    assert statuses == {201}
    assert bonuses(pg_api.app, member["id"]) == [200]
    with pg_api.app.extensions["engage.db"].session() as session:
        assert session.scalar(select(func.count()).select_from(ChallengeMember)) == 1


def test_giving_back_and_two_challenges_counted_by_the_same_purchase(papp, papi):
    papi.patch("/program", {"giving_back": {"enabled": True, "cause": "trees", "percent": "10.00"}}, role="admin")
    papi.post("/challenges", MARCH, role="admin")
    papi.post("/challenges", {**MARCH, "name": "2 by keyword", "goal": 2, "bonus": 20, "join": "keyword",
                              "keyword": "TWO"}, role="admin")
    member = papi.enrol("ch-6")
    papi.purchase(member["id"], "10.00")  # the keyword challenge is not joined yet
    progress = {p["challenge"]["name"]: p["progress"]
                for p in papi.get(f"/members/{member['id']}/challenges").get_json()["items"]}
    assert progress == {"3 purchases in March": 1}
    assert papi.get("/causes").get_json()["items"][0]["total"] == "1.00"
