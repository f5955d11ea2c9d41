"""The result of an experiment in plain words, for a marketer who never met a p-value:
"B gets more replies (12.0% against 8.0%); a difference this large would come by chance about
1 time in 40." """

from __future__ import annotations

from engage.experiments.significance import MIN_SENDS, Comparison

OUTCOMES = ("reply", "redemption", "purchase")
_PLURAL = {"reply": "replies", "redemption": "redemptions", "purchase": "purchases"}


def outcome_words(outcome: str, window_days: int) -> str:
    """'replies within 7 days', 'purchases within 14 days' …"""
    day = "day" if window_days == 1 else "days"
    return f"{_PLURAL[outcome]} within {window_days} {day}"


def _percent(rate: float) -> str:
    return f"{rate * 100:.1f}%"


def chance(p_value: float) -> str:
    """How often chance alone would give a difference this large, as '1 time in N'."""
    if p_value < 0.001:
        return "less than 1 time in 1000"
    times = round(1 / p_value)
    if times < 2:
        return "more often than not, so there is no sign of a real difference"
    return f"about 1 time in {times}"


def sentence(comparison: Comparison, outcome: str, window_days: int) -> str:
    """One sentence saying which variant does better and how likely chance alone is."""
    words = outcome_words(outcome, window_days)
    a, b = comparison.a, comparison.b
    if a.sends == 0 and b.sends == 0:
        return "No sends yet."
    if not comparison.enough:
        return (f"Too few sends to tell yet: A has {a.sends} and B {b.sends}. Each variant needs at least "
                f"{MIN_SENDS}, and at least 5 sends with and 5 without {_PLURAL[outcome]} each.")
    rates = f"{_percent(b.rate)} against {_percent(a.rate)}"
    if comparison.difference == 0:
        return f"A and B get the same share of {words} ({_percent(a.rate)})."
    leader, rates = ("B", rates) if comparison.difference > 0 else (
        "A", f"{_percent(a.rate)} against {_percent(b.rate)}")
    return (f"{leader} gets more {words} ({rates}); a difference this large would come by chance "
            f"{chance(comparison.p_value)}.")
