"""Classify an inbound SMS body: keyword, rating, free text or nothing.

Keywords match the whole message only ("STOP" opts out, "please stop" is just text), any
case, ignoring surrounding whitespace, punctuation, symbols and emoji ("Stop!", "STOP 🛑").
Bodies are NFKC-normalised first, so full-width 'ＳＴＯＰ' reads as STOP, and invisible
characters (zero-width space, BOM, direction marks, soft hyphen) are dropped.

REDEEM followed by one word of 2-16 letters or digits ("REDEEM COFFEE") redeems the member's
personalised offer with that keyword.

Ratings: a single digit 1-5, optionally written "4/5", "4 out of 5", "4 of 5", "4 stars",
"4 ★", or as one to five star characters alone ("⭐⭐⭐⭐"). A signed number ("-1", "+5"),
0, 6 and decimals are ordinary text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

InboundKind = Literal["opt_out", "opt_in", "help", "balance", "redeem", "redeem_offer", "rating", "text", "empty"]

KEYWORDS: dict[str, InboundKind] = {
    **dict.fromkeys(
        ("stop", "stopall", "unsubscribe", "cancel", "end", "quit", "revoke", "optout"), "opt_out"
    ),
    **dict.fromkeys(("start", "yes", "unstop"), "opt_in"),
    **dict.fromkeys(("help", "info"), "help"),
    **dict.fromkeys(("points", "balance"), "balance"),
    "redeem": "redeem",
}

# Dropped everywhere: they render as nothing and only defeat matching. ZWJ is kept in the
# stored text because it glues emoji sequences (👩‍💻), but not in the keyword core.
_INVISIBLE = dict.fromkeys(
    map(ord, "\u00ad\u180e\u200b\u200c\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
        "\u2060\u2066\u2067\u2068\u2069\ufeff"),
    None,
)
_KEPT_CONTROLS = frozenset("\n\r\t")
_SIGNS = frozenset("+-\u2212\u00b1")
_STARS = frozenset("\u2b50\u2605\u2729\u272d\u272e\u2730")  # ⭐ ★ ✩ ✭ ✮ ✰
# REDEEM and an offer's keyword ("redeem coffee", "REDEEM COFFEE!"): that personalised offer.
_REDEEM_OFFER = re.compile(r"redeem\s+([0-9a-z]{2,16})")
_RATING = re.compile(r"([1-5])(?:\s*(?:/|out\s+of|of)\s*5)?(?:\s*stars?)?", re.IGNORECASE)


@dataclass(frozen=True)
class Inbound:
    """What an inbound message means; `text` is the cleaned body, `rating` only for ratings."""

    kind: InboundKind
    text: str = ""
    rating: int | None = None
    keyword: str | None = None  # redeem_offer: the offer's keyword, upper case


def clean_body(body: str | None) -> str:
    """Return the body NFKC-normalised, without invisible characters, trimmed."""
    if not body:
        return ""
    normal = unicodedata.normalize("NFKC", body).translate(_INVISIBLE)
    kept = "".join(ch for ch in normal if ch in _KEPT_CONTROLS or not _is_control(ch))
    # A body of only joiners or variation selectors shows nothing: treat it as empty.
    return kept.strip() if any(_is_visible(ch) for ch in kept) else ""


def _is_control(ch: str) -> bool:
    return unicodedata.category(ch) == "Cc"


def _is_visible(ch: str) -> bool:
    return not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf", "Mn", "Me")


def _is_word_char(ch: str) -> bool:
    return unicodedata.category(ch)[0] in "LN"


def keyword_core(text: str) -> str:
    """Return `text` without the non-letter, non-digit characters at either end, casefolded."""
    chars = text.replace("\u200d", "")
    start, end = 0, len(chars)
    while start < end and not _is_word_char(chars[start]):
        start += 1
    while end > start and not _is_word_char(chars[end - 1]):
        end -= 1
    return chars[start:end].casefold()


def _star_rating(text: str) -> int | None:
    stars = [ch for ch in text if not ch.isspace() and ch != "\ufe0f"]  # VS16: emoji style
    if 1 <= len(stars) <= 5 and all(ch in _STARS for ch in stars):
        return len(stars)
    return None


def _rating(text: str, core: str) -> int | None:
    """Return a 1-5 rating if the whole message is one, else None."""
    if not core:
        return _star_rating(text)
    if text[0] in _SIGNS:  # "-1" is not a one-star rating
        return None
    match = _RATING.fullmatch(core)
    return int(match.group(1)) if match else None


def classify(body: str | None) -> Inbound:
    """Return the meaning of an inbound SMS body."""
    text = clean_body(body)
    if not text:
        return Inbound("empty")
    core = keyword_core(text)
    if core in KEYWORDS:
        return Inbound(KEYWORDS[core], text)
    offer = _REDEEM_OFFER.fullmatch(core)
    if offer:
        return Inbound("redeem_offer", text, keyword=offer.group(1).upper())
    rating = _rating(text, core)
    if rating is not None:
        return Inbound("rating", text, rating)
    return Inbound("text", text)
