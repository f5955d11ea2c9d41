"""Whether an SMS template tells the member how to opt out, in its language.

The rule, kept simple so a marketer can predict it: the template's text (outside Jinja comments,
which are never sent) holds one of the opt-out keywords Engage obeys (STOP, STOPALL, UNSUBSCRIBE,
CANCEL, END, QUIT, REVOKE, OPTOUT) written in capitals as a word of its own: "Reply STOP to opt
out", "Afmelden? Stuur STOP", "STOP." and "(STOP)" pass; "stop", "STOPPED" and "NONSTOP" don't
(lower case reads as an ordinary word: "we never stop", "the end"). The phrase around the keyword
("Reply", "Stuur", "Antworte", "Trimite") is not required: the language only chooses the wording
suggested when it is missing. A keyword inside a `{% if %}` counts; the editor shows the text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from engage.messaging.keywords import KEYWORDS

OPT_OUT_KEYWORDS = tuple(sorted((word.upper() for word, kind in KEYWORDS.items() if kind == "opt_out"),
                                key=lambda word: (-len(word), word)))  # STOPALL before STOP
_KEYWORD = re.compile(r"(?<!\w)(?:" + "|".join(OPT_OUT_KEYWORDS) + r")(?!\w)")
_COMMENT = re.compile(r"\{#.*?#\}", re.DOTALL)

# The wording the shipped defaults use, per language; other languages are told the English one.
SUGGESTED: dict[str, str] = {
    "en": "Reply STOP to opt out",
    "nl": "Afmelden? Stuur STOP",
    "de": "Abmelden: Antworte STOP",
    "ro": "Dezabonare: trimite STOP",
}
LANGUAGE_NAMES = {"en": "English", "nl": "Dutch", "de": "German", "ro": "Romanian"}

NO_OPT_OUT = "no_opt_out"


@dataclass(frozen=True)
class TemplateWarning:
    """Something a marketer should fix but may save (a code a client can test, and a sentence)."""

    code: str
    message: str


def has_opt_out_wording(body: str) -> bool:
    """True when the SMS template's text names an opt-out keyword in capitals, as a word."""
    return bool(_KEYWORD.search(_COMMENT.sub("", body or "")))


def _language(locale: str | None) -> str:
    """'nl_BE' → 'nl'; a language without a suggestion of its own → 'en'."""
    language = (locale or "en").replace("-", "_").split("_")[0].lower()
    return language if language in SUGGESTED else "en"


def suggested_wording(locale: str | None) -> str:
    """The opt-out sentence for a locale ('nl_BE' → Dutch), English for other languages."""
    return SUGGESTED[_language(locale)]


def missing_opt_out_message(locale: str | None) -> str:
    name = LANGUAGE_NAMES[_language(locale)]
    return (f"No opt-out wording: add the STOP keyword in capitals, in {name} e.g. "
            f"\"{suggested_wording(locale)}\".")


def sms_warnings(body: str | None, locale: str | None) -> list[TemplateWarning]:
    """Warnings about an SMS template body: for now only missing opt-out wording."""
    if has_opt_out_wording(body or ""):
        return []
    return [TemplateWarning(NO_OPT_OUT, missing_opt_out_message(locale))]
