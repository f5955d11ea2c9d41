"""Experiments through the API, on SQLite and PostgreSQL: members get the variant their hash says
and the message records it; results count sends and outcomes within the window, with the
two-proportion test checked against numbers worked out by hand; stop keeps the variants; promote
saves B as the template's newest version, audited."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from engage.experiments import assign
from engage.models import AuditEntry, Event, Message, Redemption
from engage.store import transaction

B_BODY = "Hi {{ member.first_name }}, variant B here. Reply STOP to opt out"


def start(api, **fields):
    body = {"flow": "welcome", "channel": "sms", "locale": "en", "split_percent": 50, "outcome": "reply",
            "window_days": 7, "body": B_BODY, **fields}
    return api.post("/experiments", body, role="marketer")


def started(api, **fields) -> dict:
    response = start(api, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def welcome_messages(db) -> dict[int, Message]:
    with db.session() as session:
        return {m.member_id: m for m in session.scalars(select(Message).where(Message.flow == "welcome"))}


# Assignment on real messages -----------------------------------------------------------------------

def test_each_member_gets_the_variant_of_their_hash_and_the_message_records_it(api, db):
    experiment = started(api, name="Friendlier welcome")
    assert experiment["status"] == "running" and experiment["created_by"] == "key:test marketer"
    members = [api.enrol(f"ab-{n}")["id"] for n in range(24)]
    messages = welcome_messages(db)
    variants = {member: assign(member, experiment["id"], 50) for member in members}
    assert set(variants.values()) == {"A", "B"}  # 24 members: both variants drawn
    for member, variant in variants.items():
        message = messages[member]
        assert (message.experiment_id, message.variant) == (experiment["id"], variant)
        assert ("variant B here" in message.body) == (variant == "B")
        assert "STOP" in message.body
    shown = api.get(f"/members/{members[0]}/messages").get_json()["items"][0]
    assert (shown["experiment_id"], shown["variant"]) == (experiment["id"], variants[members[0]])


def test_a_stopped_experiment_keeps_its_variants_and_new_messages_get_the_live_template(api, db):
    experiment = started(api)
    first = api.enrol("before-stop")["id"]
    stopped = api.post(f"/experiments/{experiment['id']}/stop", role="marketer")
    assert stopped.status_code == 200 and stopped.get_json()["status"] == "stopped"
    assert stopped.get_json()["stopped_at"]
    later = api.enrol("after-stop")["id"]
    messages = welcome_messages(db)
    assert messages[first].experiment_id == experiment["id"]
    assert messages[first].variant == assign(first, experiment["id"], 50)
    assert (messages[later].experiment_id, messages[later].variant) == (None, None)
    assert "variant B here" not in messages[later].body
    assert api.post(f"/experiments/{experiment['id']}/stop", role="marketer").status_code == 409
    # A new experiment may start on the template once the old one stopped.
    assert start(api).status_code == 201


def test_another_locale_or_channel_is_not_in_the_experiment(api, db):
    experiment = started(api)
    dutch = api.enrol("nl-member", locale="nl")["id"]
    by_email = api.enrol("email-only", phone=None)["id"]
    messages = welcome_messages(db)
    assert messages[dutch].experiment_id is None and messages[dutch].locale == "nl"
    assert messages[by_email].channel == "email" and messages[by_email].experiment_id is None
    assert api.get(f"/experiments/{experiment['id']}", role="marketer").status_code == 200


# Rules on starting ---------------------------------------------------------------------------------

def test_one_running_experiment_per_template(api):
    first = started(api)
    second = start(api)
    assert second.status_code == 409
    assert f"experiment {first['id']}" in second.get_json()["message"] and "stop it first" in second.get_json()["message"]
    assert start(api, locale="nl", body="Hoi {{ member.first_name }}! Afmelden? Stuur STOP").status_code == 201
    assert start(api, flow="tier_congratulations", body="Up! STOP").status_code == 201


def test_variant_b_is_checked_as_a_template_save(api):
    no_stop = start(api, body="Welcome {{ member.first_name }}!")
    assert no_stop.status_code == 422
    assert "opt-out" in no_stop.get_json()["errors"]["body"][0]
    unknown = start(api, body="Hi {{ member.frist_name }} STOP")
    assert unknown.status_code == 422 and "frist_name" in unknown.get_json()["message"]
    email = start(api, channel="email", body=None, subject="Welcome")
    assert email.status_code == 422
    assert api.get("/experiments", role="marketer").get_json()["items"] == []


@pytest.mark.parametrize("fields", [
    {"split_percent": 0}, {"split_percent": 100}, {"outcome": "click"}, {"window_days": 0},
    {"window_days": 91}, {"flow": "birthday"}, {"channel": "fax"}, {"locale": "xx-nope"},
])
def test_bad_fields_are_422(api, fields):
    response = start(api, **fields)
    assert response.status_code == 422 and response.get_json()["errors"]


def test_roles_and_missing_experiments(api):
    assert api.post("/experiments", {}, role="integration").status_code == 403
    assert api.get("/experiments/999", role="marketer").status_code == 404
    assert api.post("/experiments/999/stop", role="marketer").status_code == 404
    assert api.post("/experiments/999/promote", role="marketer").status_code == 404


# Results against numbers worked out by hand ------------------------------------------------------------

def _sent(session, member_id, experiment_id, variant, at, status="sent", **fields) -> Message:
    message = Message(member_id=member_id, direction="out", flow="welcome", channel="sms", status=status,
                      body="x", send_after=at, sent_at=at if status in ("sent", "delivered") else None,
                      created_at=at, updated_at=at, data={}, experiment_id=experiment_id, variant=variant,
                      **fields)
    session.add(message)
    session.flush()
    return message


def _reply(session, message: Message, at, simulated=False) -> None:
    session.add(Message(member_id=message.member_id, direction="in", channel="sms", status="received",
                        body="thanks", send_after=at, created_at=at, updated_at=at, data={},
                        in_reply_to_id=message.id, simulated=simulated))


def test_reply_results_and_p_value_against_hand_worked_numbers(api, db, clock):
    experiment = started(api)
    member = api.enrol("counted")["id"]  # its own welcome message is in the experiment too: one send
    own = welcome_messages(db)[member]
    t0 = clock()
    with db.session() as session, transaction(session):
        session.get(Message, own.id).status = "queued"  # not sent: not counted
        for variant, sends, replied in (("A", 200, 16), ("B", 200, 30)):
            for n in range(sends):
                message = _sent(session, member, experiment["id"], variant, t0, status="delivered" if n % 2 else "sent")
                if n < replied:
                    _reply(session, message, t0 + timedelta(days=6, hours=23))
                elif n < replied + 3:  # replies after the 7-day window, or from the console's phone: none count
                    _reply(session, message, t0 + timedelta(days=7, minutes=1))
                    _reply(session, message, t0 + timedelta(hours=1), simulated=True)
            _sent(session, member, experiment["id"], variant, t0, status="failed")  # never went out
            _sent(session, member, experiment["id"], variant, t0, is_test=True)  # a marketer's test
    body = api.get(f"/experiments/{experiment['id']}", role="marketer").get_json()
    results = body["results"]
    # Pooled p = 46/400 = 0.115; se = sqrt(0.115 × 0.885 × (1/200 + 1/200)) = 0.0319022;
    # z = (0.15 - 0.08) / 0.0319022 = 2.19421; p = erfc(2.19421 / √2) = 0.028221: 1 time in 35.
    assert results["variants"] == [{"variant": "A", "sends": 200, "outcomes": 16, "rate": 0.08},
                                   {"variant": "B", "sends": 200, "outcomes": 30, "rate": 0.15}]
    assert results["enough"] is True and results["leader"] == "B"
    assert results["z"] == pytest.approx(2.19421, abs=1e-5)
    assert results["p_value"] == pytest.approx(0.028221, abs=1e-6)
    assert results["sentence"] == ("B gets more replies within 7 days (15.0% against 8.0%); a difference this "
                                   "large would come by chance about 1 time in 35.")


@pytest.mark.parametrize("outcome", ["purchase", "redemption"])
def test_purchases_and_redemptions_count_within_the_window_after_the_send(api, db, clock, outcome):
    experiment = started(api, outcome=outcome, window_days=3)
    members = [api.enrol(f"w-{n}")["id"] for n in range(5)]
    with db.session() as session, transaction(session):
        for message in session.scalars(select(Message).where(Message.flow == "welcome")):
            message.experiment_id = None  # the welcomes themselves are left out of this count
        t0 = clock() + timedelta(days=10)
        after = {  # member: (variant, when the member acted, relative to the send)
            members[0]: ("A", timedelta(days=1)),  # counts
            members[1]: ("A", timedelta(days=3, seconds=1)),  # just after the window
            members[2]: ("B", -timedelta(hours=1)),  # before the send
            members[3]: ("B", timedelta(days=2, hours=23, minutes=59)),  # counts
            members[4]: ("B", None),  # did nothing
        }
        for member, (variant, delay) in after.items():
            _sent(session, member, experiment["id"], variant, t0)
            if delay is None:
                continue
            if outcome == "purchase":
                session.add(Event(member_id=member, type="purchase", amount=Decimal("10.00"), currency="EUR",
                                  occurred_at=t0 + delay, created_at=t0 + delay, points_awarded=10))
                session.add(Event(member_id=member, type="review", occurred_at=t0 + timedelta(hours=1),
                                  created_at=t0, points_awarded=50))  # not a purchase
            else:
                session.add(Redemption(member_id=member, reward_id=1, kind="discount", points=100,
                                       created_at=t0 + delay))
    results = api.get(f"/experiments/{experiment['id']}", role="marketer").get_json()["results"]
    assert [(v["sends"], v["outcomes"]) for v in results["variants"]] == [(2, 1), (3, 1)]
    assert results["enough"] is False and results["p_value"] is None and results["leader"] is None
    assert results["sentence"].startswith("Too few sends to tell yet: A has 2 and B 3.")


# Promote -------------------------------------------------------------------------------------------

def test_promote_saves_b_as_the_newest_template_version_with_audit(api, db):
    api.put("/flows/welcome/templates/sms/en", {"body": "Version one. STOP"}, role="marketer")
    experiment = started(api)
    promoted = api.post(f"/experiments/{experiment['id']}/promote", role="marketer")
    assert promoted.status_code == 200, promoted.get_json()
    body = promoted.get_json()
    assert body["status"] == "promoted" and body["promoted_version"] == 2 and body["stopped_at"]
    template = api.get("/flows/welcome/templates/sms/en", role="marketer").get_json()
    assert template["version"] == 2 and template["body"] == B_BODY and template["created_by"] == "key:test marketer"
    assert api.post(f"/experiments/{experiment['id']}/promote", role="marketer").status_code == 409
    assert api.post(f"/experiments/{experiment['id']}/stop", role="marketer").status_code == 409
    with db.session() as session:
        entries = list(session.execute(select(AuditEntry.action, AuditEntry.object_id, AuditEntry.actor)
                                       .order_by(AuditEntry.id)))
    assert [(a, o) for a, o, _ in entries] == [("experiment.start", str(experiment["id"])),
                                               ("experiment.promote", str(experiment["id"])),
                                               ("template.promote", "welcome/sms/en")]
    assert {actor for _, _, actor in entries} == {"key:test marketer"}
    member = api.enrol("after-promote")["id"]
    message = welcome_messages(db)[member]
    assert "variant B here" in message.body and message.experiment_id is None


def test_a_stopped_experiment_can_be_promoted_and_listed_by_status(api):
    experiment = started(api)
    api.post(f"/experiments/{experiment['id']}/stop", role="marketer")
    assert api.post(f"/experiments/{experiment['id']}/promote", role="marketer").status_code == 200
    started(api, locale="de", body="Hallo! Abmelden: Antworte STOP")
    listed = api.get("/experiments?status=promoted", role="marketer").get_json()
    assert [item["id"] for item in listed["items"]] == [experiment["id"]] and listed["next"] is None
    assert "results" not in listed["items"][0]
    everything = api.get("/experiments?limit=1", role="marketer").get_json()
    assert len(everything["items"]) == 1 and everything["next"]
