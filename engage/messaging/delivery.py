"""Provider delivery reports mapped onto our message statuses (pure).

Statuses only move forward: a late `sent` callback never undoes `delivered`.
"""

from __future__ import annotations

RANK = {"scheduled": 0, "queued": 0, "sending": 1, "unknown": 1, "sent": 2, "delivered": 3, "failed": 3}

TWILIO = {
    "accepted": "sent", "queued": "sent", "scheduled": "sent", "sending": "sent", "sent": "sent",
    "delivered": "delivered", "read": "delivered",
    "undelivered": "failed", "failed": "failed", "canceled": "failed",
}

# SendGrid event → (status or None, suppress the address?, opt the member out of email?)
SENDGRID = {
    "processed": ("sent", False, False),
    "deferred": (None, False, False),
    "delivered": ("delivered", False, False),
    "open": ("delivered", False, False),
    "click": ("delivered", False, False),
    "bounce": ("failed", True, False),
    "dropped": ("failed", True, False),
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
    if current in ("suppressed", "skipped"):
        return False
    return RANK.get(new, -1) > RANK.get(current, -1)


def twilio_status(reported: str) -> str | None:
    return TWILIO.get((reported or "").lower())


def sendgrid_effect(event: str) -> tuple[str | None, bool, bool]:
    return SENDGRID.get((event or "").lower(), (None, False, False))
