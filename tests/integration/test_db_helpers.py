"""engage.db helpers that the hot paths lean on: InsertIgnoring (each database's own
INSERT … ON CONFLICT DO NOTHING) and the per-thread request session.

Run on both databases: the rows InsertIgnoring stores must be the same on either.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from flask import Flask, g

from engage import state
from engage.db import InsertIgnoring
from engage.models import Member, Message, Suppression

NOW = datetime(2026, 12, 4, 9, 30, tzinfo=timezone.utc)
INSERT_MESSAGE = InsertIgnoring(Message.__table__, ["dedupe_key"])
INSERT_SUPPRESSION = InsertIgnoring(Suppression.__table__, ["channel", "address_hash"])


def _message_values(member_id: int, key: str, **extra) -> dict:
    return {"member_id": member_id, "direction": "out", "flow": "welcome", "channel": "sms", "status": "queued",
            "dedupe_key": key, "send_after": NOW, "created_at": NOW, "updated_at": NOW, **extra}


def test_a_new_row_gets_its_id_and_column_defaults(api, db):
    member = api.enrol("ins-a")["id"]
    with db.session() as session, session.begin():
        new_id = INSERT_MESSAGE.run(session, _message_values(member, "ins-a:1", data={"n": 1, "tags": ["x"]}))
    assert isinstance(new_id, int)
    with db.session() as session:
        row = session.get(Message, new_id)
        # body, priority, exempt, is_test, attempts were not given: their Python-side defaults apply
        assert (row.body, row.priority, row.exempt, row.is_test, row.attempts) == ("", 9, False, False, 0)
        assert row.data == {"n": 1, "tags": ["x"]}
        assert row.send_after == NOW and row.send_after.tzinfo is not None
        assert row.claimed_at is None


def test_a_default_made_by_a_callable_is_fresh_for_every_row(api, db):
    member = api.enrol("ins-b")["id"]
    with db.session() as session, session.begin():
        first = INSERT_MESSAGE.run(session, _message_values(member, "ins-b:1"))
        second = INSERT_MESSAGE.run(session, _message_values(member, "ins-b:2"))
    with db.session() as session:
        one, two = session.get(Message, first), session.get(Message, second)
        assert one.data == {} and two.data == {}
        one.data["changed"] = True  # not the same dict object behind both rows
        assert two.data == {}


def test_the_unique_index_decides_and_the_first_row_stays(api, db):
    member = api.enrol("ins-c")["id"]
    with db.session() as session, session.begin():
        first = INSERT_MESSAGE.run(session, _message_values(member, "ins-c:1", body="first"))
        again = INSERT_MESSAGE.run(session, _message_values(member, "ins-c:1", body="second", priority=1))
    assert first is not None and again is None
    with db.session() as session:
        assert session.get(Message, first).body == "first"


def test_times_are_stored_in_utc_and_naive_ones_refused(api, db):
    member = api.enrol("ins-d")["id"]
    amsterdam = timezone(timedelta(hours=1))
    with db.session() as session, session.begin():
        new_id = INSERT_MESSAGE.run(session, _message_values(member, "ins-d:1", send_after=NOW.astimezone(amsterdam)))
    with db.session() as session:
        assert session.get(Message, new_id).send_after == NOW
    with db.session() as session, session.begin(), pytest.raises(Exception, match="naive datetime"):
        INSERT_MESSAGE.run(session, _message_values(member, "ins-d:2", send_after=NOW.replace(tzinfo=None)))


def test_a_composite_conflict_target(db):
    values = {"channel": "email", "address_hash": "a" * 64, "reason": "bounce", "created_at": NOW}
    with db.session() as session, session.begin():
        assert INSERT_SUPPRESSION.run(session, values) is not None
        assert INSERT_SUPPRESSION.run(session, {**values, "reason": "spam"}) is None
        assert INSERT_SUPPRESSION.run(session, {**values, "channel": "sms"}) is not None


def _request(app: Flask):
    """The session one request gets."""
    with app.test_request_context():
        session = state.session()
        assert state.session() is session  # one per request
        return session


def test_a_thread_reuses_its_request_session_closed_in_between(app, api):
    member = api.enrol("ses-a")["id"]
    with app.test_request_context():
        first = state.session()
        loaded = first.get(Member, member)
        assert loaded in first
    # the teardown closed it: empty, no transaction, no connection held
    assert loaded not in first and not first.in_transaction()
    assert _request(app) is first


def test_an_app_context_inside_another_gets_its_own_session(app):
    with app.app_context():
        outer = state.session()
        outer.execute(Message.__table__.select().limit(1)).all()
        assert outer.in_transaction()
        with app.app_context():
            inner = state.session()
            assert inner is not outer
        # the inner context ended: the outer session is still open and usable
        assert "db_session" in g and state.session() is outer and outer.in_transaction()
        outer.execute(Message.__table__.select().limit(1)).all()
    assert _request(app) is outer  # and the thread's session comes back after
