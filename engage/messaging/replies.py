"""What an inbound message does, and which reply answers it (docs/messaging.md "Inbound replies").

Pure: the service (engage.services.inbound) looks up the facts (is a feedback request open,
is the member opted out) and carries out the decision.
"""

from __future__ import annotations

from dataclasses import dataclass

from engage.messaging.keywords import Inbound

# Twilio's OptOutType (Advanced Opt-Out only) names the keyword class Twilio recognised; a
# custom keyword configured there ("ARRET") is honoured as if the member had sent ours.
OPT_OUT_TYPES = {"STOP": "opt_out", "START": "opt_in", "HELP": "help"}

# action → reply template key (engage/templates/replies/<locale>/<key>.txt); None says nothing.
REPLY_KEY = {
    "opt_out": "opt_out",
    "opt_in": "opt_in",
    "help": "help",
    "balance": "balance",
    "feedback": "feedback_thanks",
    "reply": "reply_ack",
    "empty": None,
    "ignored": None,
}


@dataclass(frozen=True)
class Decision:
    """`action` is what the message does (stored on the inbound row as Message.action).

    `answer_always`: the answer goes out even to an opted-out or suppressed member (only the
    direct answer to their own STOP or HELP does). `earns`: reply points may be due.
    """

    action: str
    answer_always: bool = False
    earns: bool = False


def with_opt_out_type(inbound: Inbound, opt_out_type: str | None) -> Inbound:
    """Let Twilio's OptOutType override the keyword parsing when it names a keyword class."""
    kind = OPT_OUT_TYPES.get((opt_out_type or "").strip().upper())
    if kind is None or kind == inbound.kind:
        return inbound
    return Inbound(kind, inbound.text)  # type: ignore[arg-type]


def decide(inbound: Inbound, *, channel: str, feedback_open: bool, has_media: bool = False,
           automatic: bool = False) -> Decision:
    """The action for one inbound message.

    - STOP and synonyms opt out of the channel the message came on; HELP answers with help text,
      both regardless of opt-out.
    - START/YES/UNSTOP opt back in by SMS only. An email's From address can be forged, so an
      email saying START is an ordinary reply: only the member may lift an opt-out.
    - POINTS, REDEEM, REDEEM <offer keyword>: balance and redemption on either channel (answers go to the member's own
      stored number or address, never to whoever sent the message).
    - A rating or free text while a feedback request is open is feedback; anything else is a
      reply (reply points, capped). A picture without text counts as a reply; an empty message
      does nothing.
    - `automatic` (an auto-reply email: out-of-office, bounce) is stored and does nothing, so
      two robots never answer each other forever.
    """
    kind = inbound.kind
    if automatic:
        return Decision("ignored")
    if kind == "opt_out":
        return Decision("opt_out", answer_always=True)
    if kind == "help":
        return Decision("help", answer_always=True)
    if kind == "opt_in" and channel == "sms":
        return Decision("opt_in")
    if kind in ("balance", "redeem", "redeem_offer"):
        return Decision(kind)
    if kind == "empty" and not has_media:
        return Decision("empty")
    if feedback_open and kind in ("rating", "text"):
        return Decision("feedback")
    return Decision("reply", earns=True)
