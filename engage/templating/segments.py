"""One way for templating to count SMS segments, whoever implements the counter."""

from __future__ import annotations

from typing import Any

try:  # The messaging package owns the rule; prefer it so previews match what is stored.
    from engage.messaging.segments import count_segments as _count_segments
except ImportError:  # pragma: no cover - depends on what else is installed
    from engage.templating.segments_fallback import count_segments as _count_segments


def sms_segments(text: str) -> int:
    """Segments `text` costs, whatever shape the underlying counter returns."""
    return _as_int(_count_segments(text))


def _as_int(result: Any) -> int:
    segments = getattr(result, "segments", None)
    if isinstance(segments, int):
        return segments
    if isinstance(result, int):
        return result
    if isinstance(result, (tuple, list)):
        return next(int(item) for item in result if isinstance(item, int))
    if isinstance(result, dict):
        return int(result["segments"])
    raise TypeError(f"unexpected segment count {result!r}")
