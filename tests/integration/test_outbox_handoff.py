"""A dispatcher claims a small batch, but hands each row to the provider only just before its call:
when its claimant dies, the rows it never handed go straight back to the queue (no call was made),
and only the one it handed can be ambiguous (`unknown`, reconciled)."""

from __future__ import annotations

import pytest

from engage.jobs import dispatcher_for
from engage.outbox.ports import SendResult
from engage.services.claims import Claimant
from engage.services.send_results import (
    ABANDONED_REASON,
    Outcome,
    abandon_stale,
    record_and_hand,
    record_and_hand_at_once,
)
from tests.support.messaging import message, queue


def queued(papi, pdb, clock, count: int) -> list[int]:
    return [queue(pdb, papi.enrol(f"handoff-{n}")["id"], clock.current, channels=("sms",))
            for n in range(count)]


def claim_batch(pdb, config, claimant: Claimant, clock, batch: list) -> object:
    """What a dispatcher thread does before its first call: claim a batch, hand the first row."""
    with pdb.session() as session:
        return record_and_hand(session, [], batch, claimant.id, clock.current, config.max_attempts,
                               config.retry_base_seconds, None, config.reconcile_after_seconds, config.public_url, 10)


def die(claimant: Claimant) -> None:
    """kill -9 of the claimant's process: its connection closes without a word (PostgreSQL drops
    its advisory lock); on SQLite the process simply is not there any more."""
    if claimant.connection is not None:
        claimant.connection.invalidate()


def test_a_dead_claimants_unhanded_rows_are_sent_at_once_and_its_handed_row_goes_unknown(
        papp, papi, pdb, fake_provider, clock):
    ids = queued(papi, pdb, clock, 3)
    config = papp.extensions["engage.config"]
    claimant, batch = Claimant(pdb), []
    handed = claim_batch(pdb, config, claimant, clock, batch)
    assert len(batch) == 2 and {message(pdb, i).status for i in ids} == {"sending"}
    die(claimant)

    # No time passes: another dispatcher (another process on PostgreSQL, the restarted one on
    # SQLite) takes the unhanded rows back and sends them, and leaves the handed one alone.
    assert dispatcher_for(papp).drain() == 2
    unhanded = [i for i in ids if i != handed.message.id]
    assert [(message(pdb, i).status, message(pdb, i).attempts) for i in unhanded] == [("sent", 1)] * 2
    assert fake_provider.request_count("sms") == 2
    assert message(pdb, handed.message.id).status == "sending"

    # The handed row may be at the provider: after the deadline it is `unknown`, never resent
    # blindly; the Messages list, asked once it has settled, shows no copy, so it is sent again.
    clock.advance(seconds=config.reconcile_after_seconds + 1)
    assert dispatcher_for(papp).reconcile() == {"requeue": 1}
    row = message(pdb, handed.message.id)
    assert (row.status, row.reason.startswith("reconciled:"), row.attempts) == ("queued", True, 1)
    assert fake_provider.request_count("sms") == 2
    dispatcher_for(papp).drain()
    assert (message(pdb, handed.message.id).status, message(pdb, handed.message.id).attempts) == ("sent", 2)
    assert sorted(int(copy["message_id"]) for copy in fake_provider.accepted("sms")) == sorted(ids)  # once each


def test_a_handed_row_whose_claimant_died_goes_unknown(papp, papi, pdb, fake_provider, clock):
    [message_id] = queued(papi, pdb, clock, 1)
    config = papp.extensions["engage.config"]
    claimant = Claimant(pdb)
    claim_batch(pdb, config, claimant, clock, [])
    die(claimant)
    clock.advance(seconds=3 * config.provider_timeout_seconds + 6)  # the call's deadline, not yet settled
    with pdb.session() as session:
        assert abandon_stale(session, clock.current, 3 * config.provider_timeout_seconds + 5) == 1
    row = message(pdb, message_id)
    assert (row.status, row.reason, row.attempts) == ("unknown", ABANDONED_REASON, 1)
    assert fake_provider.request_count("sms") == 0


def test_a_claimant_that_lost_its_rows_does_not_send_them(papp, papi, pdb, fake_provider, clock):
    """A claimant cut off from the database (its lock gone) but still running: its rows were taken
    back and sent by another, so its next hand-off finds them gone and sends nothing."""
    ids = queued(papi, pdb, clock, 3)
    config = papp.extensions["engage.config"]
    claimant, batch = Claimant(pdb), []
    claim_batch(pdb, config, claimant, clock, batch)
    die(claimant)
    dispatcher_for(papp).drain()
    assert claim_batch(pdb, config, claimant, clock, batch) is None
    assert batch == [] and fake_provider.request_count("sms") == 2
    assert sorted(message(pdb, i).status for i in ids) == ["sending", "sent", "sent"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_claimant_that_lost_its_rows_does_not_send_them_after_a_one_statement_hand_off(
        papp, papi, pdb, fake_provider, clock):
    """The same on PostgreSQL's hand-off between a batch's rows (send_results.record_and_hand_at_once),
    which also records the answer to the claimant's last call: that row was handed, never taken
    back, so the answer stands."""
    ids = queued(papi, pdb, clock, 3)
    config = papp.extensions["engage.config"]
    claimant, batch = Claimant(pdb), []
    first = claim_batch(pdb, config, claimant, clock, batch)
    die(claimant)
    assert dispatcher_for(papp).drain() == 2
    answer = Outcome(first, SendResult.sent("SM-first", 1))
    with pdb.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        handed = [record_and_hand_at_once(connection, outcome, claimed, claimant.id, clock.current)
                  for outcome, claimed in zip([answer, None], batch)]
    assert handed == [False, False] and fake_provider.request_count("sms") == 2
    rows = {i: message(pdb, i) for i in ids}
    assert (rows[first.message.id].status, rows[first.message.id].provider_id) == ("sent", "SM-first")
    assert sorted((row.status, row.attempts, row.handed_at is not None) for row in rows.values()) == [
        ("sent", 1, True)] * 3


def test_a_live_claimants_rows_stay_its_own(papp, papi, pdb, fake_provider, clock):
    ids = queued(papi, pdb, clock, 3)
    config = papp.extensions["engage.config"]
    claimant, batch = Claimant(pdb), []
    try:
        first = claim_batch(pdb, config, claimant, clock, batch)
        other = dispatcher_for(papp)
        other._taken_back = True  # SQLite: a second thread of the same process, already started
        assert other.drain() == 0
        second = claim_batch(pdb, config, claimant, clock, batch)
        assert second is not None and second.message.id != first.message.id
        assert message(pdb, second.message.id).handed_at is not None
        assert sorted(message(pdb, i).status for i in ids) == ["sending"] * 3
    finally:
        claimant.close()
