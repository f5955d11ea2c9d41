"""SMS segment counting against published GSM-7 / UCS-2 examples and packing properties."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.messaging.segments import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    SegmentCount,
    count_segments,
    is_gsm7,
    room_left,
    split_segments,
    ucs2_characters,
)

GSM_CHARS = sorted(GSM7_BASIC | GSM7_EXTENSION)


def _units(part: str, encoding: str) -> int:
    if encoding == "GSM-7":
        return sum(2 if ch in GSM7_EXTENSION else 1 for ch in part)
    return len(part.encode("utf-16-le")) // 2


def test_gsm7_basic_table_has_127_characters_without_escape() -> None:
    assert len(GSM7_BASIC) == 127
    assert "\x1b" not in GSM7_BASIC
    assert GSM7_EXTENSION == frozenset("\f^{}\\[~]|€")
    assert not GSM7_BASIC & GSM7_EXTENSION


@pytest.mark.parametrize("ch", list("@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà\n\r"))
def test_national_characters_of_the_basic_table_are_gsm7(ch: str) -> None:
    assert count_segments(ch) == SegmentCount("GSM-7", 1, 1, 160)


@pytest.mark.parametrize("ch", ["ç", "\t", "`", "ł", "á", "õ", "€\u0301", "’", "“", "\x1b"])
def test_characters_outside_the_tables_force_ucs2(ch: str) -> None:
    assert count_segments("hello " + ch).encoding == "UCS-2"


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(1, 1, 160), (160, 1, 160), (161, 2, 153), (306, 2, 153), (307, 3, 153), (459, 3, 153),
     (460, 4, 153), (1530, 10, 153), (1600, 11, 153)],
)
def test_plain_gsm7_lengths(length: int, segments: int, per_segment: int) -> None:
    assert count_segments("a" * length) == SegmentCount("GSM-7", segments, length, per_segment)


@pytest.mark.parametrize(
    ("length", "segments", "per_segment"),
    [(1, 1, 70), (70, 1, 70), (71, 2, 67), (134, 2, 67), (135, 3, 67), (201, 3, 67)],
)
@pytest.mark.parametrize("ch", ["ł", "中"])
def test_plain_ucs2_lengths(ch: str, length: int, segments: int, per_segment: int) -> None:
    assert count_segments(ch * length) == SegmentCount("UCS-2", segments, length, per_segment)


def test_e_acute_is_gsm7_so_seventy_of_them_fit_one_segment_easily() -> None:
    assert count_segments("é" * 160) == SegmentCount("GSM-7", 1, 160, 160)


def test_empty_body_is_one_segment_like_twilio_bills_it() -> None:
    assert count_segments("") == SegmentCount("GSM-7", 1, 0, 160)
    assert split_segments("") == [""]


def test_euro_and_other_extension_characters_count_two_septets() -> None:
    assert count_segments("€").units == 2
    assert count_segments("€" * 80) == SegmentCount("GSM-7", 1, 160, 160)
    assert count_segments("€" * 81) == SegmentCount("GSM-7", 2, 162, 153)
    assert count_segments("{}[]~|^\\\f").units == 18


def test_escape_pair_is_never_split_at_the_153_boundary() -> None:
    # 152 septets then '€' (2): by division 154+10 = 164 fits 2 segments, by packing the
    # euro cannot straddle the boundary, so the first segment carries only 152 septets.
    text = "a" * 152 + "€" + "b" * 152
    assert count_segments(text).units == 306
    assert math.ceil(306 / 153) == 2
    assert count_segments(text).segments == 3
    parts = split_segments(text)
    assert parts[0] == "a" * 152 and parts[1].startswith("€")


def test_emoji_take_two_units_and_switch_to_ucs2() -> None:
    assert count_segments("😀") == SegmentCount("UCS-2", 1, 2, 70)
    assert count_segments("😀" * 35) == SegmentCount("UCS-2", 1, 70, 70)
    assert count_segments("😀" * 36) == SegmentCount("UCS-2", 2, 72, 67)


def test_surrogate_pair_is_never_split_at_the_67_boundary() -> None:
    text = "ł" * 66 + "😀" + "ł" * 66  # 134 units: 2 segments by division, 3 by packing
    assert count_segments(text) == SegmentCount("UCS-2", 3, 134, 67)
    assert split_segments(text)[0] == "ł" * 66


def test_one_emoji_turns_a_long_gsm_text_into_ucs2() -> None:
    assert count_segments("a" * 100).segments == 1
    assert count_segments("a" * 100 + "👍") == SegmentCount("UCS-2", 2, 102, 67)


def test_is_gsm7() -> None:
    assert is_gsm7("Hi Ann, you have 120 points! Reply STOP to opt out.")
    assert not is_gsm7("Hi Łukasz")


@given(st.text(alphabet=GSM_CHARS, max_size=700))
def test_gsm7_parts_respect_capacity_and_rebuild_the_text(text: str) -> None:
    result = count_segments(text)
    parts = split_segments(text)
    assert result.encoding == "GSM-7"
    assert "".join(parts) == text
    assert len(parts) == result.segments
    assert all(_units(p, "GSM-7") <= result.per_segment for p in parts)
    assert result.units == _units(text, "GSM-7")


@given(st.text(max_size=400))
def test_any_text_packs_within_limits(text: str) -> None:
    result = count_segments(text)
    parts = split_segments(text)
    assert "".join(parts) == text and len(parts) == result.segments
    assert all(_units(p, result.encoding) <= result.per_segment for p in parts)
    # Packing can only cost extra segments, never save any, compared with division.
    if result.segments > 1:
        assert result.segments >= math.ceil(result.units / result.per_segment)
        assert result.per_segment in (153, 67)
    # Greedy: each part but the last could not take the next character as well.
    for part, following in zip(parts, parts[1:]):
        assert _units(part + following[0], result.encoding) > result.per_segment


@given(st.text(alphabet="abc", min_size=0, max_size=160))
def test_single_segment_uses_the_full_160(text: str) -> None:
    assert count_segments(text).segments == 1


@given(st.integers(min_value=161, max_value=2000))
def test_plain_gsm_text_matches_division(length: int) -> None:
    assert count_segments("x" * length).segments == math.ceil(length / 153)


def test_ucs2_characters_are_those_outside_both_gsm_tables_each_once_in_order() -> None:
    assert ucs2_characters("Hi Ana, 10€ off {} [x]") == []  # € and brackets are in the extension table
    assert ucs2_characters("Salut Ioană 🎉, ça va? ă🎉") == ["ă", "🎉", "ç"]
    assert ucs2_characters("") == []


@given(st.text(max_size=200))
def test_ucs2_characters_are_empty_exactly_when_the_text_is_gsm7(text: str) -> None:
    offending = ucs2_characters(text)
    assert (offending == []) == is_gsm7(text)
    assert all(not is_gsm7(ch) for ch in offending) and len(set(offending)) == len(offending)


@pytest.mark.parametrize(("text", "left"), [
    ("", 160),
    ("a" * 150, 10),
    ("a" * 160, 0),
    ("a" * 161, 153 - 8),  # two segments of 153: the second holds 8
    ("€" * 5, 150),  # extension characters cost two septets
    ("🎉", 68),  # UCS-2, and above U+FFFF: a surrogate pair
    ("ă" * 70, 0),
    ("ă" * 71, 67 - 4),
])
def test_room_left_in_the_current_segment(text: str, left: int) -> None:
    assert room_left(text) == left


@given(st.text(max_size=400))
def test_room_left_is_within_one_segment_and_one_more_unit_of_need_adds_a_segment(text: str) -> None:
    count = count_segments(text)
    left = room_left(text)
    assert 0 <= left <= count.per_segment
    if left > 0 and count.segments > 1:
        filler = "a" if count.encoding == "GSM-7" else "ă"
        assert count_segments(text + filler * left).segments == count.segments
