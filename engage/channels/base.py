"""What the channel adapters share: classifying a network failure."""

from __future__ import annotations

import socket

from engage.outbox.ports import TRANSIENT, SendResult


def network_failure(exc: BaseException, timed_out: bool = False) -> SendResult:
    """Classify a timeout or connection error; both are worth a retry."""
    reason = getattr(exc, "reason", None)  # urllib's URLError wraps the socket error
    timed_out = timed_out or isinstance(exc, socket.timeout) or isinstance(reason, socket.timeout)
    code = "timeout" if timed_out else "connection"
    return SendResult.failed(TRANSIENT, code, f"{type(exc).__name__}: {exc}"[:500])
