"""Which channel a flow message may use for a member, and why not when none can."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from engage.vocabulary import Channel


@dataclass(frozen=True, kw_only=True)
class ContactState:
    """Everything about a member's reachability that decides whether a channel may be used."""

    phone: str | None = None
    email: str | None = None
    sms_consent: bool = False
    email_consent: bool = False
    sms_opted_out: bool = False
    email_opted_out: bool = False
    phone_suppressed: bool = False
    email_suppressed: bool = False
    phone_invalid: bool = False
    email_invalid: bool = False


@dataclass(frozen=True)
class ChannelChoice:
    """The channel to use, or None with the reason every preferred channel was refused."""

    channel: str | None
    reason: str | None = None


# Checked in this order so the reason names the strongest blocker: an explicit opt-out
# or suppression matters more to whoever reads the log than a missing consent.
_Rule = tuple[Callable[[ContactState], bool], str]
_RULES: dict[str, tuple[_Rule, ...]] = {
    Channel.SMS: (
        (lambda c: c.sms_opted_out, "opted out"),
        (lambda c: c.phone_suppressed, "number suppressed"),
        (lambda c: not (c.phone or "").strip(), "no phone number"),
        (lambda c: c.phone_invalid, "invalid phone number"),
        (lambda c: not c.sms_consent, "no consent"),
    ),
    Channel.EMAIL: (
        (lambda c: c.email_opted_out, "opted out"),
        (lambda c: c.email_suppressed, "address suppressed"),
        (lambda c: not (c.email or "").strip(), "no email address"),
        (lambda c: c.email_invalid, "invalid email address"),
        (lambda c: not c.email_consent, "no consent"),
    ),
}


def can_receive(channel: str, contact: ContactState) -> tuple[bool, str | None]:
    """Return (True, None) if `contact` may get a flow message on `channel`, else (False, why)."""
    rules = _RULES.get(channel)
    if rules is None:
        return False, "unsupported channel"
    for blocked, reason in rules:
        if blocked(contact):
            return False, reason
    return True, None


def choose_channel(preference: Sequence[str], contact: ContactState) -> ChannelChoice:
    """Return the first preferred channel the member can receive, or None with the reasons."""
    reasons: list[str] = []
    for channel in dict.fromkeys(preference):  # a repeated channel is reported once
        ok, reason = can_receive(channel, contact)
        if ok:
            return ChannelChoice(channel)
        reasons.append(f"{channel}: {reason}")
    return ChannelChoice(None, "; ".join(reasons) or "no channels configured")
