"""Token endpoint of the fake identity platform: client authentication and the grants."""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote_plus

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from tests.fakes.accounts import Account
from tests.fakes.identity_grants import (
    AccessTokenGrant,
    AuthorizationCode,
    ClientRegistration,
    RefreshTokenGrant,
)
from tests.fakes.identity_tokens import (
    client_info,
    entra_error,
    fixture_description,
    make_id_token,
    new_secret,
    pkce_s256_challenge,
)
from tests.fakes.scopes import graph_permissions, is_oidc_scope, split_scopes

if TYPE_CHECKING:
    from tests.fakes.identity import FakeIdentityPlatform

logger = logging.getLogger(__name__)

TOKEN_RESPONSE_HEADERS = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenError(Exception):
    """A token endpoint error response in Entra's shape."""

    def __init__(self, status: int, error: str, code: int, description: str) -> None:
        super().__init__(f"{error} AADSTS{code}: {description}")
        self.status = status
        self.error = error
        self.code = code
        self.description = description


def _invalid_grant(code: int, description: str) -> TokenError:
    return TokenError(400, "invalid_grant", code, description)


def _missing_parameter(name: str) -> TokenError:
    return TokenError(
        400,
        "invalid_request",
        900144,
        f"The request body must contain the following parameter: '{name}'.",
    )


class TokenEndpoint:
    """Handle ``POST /{tenant}/oauth2/v2.0/token`` for a FakeIdentityPlatform."""

    def __init__(self, fake: FakeIdentityPlatform) -> None:
        self.fake = fake

    async def handle(self, request: Request, tenant: str) -> Response:
        body = (await request.body()).decode("utf-8", errors="replace")
        pairs = parse_qsl(body, keep_blank_values=True)
        form = dict(pairs)
        grant_type = form.get("grant_type", "")
        self.fake.token_requests[grant_type] += 1
        log_entry: dict[str, Any] = {
            "grant_type": grant_type,
            "client_id": form.get("client_id"),
            "scope": form.get("scope"),
        }

        canned = self.fake.token_faults.take(
            method="POST", path=request.url.path, key=grant_type or None
        )
        if canned is not None:
            if canned.delay_seconds:
                await asyncio.sleep(canned.delay_seconds)
            log_entry.update(status=canned.status, error="injected fault")
            self.fake.token_log.append(log_entry)
            return canned.to_response()

        try:
            if len(form) != len(pairs):
                raise TokenError(
                    400,
                    "invalid_request",
                    9002313,
                    "Invalid request. A parameter is given more than once.",
                )
            client = self._authenticate_client(request, form)
            if not grant_type:
                raise _missing_parameter("grant_type")
            if grant_type == "authorization_code":
                reply = self._redeem_code(client, form, tenant)
            elif grant_type == "refresh_token":
                reply = self._redeem_refresh_token(client, form, tenant)
            else:
                raise TokenError(
                    400,
                    "unsupported_grant_type",
                    70003,
                    f"The app requested an unsupported grant type '{grant_type}'.",
                )
        except TokenError as error:
            log_entry.update(status=error.status, error=error.error, code=error.code)
            self.fake.token_log.append(log_entry)
            logger.info("fake token endpoint rejected a %s request: %s", grant_type, error)
            reply_body = entra_error(
                error.error, error.code, error.description, error_uri_base=self.fake.url
            )
            return JSONResponse(reply_body, status_code=error.status, headers=self._headers())
        log_entry.update(status=200, error=None)
        self.fake.token_log.append(log_entry)
        return JSONResponse(reply, headers=self._headers())

    @staticmethod
    def _headers() -> dict[str, str]:
        return {**TOKEN_RESPONSE_HEADERS, "x-ms-request-id": str(uuid.uuid4())}

    def _authenticate_client(self, request: Request, form: dict[str, str]) -> ClientRegistration:
        """Authenticate with client_secret_post or client_secret_basic (RFC 6749 2.3.1)."""
        client_id = form.get("client_id")
        secret = form.get("client_secret")
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("basic "):
            try:
                decoded = base64.b64decode(authorization[6:], validate=True).decode("utf-8")
                basic_id, basic_secret = (unquote_plus(part) for part in decoded.split(":", 1))
            except (binascii.Error, UnicodeDecodeError, ValueError) as error:
                raise TokenError(
                    401, "invalid_client", 7000216, "The Basic authorization header is invalid."
                ) from error
            if (client_id and client_id != basic_id) or (secret and secret != basic_secret):
                raise TokenError(
                    400,
                    "invalid_request",
                    9002313,
                    "Invalid request. The client credentials in the body and the Basic "
                    "header differ.",
                )
            client_id, secret = basic_id, basic_secret
        if not client_id:
            raise _missing_parameter("client_id")
        with self.fake.lock:
            client = self.fake.clients.get(client_id)
        if client is None:
            raise TokenError(
                400,
                "unauthorized_client",
                700016,
                f"Application with identifier '{client_id}' was not found in the directory.",
            )
        if not secret:
            raise TokenError(
                401,
                "invalid_client",
                7000218,
                "The request body must contain the following parameter: 'client_assertion' "
                "or 'client_secret'.",
            )
        if secret != client.client_secret:
            raise TokenError(
                401,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request "
                f"is the client secret value, not the client secret ID, for a secret added to "
                f"app '{client_id}'.",
            )
        return client

    def _redeem_code(
        self, client: ClientRegistration, form: dict[str, str], tenant: str
    ) -> dict[str, Any]:
        code_value = form.get("code")
        if not code_value:
            raise _missing_parameter("code")
        with self.fake.lock:
            code = self.fake.codes.get(code_value)
            first_use = code is not None and not code.redeemed
            if code is not None:
                code.redeemed = True  # a failed redemption also uses the code up
        if code is None:
            raise _invalid_grant(70000, "The provided value for the 'code' parameter is not valid.")
        if not first_use:
            raise _invalid_grant(
                54005, fixture_description("entra/token_error_invalid_grant_AADSTS54005.json")
            )
        self._check_code(code, client, form)
        scopes = self._granted_scopes(code.scopes, form, client)
        return self.issue(client, code.account, scopes, tenant, form, nonce=code.nonce)

    def _check_code(
        self, code: AuthorizationCode, client: ClientRegistration, form: dict[str, str]
    ) -> None:
        if code.expired:
            raise _invalid_grant(
                70008,
                "The provided authorization code or refresh token has expired due to "
                "inactivity. Send a new interactive authorization request for this user and "
                "resource.",
            )
        if code.client_id != client.client_id:
            raise _invalid_grant(
                70000,
                "The provided value for the 'code' parameter is not valid: it was issued to "
                "another application.",
            )
        redirect_uri = form.get("redirect_uri", "")
        if redirect_uri != code.redirect_uri:
            raise _invalid_grant(
                500112,
                f"The reply address '{redirect_uri}' does not match the reply address "
                f"'{code.redirect_uri}' provided when requesting Authorization code.",
            )
        if code.code_challenge is not None:
            verifier = form.get("code_verifier", "")
            if not verifier or pkce_s256_challenge(verifier) != code.code_challenge:
                raise _invalid_grant(
                    50148,
                    "The code_verifier does not match the code_challenge supplied in the "
                    "authorization request for PKCE.",
                )

    def _redeem_refresh_token(
        self, client: ClientRegistration, form: dict[str, str], tenant: str
    ) -> dict[str, Any]:
        token = form.get("refresh_token")
        if not token:
            raise _missing_parameter("refresh_token")
        now = time.time()
        with self.fake.lock:
            grant = self.fake.refresh_tokens.get(token)
            if grant is None or grant.client_id != client.client_id:
                raise _invalid_grant(
                    70000, fixture_description("entra/token_error_invalid_grant_AADSTS70000.json")
                )
            if grant.revoked:
                raise _invalid_grant(
                    50173, fixture_description("entra/token_error_invalid_grant_AADSTS50173.json")
                )
            if grant.expired:
                raise _invalid_grant(
                    700082,
                    fixture_description("entra/token_error_invalid_grant_AADSTS700082.json"),
                )
            if grant.rotated_at is not None and now - grant.rotated_at > self.fake.rotation_grace:
                raise _invalid_grant(
                    70000,
                    "The refresh token was already exchanged for a new one and is no longer valid.",
                )
            scopes = self._granted_scopes(grant.scopes, form, client)
            if grant.rotated_at is None:
                grant.rotated_at = now
        # The new refresh token keeps every scope of the old one, as on Entra.
        reply = self.issue(client, grant.account, scopes, tenant, form, nonce=None)
        with self.fake.lock:
            new_grant = self.fake.refresh_tokens.get(reply.get("refresh_token", ""))
            if new_grant is not None:
                new_grant.scopes = tuple(dict.fromkeys((*grant.scopes, *new_grant.scopes)))
        return reply

    def _granted_scopes(
        self, granted: tuple[str, ...], form: dict[str, str], client: ClientRegistration
    ) -> tuple[str, ...]:
        """Return the scopes for the new tokens: those requested, if all were consented."""
        requested = split_scopes(form.get("scope", ""))
        if not requested:
            return granted
        missing = graph_permissions(requested) - graph_permissions(granted)
        if missing:
            raise _invalid_grant(
                65001,
                f"The user or administrator has not consented to use the application with ID "
                f"'{client.client_id}' named '{client.display_name}' for the scopes "
                f"{sorted(missing)}. Send an interactive authorization request for this user "
                f"and resource.",
            )
        # OpenID Connect scopes come from the original grant, resource scopes from the request.
        oidc = [scope for scope in granted if is_oidc_scope(scope)]
        resource = [scope for scope in requested if not is_oidc_scope(scope)]
        return tuple(dict.fromkeys([*resource, *oidc]))

    def issue(
        self,
        client: ClientRegistration,
        account: Account,
        scopes: tuple[str, ...],
        tenant: str,
        form: dict[str, str],
        *,
        nonce: str | None,
    ) -> dict[str, Any]:
        """Store new tokens for ``account`` and return the token response body.

        A refresh token is issued only for the offline_access scope and an ID token
        only for openid, as on Entra.
        """
        now = time.time()
        lifetime = int(self.fake.access_token_lifetime)
        lowered = {scope.lower() for scope in scopes}
        access = AccessTokenGrant(
            token=new_secret("fake-at-"),
            client_id=client.client_id,
            account=account,
            scopes=scopes,
            expires_at=now + lifetime,
        )
        # Entra lists the resource scopes and the OpenID Connect ones except offline_access.
        listed = [scope for scope in scopes if scope.lower() != "offline_access"]
        reply: dict[str, Any] = {
            "token_type": "Bearer",
            "scope": " ".join(listed),
            "expires_in": lifetime,
            "ext_expires_in": lifetime,
            "access_token": access.token,
        }
        with self.fake.lock:
            self.fake.access_tokens[access.token] = access
            if "offline_access" in lowered:
                refresh = RefreshTokenGrant(
                    token=new_secret("fake-rt-", 48),
                    client_id=client.client_id,
                    account=account,
                    scopes=scopes,
                    issued_at=now,
                )
                self.fake.refresh_tokens[refresh.token] = refresh
                reply["refresh_token"] = refresh.token
            if "openid" in lowered:
                id_token = make_id_token(
                    account,
                    client_id=client.client_id,
                    issuer=self.fake.issuer(account.tid),
                    nonce=nonce,
                    now=now,
                )
                self.fake.id_tokens.append(id_token)
                reply["id_token"] = id_token
        if form.get("client_info") == "1":
            reply["client_info"] = client_info(account)
        return reply
