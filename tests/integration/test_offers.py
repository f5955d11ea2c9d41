"""Purchases with items (item bonuses, storage, export) and personalised offers: made after the
purchase that earns one, announced by the `offer` flow, listed, redeemed once by API or by text."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engage.models import Message, PurchaseItem
from tests.support.sms import Phone

COFFEE = {"sku": "BLEND-1", "name": "House blend 250 g", "category": "coffee", "quantity": 2, "amount": "17.80"}
TEA = {"sku": "TEA-9", "name": "Green tea", "category": "tea", "amount": "6.00"}
RULE = {"key": "blend-fan", "match": "sku", "value": "blend-1", "times": 3, "days": 30, "reward_id": 3,
        "cost": 100, "valid_days": 14, "keyword": "coffee"}


@pytest.fixture
def flows_on():
    return True


@pytest.fixture
def phone(papp, fake_provider):
    return Phone(papp, fake_provider.twilio_auth_token)


def settings(api, **values):
    response = api.patch("/program", values, role="admin")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def buy(api, member_id, *items, amount="23.80"):
    response = api.purchase(member_id, amount, items=list(items))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def offers_of(api, member_id) -> list[dict]:
    response = api.get(f"/members/{member_id}/offers")
    assert response.status_code == 200
    return response.get_json()["items"]


def test_items_are_stored_and_exported_and_earn_nothing_extra_without_a_rule(papi, pdb):
    member = papi.enrol("items-1")
    assert buy(papi, member["id"], COFFEE, TEA)["points_awarded"] == 23
    with pdb.session() as session:
        rows = session.execute(select(PurchaseItem.sku, PurchaseItem.quantity, PurchaseItem.amount)
                               .order_by(PurchaseItem.id)).all()
    assert [(sku, quantity, str(amount)) for sku, quantity, amount in rows] == [
        ("BLEND-1", 2, "17.80"), ("TEA-9", 1, "6.00")]
    export = papi.get(f"/members/{member['id']}/export").get_json()
    assert [item["name"] for item in export["purchase_items"]] == ["House blend 250 g", "Green tea"]


def test_double_points_on_coffee_and_a_fixed_bonus_per_unit(papi):
    member = papi.enrol("items-2")
    settings(papi, item_bonuses=[{"match": "category", "value": "COFFEE", "multiplier": "2"},
                                 {"match": "sku", "value": "TEA-9", "points_per_unit": 5}])
    assert buy(papi, member["id"], COFFEE, TEA)["points_awarded"] == 23 + 17 + 5
    assert papi.purchase(member["id"], "23.80").get_json()["points_awarded"] == 23  # no items: as before


def test_bad_items_are_refused_clearly_and_change_nothing(papi):
    member = papi.enrol("items-3")
    for item, field in [({**COFFEE, "amount": "-1"}, "amount"), ({**COFFEE, "sku": ""}, "sku"),
                        ({**COFFEE, "quantity": 0}, "quantity"), ({"sku": "A", "amount": "1"}, "name")]:
        response = papi.purchase(member["id"], "10", items=[item])
        assert response.status_code == 422, item
        assert field in str(response.get_json()["errors"])
    review = papi.post(f"/members/{member['id']}/events", {"type": "review", "items": [COFFEE]})
    assert review.status_code == 422 and "only purchases" in review.get_json()["message"]
    assert papi.get(f"/members/{member['id']}").get_json()["points"] == 100


def test_settings_refuse_a_rule_with_an_unknown_reward_or_a_repeated_keyword(papi):
    unknown = papi.patch("/program", {"offer_rules": [{**RULE, "reward_id": 99}]}, role="admin")
    assert unknown.status_code == 422 and "99" in str(unknown.get_json())
    twice = papi.patch("/program", {"offer_rules": [RULE, {**RULE, "key": "other"}]}, role="admin")
    assert twice.status_code == 422 and "keyword" in str(twice.get_json())
    weak = papi.patch("/program", {"item_bonuses": [{"match": "sku", "value": "A", "multiplier": "0.5"}]},
                      role="admin")
    assert weak.status_code == 422
    assert papi.get("/program", role="admin").get_json()["offer_rules"] == []


def test_the_third_blend_purchase_makes_an_offer_announced_in_the_members_language(papi, pdb):
    member = papi.enrol("offer-1", locale="nl")
    settings(papi, offer_rules=[RULE])
    buy(papi, member["id"], COFFEE)
    buy(papi, member["id"], TEA)
    buy(papi, member["id"], COFFEE)
    assert offers_of(papi, member["id"]) == []
    buy(papi, member["id"], {**COFFEE, "name": "House blend 1 kg"})
    [offer] = offers_of(papi, member["id"])
    assert offer["status"] == "open" and offer["product"] == "House blend 1 kg"
    assert (offer["cost"], offer["regular_cost"], offer["keyword"]) == (100, 250, "COFFEE")
    buy(papi, member["id"], COFFEE)  # an open offer: no second one
    assert len(offers_of(papi, member["id"])) == 1
    with pdb.session() as session:
        [sms] = session.scalars(select(Message).where(Message.flow == "offer")).all()
    assert "House blend 1 kg" in sms.body and "REDEEM COFFEE" in sms.body and "STOP" in sms.body
    assert "EUR 25 korting" in sms.body


def test_an_offer_is_redeemed_once_by_api_and_an_ended_one_is_refused(papi, clock):
    member = papi.enrol("offer-2")
    settings(papi, offer_rules=[RULE])
    for _ in range(3):
        buy(papi, member["id"], COFFEE, amount="100")
    [offer] = offers_of(papi, member["id"])
    path = f"/members/{member['id']}/offers/{offer['id']}/redemptions"
    first = papi.post(path, headers={"Idempotency-Key": "offer-a"})
    assert first.status_code == 201, first.get_json()
    body = first.get_json()
    assert body["points_spent"] == 100 and body["offer_id"] == offer["id"] and body["coupon_code"]
    assert papi.post(path, headers={"Idempotency-Key": "offer-a"}).get_json() == body  # a replay
    again = papi.post(path)
    assert again.status_code == 422 and "already redeemed" in again.get_json()["message"]
    assert offers_of(papi, member["id"])[0]["status"] == "redeemed"
    assert papi.get(f"/members/{member['id']}").get_json()["points"] == 100 + 3 * 100 - 100

    for _ in range(3):  # three more purchases after the first offer: a second offer
        clock.advance(hours=1)
        buy(papi, member["id"], COFFEE, amount="1")
    second = offers_of(papi, member["id"])[0]
    assert second["id"] != offer["id"] and second["status"] == "open"
    clock.advance(days=14)
    ended = papi.post(f"/members/{member['id']}/offers/{second['id']}/redemptions")
    assert ended.status_code == 422 and "ended on" in ended.get_json()["message"]
    assert offers_of(papi, member["id"])[0]["status"] == "ended"
    other = papi.enrol("offer-3", phone="+31612345679")
    assert papi.post(f"/members/{other['id']}/offers/{offer['id']}/redemptions").status_code == 404


def test_redeem_keyword_by_text(papi, phone, clock):
    member = papi.enrol("offer-4")
    settings(papi, offer_rules=[{**RULE, "cost": 300}])
    for _ in range(3):
        buy(papi, member["id"], COFFEE, amount="50")  # 100 + 150 points: 50 short
    short = phone.text("redeem coffee")
    assert "50 points" in short and "EUR 25 off" in short
    buy(papi, member["id"], TEA, amount="60")
    done = phone.text("REDEEM COFFEE")
    assert "EUR 25 off is yours" in done and "code" in done
    assert "already redeemed" in phone.text("Redeem Coffee!")
    assert phone.text("redeem now") == phone.text("what a nice shop")  # no offer NOW: a reply
    assert papi.get(f"/members/{member['id']}").get_json()["points"] == 100 + 150 + 60 - 300



def test_the_offer_flow_previews_a_members_latest_offer_or_the_sample_one(papi):
    member = papi.enrol("offer-5", locale="de")
    sample = papi.post("/flows/offer/preview", {"member_id": member["id"], "channel": "sms"}, role="marketer")
    assert sample.status_code == 200 and "REDEEM COFFEE" in sample.get_json()["body"]
    settings(papi, offer_rules=[{**RULE, "times": 1, "keyword": "BEANS"}])
    buy(papi, member["id"], COFFEE)
    own = papi.post("/flows/offer/preview", {"member_id": member["id"], "channel": "sms"}, role="marketer")
    body = own.get_json()["body"]
    assert "REDEEM BEANS" in body and "House blend 250 g" in body and "25 EUR Rabatt" in body
