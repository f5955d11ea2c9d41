"""GSM-7 / UCS-2 segment counting, used only when engage.messaging.segments is absent.

Segments are what an SMS costs, so previews and validation need the same arithmetic the
carrier uses: 160 septets in one GSM-7 segment or 153 per part when split, and 70 / 67 UTF-16
units for UCS-2. A character never straddles two parts (escape pairs, surrogate pairs).
"""

from __future__ import annotations

from typing import NamedTuple

GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")

GSM7 = "GSM-7"
UCS2 = "UCS-2"
_LIMITS = {GSM7: (160, 153), UCS2: (70, 67)}


class SegmentCount(NamedTuple):
    segments: int
    encoding: str


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def _unit_widths(text: str, encoding: str) -> list[int]:
    if encoding == GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def count_segments(text: str) -> SegmentCount:
    """Number of SMS segments `text` needs, and the encoding that forces."""
    encoding = GSM7 if is_gsm7(text) else UCS2
    widths = _unit_widths(text, encoding)
    single, per_part = _LIMITS[encoding]
    if sum(widths) <= single:
        return SegmentCount(1, encoding)  # an empty body is billed as one segment too
    parts, used = 1, 0
    for width in widths:
        # Greedy packing: a character that does not fit whole opens the next part.
        if used + width > per_part:
            parts, used = parts + 1, 0
        used += width
    return SegmentCount(parts, encoding)
