"""/healthz (the process), /readyz (database, migrations, scheduler leader) and request ids."""

from __future__ import annotations

import socket

from engage import create_app
from engage.config import Config
from engage.leadership import lock_for


def test_healthz_needs_no_database(tmp_path):
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        url = f"postgresql+psycopg://postgres@127.0.0.1:{closed.getsockname()[1]}/none"
        app = create_app(Config(database_url=url, testing=True))
        client = app.test_client()
        assert client.get("/healthz").get_json() == {"status": "ok"}
        readyz = client.get("/readyz")
    assert readyz.status_code == 503 and readyz.headers["Retry-After"] == "5"
    assert readyz.get_json()["checks"]["database"]["ok"] is False
    app.extensions["engage.db"].dispose()


def test_readyz_wants_a_scheduler_leader(app, db):
    client = app.test_client()
    waiting = client.get("/readyz")
    assert waiting.status_code == 503
    body = waiting.get_json()
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "migrations": True, "scheduler": False}
    assert body["message"] == "not ready: scheduler: no process holds the scheduler lock: start `engage worker`"
    lock = lock_for(db)
    assert lock.acquire()
    try:
        ready = client.get("/readyz")
        assert ready.status_code == 200, ready.get_json()
        assert ready.get_json()["status"] == "ready" and "Retry-After" not in ready.headers
        assert ready.get_json()["checks"]["scheduler"]["detail"].startswith("led by ")
    finally:
        lock.release()
    assert client.get("/readyz").status_code == 503  # released: no leader again


def test_readyz_wants_the_schema_at_head(tmp_path):
    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'new.sqlite'}", testing=True))
    checks = app.test_client().get("/readyz").get_json()["checks"]
    assert checks["migrations"] == {"ok": False, "detail": checks["migrations"]["detail"]}
    assert checks["migrations"]["detail"].startswith("at no revision, this code needs ")
    app.extensions["engage.db"].dispose()


def test_request_ids_are_kept_or_made(api):
    given = api.client.get("/api/v1/tiers", headers={**api.headers(), "X-Request-ID": "lb-7f3a.1"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.1"
    made = api.client.get("/api/v1/tiers", headers={**api.headers(), "X-Request-ID": "has spaces; " + "x" * 200})
    other = api.get("/tiers")
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"] != other.headers["X-Request-ID"]
    assert api.client.get("/healthz").headers["X-Request-ID"]


def test_an_answer_from_an_earlier_hook_still_gets_an_id_and_is_counted(tmp_path):
    """A before_request registered ahead of ours (a rate limiter's) that answers by itself."""
    from tests.integration.test_metrics import delta, process_now

    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'x.sqlite'}", testing=True))
    app.before_request_funcs[None].insert(0, lambda: ("slow down", 429))
    before = process_now()
    response = app.test_client().post("/webhooks/twilio/sms")
    assert response.status_code == 429 and len(response.headers["X-Request-ID"]) == 32
    assert delta(process_now(), before, "engage_webhook_requests_total",
                 endpoint="/webhooks/twilio/sms", outcome="limited") == 1
    app.extensions["engage.db"].dispose()


def test_made_up_methods_share_one_label(tmp_path):
    from tests.integration.test_metrics import delta, process_now

    app = create_app(Config(database_url=f"sqlite:///{tmp_path / 'x.sqlite'}", testing=True))
    before = process_now()
    for method in ("BREW", "WHEN", "PROPFIND"):
        assert app.test_client().open("/api/v1/tiers", method=method).status_code == 405
    after = process_now()
    assert delta(after, before, "engage_http_requests_total", method="other", route="(unmatched)",
                 status="405") == 3
    assert not [key for key in after if ("method", "BREW") in key[1]]
    app.extensions["engage.db"].dispose()
