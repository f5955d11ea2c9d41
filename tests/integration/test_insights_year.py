"""After a simulated stretch of the year of flows (its members, fixture and daily jobs), with late
purchases among them, the rollups the daily sweep kept equal a from-scratch computation."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, select

from engage.models import (
    InsightCohortDay,
    InsightDay,
    InsightFlowDay,
    InsightRevenueDay,
    InsightStale,
)
from engage.services import insight_rollups
from tests.integration import test_year_of_flows as year_of_flows
from tests.integration.test_year_of_flows import START, at, run_day

year = year_of_flows.year  # the year of flows' app and API client, as a fixture here too

TABLES = (InsightDay, InsightFlowDay, InsightRevenueDay, InsightCohortDay)
DAYS = 100


def rollups(app) -> dict:
    with app.extensions["engage.db"].session() as session:
        return {table.__tablename__: sorted(
            tuple(getattr(row, column.key) for column in table.__table__.columns if column.key != "computed_at")
            for row in session.scalars(select(table))) for table in TABLES}


def test_rollups_kept_by_the_sweep_equal_a_recomputation(year, clock):
    app, api = year
    clock.set(at(0, 10))
    ana = api.enrol("ana", locale="nl", timezone="Europe/Amsterdam", phone="+31612345001")
    ben = api.enrol("ben", locale="de", phone=None, email="ben@example.com", referral_code=ana["referral_code"])
    cleo = api.enrol("cleo", locale="ro", phone="+40721234567", consent={"sms": True, "email": False})
    for day in range(DAYS):
        clock.set(at(day, 10))
        if day % 9 == 1:
            api.purchase(ana["id"], "45.00")
        if day == 30:
            api.purchase(ben["id"], "120.00")
            api.enrol("dan", consent={"sms": False, "email": False})
        if day in (40, 75):  # late: a purchase made 20 days earlier, past the days every run redoes
            late = (at(day - 20, 15)).isoformat()
            assert api.purchase(cleo["id"], "30.00", occurred_at=late).status_code == 201
        if day == 50:
            assert api.post(f"/members/{ana['id']}/redemptions", {"reward_id": 1}).status_code == 201
        run_day(app, clock, day)
    kept = rollups(app)
    assert len(kept["insight_days"]) == DAYS - 1  # each sweep settles the day before it
    assert any(row[4] for row in kept["insight_days"])  # purchases were counted
    with app.extensions["engage.db"].session() as session:
        for table in TABLES:
            session.execute(delete(table))
        assert session.scalars(select(InsightStale)).all() == []  # every mark was used up
        session.commit()
        last = START + timedelta(days=DAYS - 2)
        insight_rollups.roll_up(session, last, at(DAYS - 1, 3))
    assert rollups(app) == kept
