"""Quiet hours and frequency caps hold messages back; nothing early reaches the provider."""

from __future__ import annotations

from datetime import datetime, timezone


from engage.jobs import dispatcher_for
from tests.support.messaging import message, queue




def test_sms_in_quiet_hours_waits_until_eight_local(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 20, 30, tzinfo=timezone.utc))  # 22:30 in Amsterdam (CEST)
    member = papi.enrol("quiet-1", timezone="Europe/Amsterdam", phone="+31612345670")
    message_id = queue(db, member["id"], clock.current, channels=("sms",))
    held = message(db, message_id)
    assert held.status == "queued" and held.send_after == datetime(2026, 7, 2, 6, 0, tzinfo=timezone.utc)
    assert dispatcher_for(papp).run_once() == 0
    clock.set(datetime(2026, 7, 2, 5, 59, tzinfo=timezone.utc))
    assert dispatcher_for(papp).run_once() == 0
    assert fake_provider.request_count("sms") == 0
    clock.set(datetime(2026, 7, 2, 6, 0, tzinfo=timezone.utc))
    assert dispatcher_for(papp).run_once() == 1


def test_email_is_not_held_by_quiet_hours(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 21, 30, tzinfo=timezone.utc))
    member = papi.enrol("quiet-2", phone=None, timezone="Europe/Amsterdam")
    message_id = queue(db, member["id"], clock.current)
    assert message(db, message_id).status == "queued"
    assert dispatcher_for(papp).run_once() == 1


def test_answers_are_not_held(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 22, 0, tzinfo=timezone.utc))
    member = papi.enrol("quiet-3", timezone="Europe/Amsterdam")
    message_id = queue(db, member["id"], clock.current, flow=None, channels=("sms",), exempt=True)
    assert message(db, message_id).status == "queued"
    assert dispatcher_for(papp).run_once() == 1


def test_daily_cap_moves_the_lowest_priority_to_the_next_day(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc))  # 11:00 in Amsterdam
    member = papi.enrol("cap-1", timezone="Europe/Amsterdam")
    feedback = queue(db, member["id"], clock.current, flow="feedback_request", channels=("sms",))
    reminder = queue(db, member["id"], clock.current, flow="redemption_reminder", channels=("sms",))
    congrats = queue(db, member["id"], clock.current, flow="tier_congratulations", channels=("sms",))
    assert message(db, congrats).status == "queued" and message(db, reminder).status == "queued"
    held = message(db, feedback)
    assert held.status == "queued" and held.send_after == datetime(2026, 7, 2, 6, 0, tzinfo=timezone.utc)
    assert dispatcher_for(papp).run_once() == 2
    assert fake_provider.request_count("sms") == 2
    clock.set(datetime(2026, 7, 2, 6, 0, tzinfo=timezone.utc))
    assert dispatcher_for(papp).run_once() == 1


def test_weekly_cap(papp, papi, fake_provider, clock):
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc))
    member = papi.enrol("cap-2", timezone="Europe/Amsterdam")
    ids = []
    for day in range(6):
        ids.append(queue(db, member["id"], clock.current, flow="expiry_warning", channels=("sms",),
                         dedupe_key=f"w-{day}"))
        dispatcher_for(papp).run_once()
        clock.advance(days=1)
    sent = [message(db, i).status for i in ids]
    assert sent == ["sent"] * 5 + ["queued"]
    assert message(db, ids[-1]).send_after == datetime(2026, 7, 8, 9, 0, tzinfo=timezone.utc)


def test_dedupe_key_fires_once(papp, papi, clock):
    db = papp.extensions["engage.db"]
    member = papi.enrol("dedupe-1")
    assert queue(db, member["id"], clock.current, dedupe_key="welcome:1") is not None
    assert queue(db, member["id"], clock.current, dedupe_key="welcome:1") is None
