"""Encryption at rest for MSAL token caches and pending auth code flows.

MultiFernet encrypts with the first configured key and decrypts with any of them, so a key
can be rotated by putting a new one first and keeping the old one until every row has been
rewritten.
"""

from __future__ import annotations

import hashlib

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class DecryptionError(Exception):
    """A stored value could not be decrypted with any configured key."""


class Cipher:
    """Encrypts and decrypts strings with the configured Fernet keys."""

    def __init__(self, keys: list[bytes]) -> None:
        if not keys:
            raise ValueError("at least one Fernet key is required")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode()
        except (InvalidToken, UnicodeError):
            raise DecryptionError("stored value does not decrypt with any configured key") from None

    def __repr__(self) -> str:
        return "Cipher(<keys hidden>)"


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def digest(secret: str) -> str:
    """Return the SHA-256 hex digest under which a secret link id or `state` is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()
