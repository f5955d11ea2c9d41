"""Pure messaging rules: segments, quiet hours, caps, keywords, phones, channel eligibility.

Nothing here touches Flask, the database or the clock; `now` is always passed in.
"""

from engage.messaging.caps import (
    PRIORITY,
    Pending,
    flow_priority,
    next_capped_slot,
    plan_sms_slots,
    slot_still_holds,
)
from engage.messaging.eligibility import ChannelChoice, ContactState, can_receive, choose_channel
from engage.messaging.keywords import Inbound, classify, clean_body
from engage.messaging.phones import InvalidPhoneNumber, normalize_phone
from engage.messaging.quiet_hours import in_quiet_hours, sms_send_time
from engage.messaging.segments import SegmentCount, count_segments, is_gsm7, split_segments

__all__ = [
    "PRIORITY",
    "ChannelChoice",
    "ContactState",
    "Inbound",
    "InvalidPhoneNumber",
    "Pending",
    "SegmentCount",
    "can_receive",
    "choose_channel",
    "classify",
    "clean_body",
    "count_segments",
    "flow_priority",
    "in_quiet_hours",
    "is_gsm7",
    "next_capped_slot",
    "normalize_phone",
    "plan_sms_slots",
    "slot_still_holds",
    "sms_send_time",
    "split_segments",
]
