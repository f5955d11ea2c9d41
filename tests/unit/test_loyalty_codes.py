"""Unguessable codes: coupon and referral codes, tokens, API keys and their hashes."""

from __future__ import annotations

import hashlib
import re

from engage.loyalty.codes import (
    ALPHABET,
    api_key,
    coupon_code,
    key_hash,
    random_code,
    referral_code,
    token,
)

COUPON = re.compile(r"^ENG-[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")


def test_alphabet_is_crockford_without_confusable_letters():
    assert len(ALPHABET) == 32  # 5 bits per character
    assert len(set(ALPHABET)) == 32
    assert not set("ILOU") & set(ALPHABET)
    assert ALPHABET == ALPHABET.upper()


def test_coupon_code_format():
    for _ in range(200):
        code = coupon_code()
        assert COUPON.match(code), code
        assert len(code) == 23
        assert set(code[4:].replace("-", "")) <= set(ALPHABET)


def test_coupon_codes_unique_over_10k_draws():
    codes = [coupon_code() for _ in range(10_000)]
    assert len(set(codes)) == len(codes)
    assert all(COUPON.match(code) for code in codes)


def test_coupon_codes_use_the_whole_alphabet():
    seen = set("".join(coupon_code()[4:].replace("-", "") for _ in range(500)))
    assert seen == set(ALPHABET)


def test_random_code_length_and_alphabet():
    for length in (0, 1, 8, 40):
        code = random_code(length)
        assert len(code) == length
        assert set(code) <= set(ALPHABET)


def test_referral_codes():
    codes = {referral_code() for _ in range(2000)}
    assert len(codes) == 2000
    assert all(len(c) == 8 and set(c) <= set(ALPHABET) for c in codes)


def test_tokens_are_url_safe_and_unique():
    tokens = {token() for _ in range(1000)}
    assert len(tokens) == 1000
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{32}", t) for t in tokens)


def test_api_keys():
    keys = {api_key() for _ in range(1000)}
    assert len(keys) == 1000
    assert all(re.fullmatch(r"egk_[A-Za-z0-9_-]{43}", k) for k in keys)


def test_key_hash_is_sha256_and_deterministic():
    key = api_key()
    assert key_hash(key) == hashlib.sha256(key.encode()).hexdigest()
    assert key_hash(key) == key_hash(key)
    assert key_hash(key) != key_hash(key + "x")
    assert len(key_hash(key)) == 64
