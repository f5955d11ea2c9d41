"""Idempotency-Key decisions: replay the stored answer, or refuse a reused key."""

from __future__ import annotations

import hashlib
import json


def fingerprint(scope: str, member_id: int, body: dict) -> str:
    """A stable hash of what was asked, so a reused key with another body is caught."""
    canonical = json.dumps({"scope": scope, "member": member_id, "body": body}, sort_keys=True,
                           separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def decide(stored_fingerprint: str, request_fingerprint: str) -> str:
    """'replay' for the same request again, 'conflict' for the key reused with another one."""
    return "replay" if stored_fingerprint == request_fingerprint else "conflict"
