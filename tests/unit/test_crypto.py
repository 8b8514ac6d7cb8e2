from __future__ import annotations

import pytest

from bot.crypto import Cipher, DecryptionError, digest, generate_key


def test_cipher_round_trip() -> None:
    cipher = Cipher([generate_key().encode()])
    token = cipher.encrypt("refresh-token-value")
    assert "refresh-token-value" not in token
    assert cipher.decrypt(token) == "refresh-token-value"


def test_cipher_key_rotation() -> None:
    old, new = generate_key().encode(), generate_key().encode()
    stored = Cipher([old]).encrypt("cache")
    assert Cipher([new, old]).decrypt(stored) == "cache"


def test_cipher_wrong_key_raises() -> None:
    stored = Cipher([generate_key().encode()]).encrypt("cache")
    with pytest.raises(DecryptionError):
        Cipher([generate_key().encode()]).decrypt(stored)


def test_digest_is_stable_hex() -> None:
    assert digest("abc") == digest("abc")
    assert len(digest("abc")) == 64
