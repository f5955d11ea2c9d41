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


def test_a_late_dispatcher_keeps_quiet_hours_and_the_daily_cap(papp, papi, fake_provider, clock):
    """Messages planned for two days, found late at night days later, are planned again from then."""
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc))  # 11:00 in Amsterdam
    member = papi.enrol("late-1", timezone="Europe/Amsterdam")
    ids = [queue(db, member["id"], clock.current, flow=flow, channels=("sms",))
           for flow in ("tier_congratulations", "expiry_warning", "redemption_reminder")]
    assert [message(db, i).send_after.day for i in ids] == [1, 1, 2]  # two today, one tomorrow
    clock.set(datetime(2026, 7, 3, 23, 34, tzinfo=timezone.utc))  # 01:34 on 4 July in Amsterdam
    assert dispatcher_for(papp).run_once() == 0
    assert fake_provider.request_count("sms") == 0
    held = [message(db, i) for i in ids]
    assert [m.status for m in held] == ["queued"] * 3
    assert [m.send_after for m in held] == [datetime(2026, 7, 4, 6, 0, tzinfo=timezone.utc)] * 2 + [
        datetime(2026, 7, 5, 6, 0, tzinfo=timezone.utc)]
    clock.set(datetime(2026, 7, 4, 6, 0, tzinfo=timezone.utc))
    assert dispatcher_for(papp).run_once() == 2
    clock.set(datetime(2026, 7, 4, 20, 0, tzinfo=timezone.utc))
    assert dispatcher_for(papp).run_once() == 0  # 22:00: the cap is spent and it is night
    clock.set(datetime(2026, 7, 5, 6, 0, tzinfo=timezone.utc))
    assert dispatcher_for(papp).run_once() == 1
    assert fake_provider.request_count("sms") == 3


def test_a_slot_missed_by_a_day_counts_what_this_batch_sends(papp, papi, fake_provider, clock):
    """Yesterday's leftover is planned around the messages the same batch is sending today."""
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc))
    member = papi.enrol("late-2", timezone="Europe/Amsterdam")
    tomorrow = datetime(2026, 7, 2, 9, 0, tzinfo=timezone.utc)
    leftover = queue(db, member["id"], clock.current, flow="feedback_request", channels=("sms",))
    planned = [queue(db, member["id"], clock.current, flow=flow, channels=("sms",), not_before=tomorrow)
               for flow in ("tier_congratulations", "welcome")]
    clock.set(tomorrow)  # the dispatcher did not run yesterday: one batch holds all three
    assert dispatcher_for(papp).run_once() == 2
    assert [message(db, i).status for i in planned] == ["sent", "sent"]
    late = message(db, leftover)
    assert late.status == "queued" and late.send_after == datetime(2026, 7, 3, 6, 0, tzinfo=timezone.utc)


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


def test_two_feedback_requests_in_one_batch_send_one(papp, papi, fake_provider, clock):
    """At most one feedback request a member per 30 days, even when two wait in the same batch."""
    db = papp.extensions["engage.db"]
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc))
    member = papi.enrol("feedback-twice", timezone="Europe/Amsterdam")
    ids = [queue(db, member["id"], clock.current, flow="feedback_request", channels=("sms",),
                 dedupe_key=f"feedback-{n}") for n in (1, 2)]
    assert dispatcher_for(papp).run_once() == 1
    first, second = (message(db, i) for i in ids)
    assert first.status == "sent"
    assert second.status == "skipped" and "feedback request" in second.reason


def test_the_skipped_feedback_request_names_the_spacing_in_force(papp, papi, fake_provider, clock):
    """The reason says the program's spacing, not the default 30 days."""
    db = papp.extensions["engage.db"]
    assert papi.patch("/flows/feedback_request", {"params": {"min_days_between": 10}},
                      role="marketer").status_code == 200
    clock.set(datetime(2026, 7, 1, 9, 0, tzinfo=timezone.utc))
    member = papi.enrol("feedback-spacing", timezone="Europe/Amsterdam")
    ids = [queue(db, member["id"], clock.current, flow="feedback_request", channels=("sms",),
                 dedupe_key=f"feedback-spacing-{n}") for n in (1, 2)]
    assert dispatcher_for(papp).run_once() == 1
    assert message(db, ids[1]).reason == "another feedback request went out in the last 10 days"
