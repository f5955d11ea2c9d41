"""GET /metrics after real sends through the SDKs at the fake provider: the names and values."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from engage import jobs
from engage.observability import metrics
from tests.support.messaging import queue
from tests.support.signing import twilio_signature


def scrape(client) -> dict:
    """{(sample name, sorted labels): value} from /metrics."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return samples(response.get_data(as_text=True))


def samples(text: str) -> dict:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def process_now() -> dict:
    return samples(metrics.exposition().decode())


def delta(after: dict, before: dict, name: str, **labels) -> float:
    key = (name, tuple(sorted(labels.items())))
    return after.get(key, 0) - before.get(key, 0)


@pytest.fixture
def client(papp):
    papp.extensions["engage.metrics_collector"].fresh()  # every scrape reads the database
    return papp.test_client()


def test_metrics_after_sends(papp, papi, pdb, client, clock, fake_provider):
    member = papi.enrol("m-1")  # a signup bonus of 100 points
    before = process_now()
    fake_provider.fail_next("sms", "503")
    # tier_congratulations goes first (highest priority) and meets the failure
    sms_fails = queue(pdb, member["id"], clock(), channels=("sms",), flow="tier_congratulations")
    email = queue(pdb, member["id"], clock(), channels=("email",), flow="expiry_warning")
    sms = queue(pdb, member["id"], clock(), channels=("sms",))
    late = queue(pdb, member["id"], clock(), channels=("email",), flow="redemption_reminder",
                 not_before=clock().replace(year=2027))
    assert None not in (sms_fails, email, sms, late)
    jobs.deliver(papp, clock())
    clock.advance(seconds=120)  # the failed SMS waits for its retry; the late email for 2027
    after = scrape(client)

    assert delta(after, before, "engage_provider_request_duration_seconds_count", channel="sms", outcome="ok") == 1
    assert delta(after, before, "engage_provider_request_duration_seconds_count", channel="sms", outcome="error") == 1
    assert delta(after, before, "engage_provider_request_duration_seconds_count", channel="email", outcome="ok") == 1
    assert delta(after, before, "engage_provider_errors_total", channel="sms", code="20503", kind="transient") == 1
    out = lambda flow, channel, status: after.get(("engage_messages", tuple(sorted(  # noqa: E731
        {"direction": "out", "flow": flow, "channel": channel, "status": status}.items()))))
    assert out("welcome", "sms", "sent") == 1
    assert out("expiry_warning", "email", "sent") == 1
    assert out("tier_congratulations", "sms", "queued") == 1  # the failure, back in the queue
    assert out("redemption_reminder", "email", "queued") == 1
    assert after[("engage_outbox_due_messages", ())] == 1  # the retry is due now (base 60 s)...
    assert 0 < after[("engage_outbox_oldest_due_age_seconds", ())] <= 120  # ...and waited since
    assert after[("engage_messages_unknown", ())] == 0
    assert after[("engage_outbox_messages", (("channel", "email"), ("status", "queued")))] == 1  # the late one
    assert after[("engage_outbox_messages", (("channel", "sms"), ("status", "queued")))] == 1
    assert after[("engage_database_up", ())] == 1
    assert after[("engage_points_earned_total", ())] == 100


def test_points_sweep_and_webhooks(papp, papi, client, clock, fake_provider):
    member = papi.enrol("m-1")
    papi.purchase(member["id"], "250.00", key="p-1")
    assert papi.post(f"/members/{member['id']}/redemptions", {"reward_id": 1},
                     headers={"Idempotency-Key": "r-1"}).status_code == 201
    assert papi.post(f"/members/{member['id']}/redemptions", {"reward_id": 4},
                     headers={"Idempotency-Key": "r-2"}).status_code == 201
    summary = jobs.run(papp, jobs.JOBS["sweep"], clock().date(), clock())
    assert "skipped" not in summary
    before = process_now()
    params = {"MessageSid": "SM" + "1" * 32, "MessageStatus": "delivered"}
    url = "https://engage.example.com/webhooks/twilio/status"
    signed = {"X-Twilio-Signature": twilio_signature(fake_provider.twilio_auth_token, url, params)}
    assert client.post("/webhooks/twilio/status", data=params, headers=signed).status_code == 204
    assert client.post("/webhooks/twilio/status", data=params,
                       headers={"X-Twilio-Signature": "forged"}).status_code == 403
    after = scrape(client)

    assert after[("engage_points_earned_total", ())] == 100 + 250
    assert after[("engage_points_redeemed_total", (("kind", "discount"),))] == 100
    assert after[("engage_points_redeemed_total", (("kind", "donation"),))] == 50
    assert after[("engage_sweep_last_finished_timestamp_seconds", ())] == clock().timestamp()
    assert after[("engage_sweep_last_duration_seconds", ())] == 0  # the fake clock stood still
    route = "/webhooks/twilio/status"
    assert delta(after, before, "engage_webhook_requests_total", endpoint=route, outcome="accepted") == 1
    assert delta(after, before, "engage_webhook_requests_total", endpoint=route, outcome="forbidden") == 1
    assert delta(after, before, "engage_http_requests_total", method="POST", route=route, status="403") == 1
    assert delta(after, before, "engage_http_request_duration_seconds_count", route=route) == 2


def test_metrics_answer_while_the_database_is_gone(tmp_path):
    from engage import create_app
    from engage.config import Config

    app = create_app(Config(database_url=f"sqlite:///{tmp_path}/gone/../missing/x.sqlite", testing=True))
    (tmp_path / "missing" / "x.sqlite").mkdir()  # a directory where the database file should be
    scraped = scrape(app.test_client())
    assert scraped[("engage_database_up", ())] == 0
    assert not [key for key in scraped if key[0] == "engage_messages"]
    app.extensions["engage.db"].dispose()
