"""Bad input never causes a 500: random JSON at every write endpoint, random query strings at reads."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engage import create_app
from tests.support.api import ApiClient
from tests.support.clock import FakeClock
from tests.support.databases import check_member_totals, sqlite_copy
from tests.support.messaging import provider_config

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-2**70, max_value=2**70),
                    st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=40),
                    st.sampled_from(["", "+31612345678", "12.50", "-1", "NaN", "2026-01-01T00:00:00Z",
                                     "2999-01-01", "purchase", "sms", "email", "nl", "Gold", "{{ x }}",
                                     "{% for %}", "\x00", "ＳＴＯＰ"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                       st.dictionaries(st.text(max_size=12), inner, max_size=4)),
                      max_leaves=8)
FIELDS = ["external_id", "first_name", "last_name", "email", "phone", "locale", "timezone", "consent",
          "referral_code", "type", "amount", "currency", "occurred_at", "reward_id", "name", "kind", "cost",
          "min_tier", "value", "threshold", "multiplier", "benefits", "enabled", "channels", "delay", "params",
          "body", "subject", "html", "text", "member_id", "channel", "quiet_hours", "action_points"]
bodies = st.one_of(values, st.dictionaries(st.sampled_from(FIELDS), values, max_size=6))

WRITES = [("post", "/members"), ("patch", "/members/1"), ("post", "/members/1/events"),
          ("post", "/members/1/redemptions"), ("post", "/rewards"), ("patch", "/rewards/1"),
          ("patch", "/tiers/2"), ("patch", "/program"), ("patch", "/flows/welcome"),
          ("put", "/flows/welcome/templates/sms/en"), ("put", "/flows/welcome/templates/email/nl"),
          ("post", "/flows/welcome/preview"), ("post", "/flows/feedback_request/test"),
          ("post", "/flows/welcome/templates/sms/en/versions/1/restore"), ("put", "/layouts/email/en"),
          ("post", "/layouts/email/nl/versions/0/restore")]
READS = ["/members", "/messages", "/members/1/ledger", "/members/1/messages", "/flows/welcome/templates/sms/en/versions",
         "/layouts/email/en/versions"]


@pytest.fixture(scope="module")
def fuzz_url(sqlite_template, tmp_path_factory):
    return sqlite_copy(sqlite_template, tmp_path_factory.mktemp("fuzz"))


@pytest.fixture(autouse=True)
def totals_checked(fuzz_url):
    """The module shares one database; its ledger totals are checked after each test all the same."""
    yield
    check_member_totals(fuzz_url)


@pytest.fixture(scope="module")
def fuzz_api(fuzz_url, fake_provider_server):
    app = create_app(provider_config(fuzz_url, fake_provider_server), clock=FakeClock())
    api = ApiClient(app, app.test_client())
    api.enrol("fuzz-1")
    yield api
    app.extensions["engage.db"].dispose()


@pytest.mark.slow
@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(endpoint=st.sampled_from(WRITES), body=bodies, raw=st.booleans())
def test_random_bodies_never_500(fuzz_api, endpoint, body, raw):
    method, path = endpoint
    client = fuzz_api.client
    headers = fuzz_api.headers("admin")
    if raw:  # not even JSON
        response = getattr(client, method)("/api/v1" + path, data=str(body)[:200],
                                           headers={**headers, "Content-Type": "application/json"})
    else:
        response = getattr(client, method)("/api/v1" + path, json=body, headers=headers)
    assert response.status_code < 500, (method, path, body, response.get_data(as_text=True)[:300])
    if response.status_code >= 400:
        assert response.is_json and response.get_json()["message"]


@pytest.mark.slow
@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(path=st.sampled_from(READS), query=st.dictionaries(
    st.sampled_from(["limit", "cursor", "status", "flow", "member_id", "channel", "direction", "external_id"]),
    st.text(max_size=30), max_size=4))
def test_random_queries_never_500(fuzz_api, path, query):
    response = fuzz_api.client.get("/api/v1" + path, query_string=query, headers=fuzz_api.headers("admin"))
    assert response.status_code < 500, (path, query, response.get_data(as_text=True)[:300])
