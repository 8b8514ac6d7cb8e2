"""The one place that talks to MSAL, which is synchronous: every call runs in a worker thread.

MSAL binds a token cache to an application object, so a light application is built per call
around that connection's cache. All of them share one `requests` session and one discovery
cache, so the authority's metadata is fetched once per process.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import msal
import requests
from msal.exceptions import MsalServiceError

from bot.config import Settings

log = logging.getLogger(__name__)

# Errors after which the stored refresh token can never work again: the person must sign in.
# https://learn.microsoft.com/entra/identity-platform/reference-error-codes
SIGN_IN_AGAIN_ERRORS = frozenset(
    {"invalid_grant", "interaction_required", "consent_required", "login_required"}
)

# MSAL treats an access token with less than 5 minutes left as expired, in msal 1.x's
# ClientApplication._acquire_token_silent_from_cache_and_possibly_refresh_it. The extra
# minute keeps this check on the safe side of MSAL's.
REFRESH_MARGIN_SECONDS = 6 * 60

# The scopes MSAL adds itself and rejects when a caller passes them.
RESERVED_SCOPES = frozenset({"openid", "profile", "offline_access"})


class MsalClient:
    """Builds MSAL applications and runs their calls off the event loop."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session = requests.Session()
        if not os.environ.get("REQUESTS_CA_BUNDLE") and os.environ.get("SSL_CERT_FILE"):
            # requests reads REQUESTS_CA_BUNDLE only; honour SSL_CERT_FILE like httpx does.
            self._session.verify = os.environ["SSL_CERT_FILE"]
        self._http_cache: dict[Any, Any] = {}
        self.scopes = [scope for scope in settings.scopes if scope not in RESERVED_SCOPES]

    def build(
        self, cache: msal.SerializableTokenCache | None = None
    ) -> msal.ConfidentialClientApplication:
        settings = self._settings
        return msal.ConfidentialClientApplication(
            settings.ms_client_id,
            client_credential=settings.ms_client_secret.get_secret_value(),
            authority=settings.authority,
            token_cache=cache,
            http_client=self._session,
            http_cache=self._http_cache,
            timeout=settings.http_timeout_seconds,
            # Instance discovery asks a Microsoft host about the authority; with a
            # non-Microsoft authority host it would send requests elsewhere.
            instance_discovery=None if settings.is_microsoft_authority else False,
        )

    async def initiate_auth_code_flow(self, redirect_uri: str) -> dict[str, Any]:
        def work() -> dict[str, Any]:
            return self.build().initiate_auth_code_flow(
                self.scopes, redirect_uri=redirect_uri, prompt="select_account"
            )

        return await asyncio.to_thread(work)

    async def redeem_auth_code(
        self, flow: dict[str, Any], auth_response: dict[str, str]
    ) -> tuple[dict[str, Any], msal.SerializableTokenCache]:
        """Redeem the code in the redirect; return MSAL's result and the filled cache."""

        def work() -> tuple[dict[str, Any], msal.SerializableTokenCache]:
            cache = msal.SerializableTokenCache()
            app = self.build(cache)
            try:
                result = app.acquire_token_by_auth_code_flow(flow, auth_response)
            except ValueError:
                # MSAL raises on a state mismatch or a malformed flow.
                result = {"error": "invalid_request", "error_description": "flow mismatch"}
            except RuntimeError:
                # MSAL raises when the id token's nonce does not match the flow's.
                result = {"error": "invalid_id_token", "error_description": "nonce mismatch"}
            except (requests.RequestException, MsalServiceError) as exc:
                result = _network_error(exc)
            return result, cache

        return await asyncio.to_thread(work)

    def has_fresh_access_token(
        self, cache: msal.SerializableTokenCache, home_account_id: str
    ) -> bool:
        """Return whether MSAL can return a token from the cache without the token endpoint."""
        now = time.time()
        entries = cache.search(
            cache.CredentialType.ACCESS_TOKEN,
            target=self.scopes,
            query={"home_account_id": home_account_id},
        )
        for entry in entries:
            expires_on = int(entry.get("expires_on", 0))
            refresh_on = int(entry.get("refresh_on", expires_on))
            if expires_on - now > REFRESH_MARGIN_SECONDS and refresh_on > now:
                return True
        return False

    def acquire_token_silent_sync(
        self, cache: msal.SerializableTokenCache, home_account_id: str
    ) -> dict[str, Any]:
        """Return MSAL's result for the account in the cache, refreshing it when needed.

        Blocking; the caller runs it in a worker thread. The result has `access_token` or
        `error`: `no_account` and `no_refresh_token` when the cache cannot yield a token,
        `token_endpoint_error` when the refresh failed without a usable error.
        """
        app = self.build(cache)
        accounts = app.get_accounts()
        account = next((a for a in accounts if a.get("home_account_id") == home_account_id), None)
        if account is None:
            return {"error": "no_account"}
        try:
            result = app.acquire_token_silent_with_error(self.scopes, account)
        except (requests.RequestException, MsalServiceError) as exc:
            return _network_error(exc)
        except Exception as exc:
            # MSAL trusts the token endpoint's body: garbled JSON or an unexpected shape
            # surfaces as ValueError, TypeError, AttributeError and the like.
            log.warning("MSAL failed on the token endpoint's response: %s", type(exc).__name__)
            return {"error": "token_endpoint_error"}
        if result and ("access_token" in result or "error" in result):
            return dict(result)
        if not cache.search(
            cache.CredentialType.REFRESH_TOKEN, query={"home_account_id": home_account_id}
        ):
            return {"error": "no_refresh_token"}
        # A refresh token exists but MSAL produced nothing, as after a 429 or an empty body.
        return {"error": "token_endpoint_error"}


def _network_error(exc: Exception) -> dict[str, Any]:
    """Turn a failed exchange with the identity platform into an MSAL-style error dict.

    MSAL raises `MsalServiceError` for 5xx responses and lets `requests` errors through.
    """
    return {"error": "network_error", "error_description": type(exc).__name__}
