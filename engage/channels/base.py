"""What the channel adapters share: telling a failed call that never reached the provider from one
that may have.

Only an answer that proves the provider did not take the message may be retried: the connection
was refused (or never opened) before the request was written, or an error status whose body was
read in full. Anything else — a timeout waiting for the answer, a connection lost after the request
was written, an answer we could not read — is ambiguous: the provider may hold the message, so the
outbox reconciles it instead of sending it again.
"""

from __future__ import annotations

from engage.outbox.ports import AMBIGUOUS, TRANSIENT, SendResult


def _text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:500]


def not_taken(exc: BaseException, code: str) -> SendResult:
    """The request never reached the provider: worth a retry."""
    return SendResult.failed(TRANSIENT, code, _text(exc))


def ambiguous(exc: BaseException, code: str) -> SendResult:
    """The provider may have taken the message: reconcile, never resend blindly."""
    return SendResult.failed(AMBIGUOUS, code, _text(exc))
