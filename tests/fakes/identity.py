"""Fake Microsoft identity platform (v2.0 endpoints) that the real msal library accepts.

Routes, for any tenant segment (common, organizations, consumers, a GUID or a
``*.onmicrosoft.com`` name):

- ``GET /{tenant}/v2.0/.well-known/openid-configuration``
- ``GET /{tenant}/oauth2/v2.0/authorize``, which signs in ``sign_in_as`` at once
- ``POST /{tenant}/oauth2/v2.0/token`` for the authorization_code and refresh_token grants
- ``GET /{tenant}/discovery/v2.0/keys``, an empty key set because ID tokens are unsigned

The fake is stricter than Entra in two ways, to catch app bugs: the authorize request
must carry state, nonce and an S256 PKCE challenge (``require_state_nonce_pkce``), and a
refresh token stops working once it was exchanged (``rotation_grace``). Entra does not
revoke an exchanged refresh token; it stays valid until it expires (Microsoft identity
platform documentation, "Refresh tokens in the Microsoft identity platform").
"""

from __future__ import annotations

import collections
import logging
import threading
import time
import uuid
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.accounts import PERSONAL_TENANT_ID, Account, personal_account, work_account
from tests.fakes.faults import CannedResponse, FaultQueue
from tests.fakes.identity_authorize import (
    MULTI_TENANT_SEGMENTS,
    AuthorizeEndpoint,
    is_valid_tenant,
)
from tests.fakes.identity_grants import (
    AccessTokenGrant,
    AuthorizationCode,
    ClientRegistration,
    RefreshTokenGrant,
)
from tests.fakes.identity_token_endpoint import TokenEndpoint
from tests.fakes.identity_tokens import entra_error, new_secret
from tests.fakes.payloads import load_payload
from tests.fakes.records import RecordLog
from tests.fakes.server import FakeServer
from tests.fakes.tls import TestCA

logger = logging.getLogger(__name__)

DEFAULT_TEST_SCOPES = (
    "User.Read",
    "Files.ReadWrite.All",
    "openid",
    "profile",
    "offline_access",
)


class FakeIdentityPlatform(FakeServer):
    """The Microsoft identity platform's authorize, token and discovery endpoints.

    The constructor registers one confidential client, ``default_client``. Its id,
    secret and redirect URIs are also ``client_id``, ``client_secret`` and
    ``redirect_uris``. ``register_client()`` adds more clients.
    """

    def __init__(
        self,
        ca: TestCA | None,
        *,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: list[str] | tuple[str, ...] = (),
    ) -> None:
        app = Starlette(
            routes=[
                Route(
                    "/{tenant}/v2.0/.well-known/openid-configuration",
                    self._openid_configuration,
                    methods=["GET"],
                ),
                Route("/{tenant}/oauth2/v2.0/authorize", self._authorize, methods=["GET"]),
                Route("/{tenant}/oauth2/v2.0/token", self._token, methods=["POST"]),
                Route("/{tenant}/discovery/v2.0/keys", self._keys, methods=["GET"]),
            ]
        )
        super().__init__(app, ca=ca, name="identity")
        self.lock = threading.RLock()

        # Test controls.
        self.sign_in_as: Account | None = None
        self.decline_next = False
        self.access_token_lifetime = 3599
        self.code_lifetime = 300.0
        self.rotation_grace = 0.0
        self.require_state_nonce_pkce = True

        # Records.
        self.authorize_requests: RecordLog[dict[str, str]] = RecordLog("authorize request")
        self.token_requests: collections.Counter[str] = collections.Counter()
        self.token_log: RecordLog[dict[str, Any]] = RecordLog("token request")

        self.clients: dict[str, ClientRegistration] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshTokenGrant] = {}
        self.access_tokens: dict[str, AccessTokenGrant] = {}
        self.id_tokens: list[str] = []
        self.token_faults = FaultQueue()
        self._token_endpoint = TokenEndpoint(self)
        self._authorize_endpoint = AuthorizeEndpoint(self)

        self.default_client = self.register_client(client_id, client_secret, redirect_uris)

    # Test API.

    @property
    def client_id(self) -> str:
        return self.default_client.client_id

    @property
    def client_secret(self) -> str:
        return self.default_client.client_secret

    @property
    def redirect_uris(self) -> list[str]:
        """Redirect URIs of the default client; assign or append to change them."""
        return self.default_client.redirect_uris

    @redirect_uris.setter
    def redirect_uris(self, value: list[str]) -> None:
        self.default_client.redirect_uris = list(value)

    def authority(self, tenant: str = "common") -> str:
        """Return the authority URL to give msal, e.g. ``https://127.0.0.1:5000/common``."""
        return f"{self.url}/{tenant}"

    def register_client(
        self,
        client_id: str | None = None,
        client_secret: str | None = None,
        redirect_uris: list[str] | tuple[str, ...] = (),
    ) -> ClientRegistration:
        """Register a confidential client; missing id and secret are generated."""
        client = ClientRegistration(
            client_id=client_id or str(uuid.uuid4()),
            client_secret=client_secret or new_secret("fake-secret~"),
            redirect_uris=list(redirect_uris),
        )
        with self.lock:
            self.clients[client.client_id] = client
        return client

    def revoke(self, account: Account) -> None:
        """Make every refresh token of ``account`` fail with invalid_grant AADSTS50173.

        Access tokens stay valid until they expire, as after a real revocation.
        """
        with self.lock:
            for grant in self.refresh_tokens.values():
                if grant.account == account:
                    grant.revoked = True

    def expire_refresh_tokens(self, account: Account) -> None:
        """Make every refresh token of ``account`` fail with invalid_grant AADSTS700082."""
        with self.lock:
            for grant in self.refresh_tokens.values():
                if grant.account == account:
                    grant.expired = True

    def expire_access_tokens(self, account: Account | None = None) -> None:
        """Expire the access tokens of ``account``, or all of them, for the Graph fake.

        msal keeps its own expiry time, so it still uses a cached token until that
        time. To make msal refresh, set a short ``access_token_lifetime`` instead:
        msal refreshes any token that expires within 5 minutes.
        """
        now = time.time()
        with self.lock:
            for grant in self.access_tokens.values():
                if account is None or grant.account == account:
                    grant.expires_at = min(grant.expires_at, now)

    def fail_next_token(
        self,
        status: int,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        count: int = 1,
        grant_type: str | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        """Queue a canned response for the next ``count`` token requests.

        A None body sends interaction_required (AADSTS50076) for status 400 and an
        empty JSON object otherwise. ``grant_type`` limits the fault to one grant.
        msal caches 429 and 5xx responses for their Retry-After seconds (5 s without the
        header) and 400 responses for 60 s, so a retry within that time does not reach
        the fake.
        """
        if body is None:
            body = (
                load_payload("entra/token_error_interaction_required_AADSTS50076.json")["body"]
                if status == 400
                else {}
            )
        canned = CannedResponse(status, body, dict(headers or {}), delay_seconds)
        self.token_faults.add(canned, count=count, key=grant_type)

    def issue_tokens(
        self,
        account: Account,
        scopes: tuple[str, ...] = DEFAULT_TEST_SCOPES,
        *,
        client_id: str | None = None,
    ) -> dict[str, Any]:
        """Issue tokens without a sign-in and return the token response body.

        Useful to give Graph tests a bearer token, or to seed an app with a stored
        refresh token. The client defaults to the one from the constructor.
        """
        client = self.clients[client_id or self.client_id]
        return self._token_endpoint.issue(client, account, scopes, "common", {}, nonce=None)

    def issued_secrets(self) -> list[str]:
        """Return every secret the fake issued or stores: codes, tokens and client secrets."""
        with self.lock:
            return [
                *self.codes,
                *self.access_tokens,
                *self.refresh_tokens,
                *self.id_tokens,
                *(client.client_secret for client in self.clients.values()),
            ]

    def lookup_access_token(self, token: str) -> AccessTokenGrant | None:
        """Return the grant of an issued access token, expired or not, or None."""
        with self.lock:
            return self.access_tokens.get(token)

    def account_for_access_token(self, token: str) -> Account | None:
        """Return the account of a valid access token; None when unknown or expired."""
        grant = self.lookup_access_token(token)
        if grant is None or grant.expired:
            return None
        return grant.account

    def refresh_tokens_of(self, account: Account) -> list[RefreshTokenGrant]:
        with self.lock:
            return [grant for grant in self.refresh_tokens.values() if grant.account == account]

    # Endpoints.

    def issuer(self, tenant: str) -> str:
        return f"{self.url}/{tenant}/v2.0"

    async def _openid_configuration(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if not is_valid_tenant(tenant):
            return self._tenant_not_found(tenant)
        body = load_payload("entra/openid_configuration_v2.json")["body"]
        base = f"{self.url}/{tenant}"
        # Entra publishes the issuer of a multi-tenant authority with a {tenantid}
        # placeholder, since each account's tokens carry its own tenant.
        issuer_tenant = "{tenantid}" if tenant.lower() in MULTI_TENANT_SEGMENTS else tenant
        body.pop("userinfo_endpoint", None)  # not served by the fake
        body.update(
            {
                "authorization_endpoint": f"{base}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/oauth2/v2.0/token",
                "jwks_uri": f"{base}/discovery/v2.0/keys",
                "issuer": self.issuer(issuer_tenant),
                "token_endpoint_auth_methods_supported": [
                    "client_secret_post",
                    "private_key_jwt",
                    "client_secret_basic",
                ],
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "id_token_signing_alg_values_supported": ["none"],
                "claims_supported": [
                    "sub",
                    "iss",
                    "aud",
                    "exp",
                    "iat",
                    "nbf",
                    "nonce",
                    "name",
                    "preferred_username",
                    "oid",
                    "tid",
                    "ver",
                ],
                "request_uri_parameter_supported": False,
                "tenant_region_scope": None,
                "cloud_instance_name": "microsoftonline.com",
            }
        )
        return JSONResponse(body)

    async def _authorize(self, request: Request) -> Response:
        return await self._authorize_endpoint.handle(request)

    async def _keys(self, request: Request) -> Response:
        return JSONResponse({"keys": []})

    async def _token(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        if not is_valid_tenant(tenant):
            return self._tenant_not_found(tenant)
        return await self._token_endpoint.handle(request, tenant)

    def _tenant_not_found(self, tenant: str) -> Response:
        body = entra_error(
            "invalid_tenant",
            90002,
            f"Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID "
            "and are signing into the correct cloud.",
            error_uri_base=self.url,
        )
        return JSONResponse(body, status_code=400)


__all__ = [
    "PERSONAL_TENANT_ID",
    "Account",
    "FakeIdentityPlatform",
    "personal_account",
    "work_account",
]
