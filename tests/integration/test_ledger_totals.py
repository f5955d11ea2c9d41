"""Members carry their ledger totals (migration 0005): a trigger adds every inserted entry.

Every test's teardown also compares them with the ledger (tests/conftest.py), so any writer that
bypassed the trigger would show up there; these tests pin down the trigger itself.
"""

from __future__ import annotations

from alembic import command
from sqlalchemy import text

from engage import migrate

TOTALS = text("SELECT points_balance, points_earned FROM members WHERE id = :id")
CREDIT_AND_DEBIT = text("""
    INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at)
    SELECT member_id, points, kind, 'test', source, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP FROM (
        SELECT :a AS member_id, 30 AS points, 'earn' AS kind, 'test:1' AS source
        UNION ALL SELECT :a, -20, 'expire', 'test:2'
        UNION ALL SELECT :b, 5, 'earn', 'test:3'
        UNION ALL SELECT :b, -5, 'redeem', 'test:4'
    ) AS entries
""")


def _totals(db, member_id):
    with db.engine.connect() as connection:
        return tuple(connection.execute(TOTALS, {"id": member_id}).one())


def test_one_insert_of_many_entries_adds_each_to_its_member(api, db):
    a, b = api.enrol("tot-a")["id"], api.enrol("tot-b", phone="+31612345679")["id"]
    assert _totals(db, a) == (100, 100)  # the signup bonus is earned points
    with db.engine.begin() as connection:
        connection.execute(CREDIT_AND_DEBIT, {"a": a, "b": b})
    assert _totals(db, a) == (110, 130)
    assert _totals(db, b) == (100, 105)


def test_totals_follow_purchases_redemptions_and_the_api(api, db):
    member = api.enrol("tot-c")["id"]
    api.purchase(member, "200.00")  # +200
    assert api.post(f"/members/{member}/redemptions", {"reward_id": 1}).status_code == 201  # -100
    assert _totals(db, member) == (200, 300)
    assert api.get(f"/members/{member}").get_json()["points"] == 200


def test_the_migration_fills_totals_for_an_existing_ledger(api, db):
    member = api.enrol("tot-d")["id"]
    api.purchase(member, "42.00")
    config = migrate.alembic_config(db.engine)
    with db.engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004")
    with db.engine.begin() as connection:
        columns = connection.execute(text("SELECT * FROM members")).keys()
        assert "points_balance" not in columns
        connection.execute(text(
            "INSERT INTO ledger_entries (member_id, points, kind, reason, source, occurred_at, created_at) "
            "VALUES (:id, -12, 'adjust', 'test', 'test:5', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": member})
    migrate.upgrade(db.engine)
    assert _totals(db, member) == (130, 142)
    with db.engine.begin() as connection:  # and the trigger is back
        connection.execute(CREDIT_AND_DEBIT, {"a": member, "b": member})
    assert _totals(db, member) == (140, 177)
