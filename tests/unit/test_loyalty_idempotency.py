"""Idempotency-Key fingerprints and replay/conflict decisions."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engage.loyalty.idempotency import decide, fingerprint


def test_fingerprint_is_a_sha256_hex_digest():
    fp = fingerprint("redemptions", 1, {"reward_id": 3})
    assert len(fp) == 64
    int(fp, 16)


def test_fingerprint_stable_across_calls():
    body = {"reward_id": 3, "note": "x"}
    assert fingerprint("redemptions", 1, body) == fingerprint("redemptions", 1, dict(body))


def test_fingerprint_ignores_dict_order_including_nested():
    a = {"reward_id": 3, "meta": {"a": 1, "b": [1, 2]}, "note": "x"}
    b = {"note": "x", "meta": {"b": [1, 2], "a": 1}, "reward_id": 3}
    assert fingerprint("redemptions", 1, a) == fingerprint("redemptions", 1, b)


def test_fingerprint_differs_for_different_bodies():
    base = fingerprint("redemptions", 1, {"reward_id": 3})
    assert fingerprint("redemptions", 1, {"reward_id": 4}) != base
    assert fingerprint("redemptions", 1, {"reward_id": 3, "extra": None}) != base
    assert fingerprint("redemptions", 1, {}) != base
    assert fingerprint("redemptions", 1, {"reward_id": "3"}) != base


def test_fingerprint_differs_by_scope_and_member():
    base = fingerprint("redemptions", 1, {"reward_id": 3})
    assert fingerprint("donations", 1, {"reward_id": 3}) != base
    assert fingerprint("redemptions", 2, {"reward_id": 3}) != base


def test_list_order_matters():
    assert fingerprint("s", 1, {"x": [1, 2]}) != fingerprint("s", 1, {"x": [2, 1]})


def test_non_json_values_are_fingerprinted():
    fp = fingerprint("events", 1, {"amount": Decimal("25.90")})
    assert fp == fingerprint("events", 1, {"amount": Decimal("25.90")})
    assert fp != fingerprint("events", 1, {"amount": Decimal("25.91")})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=10,
)


@given(body=st.dictionaries(st.text(max_size=6), json_values, max_size=6))
def test_fingerprint_independent_of_insertion_order(body):
    reversed_body = dict(reversed(list(body.items())))
    assert fingerprint("s", 7, body) == fingerprint("s", 7, reversed_body)


@given(a=st.dictionaries(st.text(max_size=4), st.integers(), max_size=4),
       b=st.dictionaries(st.text(max_size=4), st.integers(), max_size=4))
def test_fingerprint_equal_iff_bodies_equal(a, b):
    assert (fingerprint("s", 1, a) == fingerprint("s", 1, b)) == (a == b)


def test_decide():
    fp = fingerprint("redemptions", 1, {"reward_id": 3})
    assert decide(fp, fp) == "replay"
    assert decide(fp, fingerprint("redemptions", 1, {"reward_id": 4})) == "conflict"
