"""Members through the API: enrolment, lookup, changes, erasure, validation."""

from __future__ import annotations

import pytest

NO_CONSENT = {"sms": False, "email": False}


def test_enrol_gives_signup_bonus_and_full_member_shape(api):
    member = api.enrol("shop-1", last_name="Pop", locale="ro", timezone="Europe/Bucharest")
    assert member["points"] == 100
    assert member["tier"] == "Bronze"
    assert member["qualifying_points"] == 100
    assert member["next_tier"] == {"name": "Silver", "points_needed": 400}
    assert member["expiring"] == {"points": 100, "date": "2027-03-02"}
    assert member["consent"] == {"sms": True, "email": True}
    assert member["phone"] == "+31612345678"
    assert len(member["referral_code"]) == 8
    for field in ("id", "external_id", "first_name", "last_name", "email", "locale", "timezone"):
        assert field in member


def test_lookup_by_id_and_external_id(api):
    created = api.enrol("shop-2")
    assert api.get(f"/members/{created['id']}").get_json()["external_id"] == "shop-2"
    assert api.get("/members?external_id=shop-2").get_json()["id"] == created["id"]
    missing = api.get("/members?external_id=nobody")
    assert missing.status_code == 404 and "nobody" in missing.get_json()["message"]
    assert api.get("/members/999999").status_code == 404


def test_duplicate_external_id_is_409(api):
    api.enrol("dup")
    response = api.post("/members", {"external_id": "dup", "first_name": "B", "consent": NO_CONSENT})
    assert response.status_code == 409
    assert "dup" in response.get_json()["message"]


@pytest.mark.parametrize("field,value", [
    ("phone", "12345"), ("phone", "+3161234"), ("phone", "call me"), ("email", "not-an-email"),
    ("timezone", "Mars/Olympus"), ("locale", "xx-invalid"), ("first_name", ""), ("consent", "yes"),
    ("external_id", 12),
])
def test_invalid_fields_are_422_with_field_errors(api, field, value):
    body = {"external_id": "bad", "first_name": "X", "consent": NO_CONSENT, field: value}
    response = api.post("/members", body)
    assert response.status_code == 422, response.get_json()
    payload = response.get_json()
    assert field in payload["errors"] and payload["message"]
    assert api.get("/members?external_id=bad").status_code == 404


@pytest.mark.parametrize("consent,fields", [(None, {"consent"}), ({}, {"consent"}),
                                            ({"sms": True}, {"consent"}), ({"sms": "maybe", "email": False}, {"consent"})])
def test_enrolment_states_both_consents(api, consent, fields):
    body = {"external_id": "no-consent", "first_name": "X"}
    if consent is not None:
        body["consent"] = consent
    response = api.post("/members", body)
    assert response.status_code == 422, response.get_json()
    assert set(response.get_json()["errors"]) == fields
    assert api.get("/members?external_id=no-consent").status_code == 404


def test_phone_is_stored_in_e164(api):
    member = api.enrol("e164", phone="+31 6 1234 5678")
    assert member["phone"] == "+31612345678"


def test_referral_rewards_the_referrer(api):
    referrer = api.enrol("ref-a")
    api.enrol("ref-b", referral_code=referrer["referral_code"].lower())
    assert api.get(f"/members/{referrer['id']}").get_json()["points"] == 300
    unknown = api.post("/members", {"external_id": "ref-c", "first_name": "C", "consent": NO_CONSENT,
                                    "referral_code": "NOPE1234"})
    assert unknown.status_code == 422 and "referral_code" in unknown.get_json()["errors"]


def test_patch_changes_contact_and_consent(api):
    member = api.enrol("patch-1")
    response = api.patch(f"/members/{member['id']}", {"phone": "+4915123456789", "consent": {"sms": False},
                                                      "locale": "de"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["phone"] == "+4915123456789" and body["consent"] == {"sms": False, "email": True}
    assert api.patch(f"/members/{member['id']}", {"phone": "nope"}).status_code == 422
    assert api.patch(f"/members/{member['id']}", {"points": 5}).status_code == 422


def test_delete_erases_personal_data_but_keeps_ledger(api, db):
    from sqlalchemy import func, select

    from engage.models import LedgerEntry, Member

    member = api.enrol("gdpr-1")
    assert api.delete(f"/members/{member['id']}").status_code == 204
    assert api.get(f"/members/{member['id']}").status_code == 404
    with db.session() as session:
        row = session.get(Member, member["id"])
        assert row.email is None and row.phone is None and row.first_name == "" and row.external_id is None
        assert session.scalar(select(func.sum(LedgerEntry.points)).where(LedgerEntry.member_id == member["id"])) == 100
    api.enrol("gdpr-1")  # the external id is free again


def test_ledger_is_paginated_newest_first(api):
    member = api.enrol("ledger-1")
    for i in range(5):
        api.purchase(member["id"], f"{10 + i}.00")
    first = api.get(f"/members/{member['id']}/ledger?limit=4").get_json()
    assert [e["points"] for e in first["items"]] == [14, 13, 12, 11]
    assert first["next"]
    second = api.get(f"/members/{member['id']}/ledger?limit=4&cursor={first['next']}").get_json()
    assert [e["points"] for e in second["items"]] == [10, 100]
    assert second["next"] is None
    entry = second["items"][-1]
    assert entry["kind"] == "earn" and entry["reason"] == "signup bonus" and entry["expires_at"]
    refused = api.get(f"/members/{member['id']}/ledger?cursor=%%%")
    assert refused.status_code == 422 and "cursor" in refused.get_json()["errors"]


def test_member_list_pages(api):
    for i in range(3):
        api.enrol(f"list-{i}")
    page = api.get("/members?limit=2").get_json()
    assert len(page["items"]) == 2 and page["next"]


def test_member_list_shows_each_member_as_reading_it_alone_does(api, clock):
    """The page reads points, qualifying points and lots for all its members at once; each item
    must still be what GET /members/{id} says (balance, tier, next tier, soonest expiry)."""
    ids = [api.enrol(f"page-{i}", phone=f"+3161234567{i}")["id"] for i in range(4)]
    api.purchase(ids[0], "450.00")  # Silver
    clock.advance(days=300)
    api.purchase(ids[0], "20.00")
    api.purchase(ids[2], "35.50")
    clock.advance(days=100)  # the signup bonuses and the first purchase have expired
    api.purchase(ids[3], "12.00")
    page = {item["id"]: item for item in api.get("/members?limit=10").get_json()["items"]}
    assert sorted(page) == ids
    for member_id, item in page.items():
        assert item == api.get(f"/members/{member_id}").get_json()
    assert page[ids[0]]["tier"] == "Silver" and page[ids[0]]["expiring"]["points"] == 25  # Silver earns 1.25×
    assert page[ids[1]]["expiring"] is None
    assert page[ids[3]]["expiring"]["points"] == 12


def test_member_list_reads_the_same_number_of_statements_for_any_page_size(api, db):
    from sqlalchemy import event

    for i in range(6):
        member = api.enrol(f"count-{i}", phone=f"+3161234560{i}")
        api.purchase(member["id"], "10.00")
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731 - (conn, cursor, statement, …)
    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        counts = []
        for limit in (1, 6):
            statements.clear()
            assert len(api.get(f"/members?limit={limit}").get_json()["items"]) == limit
            counts.append(len(statements))
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)
    assert counts[0] == counts[1], counts


def test_huge_ids_and_cursors_are_not_500(api):
    assert api.get("/members/99999999999999999").status_code == 404
    assert api.post("/members/99999999999999999/events", {"type": "review"}).status_code == 404
    assert api.get("/members?cursor=999999999999999999").status_code == 200  # the largest a cursor may be
    assert api.get("/members?cursor=9999999999999999999").status_code == 422
    assert api.get("/messages?member_id=99999999999999", role="marketer").status_code == 422
