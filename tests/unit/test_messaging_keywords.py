"""Inbound SMS classification: keywords, ratings, free text, and hostile unicode."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.messaging.keywords import KEYWORDS, Inbound, classify, clean_body

OPT_OUT = ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPTOUT"]


SHAPES = ["{}", "{} ", " {}\n", "{}!", " {}. ", "'{}'", "{}?!", "*{}*", "{} 🛑", "({})"]


@pytest.mark.parametrize("word", OPT_OUT)
@pytest.mark.parametrize("shape", SHAPES)
def test_every_opt_out_word_in_any_case_and_dress(word: str, shape: str) -> None:
    for variant in (word, word.lower(), word.title()):
        assert classify(shape.format(variant)).kind == "opt_out"


@pytest.mark.parametrize(
    ("body", "kind"),
    [("START", "opt_in"), ("yes", "opt_in"), ("Unstop", "opt_in"), ("HELP", "help"),
     ("info?", "help"), ("points", "balance"), ("Balance?", "balance"), ("REDEEM", "redeem"),
     ("redeem!", "redeem")],
)
def test_other_keywords(body: str, kind: str) -> None:
    assert classify(body).kind == kind


@pytest.mark.parametrize(
    "body",
    ["stop it", "please stop", "STOP STOP", "don't stop", "stopp", "S T O P", "opt out",
     "yes please", "help me", "my points", "redeem it now", "redeem c", "stop.it"],
)
def test_keywords_inside_longer_messages_are_just_text(body: str) -> None:
    assert classify(body) == Inbound("text", body)


@pytest.mark.parametrize(("body", "keyword"), [
    ("REDEEM COFFEE", "COFFEE"), ("redeem coffee", "COFFEE"), ("  Redeem   Beans2! ", "BEANS2"),
    ("redeem now", "NOW"),  # no offer called NOW: the service counts it as an ordinary reply
])
def test_redeem_with_one_word_names_an_offer(body: str, keyword: str) -> None:
    assert classify(body) == Inbound("redeem_offer", body.strip(), keyword=keyword)


@pytest.mark.parametrize(
    "body",
    ["ＳＴＯＰ", "ｓｔｏｐ", "S\u200bTOP", "\ufeffSTOP", "STOP\u200d", "\u200eSTOP\u200f",
     "ST\u00adOP", "\u00a0STOP\u3000", "STOP\r\n", "\tstop\t"],
)
def test_odd_unicode_still_reads_as_stop(body: str) -> None:
    assert classify(body).kind == "opt_out"


@pytest.mark.parametrize(
    "body", [None, "", "   ", "\n\t ", "\u200b\u200b", "\ufeff", "\u200d", "\ufe0f", "\x00"]
)
def test_nothing_to_read_is_empty(body: str | None) -> None:
    assert classify(body) == Inbound("empty", "")


@pytest.mark.parametrize(
    ("body", "rating"),
    [("1", 1), ("5", 5), (" 3 ", 3), ("4!", 4), ("4/5", 4), ("4 / 5", 4), ("4 out of 5", 4),
     ("2 of 5", 2), ("4 stars", 4), ("1 star", 1), ("5 Stars!", 5), ("3 ⭐", 3), ("５", 5),
     ("⭐⭐⭐⭐", 4), ("★★", 2), ("\u2b50\ufe0f" * 3, 3), ("⭐ ⭐ ⭐ ⭐ ⭐", 5), ("#1", 1)],
)
def test_ratings(body: str, rating: int) -> None:
    result = classify(body)
    assert (result.kind, result.rating) == ("rating", rating)


@pytest.mark.parametrize(
    "body",
    ["0", "6", "10", "-1", "+5", "−2", "4.5", "5/10", "3/4", "4 5", "1-5", "⭐⭐⭐⭐⭐⭐",
     "4 apples", "rated 4", "45", "0/5"],
)
def test_not_ratings(body: str) -> None:
    result = classify(body)
    assert (result.kind, result.rating) == ("text", None)


def test_emoji_only_is_text_kept_intact() -> None:
    assert classify("👍") == Inbound("text", "👍")
    assert classify(" 👩\u200d💻 ") == Inbound("text", "👩\u200d💻")  # ZWJ keeps the sequence


def test_text_is_cleaned_but_otherwise_kept() -> None:
    expected = Inbound("text", "Great   service, thanks!")
    assert classify("  Great   service,\u200b thanks!  ") == expected
    assert classify("ｇｒｅａｔ") == Inbound("text", "great")


def test_keyword_reply_keeps_cleaned_text() -> None:
    assert classify(" Stop! ") == Inbound("opt_out", "Stop!")


def test_long_bodies() -> None:
    body = "a" * 1600
    assert classify(body) == Inbound("text", body)
    assert classify(" " * 1598 + "OK").kind == "text"
    assert classify("." * 800 + "STOP" + "!" * 796).kind == "opt_out"


def test_clean_body_drops_controls_but_keeps_newlines() -> None:
    assert clean_body("a\x07b\nc") == "ab\nc"


def test_keyword_table_matches_the_spec() -> None:
    assert {k for k, v in KEYWORDS.items() if v == "opt_out"} == {w.lower() for w in OPT_OUT}
    assert {k for k, v in KEYWORDS.items() if v == "opt_in"} == {"start", "yes", "unstop"}
    assert {k for k, v in KEYWORDS.items() if v == "help"} == {"help", "info"}


@given(st.text(max_size=300))
def test_property_any_text_classifies_without_error(body: str) -> None:
    result = classify(body)
    kinds = {"opt_out", "opt_in", "help", "balance", "redeem", "rating", "text", "empty"}
    assert result.kind in kinds
    assert (result.kind == "empty") == (result.text == "")
    assert (result.rating is not None) == (result.kind == "rating")
    assert result.text == result.text.strip()


@given(st.sampled_from(OPT_OUT), st.text(alphabet=" \t\n.!?,;:'\"*()-~🛑✋\u200b", max_size=6),
       st.text(alphabet=" \t\n.!?,;:'\"*()-~🛑✋\u200b", max_size=6))
def test_property_stop_survives_any_surrounding_noise(word: str, before: str, after: str) -> None:
    assert classify(before + word + after).kind == "opt_out"


@given(st.sampled_from(OPT_OUT), st.from_regex(r"[A-Za-z]{1,8}", fullmatch=True))
def test_property_stop_with_another_word_is_text(word: str, other: str) -> None:
    assert classify(f"{word} {other}").kind == "text"
    assert classify(f"{other} {word}").kind == "text"
