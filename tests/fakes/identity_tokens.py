"""Token formats of the fake identity platform: ID tokens, client_info, PKCE and errors."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from tests.fakes.accounts import Account
from tests.fakes.payloads import payload_body

ID_TOKEN_LIFETIME_SECONDS = 3600


def base64url(data: bytes) -> str:
    """Encode without padding, as JWTs, client_info and PKCE use it."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def pkce_s256_challenge(code_verifier: str) -> str:
    """Return the S256 code_challenge for ``code_verifier`` (RFC 7636 section 4.2)."""
    return base64url(hashlib.sha256(code_verifier.encode("ascii")).digest())


def new_secret(prefix: str, length: int = 32) -> str:
    """Return an unguessable token that starts with ``prefix`` so leaks are easy to grep."""
    return f"{prefix}{secrets.token_urlsafe(length)}"


def client_info(account: Account) -> str:
    """Return Entra's client_info: base64url of ``{"uid": oid, "utid": tid}``."""
    info = json.dumps({"uid": account.oid, "utid": account.tid}).encode("utf-8")
    return base64url(info)


def pairwise_subject(account: Account, client_id: str) -> str:
    """Return a ``sub`` claim that differs per app, like Entra's pairwise subject."""
    digest = hashlib.sha256(f"{account.oid}:{client_id}".encode()).digest()
    return base64url(digest)


def make_id_token(
    account: Account,
    *,
    client_id: str,
    issuer: str,
    nonce: str | None,
    now: float | None = None,
) -> str:
    """Return an unsigned ID token (``alg: none``) with the claims that msal reads.

    msal does not verify ID token signatures but compares ``nonce`` with the hash it
    sent to the authorize endpoint.
    """
    issued_at = int(now if now is not None else time.time())
    header = {"typ": "JWT", "alg": "none"}
    claims: dict[str, Any] = {
        "aud": client_id,
        "iss": issuer,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + ID_TOKEN_LIFETIME_SECONDS,
        "name": account.name,
        "oid": account.oid,
        "preferred_username": account.preferred_username,
        "sub": pairwise_subject(account, client_id),
        "tid": account.tid,
        "uti": secrets.token_urlsafe(16),
        "ver": "2.0",
    }
    if nonce is not None:
        claims["nonce"] = nonce
    encoded_header = base64url(json.dumps(header).encode("utf-8"))
    encoded_claims = base64url(json.dumps(claims).encode("utf-8"))
    return f"{encoded_header}.{encoded_claims}."


def decode_jwt_claims(token: str) -> dict[str, Any]:
    """Decode the claims of a JWT without verifying it."""
    claims: dict[str, Any] = json.loads(base64url_decode(token.split(".")[1]))
    return claims


def fixture_description(relative_path: str) -> str:
    """Return the first line of a fixture's error_description without its AADSTS prefix."""
    description: str = payload_body(relative_path)["error_description"]
    first_line = description.split("\r\n")[0]
    return first_line.split(": ", 1)[1] if first_line.startswith("AADSTS") else first_line


def entra_error(error: str, code: int, description: str, *, error_uri_base: str) -> dict[str, Any]:
    """Return a token endpoint error body in Entra's shape.

    The shape is the documented one: error, error_description ending in trace lines,
    error_codes, timestamp, trace_id, correlation_id and error_uri.
    """
    trace_id = str(uuid.uuid4())
    correlation_id = str(uuid.uuid4())
    timestamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return {
        "error": error,
        "error_description": (
            f"AADSTS{code}: {description}\r\nTrace ID: {trace_id}\r\n"
            f"Correlation ID: {correlation_id}\r\nTimestamp: {timestamp}"
        ),
        "error_codes": [code],
        "timestamp": timestamp,
        "trace_id": trace_id,
        "correlation_id": correlation_id,
        "error_uri": f"{error_uri_base}/error?code={code}",
    }
