"""Provider delivery reports mapped onto our message statuses (pure).

Statuses only move forward: a late `sent` callback never undoes `delivered`.
"""

from __future__ import annotations

from engage.vocabulary import DROPPED, MessageStatus

# How far a message has gone; a report moves it only further.
RANK = {MessageStatus.SCHEDULED: 0, MessageStatus.QUEUED: 0, MessageStatus.SENDING: 1,
        MessageStatus.UNKNOWN: 1, MessageStatus.SENT: 2, MessageStatus.DELIVERED: 3, MessageStatus.FAILED: 3}

# Twilio's MessageStatus → ours.
TWILIO = {
    **dict.fromkeys(("accepted", "queued", "scheduled", "sending", "sent"), MessageStatus.SENT),
    **dict.fromkeys(("delivered", "read"), MessageStatus.DELIVERED),
    **dict.fromkeys(("undelivered", "failed", "canceled"), MessageStatus.FAILED),
}

# SendGrid event → (status or None, suppress the address?, opt the member out of email?)
SENDGRID = {
    "processed": (MessageStatus.SENT, False, False),
    "deferred": (None, False, False),
    "delivered": (MessageStatus.DELIVERED, False, False),
    "open": (MessageStatus.DELIVERED, False, False),
    "click": (MessageStatus.DELIVERED, False, False),
    "bounce": (MessageStatus.FAILED, True, False),
    "dropped": (MessageStatus.FAILED, True, False),
    "spamreport": (None, True, True),
    "unsubscribe": (None, False, True),
    "group_unsubscribe": (None, False, True),
    "group_resubscribe": (None, False, False),
}

# Twilio error codes on a status callback that mean "never text this number again".
TWILIO_OPT_OUT_CODES = {"21610"}
TWILIO_INVALID_CODES = {"21211", "21614", "30005", "30006"}


def moves_forward(current: str, new: str) -> bool:
    """Whether a report may change `current` into `new`."""
    if current in DROPPED:
        return False
    return RANK.get(new, -1) > RANK.get(current, -1)


def twilio_status(reported: str) -> MessageStatus | None:
    return TWILIO.get((reported or "").lower())


def sendgrid_effect(event: str) -> tuple[MessageStatus | None, bool, bool]:
    return SENDGRID.get((event or "").lower(), (None, False, False))
