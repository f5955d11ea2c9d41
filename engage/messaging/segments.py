"""SMS segment counting: what a message body costs (GSM 03.38 / 3GPP TS 23.038).

A body is sent as GSM-7 only if every character is in the basic table or the extension
table; one other character makes the whole body UCS-2. A body that fits one segment uses
the full 160 septets / 70 UTF-16 units; otherwise each segment loses room to the
concatenation header (153 / 67). Escape pairs and surrogate pairs are never split across
segments, so segments are counted by packing characters, not by dividing a length.

We count the body exactly as given: Twilio's optional "smart encoding" (replacing curly
quotes etc. with GSM look-alikes) is not applied. An empty body counts as one segment,
as Twilio bills it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The 128 positions of the GSM 03.38 default alphabet, in table order, minus 0x1B (ESC),
# which only introduces an extension character. Note 0x24 is '¤' and '$' sits at 0x02;
# 0x09 is capital 'Ç' (lower-case 'ç' is not in the table).
GSM7_BASIC: frozenset[str] = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅå"  # 0x00-0x0F
    "Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ"  # 0x10-0x1F without ESC
    " !\"#¤%&'()*+,-./"  # 0x20-0x2F
    "0123456789:;<=>?"  # 0x30-0x3F
    "¡ABCDEFGHIJKLMNO"  # 0x40-0x4F
    "PQRSTUVWXYZÄÖÑÜ§"  # 0x50-0x5F
    "¿abcdefghijklmno"  # 0x60-0x6F
    "pqrstuvwxyzäöñüà"  # 0x70-0x7F
)
# Extension table: each costs ESC + code, two septets.
GSM7_EXTENSION: frozenset[str] = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SegmentCount:
    """How a body is encoded and how many segments it costs."""

    encoding: Encoding
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    per_segment: int  # capacity of each segment for this body: 160/153 or 70/67


GSM7_ALL: frozenset[str] = GSM7_BASIC | GSM7_EXTENSION


def is_gsm7(text: str) -> bool:
    """Return True if every character of `text` can be sent in GSM-7."""
    return GSM7_ALL.issuperset(text)  # a set operation in C: every SMS answer is checked


def _unit_costs(text: str, encoding: Encoding) -> list[int]:
    """Return the indivisible cost of each character in `encoding` units."""
    if encoding == "GSM-7":
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    # Python strings hold code points: one above U+FFFF is a surrogate pair in UTF-16.
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def _limits(encoding: Encoding) -> tuple[int, int]:
    return (GSM7_SINGLE, GSM7_MULTI) if encoding == "GSM-7" else (UCS2_SINGLE, UCS2_MULTI)


def _pack(costs: list[int], capacity: int) -> Iterator[int]:
    """Yield the index where each segment starts, filling segments greedily."""
    used = capacity  # forces a segment to open at index 0
    for index, cost in enumerate(costs):
        if used + cost > capacity:
            yield index
            used = 0
        used += cost


def _plan(text: str) -> tuple[Encoding, list[int], int, list[int]]:
    """Return encoding, unit costs, per-segment capacity and segment start indices."""
    encoding: Encoding = "GSM-7" if is_gsm7(text) else "UCS-2"
    costs = _unit_costs(text, encoding)
    single, multi = _limits(encoding)
    if sum(costs) <= single:
        return encoding, costs, single, [0]
    return encoding, costs, multi, list(_pack(costs, multi))


def count_segments(text: str) -> SegmentCount:
    """Return the encoding, unit count and number of SMS segments `text` costs."""
    encoding, costs, per_segment, starts = _plan(text)
    return SegmentCount(encoding, len(starts), sum(costs), per_segment)


def split_segments(text: str) -> list[str]:
    """Return the parts `text` is cut into on the wire (for previews); [''] if empty."""
    _, _, _, starts = _plan(text)
    ends = [*starts[1:], len(text)]
    return [text[start:end] for start, end in zip(starts, ends)]


def ucs2_characters(text: str) -> list[str]:
    """The characters of `text` that force UCS-2 (outside both GSM-7 tables), each once, in the
    order they first appear: what an editor highlights so the writer can replace them."""
    return list(dict.fromkeys(ch for ch in text if ch not in GSM7_ALL))


def room_left(text: str) -> int:
    """Units still free in the last segment of `text` before it costs one more (characters, except
    that a GSM-7 extension character or a UCS-2 character above U+FFFF takes two)."""
    encoding, costs, per_segment, starts = _plan(text)
    return per_segment - sum(costs[starts[-1]:]) if costs else per_segment
