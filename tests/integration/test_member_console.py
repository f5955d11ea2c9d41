"""#18 items 5 and 6 on SQLite and PostgreSQL: points adjustments (API and console form), what
Engage plans to send a member next with their consent history, and the phone simulator."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from engage.models import AuditEntry, LedgerEntry, Lot, Member, Message, Redemption
from engage.observability.collector import read_totals
from engage.services import flow_stats
from tests.support.console import signed_in


@pytest.fixture
def ana(api):
    member = api.enrol("shop-17", first_name="Ana", last_name="Popescu", phone="+31612345678")
    assert api.purchase(member["id"], "620.00", key="p-1").status_code == 201  # 100 signup + 620
    return member


def adjust(api, member_id, body, key=None, role="admin"):
    return api.post(f"/members/{member_id}/adjustments", body, role=role,
                    headers={"Idempotency-Key": key} if key else None)


# --- adjustments: the API -----------------------------------------------------------------------

def test_an_adjustment_needs_the_admin_role(api, ana):
    for role in ("integration", "marketer"):
        answer = adjust(api, ana["id"], {"points": 10, "reason": "goodwill"}, role=role)
        assert answer.status_code == 403, role
    assert api.client.post(f"/api/v1/members/{ana['id']}/adjustments", json={"points": 1}).status_code == 401


def test_a_positive_adjustment_is_an_adjust_entry_with_its_own_lot(api, ana, db):
    answer = adjust(api, ana["id"], {"points": 50, "reason": "Sorry for the late parcel"}, key="adj-1")
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["points"] == 50 and body["balance"] == 770 and isinstance(body["id"], int)
    with db.session() as session:
        entry = session.get(LedgerEntry, body["id"])
        assert (entry.kind, entry.points, entry.reason) == ("adjust", 50, "Sorry for the late parcel")
        lot = session.scalar(select(Lot).where(Lot.ledger_entry_id == entry.id))
        assert lot.remaining == 50 and lot.expires_at == entry.expires_at is not None
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "member.adjust")).one()
        assert audit.actor == "key:test admin" and audit.after["balance"] == 770
        assert audit.before == {"balance": 720}
    assert api.get(f"/members/{ana['id']}").get_json()["points"] == 770


def test_the_same_key_gives_the_same_answer_and_another_body_409(api, ana):
    first = adjust(api, ana["id"], {"points": -20, "reason": "duplicate order"}, key="adj-2")
    again = adjust(api, ana["id"], {"points": -20, "reason": "duplicate order"}, key="adj-2")
    assert first.status_code == again.status_code == 201
    assert first.get_json() == again.get_json() and first.get_json()["balance"] == 700
    other = adjust(api, ana["id"], {"points": -30, "reason": "duplicate order"}, key="adj-2")
    assert other.status_code == 409 and "Idempotency-Key" in other.get_json()["message"]
    assert api.get(f"/members/{ana['id']}").get_json()["points"] == 700
    assert adjust(api, ana["id"], {"points": -20, "reason": "duplicate order"}).get_json()["balance"] == 680


def test_a_deduction_never_takes_the_balance_below_zero(api, ana, db):
    answer = adjust(api, ana["id"], {"points": -721, "reason": "fraud"})
    assert answer.status_code == 422
    assert "720 usable points" in answer.get_json()["message"]
    assert "points" in answer.get_json()["errors"]
    exact = adjust(api, ana["id"], {"points": -720, "reason": "fraud"})
    assert exact.status_code == 201 and exact.get_json()["balance"] == 0
    with db.session() as session:
        assert session.scalar(select(func.sum(Lot.remaining)).where(Lot.member_id == ana["id"])) == 0
    assert adjust(api, ana["id"], {"points": -1, "reason": "more"}).status_code == 422


@pytest.mark.parametrize("body", [{"points": 0, "reason": "x"}, {"points": 5}, {"points": 5, "reason": ""},
                                  {"points": 5, "reason": "   "}, {"points": 5, "reason": "x" * 501},
                                  {"points": 1_000_001, "reason": "x"}, {"points": "5", "reason": "x"},
                                  {"points": 1.5, "reason": "x"}])
def test_invalid_adjustments_are_422_by_field(api, ana, body):
    answer = adjust(api, ana["id"], body)
    assert answer.status_code == 422, body
    errors = answer.get_json()["errors"]
    assert set(errors.get("json", errors)) <= {"points", "reason"}, errors


def test_an_adjustment_for_no_member_is_404(api):
    assert adjust(api, 999999, {"points": 5, "reason": "x"}).status_code == 404


# --- adjustments: the console form --------------------------------------------------------------

def test_an_admin_adjusts_on_the_member_page(app, api, ana, people, db):
    admin = signed_in(app, people["admin"])
    page = admin.get(f"/console/members/{ana['id']}").get_data(as_text=True)
    assert "Adjust points" in page
    key = page.split('name="idempotency_key" value="')[1].split('"')[0]
    path, form = f"/console/members/{ana['id']}/adjustments", {"points": "25", "reason": "", "idempotency_key": key}
    refused = admin.post(path, form, page=f"/console/members/{ana['id']}")
    assert refused.status_code == 422 and "say why" in refused.get_data(as_text=True)
    done = admin.post(path, {**form, "reason": "birthday"}, page=f"/console/members/{ana['id']}")
    assert done.status_code == 302
    twice = admin.post(path, {**form, "reason": "birthday"}, page=f"/console/members/{ana['id']}")
    assert twice.status_code == 302  # the same form sent again books nothing more
    page = admin.get(f"/console/members/{ana['id']}").get_data(as_text=True)
    assert "Adjusted by +25 points; the balance is 745." in page and '<p class="big">745</p>' in page
    too_much = admin.post(path, {"points": "-9999", "reason": "x", "idempotency_key": "k2"},
                          page=f"/console/members/{ana['id']}")
    assert too_much.status_code == 422 and "below zero" in too_much.get_data(as_text=True)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "member.adjust", AuditEntry.actor == people["admin"])) == 1
    marketer = signed_in(app, people["marketer"])
    assert "Adjust points" not in marketer.get(f"/console/members/{ana['id']}").get_data(as_text=True)
    assert marketer.post(path, {**form, "idempotency_key": "k3"}, page=f"/console/members/{ana['id']}").status_code == 403


# --- plans and consent history -------------------------------------------------------------------

def test_the_member_page_shows_what_is_planned_and_why(app, api, people, clock):
    clock.set(datetime(2026, 3, 2, 22, 0, tzinfo=timezone.utc))  # 23:00 in Amsterdam: quiet hours
    member = api.enrol("night-owl", first_name="Nora", phone="+31612000001")
    assert api.purchase(member["id"], "50.00").status_code == 201
    page = signed_in(app, people["viewer"]).get(f"/console/members/{member['id']}").get_data(as_text=True)
    plans = page.split('id="plans-heading"')[1].split('id="consent-heading"')[0]
    assert "welcome" in plans and "2026-03-03 07:00" in plans  # 08:00 Amsterdam
    assert "held for quiet hours (21:00–08:00 in the member&#39;s time zone)" in plans
    # 150 points expire on 2027-03-02 (program time); the 30-day notice is queued on 2027-01-31.
    assert "Next expiry warning: <strong>2027-01-31</strong>" in plans
    assert "30-day notice for 150 points expiring on 2027-03-02" in plans
    consent = page.split('id="consent-heading"')[1]
    assert "consent given" in consent and "SMS" in consent and "EMAIL" in consent


def test_the_next_expiry_warning_moves_on_once_sent(app, api, people, clock, db):
    from engage.flows.timed import send_expiry_warnings

    member = api.enrol("saver", first_name="Sam", phone="+31612000002")
    clock.set(datetime(2027, 2, 1, 10, 0, tzinfo=timezone.utc))
    with app.app_context():
        assert send_expiry_warnings(db.session(), clock().date(), clock()) >= 1
    page = signed_in(app, people["viewer"]).get(f"/console/members/{member['id']}").get_data(as_text=True)
    assert "Next expiry warning: <strong>2027-02-23</strong>" in page  # the 7-day notice
    assert "7-day notice for 100 points" in page


# --- the phone simulator -------------------------------------------------------------------------

def test_the_simulator_answers_through_the_inbound_service_and_marks_its_traffic(app, api, ana, people, db, clock):
    marketer = signed_in(app, people["marketer"])
    phone = f"/console/members/{ana['id']}/phone"
    assert "Text as Ana" in marketer.get(phone).get_data(as_text=True)
    with app.app_context():
        stats_before = flow_stats.last_30_days(db.session(), clock())
    for text in ("POINTS", "HELP", "what is this?"):
        assert marketer.post(phone, {"body": text}).status_code == 302
    page = marketer.get(phone).get_data(as_text=True)
    assert "720 points" in page and "simulated" in page and "what is this?" in page
    with db.session() as session:
        simulated = session.scalars(select(Message).where(Message.simulated.is_(True)).order_by(Message.id)).all()
        assert [(m.direction, m.status) for m in simulated] == [("in", "received"), ("out", "sent")] * 2 + [
            ("in", "received")] + ([("out", "sent")] if len(simulated) == 6 else [])
        assert all(m.provider_id is None or m.provider_id.startswith("SIM") for m in simulated)
        assert not session.scalar(select(func.count()).select_from(Message).where(
            Message.simulated.is_(True), Message.status.in_(("queued", "scheduled", "sending"))))
        assert session.scalar(select(func.count()).select_from(AuditEntry)
                              .where(AuditEntry.action == "member.simulate_sms")) == 3
        totals = read_totals(session.connection(), clock())
        assert not [row for row in totals.messages if row[0] == "in"]  # simulated: not counted
    with app.app_context():
        assert flow_stats.last_30_days(db.session(), clock()) == stats_before


def test_a_simulated_reply_earns_real_points_and_redeem_spends_them(app, api, ana, people, db, clock):
    with db.session() as session, session.begin():  # the welcome SMS went out (as the dispatcher would mark it)
        welcome = session.scalars(select(Message).where(Message.flow == "welcome", Message.channel == "sms")).one()
        welcome.status, welcome.sent_at = "sent", clock()
    marketer = signed_in(app, people["marketer"])
    phone = f"/console/members/{ana['id']}/phone"
    assert marketer.post(phone, {"body": "Thanks, lovely shop"}).status_code == 302
    assert api.get(f"/members/{ana['id']}").get_json()["points"] == 725  # reply points: real
    assert marketer.post(phone, {"body": "REDEEM"}).status_code == 302
    with db.session() as session:
        actions = session.scalars(select(Message.action).where(Message.direction == "in").order_by(Message.id)).all()
        assert actions == ["reply", "redeem"]
        assert session.scalar(select(func.count()).select_from(Message).where(
            Message.direction == "in", Message.simulated.is_(False))) == 0
    assert api.get(f"/members/{ana['id']}").get_json()["points"] < 725
    with db.session() as session:
        code = session.scalars(select(Redemption.coupon_code)).one()
    assert code in marketer.get(phone).get_data(as_text=True)  # the answer, in the thread


def test_stop_in_the_simulator_opts_the_member_out_for_real(app, api, ana, people, db):
    marketer = signed_in(app, people["marketer"])
    assert marketer.post(f"/console/members/{ana['id']}/phone", {"body": "STOP"}).status_code == 302
    with db.session() as session:
        assert session.get(Member, ana["id"]).sms_opted_out
    page = marketer.get(f"/console/members/{ana['id']}").get_data(as_text=True)
    assert "(opted out: STOP)" in page
    consent = page.split('id="consent-heading"')[1]
    assert "opt out" in consent and "sms:STOP:message:" in consent
    assert marketer.post(f"/console/members/{ana['id']}/phone", {"body": "START"}).status_code == 302
    with db.session() as session:
        assert not session.get(Member, ana["id"]).sms_opted_out


def test_the_simulator_refuses_what_a_phone_could_not_send(app, api, ana, people):
    marketer = signed_in(app, people["marketer"])
    phone = f"/console/members/{ana['id']}/phone"
    assert marketer.post(phone, {"body": "  "}).status_code == 422
    assert marketer.post(phone, {"body": "x" * 1601}).status_code == 422
    assert marketer.post(phone, {"body": "\x00STOP"}).status_code in (302, 422)
    bare = api.post("/members", {"external_id": "no-phone", "first_name": "Bo", "email": "bo@example.com",
                                 "consent": {"sms": False, "email": True}}).get_json()
    answer = marketer.post(f"/console/members/{bare['id']}/phone", {"body": "POINTS"})
    assert answer.status_code == 422 and "no phone number" in answer.get_data(as_text=True)
    assert marketer.get("/console/members/999999/phone").status_code == 404
    assert signed_in(app, people["viewer"]).get(phone).status_code == 403
