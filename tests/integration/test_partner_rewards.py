"""Partner rewards through the API: a code pool imported (JSON or CSV), each code handed out once
in the redemption's answer, an empty pool refused with 409 and nothing debited, the low pool
reported (log line without personal data, metrics, reward answer)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from engage.models import LedgerEntry, RewardCode
from tests.support.logs import captured_logs
from tests.support.sms import Phone


def partner_reward(api, **fields) -> dict:
    body = {"name": "Cinema ticket", "kind": "gift", "cost": 100, "partner": "Kinepolis", **fields}
    response = api.post("/rewards", body, role="admin")
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def upload(api, reward_id, **body):
    return api.post(f"/rewards/{reward_id}/codes", body, role="admin")


def test_import_counts_and_is_idempotent(api):
    reward = partner_reward(api)
    assert reward["low_codes_threshold"] == 10 and reward["codes_left"] == 0 and reward["codes_low"]
    first = upload(api, reward["id"], codes=["KP-1", "KP-2", "KP-2", "KP-3"])
    assert first.status_code == 200, first.get_json()
    assert {k: first.get_json()[k] for k in ("imported", "already_in_pool", "repeated", "total", "available")} \
        == {"imported": 3, "already_in_pool": 0, "repeated": 1, "total": 3, "available": 3}
    again = upload(api, reward["id"], csv="code\nKP-1\nKP-2\nKP-3\nKP-4\n").get_json()
    assert (again["imported"], again["already_in_pool"], again["total"]) == (1, 3, 4)
    pool = api.get(f"/rewards/{reward['id']}/codes", role="admin").get_json()
    assert pool == {"reward_id": reward["id"], "reward": "Cinema ticket", "partner": "Kinepolis", "total": 4,
                    "available": 4, "handed_out": 0, "low_codes_threshold": 10, "low": True}
    assert "KP-1" not in str(pool)  # counts only, never the codes


def test_bad_rows_foreign_codes_and_plain_rewards_import_nothing(api, db):
    reward = partner_reward(api)
    other = partner_reward(api, name="Museum pass", partner="Rijksmuseum")
    assert upload(api, other["id"], codes=["RM-1"]).status_code == 200
    bad = upload(api, reward["id"], csv="code\nOK-1\nnot a code\n")
    assert bad.status_code == 422 and bad.get_json()["errors"]["codes"] == [
        "line 3: only printable ASCII without spaces"]
    foreign = upload(api, reward["id"], codes=["OK-1", "RM-1"])
    assert foreign.status_code == 422 and "another reward's pool" in foreign.get_json()["errors"]["codes"][0]
    plain = upload(api, 1, codes=["X-1"])
    assert plain.status_code == 404 and "not a partner reward" in plain.get_json()["message"]
    assert api.get("/rewards/1/codes", role="admin").status_code == 404
    assert upload(api, 999, codes=["X-1"]).status_code == 404
    assert upload(api, reward["id"], codes=["A"], csv="A").status_code == 422
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(RewardCode)) == 1


def test_each_code_handed_out_once_then_409_and_nothing_debited(api, db):
    reward = partner_reward(api, low_codes_threshold=2)
    upload(api, reward["id"], codes=["KP-1", "KP-2", "KP-3"])
    member = api.enrol("partner-1")
    api.purchase(member["id"], "400")  # 500 points
    path = f"/members/{member['id']}/redemptions"
    with captured_logs() as logs:
        answers = [api.post(path, {"reward_id": reward["id"]}).get_json() for _ in range(3)]
    assert [a["coupon_code"] for a in answers] == ["KP-1", "KP-2", "KP-3"]
    assert {a["partner"] for a in answers} == {"Kinepolis"} and answers[-1]["points"] == 200
    warnings = [line for line in logs.lines() if line.get("level") == "WARNING"]
    assert [w["message"] for w in warnings] == [
        f"reward {reward['id']} (Kinepolis): partner codes low: 1 left, threshold 2",
        f"reward {reward['id']} (Kinepolis): partner codes empty: 0 left, threshold 2"]
    assert "partner-1" not in logs.text and "KP-" not in logs.text
    empty = api.post(path, {"reward_id": reward["id"]})
    assert empty.status_code == 409 and "sold out" in empty.get_json()["message"]
    with db.session() as session:
        debits = session.scalar(select(func.count()).where(LedgerEntry.member_id == member["id"],
                                                           LedgerEntry.kind == "redeem"))
    assert debits == 3
    assert api.get(f"/members/{member['id']}").get_json()["points"] == 200
    pool = api.get(f"/rewards/{reward['id']}/codes", role="admin").get_json()
    assert (pool["available"], pool["handed_out"], pool["low"]) == (0, 3, True)


def test_the_pool_is_a_metric(api, app):
    reward = partner_reward(api, low_codes_threshold=2)
    upload(api, reward["id"], codes=["KP-1", "KP-2"])
    app.extensions["engage.metrics_collector"].fresh()
    text = app.test_client().get("/metrics").get_data(as_text=True)
    found = {(s.name, tuple(s.labels.items())): s.value
             for family in text_string_to_metric_families(text) for s in family.samples}
    assert found[("engage_reward_codes_available", (("reward", str(reward["id"])),))] == 2
    assert found[("engage_reward_codes_low", (("reward", str(reward["id"])),))] == 0


def test_redeem_by_text_answers_with_the_partner_code(papp, papi, fake_provider):
    """REDEEM takes the cheapest affordable reward: here the partner's, whose code the answer names."""
    reward = partner_reward(papi, cost=60)
    upload(papi, reward["id"], codes=["KP-7"])
    papi.enrol("partner-sms")  # 100 points: EUR 10 off (100) costs more than the cinema (60)
    answer = Phone(papp, fake_provider.twilio_auth_token).text("REDEEM")
    assert "Cinema ticket" in answer and "Your Kinepolis code: KP-7" in answer
    again = Phone(papp, fake_provider.twilio_auth_token).text("REDEEM")  # 40 points left, pool empty
    assert "KP-7" not in again
