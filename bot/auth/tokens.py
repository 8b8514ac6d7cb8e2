"""Access tokens for a stored connection, refreshed by MSAL and saved back encrypted.

When the cached access token is fresh, MSAL returns it from the decrypted cache and nothing
is written. Otherwise the refresh runs while the connection's row is locked. So one refresh
happens at a time per person, across processes too, and a rotated refresh token is never
lost to a concurrent refresh that still had the old one.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from dataclasses import dataclass
from typing import Any

import msal

from bot.auth.msal_client import REFRESH_MARGIN_SECONDS, SIGN_IN_AGAIN_ERRORS, MsalClient
from bot.crypto import Cipher, DecryptionError, digest
from bot.errors import (
    NotConnected,
    ReconnectRequired,
    SignInUnreadable,
    TokenServiceUnavailable,
)
from bot.store.models import Connection
from bot.store.queries import ConnectionUpdate, SlackUser, Store

log = logging.getLogger(__name__)

PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

# Errors after which the stored connection can never yield a token again.
DEAD_CONNECTION_ERRORS = SIGN_IN_AGAIN_ERRORS | {"no_account", "no_refresh_token"}

# The reason shown to a person whose sign-in stopped working, by MSAL error.
REASONS = {
    "invalid_grant": "the sign-in was revoked or has expired",
    "interaction_required": "Microsoft needs you to sign in again",
    "consent_required": "the app's permissions need your consent again",
    "login_required": "Microsoft needs you to sign in again",
    "no_refresh_token": "the stored sign-in is incomplete",
    "no_account": "the stored sign-in is incomplete",
    "tenant_not_allowed": "this workspace no longer allows accounts of your organization",
}


@dataclass(frozen=True)
class AccessToken:
    """A bearer token for Graph and the connection it was issued for."""

    token: str
    connection: Connection

    @property
    def is_personal_account(self) -> bool:
        return self.connection.tenant_id == PERSONAL_TENANT_ID

    def __repr__(self) -> str:
        return f"AccessToken(<hidden>, connection_id={self.connection.id})"


@dataclass(frozen=True)
class _Refreshed:
    """The outcome of a refresh: a token, or the MSAL error that prevented one."""

    token: str = ""
    error: str = ""
    error_codes: tuple[int, ...] = ()


@dataclass(frozen=True)
class _RecentToken:
    """An access token and the digest of the encrypted cache it was read from."""

    token: str
    cache_digest: str
    expires_at: float

    def matches(self, connection: Connection) -> bool:
        """Return whether the token came from this very cache and is still fresh for MSAL.

        Fernet output differs on every write, so an equal digest means the same cache,
        never a newer one or another account's.
        """
        return (
            digest(connection.token_cache) == self.cache_digest
            and self.expires_at - time.time() > REFRESH_MARGIN_SECONDS
        )

    def __repr__(self) -> str:
        return "_RecentToken(<hidden>)"


class TokenProvider:
    """Gets access tokens for a Slack user's connection."""

    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        msal_client: MsalClient,
        allowed_tenants: frozenset[str] = frozenset(),
    ) -> None:
        self._store = store
        self._allowed_tenants = allowed_tenants
        self._cipher = cipher
        self._msal = msal_client
        # The last token handed out per person, with the cache version it came from, so a
        # command reuses it without decrypting the cache, while the row still proves that
        # the connection exists and has not changed.
        self._recent: dict[SlackUser, _RecentToken] = {}
        # One lock per person while someone waits on it, so concurrent commands refresh once.
        self._locks: weakref.WeakValueDictionary[SlackUser, asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    async def get_access_token(self, owner: SlackUser) -> AccessToken:
        """Return a valid access token, or raise NotConnected or ReconnectRequired."""
        lock = self._locks.get(owner)
        if lock is None:
            lock = self._locks[owner] = asyncio.Lock()
        async with lock:
            connection = await self._store.get_connection(owner)
            if connection is None:
                raise NotConnected("no connection stored")
            if self._allowed_tenants and connection.tenant_id.lower() not in self._allowed_tenants:
                # ALLOWED_TENANTS changed after this person connected.
                log.warning(
                    "connection of tenant %s is not allowed; removing it", connection.tenant_id
                )
                await self._store.delete_connection(owner)
                raise ReconnectRequired(REASONS["tenant_not_allowed"], "tenant_not_allowed")
            recent = self._recent.get(owner)
            if recent is not None and recent.matches(connection):
                return AccessToken(recent.token, connection)
            cached = await asyncio.to_thread(self._cached_token, connection)
            if cached is not None:
                self._recent[owner] = cached
                return AccessToken(cached.token, connection)
            self._recent.pop(owner, None)
            return await self._refresh(owner)

    def _cached_token(self, connection: Connection) -> _RecentToken | None:
        """Return a fresh access token from the stored cache without any network call.

        Runs in a worker thread, because decryption and MSAL's cache search are CPU work.
        """
        cache = self._load_cache(connection)
        if cache is None or not self._msal.has_fresh_access_token(
            cache, connection.home_account_id
        ):
            return None
        result = self._msal.acquire_token_silent_sync(cache, connection.home_account_id)
        if "access_token" in result and not cache.has_state_changed:
            expires_at = time.time() + int(result.get("expires_in", 0))
            return _RecentToken(
                str(result["access_token"]), digest(connection.token_cache), expires_at
            )
        return None

    async def _refresh(self, owner: SlackUser) -> AccessToken:
        update = await self._store.update_connection_locked(owner, self._refresh_locked)
        if update is None:
            raise NotConnected("connection removed during refresh")
        connection, refreshed = update.value
        if refreshed.token:
            return AccessToken(refreshed.token, connection)
        if update.delete:
            log.warning(
                "Microsoft rejected the stored sign-in (%s, codes %s); connection removed",
                refreshed.error,
                list(refreshed.error_codes),
            )
            reason = REASONS.get(refreshed.error, REASONS["invalid_grant"])
            raise ReconnectRequired(reason, refreshed.error)
        if refreshed.error == "undecryptable":
            log.error(
                "stored token cache does not decrypt with TOKEN_ENCRYPTION_KEY; check the keys"
            )
            raise SignInUnreadable("token cache does not decrypt")
        log.warning(
            "token request failed: %s, codes %s", refreshed.error, list(refreshed.error_codes)
        )
        raise TokenServiceUnavailable(f"token endpoint returned {refreshed.error}")

    def _refresh_locked(
        self, connection: Connection
    ) -> ConnectionUpdate[tuple[Connection, _Refreshed]]:
        """Refresh with the newest stored cache; runs in a worker thread under the row lock."""
        cache = self._load_cache(connection)
        if cache is None:
            # A wrong or missing key must not erase everyone's sign-in, so the row stays.
            return ConnectionUpdate((connection, _Refreshed(error="undecryptable")))

        result = self._msal.acquire_token_silent_sync(cache, connection.home_account_id)
        if "access_token" in result:
            new_cache = self._cipher.encrypt(cache.serialize()) if cache.has_state_changed else None
            return ConnectionUpdate(
                (connection, _Refreshed(token=result["access_token"])), token_cache=new_cache
            )

        error = str(result.get("error"))
        refreshed = _Refreshed(error=error, error_codes=_error_codes(result))
        return ConnectionUpdate((connection, refreshed), delete=error in DEAD_CONNECTION_ERRORS)

    def _load_cache(self, connection: Connection) -> msal.SerializableTokenCache | None:
        cache = msal.SerializableTokenCache()
        try:
            cache.deserialize(self._cipher.decrypt(connection.token_cache))
        except DecryptionError:
            log.warning("stored token cache does not decrypt with any configured key")
            return None
        return cache


def _error_codes(result: dict[str, Any]) -> tuple[int, ...]:
    return tuple(result.get("error_codes", []))
