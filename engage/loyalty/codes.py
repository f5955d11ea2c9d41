"""Unguessable codes: coupon codes, referral codes, unsubscribe tokens, API keys."""

from __future__ import annotations

import hashlib
import secrets

# Crockford-style alphabet: no I, L, O, U, so codes survive being read aloud or typed.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def random_code(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def coupon_code() -> str:
    """80 random bits in four groups, e.g. ENG-7K3Q-W9XD-2M4P-HF6R."""
    raw = random_code(16)
    return "ENG-" + "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def referral_code() -> str:
    return random_code(8)


def token() -> str:
    return secrets.token_urlsafe(24)


def api_key() -> str:
    return "egk_" + secrets.token_urlsafe(32)


def key_hash(key: str) -> str:
    """Keys carry 256 random bits, so a fast hash is enough (no password stretching needed)."""
    return hashlib.sha256(key.encode()).hexdigest()
