"""A channel that prints instead of sending, so Engage works with no provider account."""

from __future__ import annotations

import sys
import threading
from datetime import datetime
from typing import TextIO

from engage.outbox.ports import Lookup, OutboundMessage, ProviderCopy, SendResult


class ConsoleChannel:
    """Prints each message as a readable block and remembers it in `sent`."""

    def __init__(self, name: str, stream: TextIO | None = None) -> None:
        self.name = name
        # Resolved per write when None, so pytest's capsys (which swaps sys.stdout) sees it.
        self._stream = stream
        self.sent: list[OutboundMessage] = []
        self._lock = threading.Lock()

    def send(self, message: OutboundMessage) -> SendResult:
        """Record and print the message; always succeeds."""
        block = format_message(self.name, message)
        with self._lock:  # one block at a time, even from many dispatcher threads
            self.sent.append(message)
            stream = self._stream or sys.stdout
            stream.write(block)
            stream.flush()
        return SendResult.sent(f"console-{message.id}")

    def find(self, message: OutboundMessage, since: datetime) -> Lookup:
        """What this process printed for that message id (a restarted process remembers nothing)."""
        with self._lock:
            printed = any(m.id == message.id for m in self.sent)
        return Lookup.found([ProviderCopy(f"console-{message.id}", "sent")] if printed else [])

    def close(self) -> None:
        """Nothing to release."""

    def clear(self) -> None:
        """Forget what was sent (tests, demo resets)."""
        with self._lock:
            self.sent.clear()


def format_message(channel: str, message: OutboundMessage) -> str:
    """A human-readable block: header lines, a blank line, the body."""
    lines = [f"----- {channel} message #{message.id} -----", f"To: {message.to}"]
    if message.subject is not None:
        lines.append(f"Subject: {message.subject}")
    if message.unsubscribe_url:
        lines.append(f"List-Unsubscribe: <{message.unsubscribe_url}>")
    lines += ["", message.body, "-" * 40, ""]
    return "\n".join(lines) + "\n"
