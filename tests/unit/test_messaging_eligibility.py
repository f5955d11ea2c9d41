"""Channel eligibility: first receivable preferred channel, or the reason for each."""

from __future__ import annotations

from dataclasses import FrozenInstanceError, fields, replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engage.messaging.eligibility import ChannelChoice, ContactState, can_receive, choose_channel

REACHABLE = ContactState(
    phone="+31612345678", email="ann@example.com", sms_consent=True, email_consent=True
)


def test_first_preferred_channel_wins() -> None:
    assert choose_channel(["sms", "email"], REACHABLE) == ChannelChoice("sms", None)
    assert choose_channel(("email", "sms"), REACHABLE) == ChannelChoice("email", None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"sms_opted_out": True}, "opted out"),
        ({"phone_suppressed": True}, "number suppressed"),
        ({"phone": None}, "no phone number"),
        ({"phone": "  "}, "no phone number"),
        ({"phone_invalid": True}, "invalid phone number"),
        ({"sms_consent": False}, "no consent"),
    ],
)
def test_each_sms_blocker_falls_back_to_email(change: dict[str, object], reason: str) -> None:
    contact = replace(REACHABLE, **change)
    assert can_receive("sms", contact) == (False, reason)
    assert choose_channel(["sms", "email"], contact) == ChannelChoice("email", None)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"email_opted_out": True}, "opted out"),
        ({"email_suppressed": True}, "address suppressed"),
        ({"email": None}, "no email address"),
        ({"email_invalid": True}, "invalid email address"),
        ({"email_consent": False}, "no consent"),
    ],
)
def test_each_email_blocker(change: dict[str, object], reason: str) -> None:
    assert can_receive("email", replace(REACHABLE, **change)) == (False, reason)


def test_none_receivable_names_a_reason_per_channel_in_preference_order() -> None:
    contact = replace(REACHABLE, sms_opted_out=True, email_consent=False)
    assert choose_channel(["sms", "email"], contact) == ChannelChoice(
        None, "sms: opted out; email: no consent"
    )


def test_opt_out_is_named_before_weaker_reasons() -> None:
    contact = ContactState(sms_opted_out=True, phone_suppressed=True)
    assert can_receive("sms", contact) == (False, "opted out")
    assert can_receive("sms", replace(contact, sms_opted_out=False)) == (False, "number suppressed")


def test_empty_contact_and_odd_preferences() -> None:
    assert choose_channel(["sms", "email"], ContactState()) == ChannelChoice(
        None, "sms: no phone number; email: no email address"
    )
    assert choose_channel([], REACHABLE) == ChannelChoice(None, "no channels configured")
    assert choose_channel(["push"], REACHABLE) == ChannelChoice(None, "push: unsupported channel")
    assert choose_channel(["push", "email"], REACHABLE) == ChannelChoice("email", None)
    blocked = replace(REACHABLE, sms_opted_out=True)
    assert choose_channel(["sms", "sms"], blocked).reason == "sms: opted out"


def test_contact_state_is_frozen_and_keyword_only() -> None:
    with pytest.raises(FrozenInstanceError):
        REACHABLE.sms_consent = False  # type: ignore[misc]
    with pytest.raises(TypeError):
        ContactState("+31612345678")  # type: ignore[misc]


FLAGS = [f.name for f in fields(ContactState) if f.type in ("bool", bool)]
contacts = st.builds(
    ContactState,
    phone=st.sampled_from([None, "", "+31612345678"]),
    email=st.sampled_from([None, "ann@example.com"]),
    **{name: st.booleans() for name in FLAGS},
)


@given(contacts, st.lists(st.sampled_from(["sms", "email", "push"]), max_size=4))
def test_property_choice_agrees_with_can_receive(
    contact: ContactState, preference: list[str]
) -> None:
    choice = choose_channel(preference, contact)
    receivable = [ch for ch in preference if can_receive(ch, contact)[0]]
    assert choice.channel == (receivable[0] if receivable else None)
    assert (choice.reason is None) == (choice.channel is not None)


@given(contacts)
def test_property_opted_out_or_suppressed_never_gets_sms(contact: ContactState) -> None:
    ok, reason = can_receive("sms", contact)
    if contact.sms_opted_out or contact.phone_suppressed:
        assert not ok and reason in ("opted out", "number suppressed")
    if ok:
        assert contact.sms_consent and contact.phone and not contact.phone_invalid
