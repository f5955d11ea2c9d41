"""The daily sweep's ledger work: expiry (one debit per member, idempotent) and downgrades."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from engage.models import LedgerEntry
from engage.services import sweep


def _entries(db, member_id, kind):
    with db.session() as session:
        return session.execute(select(LedgerEntry.points, LedgerEntry.source).where(
            LedgerEntry.member_id == member_id, LedgerEntry.kind == kind)).all()


def test_expiry_writes_one_debit_per_member_and_is_idempotent(api, db, clock):
    member = api.enrol("exp-1")  # 100 signup on 2026-03-02
    api.purchase(member["id"], "40", occurred_at=(clock.current - timedelta(days=300)).isoformat())
    api.purchase(member["id"], "60", occurred_at=(clock.current - timedelta(days=299)).isoformat())
    api.post(f"/members/{member['id']}/redemptions", {"reward_id": 4})  # 50 taken from the 40 and 60 lots
    as_of = clock.current.date() + timedelta(days=70)
    with db.session() as session:
        assert sweep.expire_points(session, as_of, clock.current) == 1
        assert sweep.expire_points(session, as_of, clock.current) == 0
        assert sweep.expire_points(session, as_of + timedelta(days=1), clock.current) == 0
    assert _entries(db, member["id"], "expire") == [(-50, f"expiry:{as_of.isoformat()}")]
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 100


def test_lot_expires_only_after_its_day(api, db, clock):
    member = api.enrol("exp-2")
    earned = clock.current  # 2026-03-02 10:00 UTC: expires 2027-03-02 10:00
    with db.session() as session:
        sweep.expire_points(session, date(2027, 3, 2), earned)
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 100
    with db.session() as session:
        sweep.expire_points(session, date(2027, 3, 3), earned)
    assert _entries(db, member["id"], "expire") == [(-100, "expiry:2027-03-03")]


def test_downgrade_happens_only_in_reevaluation(api, db, clock):
    member = api.enrol("down-1")
    api.purchase(member["id"], "1500", occurred_at=(clock.current - timedelta(days=360)).isoformat())
    assert api.get(f"/members/{member['id']}").get_json()["tier"] == "Gold"
    clock.advance(days=10)  # the big purchase left the qualifying window; the tier waits
    assert api.get(f"/members/{member['id']}").get_json()["tier"] == "Gold"
    with db.session() as session:
        changes = sweep.reevaluate_tiers(session, clock.current.date(), clock.current)
    assert [(c[1], c[2]) for c in changes] == [(3, 1)]
    assert api.get(f"/members/{member['id']}").get_json()["tier"] == "Bronze"
    with db.session() as session:
        assert sweep.reevaluate_tiers(session, clock.current.date(), clock.current) == []
