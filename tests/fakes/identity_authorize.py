"""Authorize endpoint of the fake identity platform: checks, sign-in and the redirect."""

from __future__ import annotations

import html
import logging
import re
import time
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from tests.fakes.accounts import Account
from tests.fakes.identity_grants import AuthorizationCode
from tests.fakes.identity_tokens import client_info, new_secret
from tests.fakes.payloads import load_payload
from tests.fakes.scopes import is_known_scope, split_scopes

if TYPE_CHECKING:
    from tests.fakes.identity import FakeIdentityPlatform

logger = logging.getLogger(__name__)

MULTI_TENANT_SEGMENTS = frozenset({"common", "organizations", "consumers"})
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# RFC 7636 section 4.2: an S256 challenge is 43 base64url characters.
_S256_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43}$")


def is_valid_tenant(tenant: str) -> bool:
    lowered = tenant.lower()
    return (
        lowered in MULTI_TENANT_SEGMENTS
        or _GUID.match(tenant) is not None
        or lowered.endswith(".onmicrosoft.com")
    )


def account_fits_tenant(account: Account, tenant: str) -> bool:
    """Return whether ``account`` may sign in through the ``tenant`` authority."""
    lowered = tenant.lower()
    if lowered == "common":
        return True
    if lowered == "organizations":
        return not account.is_personal
    if lowered == "consumers":
        return account.is_personal
    if _GUID.match(tenant):
        return account.tid.lower() == lowered
    return not account.is_personal


class AuthorizeError(Exception):
    """An authorize error that is sent back to the registered redirect URI."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


class AuthorizeEndpoint:
    """Handle ``GET /{tenant}/oauth2/v2.0/authorize`` for a FakeIdentityPlatform.

    An unknown tenant, client or redirect URI gets a 400 error page, as on Entra,
    because the fake must never redirect to an unregistered URI. Other errors go back
    to the redirect URI (RFC 6749 section 4.1.2.1).
    """

    def __init__(self, fake: FakeIdentityPlatform) -> None:
        self.fake = fake

    async def handle(self, request: Request) -> Response:
        tenant = request.path_params["tenant"]
        pairs = parse_qsl(request.url.query, keep_blank_values=True)
        params = dict(pairs)
        self.fake.authorize_requests.append(dict(params))
        if not is_valid_tenant(tenant):
            return _error_page(90002, f"Tenant '{tenant}' not found.")

        client = self.fake.clients.get(params.get("client_id", ""))
        if client is None:
            return _error_page(
                700016,
                f"Application with identifier '{params.get('client_id', '')}' was not found "
                "in the directory.",
            )
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            return _error_page(
                50011,
                f"The redirect URI '{redirect_uri}' specified in the request does not match "
                f"the redirect URIs configured for the application '{client.client_id}'.",
            )
        response_mode = params.get("response_mode", "query")
        if response_mode not in ("query", "fragment", "form_post"):
            response_mode = "query"
        state = params.get("state")

        # From here on, errors go back to the registered redirect URI (RFC 6749 4.1.2.1).
        try:
            if len(params) != len(pairs):
                raise AuthorizeError(
                    "invalid_request",
                    "AADSTS9002313: Invalid request. A parameter is given more than once.",
                )
            code_params = self._validate(params, tenant)
        except AuthorizeError as error:
            logger.info("fake authorize endpoint redirects with an error: %s", error)
            reply = {"error": error.error, "error_description": error.description}
            if state is not None:
                reply["state"] = state
            return _redirect(redirect_uri, reply, response_mode)

        account = self.fake.sign_in_as
        if account is None:
            return _sign_in_page()
        if not account_fits_tenant(account, tenant):
            return _error_page(
                50020,
                f"User account '{account.preferred_username}' from identity provider does not "
                f"exist in tenant '{tenant}' and cannot access the application.",
            )
        code = AuthorizationCode(
            code=new_secret("fake-code-", 48),
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            account=account,
            expires_at=time.time() + self.fake.code_lifetime,
            **code_params,
        )
        with self.fake.lock:
            self.fake.codes[code.code] = code
        reply = {"code": code.code}
        if state is not None:
            reply["state"] = state
        reply["session_state"] = str(uuid.uuid4())
        if params.get("client_info") == "1":
            reply["client_info"] = client_info(account)
        return _redirect(redirect_uri, reply, response_mode)

    def _validate(self, params: dict[str, str], tenant: str) -> dict[str, Any]:
        """Check the authorize parameters after the client and redirect URI.

        Returns the keyword arguments for the AuthorizationCode. Raises AuthorizeError.
        """
        if params.get("response_type") != "code":
            raise AuthorizeError(
                "unsupported_response_type",
                f"AADSTS700054: response_type '{params.get('response_type', '')}' is not "
                "enabled for the application.",
            )
        scopes = split_scopes(params.get("scope", ""))
        if not scopes:
            raise AuthorizeError(
                "invalid_request",
                "AADSTS900144: The request body must contain the following parameter: 'scope'.",
            )
        for scope in scopes:
            if not is_known_scope(scope):
                raise AuthorizeError(
                    "invalid_scope",
                    f"AADSTS70011: The provided value for the input parameter 'scope' is not "
                    f"valid. The scope '{scope}' is not valid.",
                )
        challenge = params.get("code_challenge")
        method = params.get("code_challenge_method", "plain" if challenge else None)
        if self.fake.require_state_nonce_pkce:
            for name in ("state", "nonce", "code_challenge"):
                if not params.get(name):
                    raise AuthorizeError(
                        "invalid_request",
                        f"AADSTS900144: The request body must contain the following "
                        f"parameter: '{name}'.",
                    )
            if method != "S256" or challenge is None or not _S256_CHALLENGE.match(challenge):
                raise AuthorizeError(
                    "invalid_request",
                    "AADSTS9002313: Invalid request. code_challenge_method must be S256 and "
                    "code_challenge 43 base64url characters.",
                )
        if params.get("prompt") == "none" and self.fake.sign_in_as is None:
            raise AuthorizeError(
                "login_required",
                "AADSTS50058: A silent sign-in request was sent but no user is signed in.",
            )
        if self.fake.decline_next:
            self.fake.decline_next = False
            raise AuthorizeError(
                "access_denied",
                load_payload("entra/authorize_redirect_error_access_denied.json")["redirect_query"][
                    "error_description"
                ],
            )
        return {
            "scopes": tuple(scopes),
            "nonce": params.get("nonce"),
            "code_challenge": challenge if method == "S256" else None,
        }


def _redirect(redirect_uri: str, reply: dict[str, str], response_mode: str) -> Response:
    if response_mode == "form_post":
        inputs = "".join(
            f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
            for name, value in reply.items()
        )
        page = (
            f'<html><body onload="document.forms[0].submit()">'
            f'<form method="POST" action="{html.escape(redirect_uri)}">{inputs}</form>'
            f"</body></html>"
        )
        return HTMLResponse(page)
    parts = urlsplit(redirect_uri)
    if response_mode == "fragment":
        location = urlunsplit(parts._replace(fragment=urlencode(reply)))
    else:
        query = "&".join(part for part in (parts.query, urlencode(reply)) if part)
        location = urlunsplit(parts._replace(query=query))
    return RedirectResponse(location, status_code=302)


def _error_page(code: int, description: str) -> Response:
    """Return the error page that Entra shows when it must not redirect."""
    logger.info("fake authorize endpoint shows error page AADSTS%d: %s", code, description)
    page = (
        "<html><head><title>Sign in to your account</title></head><body>"
        f"<h1>Sorry, but we're having trouble signing you in.</h1>"
        f'<p id="error">AADSTS{code}: {html.escape(description)}</p></body></html>'
    )
    return HTMLResponse(page, status_code=400)


def _sign_in_page() -> Response:
    """Return the login form that a real user would fill in; the fake needs sign_in_as."""
    page = (
        "<html><head><title>Sign in to your account</title></head><body>"
        "<p>No user is signed in: set FakeIdentityPlatform.sign_in_as.</p></body></html>"
    )
    return HTMLResponse(page)
