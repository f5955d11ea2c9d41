"""Property: whatever a member's consent, opt-outs and suppressions, a message reaches the
provider only on a channel the member can receive, and never inside quiet hours for SMS."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import update

from engage import create_app
from engage.jobs import dispatcher_for
from engage.models import Member
from engage.services.consent import suppress
from engage.store import transaction
from tests.support.api import ApiClient
from tests.support.clock import FakeClock
from tests.support.databases import check_member_totals, sqlite_copy
from tests.support.messaging import disable_flows, provider_config, queue

contact = st.fixed_dictionaries({
    "sms_consent": st.booleans(), "email_consent": st.booleans(),
    "sms_opted_out": st.booleans(), "email_opted_out": st.booleans(),
    "phone_suppressed": st.booleans(), "email_suppressed": st.booleans(),
    "has_phone": st.booleans(), "has_email": st.booleans(),
    "channels": st.sampled_from([("sms",), ("email",), ("sms", "email"), ("email", "sms")]),
    "hour": st.integers(min_value=0, max_value=23),
})


@pytest.mark.slow
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=contact)
def test_only_receivable_channels_reach_the_provider(case, sqlite_template, tmp_path_factory, fake_provider):
    clock = FakeClock(datetime(2026, 7, 1, case["hour"], 30, tzinfo=timezone.utc))
    url = sqlite_copy(sqlite_template, tmp_path_factory.mktemp("p"))
    app = create_app(provider_config(url, fake_provider), clock=clock)
    try:
        disable_flows(app)
        api = ApiClient(app, app.test_client())
        db = app.extensions["engage.db"]
        member = api.enrol("prop", timezone="Europe/Amsterdam",
                           phone="+31612345678" if case["has_phone"] else None,
                           email="prop@example.com" if case["has_email"] else None,
                           consent={"sms": case["sms_consent"], "email": case["email_consent"]})
        with db.session() as session, transaction(session):
            session.execute(update(Member).where(Member.id == member["id"]).values(
                sms_opted_out=case["sms_opted_out"], email_opted_out=case["email_opted_out"]))
            if case["phone_suppressed"]:
                suppress(session, "sms", "+31612345678", "bounced", clock.current)
            if case["email_suppressed"]:
                suppress(session, "email", "prop@example.com", "bounced", clock.current)
        queue(db, member["id"], clock.current, channels=case["channels"])
        for _ in range(24):
            dispatcher_for(app).run_once()
            clock.advance(hours=1)
        can = {
            "sms": case["has_phone"] and case["sms_consent"] and not case["sms_opted_out"]
            and not case["phone_suppressed"],
            "email": case["has_email"] and case["email_consent"] and not case["email_opted_out"]
            and not case["email_suppressed"],
        }
        sent = fake_provider.requests()
        expected = next((c for c in case["channels"] if can[c]), None)
        assert [r["channel"] for r in sent] == ([expected] if expected else [])
        if expected == "sms":
            stored = api.get(f"/members/{member['id']}/messages").get_json()["items"][0]
            sent_at = datetime.fromisoformat(stored["sent_at"]).astimezone(ZoneInfo("Europe/Amsterdam"))
            assert 8 <= sent_at.hour < 21
        check_member_totals(url)
    finally:
        fake_provider.reset()
        app.extensions["engage.db"].dispose()
