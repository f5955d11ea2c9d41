"""JSON from outside, read so that no input can turn into a 500.

CPython's decoder recurses once per nesting level, so a body of ~1,000 `[` raises RecursionError,
which callers that catch ValueError for malformed JSON let through. And PostgreSQL text cannot
hold NUL (U+0000), which JSON may carry as `\\u0000`: SQLite would store it and PostgreSQL fail
on it, so it is refused up front, on both.
"""

from __future__ import annotations

import json
from typing import Any

NUL = "\x00"
NUL_MESSAGE = "Text may not contain the NUL character (\\u0000)."


def loads(text: str | bytes) -> Any:
    """json.loads whose too-deep nesting is a JSONDecodeError (a ValueError) like any bad JSON."""
    try:
        return json.loads(text)
    except RecursionError:
        doc = text if isinstance(text, str) else text.decode("utf-8", "replace")
        raise json.JSONDecodeError("JSON nested too deeply", doc, 0) from None


def shown(name: str) -> str:
    """A field name as an error may print it: its NULs written as JSON writes them."""
    return name.replace(NUL, "\\u0000")


def nuls_in(text: str, value: Any) -> list[str]:
    """Dotted paths of the strings (keys included) in `value`, parsed from the JSON `text`, that
    hold a NUL. JSON can only carry one escaped, so the parsed value is walked only then."""
    return _nul_paths(value) if "\\u0000" in text else []


def _nul_paths(value: Any) -> list[str]:
    found: list[str] = []
    stack = [("", value)]
    while stack:  # iterative: the nesting depth is the client's choice
        where, item = stack.pop()
        if isinstance(item, str):
            if NUL in item:
                found.append(where or "_body")
        elif isinstance(item, dict):
            for key, child in item.items():
                child_path = f"{where}.{key}" if where else str(key)
                if NUL in key:
                    found.append(shown(child_path))
                else:
                    stack.append((child_path, child))
        elif isinstance(item, list):
            stack.extend((f"{where}.{n}" if where else str(n), child) for n, child in enumerate(item))
    return sorted(found)
