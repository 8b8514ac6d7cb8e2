"""Access tokens for a stored connection, refreshed by MSAL and saved back encrypted."""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

import msal

from bot.auth.msal_client import SIGN_IN_AGAIN_ERRORS, MsalClient
from bot.crypto import Cipher, DecryptionError
from bot.errors import NotConnected, ReconnectRequired, TokenServiceUnavailable
from bot.store.models import Connection
from bot.store.queries import SlackUser, Store

log = logging.getLogger(__name__)

PERSONAL_TENANT_ID = "9188040d-6c67-4c5b-b112-36a304b66dad"

# How a person is told why their sign-in stopped working, by MSAL error.
REASONS = {
    "invalid_grant": "the sign-in was revoked or has expired",
    "interaction_required": "Microsoft needs you to sign in again",
    "consent_required": "the app's permissions need your consent again",
    "login_required": "Microsoft needs you to sign in again",
    "no_refresh_token": "the stored sign-in is incomplete",
    "undecryptable": "the stored sign-in could not be read",
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


class TokenProvider:
    """Gets access tokens for a Slack user's connection, one refresh at a time per user."""

    def __init__(self, store: Store, cipher: Cipher, msal_client: MsalClient) -> None:
        self._store = store
        self._cipher = cipher
        self._msal = msal_client
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
            return await self._get_access_token(owner)

    async def _get_access_token(self, owner: SlackUser, attempt: int = 1) -> AccessToken:
        connection = await self._store.get_connection(owner)
        if connection is None:
            raise NotConnected("no connection stored")

        cache = msal.SerializableTokenCache()
        try:
            cache.deserialize(self._cipher.decrypt(connection.token_cache))
        except DecryptionError:
            log.warning("stored token cache does not decrypt; removing connection")
            await self._store.delete_connection(owner)
            raise ReconnectRequired(REASONS["undecryptable"]) from None

        result = await self._msal.acquire_token_silent(cache, connection.home_account_id)
        if result and "access_token" in result:
            if cache.has_state_changed:
                await self._save_cache(connection, cache)
            return AccessToken(result["access_token"], connection)

        error = (result or {}).get("error", "no_refresh_token")
        if error in SIGN_IN_AGAIN_ERRORS or result is None:
            # Another process may have rotated the refresh token since this one read it;
            # then the newer cache works and the connection is not dead.
            latest = await self._store.get_connection(owner)
            if latest and latest.cache_version != connection.cache_version and attempt < 3:
                log.info("token cache changed during refresh; retrying with the newer one")
                return await self._get_access_token(owner, attempt + 1)
            log.warning(
                "Microsoft rejected the stored sign-in (%s, codes %s); removing connection",
                error,
                _error_codes(result),
            )
            await self._store.delete_connection(owner)
            raise ReconnectRequired(REASONS.get(error, REASONS["invalid_grant"]), error)

        log.warning("token request failed: %s, codes %s", error, _error_codes(result))
        raise TokenServiceUnavailable(f"token endpoint answered {error}")

    async def _save_cache(self, connection: Connection, cache: msal.SerializableTokenCache) -> None:
        assert connection.id is not None
        saved = await self._store.save_token_cache(
            connection.id, self._cipher.encrypt(cache.serialize()), connection.cache_version
        )
        if saved:
            connection.cache_version += 1
        else:
            log.info("token cache was updated by another process first; keeping theirs")


def _error_codes(result: dict[str, Any] | None) -> list[int]:
    return list((result or {}).get("error_codes", []))
