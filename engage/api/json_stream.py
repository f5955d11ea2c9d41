"""A JSON object written out piece by piece: its small members first, then its long lists a batch
at a time, so an answer of any length never sits in memory whole."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator

from marshmallow import Schema


def json_object(head: dict, lists: Iterable[tuple[str, Schema, Iterable[list]]]) -> Iterator[str]:
    """`head` (not empty) and then each (name, item schema, batches of items) as a list."""
    yield json.dumps(head)[:-1]
    for name, schema, batches in lists:
        yield f", {json.dumps(name)}: ["
        separator = ""
        for batch in batches:
            yield separator + ", ".join(json.dumps(item) for item in schema.dump(batch, many=True))
            separator = ", "
        yield "]"
    yield "}\n"
