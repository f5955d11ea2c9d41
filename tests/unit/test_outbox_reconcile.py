"""The reconcile rule: what the provider's answer about an ambiguous attempt settles."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from engage.outbox.ports import Lookup, ProviderCopy
from engage.outbox.reconcile import REQUEUE, SENT, WAIT, decide, settled_at

BEGAN = datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
SETTLE, GIVE_UP = timedelta(minutes=2), timedelta(hours=1)


def _decide(lookup, now=BEGAN + SETTLE, known=frozenset()):
    return decide(lookup, BEGAN, now, SETTLE, GIVE_UP, known)


def test_first_asked_after_the_settling_delay():
    assert settled_at(BEGAN, SETTLE) == BEGAN + SETTLE


def test_a_copy_found_is_recorded_with_the_providers_status():
    copy = ProviderCopy("SM1", "delivered", BEGAN + timedelta(seconds=1))
    decision = _decide(Lookup.found([copy]))
    assert (decision.action, decision.provider_id, decision.status) == (SENT, "SM1", "delivered")


def test_a_queued_copy_is_sent_and_a_failed_one_keeps_its_code():
    assert _decide(Lookup.found([ProviderCopy("SM1", "queued")])).status == "sent"
    failed = _decide(Lookup.found([ProviderCopy("SM1", "undelivered", error_code="30003")]))
    assert (failed.status, failed.error_code) == ("failed", "30003")


def test_the_oldest_unrecorded_copy_is_ours():
    older = ProviderCopy("SM-old", "sent", BEGAN + timedelta(seconds=1))
    newer = ProviderCopy("SM-new", "sent", BEGAN + timedelta(seconds=9))
    assert _decide(Lookup.found([newer, older])).provider_id == "SM-old"
    assert _decide(Lookup.found([newer, older]), known=frozenset({"SM-old"})).provider_id == "SM-new"


def test_provably_none_is_sent_again():
    assert _decide(Lookup.found([])).action == REQUEUE


def test_copies_of_other_messages_only_prove_none():
    lookup = Lookup.found([ProviderCopy("SM1", "sent")])
    assert _decide(lookup, known=frozenset({"SM1"})).action == REQUEUE


def test_cannot_tell_asks_again_later():
    now = BEGAN + SETTLE
    decision = _decide(Lookup.cannot_tell("Twilio Messages list failed: 503"), now)
    assert (decision.action, decision.next_check) == (WAIT, now + SETTLE)
    assert "Twilio Messages list failed" in decision.reason


def test_still_unsettled_after_give_up_is_for_a_person():
    now = BEGAN + GIVE_UP
    decision = _decide(Lookup.cannot_tell("waiting for the event webhook"), now)
    assert decision.action == WAIT and decision.next_check == now + GIVE_UP
    assert "unsettled 1 h after the attempt" in decision.reason
    assert "check the provider before sending it again" in decision.reason
