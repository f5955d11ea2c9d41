"""safe_json: JSON from outside that cannot become a 500."""

from __future__ import annotations

import json

import pytest

from engage import safe_json


def test_loads_reads_ordinary_json():
    assert safe_json.loads('{"a": [1, "b"]}') == {"a": [1, "b"]}
    assert safe_json.loads(b'[true]') == [True]


@pytest.mark.parametrize("depth", [990, 5000, 100_000])
def test_too_deep_nesting_is_a_decode_error_not_a_recursion_error(depth):
    with pytest.raises(json.JSONDecodeError, match="nested too deeply"):
        safe_json.loads("[" * depth + "]" * depth)
    with pytest.raises(ValueError):
        safe_json.loads(('{"a":' * depth + "1" + "}" * depth).encode())


def test_nuls_in_names_every_string_holding_a_nul():
    text = ('{"first_name": "a\\u0000b", "consent": {"sms": true, "x\\u0000": 1},'
            ' "tags": ["ok", "\\u0000"], "fine": "no nul"}')
    assert safe_json.nuls_in(text, safe_json.loads(text)) == ["consent.x\\u0000", "first_name", "tags.1"]
    assert safe_json.nuls_in('"\\u0000"', "\x00") == ["_body"]
    text = '{"a": ["b", {"c": 1}], "d": null}'
    assert safe_json.nuls_in(text, safe_json.loads(text)) == []


def test_nuls_in_walks_deep_values_without_recursing():
    text = "[" * 10_001 + '"\\u0000"' + "]" * 10_001
    deep: list = ["\x00"]
    for _ in range(10_000):
        deep = [deep]
    assert len(safe_json.nuls_in(text, deep)) == 1
