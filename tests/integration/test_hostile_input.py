"""Input meant to break a parser or a database gets a clear 4xx on both databases, and changes nothing."""

from __future__ import annotations

import pytest

DEEP = '{"type": ' + "[" * 990 + "]" * 990 + "}"


def _count_members(api) -> int:
    from sqlalchemy import func, select

    from engage.models import Member

    with api.app.extensions["engage.db"].session() as session:
        return session.scalar(select(func.count(Member.id)))


@pytest.mark.parametrize("path", ["/members", "/members/{id}/events", "/members/{id}/redemptions"])
def test_deeply_nested_json_is_a_400(api, path):
    member = api.enrol("deep-1")
    response = api.client.post("/api/v1" + path.format(id=member["id"]), data=DEEP,
                               headers={**api.headers(), "Content-Type": "application/json",
                                        "Idempotency-Key": "deep"})
    assert response.status_code == 400
    assert "Invalid JSON body" in response.get_json()["message"]
    assert api.get(f"/members/{member['id']}").get_json()["points"] == member["points"]


@pytest.mark.parametrize("field", ["external_id", "first_name", "last_name", "referral_code"])
def test_a_nul_in_a_member_field_is_a_422_naming_it(api, field):
    api.enrol("nul-referrer")
    before = _count_members(api)
    body = {"external_id": "nul-1", "first_name": "Ana", "consent": {"sms": False, "email": False},
            field: "a\x00b"}
    response = api.post("/members", body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["errors"]
    assert "NUL" in response.get_json()["message"]
    assert _count_members(api) == before


def test_a_nul_in_a_nested_key_or_list_is_named(api):
    response = api.post("/members", {"external_id": "nul-2", "first_name": "Ana",
                                     "consent": {"sms": True, "e\x00": True}})
    assert response.status_code == 422
    assert list(response.get_json()["errors"]) == ["consent.e\\u0000"]


def test_a_nul_in_a_query_parameter_is_a_422(api):
    response = api.get("/members?external_id=a%00b")
    assert response.status_code == 422
    assert response.get_json()["errors"] == {"external_id": ["Text may not contain the NUL character (\\u0000)."]}


def test_a_nul_in_the_idempotency_key_is_a_400_and_earns_nothing(api):
    member = api.enrol("nul-3")
    response = api.purchase(member["id"], "10.00", key="k\x00")
    assert response.status_code == 400
    assert "Idempotency-Key" in response.get_json()["message"]
    assert api.get(f"/members/{member['id']}").get_json()["points"] == member["points"]


def test_a_nul_in_an_event_is_a_422_and_earns_nothing(api):
    member = api.enrol("nul-4")
    response = api.purchase(member["id"], "10.00\x00", key="k-4")
    assert response.status_code == 422 and "amount" in response.get_json()["errors"]
    assert api.get(f"/members/{member['id']}").get_json()["points"] == member["points"]
