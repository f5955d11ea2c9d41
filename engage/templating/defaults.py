"""Default templates shipped in engage/templates, and the locale fallback that picks one.

Layout: flows/<flow>/<locale>/{sms.txt,email_subject.txt,email.html,email.txt},
layouts/email.html (the HTML shell every flow's email.html is put into, one for all locales) with
layouts/<locale>/email_footer.html (its footer line in that language), and
replies/<locale>/<key>.txt.
"""

from __future__ import annotations

import functools
import re
from importlib import resources
from importlib.resources.abc import Traversable

from engage.vocabulary import Channel

SUPPORTED_LOCALES = ("en", "nl", "de", "ro")
FALLBACK_LOCALE = "en"
FLOW_KEYS = (
    "welcome",
    "redemption_reminder",
    "expiry_warning",
    "tier_congratulations",
    "feedback_request",
    "membership_renewal",
    "challenge_progress",
    "offer",
)
REPLY_KEYS = (
    "opt_out",
    "opt_out_email",  # STOP by email opts out of email only, and START by email does not undo it
    "opt_in",
    "help",
    "balance",
    "redeem_ok",
    "redeem_none",
    "offer_refused",  # REDEEM <keyword> that cannot be had: offer_problem says why
    "feedback_thanks",
    "reply_ack",
    "not_member",
    "challenge_joined",  # a keyword text joined a challenge
)
CHANNEL_FILES: dict[str, dict[str, str]] = {
    Channel.SMS: {"body": "sms.txt"},
    Channel.EMAIL: {"subject": "email_subject.txt", "html": "email.html", "text": "email.txt"},
}
# Not a flow: the shell of every flow's email HTML, with its own locales and saved versions
# (stored under this flow key), carried to rendering as this part of an email's parts.
LAYOUT = "layout"
LAYOUT_FILES: dict[str, dict[str, str]] = {"email": {"html": "email.html"}}
_LOCALE_TAG = re.compile(r"[a-z]{2,3}(?:_[A-Za-z0-9]{2,8})*")


class UnknownTemplateError(LookupError):
    """No default template exists for that flow, channel or reply key."""


@functools.lru_cache(maxsize=256)  # pure, and asked several times for every message and answer
def normalize_locale(locale: str | None) -> str:
    """'nl-be' → 'nl_BE'; anything that is not a locale tag → '' (it also names a folder)."""
    parts = (locale or "").strip().replace("-", "_").split("_")
    language = parts[0].lower()
    rest = [part.upper() if len(part) == 2 else part for part in parts[1:]]
    tag = "_".join([language, *rest])
    return tag if _LOCALE_TAG.fullmatch(tag) else ""


def locale_chain(locale: str | None, program_locale: str | None = None) -> tuple[str, ...]:
    """Locales to try in order: exact, its language, the program's default (same), English."""
    chain: list[str] = []
    for tag in (locale, program_locale):
        exact = normalize_locale(tag)
        chain += [exact, exact.split("_")[0]]
    chain.append(FALLBACK_LOCALE)
    return tuple(dict.fromkeys(tag for tag in chain if tag))


@functools.lru_cache(maxsize=256)  # pure over a few locale tags; every SMS answer asks
def resolve_locale(locale: str | None, program_locale: str | None = None) -> str:
    """The first locale in the chain that has default templates."""
    return next(tag for tag in locale_chain(locale, program_locale) if _has_locale(tag))


def default_template(
    flow: str, channel: str, locale: str | None, *, program_locale: str | None = None
) -> dict[str, str]:
    """Default parts of a flow template: sms → {"body"}, email → {"subject", "html", "text"};
    of the LAYOUT: email → {"html"}."""
    if flow == LAYOUT and channel in LAYOUT_FILES:
        return {"html": _shipped_layout(channel, resolve_locale(locale, program_locale))}
    if flow in FLOW_KEYS and channel in CHANNEL_FILES:
        folder, files = _root() / "flows" / flow, CHANNEL_FILES[channel]
    else:
        raise UnknownTemplateError(f"no default template for {flow!r} over {channel!r}")
    folder = folder / resolve_locale(locale, program_locale)
    return {part: _read(folder / name) for part, name in files.items()}


@functools.lru_cache(maxsize=512)  # every inbound SMS answer reads one: skip the path lookups
def reply_text(key: str, locale: str | None, *, program_locale: str | None = None) -> str:
    """Template source of the reply to an inbound SMS keyword (see REPLY_KEYS)."""
    if key not in REPLY_KEYS:
        raise UnknownTemplateError(f"no reply template {key!r}")
    return _read(_root() / "replies" / resolve_locale(locale, program_locale) / f"{key}.txt")


@functools.lru_cache(maxsize=16)
def _shipped_layout(channel: str, locale: str) -> str:
    """The shipped layout: one shell for every locale, with the locale's tag and footer line put in
    (the only words that differ), so the shell is written once."""
    folder = _root() / "layouts"
    footer = _read(folder / locale / f"{channel}_footer.html").strip()
    return (_read(folder / LAYOUT_FILES[channel]["html"])
            .replace("@@lang@@", locale, 1).replace("@@footer@@", footer, 1))


def _root() -> Traversable:
    return resources.files("engage") / "templates"


@functools.lru_cache(maxsize=32)
def _has_locale(locale: str) -> bool:
    return (_root() / "replies" / locale).is_dir()


@functools.lru_cache(maxsize=256)
def _read(path: Traversable) -> str:
    # Files end with a newline for editors' sake; the message should not.
    return path.read_text(encoding="utf-8").rstrip("\n")
