"""Differential tests: each one-statement PostgreSQL form (a purchase, an inbound SMS, the
dispatcher's hand-off) against the plain steps SQLite takes (Config.plain_paths), on the same
generated scenarios.

Each example runs twice on one PostgreSQL database, emptied before each run, with the same
clock: once through an app on the fast paths, once through an app on the plain ones. Every call's
answer and every row of every table (but the API keys and a few wall-clock times) must come out
the same.
"""

from __future__ import annotations

import itertools
import random
import re
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from engage import create_app
from engage.config import Config
from engage.db import Base
from engage.jobs import deliver_quietly, dispatcher_for
from engage.store.program import changed
from tests.support import databases
from tests.support.api import ApiClient
from tests.support.messaging import disable_flows, provider_config, queue
from tests.support.sms import PUBLIC, Phone, answer_of

pytestmark = [pytest.mark.postgres_only, pytest.mark.slow]

START = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
TOKEN = "twilio-auth-token"
# An example costs about a second (two database resets, two runs), so a failure is reported as
# found, with its differences, rather than shrunk for minutes; the next run replays it first.
EXAMPLES = settings(max_examples=15, deadline=None, phases=[Phase.explicit, Phase.reuse, Phase.generate],
                    suppress_health_check=[HealthCheck.function_scoped_fixture])

# Random secrets (API keys) and the dispatcher's rate budgets, which refill by the wall clock.
SKIPPED = {"api_keys", "sender_budgets"}
# The reset stamps the program and flow settings with the wall clock. A purchase the fast path
# declines because its Idempotency-Key is taken has used an idempotency_records id (ON CONFLICT
# DO NOTHING takes it before it finds the conflict) before the plain steps take another: records
# are compared in the order they were made, by their scope, key and answer, not by id. Each app's
# dispatcher threads claim messages under a claimant id of their own (random per process).
IGNORED = {"program": {"updated_at"}, "flow_settings": {"updated_at"}, "idempotency_records": {"id"},
           "messages": {"claimant"}}
# A purchase's event in a ledger source (event:7) and in flow dedupe keys (feedback_request:1:7,
# redemption_reminder:1:event:7).
EVENT_REFERENCE = re.compile(r"(\bevent:|^feedback_request:\d+:)(\d+)$")


@pytest.fixture
def apps(postgres_only_url, clock):
    """The fast and the plain app on one database. Only the Twilio token is set: webhooks are
    verified, and the console channels send with provider ids that are the same on both runs."""
    made = {name: create_app(Config(database_url=postgres_only_url, public_url=PUBLIC, testing=True,
                                    twilio_auth_token=TOKEN, plain_paths=name == "plain",
                                    # the limits count in real time, across examples: not compared here
                                    inbound_sms_per_number="1000000/minute"), clock=clock)
            for name in ("fast", "plain")}
    yield made
    for app in made.values():
        app.extensions["engage.db"].dispose()


def compare(apps, clock, scenario, example) -> None:
    """Run `scenario(app, api)` on each app from an empty database; fail on any difference."""
    fast, plain = (run(apps[name], clock, scenario) for name in ("fast", "plain"))
    differences = [line for name in fast for line in _differences(name, fast[name], plain[name])]
    assert not differences, f"fast and plain paths differ on {example}:\n" + "\n".join(differences)


def run(app, clock, scenario) -> dict:
    db = app.extensions["engage.db"]
    databases.empty_postgres(db.url)
    with db.session() as session:
        changed(session)  # the cached program is the emptied database's
    clock.set(START)
    answers = scenario(app, ApiClient(app, app.test_client()))
    databases.check_member_totals(db.url)
    with db.engine.connect() as connection:
        tables = {table.name: [_without(IGNORED.get(table.name, ()), row._mapping)
                               for row in connection.execute(select(table).order_by(*table.primary_key.columns))]
                  for table in Base.metadata.sorted_tables if table.name not in SKIPPED}
    return _canonical({"answers": answers, **tables})


def _without(columns, row) -> dict:
    return {name: value for name, value in row.items() if name not in columns}


def _answer(call) -> tuple:
    """A request's status and answer (JSON, or the TwiML's text), or the error it raised."""
    try:
        response = call()
    except Exception as error:  # noqa: BLE001 - an error is an answer to compare too
        return "raised", type(error).__name__, str(error).splitlines()[0]
    if response.mimetype == "application/json":
        return response.status_code, response.get_json()
    if response.status_code == 200:
        return 200, answer_of(response)
    return response.status_code, response.get_data(as_text=True)


def _canonical(state: dict) -> dict:
    """Random codes named by what they belong to, and events numbered by their order.

    Like an idempotency record's id, a purchase the fast path declines has already taken an
    events id when the plain steps answer it, so later event ids run ahead of the plain run's:
    events are compared in their order, and so is every reference to one.
    """
    secrets = _secrets(state)
    secret = re.compile("|".join(map(re.escape, secrets))) if secrets else None
    events = {row["id"]: f"<event #{n}>" for n, row in enumerate(state["events"], 1)}

    def clean(value, key=None):
        if isinstance(value, dict):
            return {k: clean(v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if key == "event_id" and isinstance(value, int):
            return events.get(value, f"<no event {value}>")
        if isinstance(value, str):
            value = secret.sub(lambda found: secrets[found.group()], value) if secret else value
            return EVENT_REFERENCE.sub(lambda found: found[1] + events.get(int(found[2]), "<no event>"), value)
        return value

    state["events"] = [{**row, "id": events[row["id"]]} for row in state["events"]]
    state["answers"] = [(kind, _event_id(answer, events), *rest) for kind, answer, *rest in state["answers"]]
    state["idempotency_records"] = [{**row, "response": _event_id(row["response"], events)}
                                    for row in state["idempotency_records"]]
    return {name: [clean(row) for row in rows] for name, rows in state.items()}


def _secrets(state: dict) -> dict[str, str]:
    """Each random code (referral, unsubscribe token, coupon, a provider's message id) and what
    it stands for."""
    named = {row["referral_code"]: f"<referral code of member {row['id']}>" for row in state["members"]}
    named.update({row["provider_id"]: f"<provider id of message {row['id']}>"
                  for row in state["messages"] if row["provider_id"]})
    named.update({row["unsubscribe_token"]: f"<token of member {row['id']}>" for row in state["members"]})
    named.update({row["coupon_code"]: f"<coupon of redemption {row['id']}>"
                  for row in state["redemptions"] if row["coupon_code"]})
    return named


def _event_id(answer, events: dict):
    """A purchase's answer names its event by `id`."""
    if isinstance(answer, dict) and "points_awarded" in answer:
        return {**answer, "id": events.get(answer["id"], f"<no event {answer['id']}>")}
    return answer


def _differences(name: str, fast: list, plain: list, shown: int = 4) -> list[str]:
    """The first rows of a table (or answers) that differ, column by column; the rows that shift
    after a first difference would only repeat it."""
    lines = []
    for n, (one, other) in enumerate(itertools.zip_longest(fast, plain)):
        if one == other:
            continue
        if len(lines) == shown:
            return [*lines, f"  {name}: and more"]
        if isinstance(one, dict) and isinstance(other, dict):
            lines.append(f"  {name}[{n}] (id {one.get('id')}): " + ", ".join(
                f"{key} fast={one.get(key)!r} plain={other.get(key)!r}" for key in one | other
                if one.get(key) != other.get(key)))
        else:
            lines.append(f"  {name}[{n}]:\n    fast:  {one!r}\n    plain: {other!r}")
    return lines


def weighted(*choices):
    """One of the strategies, each as often as its weight."""
    strategies = [strategy for strategy, weight in choices for _ in range(weight)]
    return st.sampled_from(strategies).flatmap(lambda strategy: strategy)


# --- Purchases ---------------------------------------------------------------------------------

# A setup purchase per member: None (no purchase, so no feedback request either), amounts that
# put the member just below or at Silver (500) and Gold (1500) with the signup's 100, or erased.
setups = st.lists(st.sampled_from([None, "0", "399", "400", "1399", "erased"]), min_size=2, max_size=3)
amounts = st.one_of(st.sampled_from(["0", "0.99", "1", "25.90", "50.005", "399", "1000", "100000.00",
                                     "100000.01", "-1"]),
                    st.decimals(min_value=0, max_value=2000, places=2).map(str))
currencies = st.sampled_from([None, None, "EUR", "eur", "USD"])
WHEN = {"late": timedelta(hours=-2), "old": timedelta(days=-364), "too old": timedelta(days=-365),
        "clock ahead": timedelta(minutes=5), "future": timedelta(minutes=6)}
whens = st.sampled_from([None] * 4 + ["naive", *WHEN])
# None, a fresh key, or an earlier request's: "again" repeats it, "reuse" sends another body.
keys = st.one_of(st.sampled_from([None, "fresh"]),
                 st.tuples(st.sampled_from(["again", "reuse"]), st.integers(0, 7)))
# Line items: none (the statement the fast path always had), coffee (a category bonus, a sku bonus
# per unit and an offer rule count it), tea (no rule), or an invalid line (refused by the schema).
COFFEE = {"sku": "BLEND-1", "name": "House blend", "category": "coffee", "quantity": 2, "amount": "17.85"}
TEA = {"sku": "TEA-9", "name": "Green tea", "category": "tea", "amount": "6.00"}
item_lists = st.sampled_from([None, None, None, [COFFEE], [COFFEE, TEA], [TEA], [{**COFFEE, "quantity": 0}]])
ITEM_RULES = {"item_bonuses": [{"match": "category", "value": "Coffee", "multiplier": "2"},
                               {"match": "sku", "value": "blend-1", "points_per_unit": 3}],
              "offer_rules": [{"key": "blend", "match": "sku", "value": "BLEND-1", "times": 2, "days": 30,
                               "reward_id": 1, "cost": 40, "valid_days": 7, "keyword": "COFFEE"}]}
purchase = st.tuples(st.just("purchase"), st.sampled_from([0, 1, 2] * 3 + ["unknown"]), amounts, currencies,
                     whens, keys, item_lists)
advance = st.tuples(st.just("advance"), st.sampled_from([1, 60 * 5, 60 * 24 * 3 + 1, 60 * 24 * 31]))
purchase_ops = st.lists(weighted((purchase, 4), (advance, 1), (st.just(("deliver",)), 1)),
                        min_size=4, max_size=14)


@EXAMPLES
@given(members=setups, ops=purchase_ops)
def test_a_purchase_answers_and_writes_the_same_on_both_paths(apps, clock, members, ops):
    compare(apps, clock, lambda app, api: _purchases(app, api, clock, members, ops), (members, ops))


def _purchases(app, api, clock, members, ops) -> list:
    assert api.patch("/program", ITEM_RULES, role="admin").status_code == 200
    ids = [api.enrol(f"m{n}", phone=f"+3161234{n:04d}")["id"] for n in range(len(members))]
    for member_id, setup in zip(ids, members):
        if setup == "erased":
            assert api.delete(f"/members/{member_id}").status_code in (200, 204)
        elif setup is not None:
            assert api.purchase(member_id, setup).status_code == 201
    clock.advance(days=3, minutes=1)
    deliver_quietly(app, clock())  # welcomes and feedback requests go out
    answers, sent = [], []
    for op in ops:
        if op[0] == "advance":
            clock.advance(minutes=op[1])
        elif op[0] == "deliver":
            answers.append(("delivered", deliver_quietly(app, clock())))
        else:
            member_id, body, key = _request(op, ids, sent, clock())
            sent.append((member_id, body, key))
            answers.append(_answer(lambda: api.post(f"/members/{member_id}/events", body,
                                                    headers={"Idempotency-Key": key} if key else None)))
    return answers


def _request(op, ids: list, sent: list, now: datetime) -> tuple[int, dict, str | None]:
    """(member id, body, Idempotency-Key) of a purchase op."""
    _, who, amount, currency, when, key, items = op
    earlier = sent[key[1] % len(sent)] if isinstance(key, tuple) and sent else None
    if earlier and key[0] == "again":
        return earlier
    member_id = 999_999 if who == "unknown" else ids[who % len(ids)]
    body = {"type": "purchase", "amount": amount}
    if items:
        body["items"] = items
    if currency:
        body["currency"] = currency
    if when == "naive":  # the shop's wall clock, no offset: the program's time zone
        body["occurred_at"] = (now - timedelta(hours=1)).replace(tzinfo=None).isoformat()
    elif when:
        body["occurred_at"] = (now + WHEN[when]).isoformat()
    if isinstance(key, tuple):  # "reuse", or "again" with nothing sent yet
        key = earlier[2] if earlier and earlier[2] else "fresh"
    return member_id, body, f"order-{len(sent)}" if key == "fresh" else key


# --- Inbound SMS -------------------------------------------------------------------------------

NUMBERS = ["+31611110001", "+31611110002", "+31611110002", "+31699990009"]  # two share one; a stranger
KEYWORDS = ["STOP", "stopall", "Unsubscribe", "ＳＴＯＰ", "START", "yes", "HELP", "info", "POINTS",
            "balance", "REDEEM"]
RATINGS = ["1", "3", "5", " 5 stars ", "0", "6"]
FREE_TEXT = ["Great shop, thanks!", "ok", "Dank je wel 😊", "STOP please", "hi\nthere", "", "   "]
CASES = {"as is": str, "upper": str.upper, "lower": str.lower, "swapped": str.swapcase}
words = st.one_of(*(st.sampled_from(kind) for kind in (KEYWORDS, RATINGS, FREE_TEXT, FREE_TEXT)))
bodies = st.builds(lambda word, case, pad: pad + CASES[case](word) + pad, words,
                   st.sampled_from(list(CASES)), st.sampled_from(["", " ", "\t\n"]))
texts = st.tuples(st.just("text"), st.sampled_from([0, 0, 1, 2, 3]), bodies,
                  st.sampled_from([None] * 6 + [0, 1, 2]))  # a number: retry that earlier text
flow_messages = st.tuples(st.just("flow"), st.integers(0, 2), st.sampled_from(
    ["tier_congratulations", "redemption_reminder", "expiry_warning"]))
sms_advance = st.tuples(st.just("advance"), st.sampled_from([1, 60 * 5, 60 * 14, 60 * 24 * 8]))
sms_ops = st.lists(weighted((texts, 5), (flow_messages, 1), (sms_advance, 1)), min_size=8, max_size=18)
# Per member: SMS consent, a purchase (so a feedback request), locale.
contacts = st.lists(st.tuples(st.sampled_from([True, True, True, False]),
                              st.sampled_from([False, False, True]), st.sampled_from([None, "nl", "de"])),
                    min_size=3, max_size=3)
reply_caps = st.sampled_from([3, 1, 0])  # the program's reply_daily_cap: 3 is the default


@EXAMPLES
@given(members=contacts, reply_cap=reply_caps, ops=sms_ops)
def test_an_inbound_sms_answers_and_writes_the_same_on_both_paths(apps, clock, members, reply_cap, ops):
    compare(apps, clock, lambda app, api: _conversation(app, api, clock, members, reply_cap, ops),
            (members, reply_cap, ops))


def _conversation(app, api, clock, members, reply_cap, ops) -> list:
    assert api.patch("/program", {"reply_daily_cap": reply_cap}, role="admin").status_code == 200
    ids = []
    for n, (sms_consent, purchased, locale) in enumerate(members):
        ids.append(api.enrol(f"m{n}", phone=NUMBERS[n], locale=locale,
                             consent={"sms": sms_consent, "email": True})["id"])
        if purchased:
            assert api.purchase(ids[-1], "20.00").status_code == 201
    clock.advance(days=3, minutes=1)
    deliver_quietly(app, clock())  # welcomes and feedback requests go out
    phones = [Phone(app, TOKEN, number) for number in NUMBERS]
    answers, sent = [], []
    for op in ops:
        if op[0] == "advance":
            clock.advance(minutes=op[1])
        elif op[0] == "flow":  # a flow message goes out: the next reply may earn points
            queue(app.extensions["engage.db"], ids[op[1]], clock(), flow=op[2], channels=("sms",),
                  exempt=True)
            answers.append(("delivered", deliver_quietly(app, clock())))
        else:
            _, sender, body, retry = op
            if retry is not None and sent:  # Twilio retries: the same MessageSid and form
                phone, params = sent[retry % len(sent)]
            else:
                phone, params = phones[sender], phones[sender].params(body, sid=f"SM{len(sent):032x}")
            sent.append((phone, params))
            answers.append(_answer(lambda: phone.post(params)))
    return answers


# --- Dispatching -------------------------------------------------------------------------------

# What the fake provider does with each call, in order: take it ("slow:0" answers at once), refuse
# it (transient, permanent, opted out, invalid number) or leave it ambiguous (taken then the
# connection reset, or dropped unanswered).
ANSWERS = {"ok": "slow:0", "500": "500", "429": "429", "opted out": "21610", "invalid": "21211",
           "refused": "400", "reset": "reset", "dropped": "drop"}
answers = st.lists(st.sampled_from(["ok"] * 8 + [name for name in ANSWERS if name != "ok"]),
                   min_size=1, max_size=14)


@pytest.fixture
def dispatch_apps(postgres_only_url, clock, fake_provider):
    """The fast and the plain app on one database, both sending SMS to the fake provider."""
    made = {name: create_app(provider_config(postgres_only_url, fake_provider, plain_paths=name == "plain"),
                             clock=clock)
            for name in ("fast", "plain")}
    yield made
    for app in made.values():
        app.extensions["engage.db"].dispose()


@EXAMPLES
@given(members=st.integers(1, 3), calls=answers, batch=st.integers(1, 4))
def test_a_dispatched_batch_records_the_same_on_both_paths(dispatch_apps, clock, fake_provider, members,
                                                           calls, batch):
    """One dispatcher thread drains the outbox (claimed `batch` rows at a time), then drains
    again once the retries are due: the one-statement hand-off between a batch's rows (after a
    success) against the plain steps."""
    compare(dispatch_apps, clock,
            lambda app, api: _dispatch(app, api, clock, fake_provider, members, calls, batch),
            (members, calls, batch))


def _dispatch(app, api, clock, fake, members, calls, batch) -> list:
    disable_flows(app)
    db = app.extensions["engage.db"]
    ids = [api.enrol(f"m{n}", phone=f"+3161234{n:04d}")["id"] for n in range(members)]
    for n in range(len(calls)):
        queue(db, ids[n % members], clock(), flow=None, channels=("sms",), body=f"Message {n} {{}}",
              exempt=True)
    fake.reset()
    for call in calls:
        fake.fail_next("sms", ANSWERS[call])
    dispatcher = dispatcher_for(app)
    dispatcher.rng, dispatcher.batch_size = random.Random(7), batch
    drained = [dispatcher.drain()]
    clock.advance(hours=7)  # past any retry's backoff; the calls now succeed
    drained.append(dispatcher.drain())
    return [("drained", drained),
            ("calls", [(record["form"]["To"], record["mode"]) for record in fake.requests("sms")])]
