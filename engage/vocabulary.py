"""The service's words: message statuses, channels, directions and ledger kinds, and the sets of
statuses the rules ask about, each named once here.

Members are strings (StrEnum): they compare equal to their value and are stored as it, so the
String columns hold the same text as before and rows read back as plain strings still match.
"""

from __future__ import annotations

from enum import StrEnum


class MessageStatus(StrEnum):
    SCHEDULED = "scheduled"  # a flow message due later; rendered, and its channel chosen, when due
    QUEUED = "queued"  # rendered, waiting for its send time (quiet hours, caps, retry backoff)
    SENDING = "sending"  # claimed by a dispatcher
    SENT = "sent"
    DELIVERED = "delivered"
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the member could receive it on no channel
    SKIPPED = "skipped"  # it lost its point while it waited
    UNKNOWN = "unknown"  # an ambiguous attempt not yet settled with the provider
    RECEIVED = "received"  # an inbound message


class Channel(StrEnum):
    SMS = "sms"
    EMAIL = "email"


class Direction(StrEnum):
    OUT = "out"
    IN = "in"


class LedgerKind(StrEnum):
    EARN = "earn"
    REDEEM = "redeem"
    DONATE = "donate"
    EXPIRE = "expire"
    ADJUST = "adjust"


# Tuples, not sets: some are written into hand-written SQL, whose text should not vary by run.
WAITING: tuple[MessageStatus, ...] = (MessageStatus.QUEUED,)
PENDING: tuple[MessageStatus, ...] = (MessageStatus.SCHEDULED, MessageStatus.QUEUED)  # not sent yet
# Went out, or is going out right now: counts toward the caps and can be answered.
WENT_OUT: tuple[MessageStatus, ...] = (MessageStatus.SENDING, MessageStatus.SENT, MessageStatus.DELIVERED,
                                       MessageStatus.UNKNOWN)
# Written and not dropped: will go out or went out (one such feedback request spaces the next).
PENDING_OR_WENT_OUT: tuple[MessageStatus, ...] = PENDING + WENT_OUT
# Dropped before sending: never goes out, and no delivery report moves it on.
DROPPED: tuple[MessageStatus, ...] = (MessageStatus.SUPPRESSED, MessageStatus.SKIPPED)
