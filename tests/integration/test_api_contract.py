"""What schemathesis found once, pinned: the API accepts what its document says and nothing else."""

from __future__ import annotations

import pytest

from engage.api.fields import ID_MAX


@pytest.mark.parametrize("path", ["/flows/welcome/preview", "/flows/welcome/test"])
@pytest.mark.parametrize("member_id", [ID_MAX + 1, 2**63, 2**70, 0, -1])
def test_a_member_id_outside_the_id_range_is_a_422_naming_it(api, path, member_id):
    response = api.post(path, {"member_id": member_id, "channel": "sms"}, role="marketer")
    assert response.status_code == 422, response.get_json()
    assert "member_id" in response.get_json()["errors"]


def test_phone_region_must_be_one_phone_numbers_know(api):
    refused = api.patch("/program", {"phone_region": "ZZ"}, role="admin")
    assert refused.status_code == 422 and "phone_region" in refused.get_json()["errors"]
    assert api.patch("/program", {"phone_region": "BE"}, role="admin").status_code == 200
    member = api.enrol("region-1", phone="0470 12 34 56")  # a national number, read as Belgian
    assert member["phone"] == "+32470123456"


@pytest.mark.parametrize("value", [0, 1, "true", "false", "yes", None])
def test_booleans_are_json_booleans(api, value):
    member = api.enrol("bool-1")
    response = api.patch(f"/members/{member['id']}", {"consent": {"sms": value}})
    assert response.status_code == 422
    assert api.get(f"/members/{member['id']}").get_json()["consent"]["sms"] is True


@pytest.mark.parametrize("cost", ["5", 5.5, True])
def test_integers_are_json_integers(api, cost):
    response = api.post("/rewards", {"name": "Mug", "kind": "gift", "cost": cost}, role="admin")
    assert response.status_code == 422 and "cost" in response.get_json()["errors"]


@pytest.mark.parametrize("amount", [25.9, 25, "25,90", "-1.00", "1e3", " 25.90", "NaN", "Infinity"])
def test_an_amount_is_a_decimal_string(api, amount):
    member = api.enrol("amount-1")
    response = api.purchase(member["id"], amount)
    assert response.status_code == 422 and "amount" in response.get_json()["errors"]
    assert api.purchase(member["id"], "25.90").status_code == 201


def test_decimals_are_answered_as_strings(api):
    tier = api.patch("/tiers/2", {"multiplier": "1.5"}, role="admin").get_json()
    assert tier["multiplier"] == "1.50"
    assert api.patch("/tiers/2", {"multiplier": 1.5}, role="admin").status_code == 422
    assert api.get("/program", role="admin").get_json()["max_purchase_amount"] == "100000.00"


def test_a_patch_without_a_body_says_so(api):
    member = api.enrol("nobody-1")
    for response in (api.client.patch(f"/api/v1/members/{member['id']}", headers=api.headers()),
                     api.client.patch("/api/v1/program", data="name=x", headers=api.headers("admin"))):
        assert response.status_code == 422
        assert "JSON" in response.get_json()["message"] and "body" in response.get_json()["errors"]
    assert api.patch(f"/members/{member['id']}", {}).status_code == 200  # an empty object changes nothing


def test_a_405_names_the_methods_the_url_takes(api):
    response = api.client.put("/api/v1/members/1", headers=api.headers())
    assert response.status_code == 405
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "PATCH", "DELETE"}


def test_authentication_comes_before_reading_the_query(api):
    assert api.client.get("/api/v1/members?external_id=a%00b").status_code == 401
    assert api.client.get("/api/v1/members?limit=x").status_code == 401
    assert api.client.get("/api/v1/members?limit=x", headers={"Authorization": "Bearer a\x00b"}).status_code == 401
    assert api.get("/members?external_id=a%00b").status_code == 422


@pytest.mark.parametrize(("field", "good", "bad"), [("locale", "nl-BE", "xx-invalid"), ("locale", "de", "en_ZZ"),
                                                    ("timezone", "Europe/Bucharest", "Mars/Olympus")])
def test_locales_and_zones_come_from_the_documented_lists(api, field, good, bad):
    member = api.enrol("listed-1")
    refused = api.patch(f"/members/{member['id']}", {field: bad})
    assert refused.status_code == 422 and field in refused.get_json()["errors"]
    assert api.patch(f"/members/{member['id']}", {field: good}).get_json()[field] == good
    document = api.client.get("/api/openapi.json").get_json()["components"]["schemas"]
    listed = document["Locale" if field == "locale" else "TimeZone"]["enum"]
    assert good in listed and bad not in listed


def test_constraints_the_api_enforces_are_in_the_document(api):
    schemas = api.client.get("/api/openapi.json").get_json()["components"]["schemas"]
    assert schemas["FlowPatch"]["properties"]["channels"]["uniqueItems"] is True
    assert schemas["Program"]["properties"]["phone_region"]["enum"][:2] == ["AC", "AD"]
    assert schemas["EventCreate"]["properties"]["amount"]["type"] == "string"
    assert schemas["PreviewRequest"]["properties"]["member_id"]["maximum"] == ID_MAX


def test_find_by_external_id_answers_the_member_and_a_list_answers_a_page(api):
    member = api.enrol("find-1")
    assert api.get("/members?external_id=find-1").get_json() == api.get(f"/members/{member['id']}").get_json()
    assert set(api.get("/members").get_json()) == {"items", "next"}


@pytest.mark.parametrize("key", [" ", "k" * 256, "naïve", " k"])
def test_an_idempotency_key_is_printable_ascii(api, key):
    member = api.enrol("idem-1")
    response = api.purchase(member["id"], "10.00", key=key)
    assert response.status_code == 400 and "Idempotency-Key" in response.get_json()["message"]
