"""Reward names and descriptions per locale: the API, validation, and what members read."""

from __future__ import annotations

import pytest

from engage.api.fields import locales

SHIPPED_DUTCH = {1: "EUR 10 korting", 2: "Gratis verzending", 3: "EUR 25 korting"}


def test_shipped_rewards_have_texts_in_the_shipped_languages(api):
    items = api.get("/rewards").get_json()["items"]
    by_id = {item["id"]: item for item in items}
    for reward_id, dutch in SHIPPED_DUTCH.items():
        texts = by_id[reward_id]["texts"]
        assert set(texts) == {"en", "nl", "de", "ro"}
        assert texts["nl"] == {"name": dutch, "description": None}
        assert texts["en"] == {"name": by_id[reward_id]["name"], "description": None}


def test_admin_sets_texts_and_the_default_locale_is_name_and_description(api):
    created = api.post("/rewards", {"name": "Tote bag", "description": "A canvas bag", "kind": "gift", "cost": 300,
                                    "texts": {"nl-BE": {"name": "Draagtas"},
                                              "de": {"name": "Stofftasche", "description": "Eine Tasche"}}},
                       role="admin")
    assert created.status_code == 201, created.get_json()
    reward = created.get_json()
    assert reward["texts"] == {"en": {"name": "Tote bag", "description": "A canvas bag"},
                               "nl_BE": {"name": "Draagtas", "description": None},
                               "de": {"name": "Stofftasche", "description": "Eine Tasche"}}
    assert api.get(f"/rewards/{reward['id']}").get_json() == reward

    patched = api.patch(f"/rewards/{reward['id']}", {"texts": {"en": {"name": "Canvas tote"},
                                                               "ro": {"name": "Sacoșă"}}}, role="admin")
    assert patched.status_code == 200, patched.get_json()
    body = patched.get_json()
    assert body["name"] == "Canvas tote" and body["description"] is None  # the en text replaced both
    assert body["texts"] == {"en": {"name": "Canvas tote", "description": None},
                             "ro": {"name": "Sacoșă", "description": None}}  # PATCH replaces every text
    unchanged = api.patch(f"/rewards/{reward['id']}", {"cost": 310}, role="admin").get_json()
    assert unchanged["texts"] == body["texts"]


@pytest.mark.parametrize(("texts", "extra"), [
    ({"xx-invalid": {"name": "X"}}, {}),
    ({"nl": {"name": ""}}, {}),
    ({"nl": {}}, {}),
    ({"nl": {"name": "x" * 121}}, {}),
    ({"nl": {"name": "X", "description": "d" * 501}}, {}),
    ({"nl": {"name": "X", "colour": "red"}}, {}),
    ({"nl": "EUR 5 korting"}, {}),
    ({"nl": {"name": "X"}, "nl-NL": {"name": "Y"}, "nl_NL": {"name": "Z"}}, {}),
    ({"en": {"name": "Other"}}, {"name": "Gift card"}),
    ([{"nl": {"name": "X"}}], {}),
])
def test_bad_texts_are_422_on_texts(api, texts, extra):
    response = api.post("/rewards", {"name": "Gift card", "kind": "gift", "cost": 10, "texts": texts, **extra},
                        role="admin")
    assert response.status_code == 422, response.get_json()
    assert "texts" in response.get_json()["errors"]
    assert "Gift card" not in [r["name"] for r in api.get("/rewards").get_json()["items"]]


def test_at_most_50_locales(api):
    many = {locale: {"name": "X"} for locale in sorted(locales())[:51]}
    response = api.post("/rewards", {"name": "Gift card", "kind": "gift", "cost": 10, "texts": many}, role="admin")
    assert response.status_code == 422 and "texts" in response.get_json()["errors"]


def test_a_dutch_member_reads_the_dutch_reward_name(api):
    dutch = api.enrol("texts-nl", locale="nl", phone="+31612345670")
    english = api.enrol("texts-en", locale="en", phone="+31612345671")
    for member in (dutch, english):
        assert api.purchase(member["id"], "200").status_code == 201
    reminders = {}
    for member in (dutch, english):
        items = api.get(f"/members/{member['id']}/messages").get_json()["items"]
        [reminder] = [m for m in items if m["flow"] == "redemption_reminder"]
        reminders[member["locale"]] = reminder["body"]
    # 300 points: free shipping (150) became affordable; the reminder names it
    assert "Gratis verzending" in reminders["nl"] and "Free shipping" not in reminders["nl"]
    assert "Free shipping" in reminders["en"]
    for cheaper in (1, 2):
        api.patch(f"/rewards/{cheaper}", {"active": False}, role="admin")
    preview = api.post("/flows/redemption_reminder/preview", {"member_id": dutch["id"], "channel": "sms"},
                       role="marketer").get_json()  # the cheapest the member can have now: EUR 25 off
    assert "EUR 25 korting" in preview["body"] and "EUR 25 off" not in preview["body"]


def test_a_template_can_name_the_reward_description(api):
    api.patch("/rewards/1", {"texts": {"en": {"name": "EUR 10 off", "description": "on orders over EUR 50"},
                                       "nl": {"name": "EUR 10 korting", "description": "vanaf EUR 50"}}},
              role="admin")
    member = api.enrol("texts-desc", locale="nl", phone="+31612345672")
    body = "{{ reward.name }} ({{ reward.description }}). Stuur STOP"
    preview = api.post("/flows/welcome/preview", {"member_id": member["id"], "channel": "sms", "body": body},
                       role="marketer")
    assert preview.status_code == 200, preview.get_json()
    assert preview.get_json()["body"] == "EUR 10 korting (vanaf EUR 50). Stuur STOP"
