"""Registered clients and the codes and tokens that the fake identity platform issued."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tests.fakes.accounts import Account
from tests.fakes.scopes import is_oidc_scope


@dataclass
class ClientRegistration:
    """An app registration: a confidential client with one secret and its redirect URIs."""

    client_id: str
    client_secret: str
    redirect_uris: list[str] = field(default_factory=list)
    display_name: str = "OneDrive for Slack"


@dataclass
class AuthorizationCode:
    """An authorization code and everything it is bound to."""

    code: str
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    account: Account
    nonce: str | None
    code_challenge: str | None
    expires_at: float
    redeemed: bool = False

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at


@dataclass
class RefreshTokenGrant:
    """A refresh token. ``rotated_at`` is set once it was exchanged for a newer one."""

    token: str
    client_id: str
    account: Account
    scopes: tuple[str, ...]
    issued_at: float
    rotated_at: float | None = None
    revoked: bool = False
    expired: bool = False


@dataclass
class AccessTokenGrant:
    """An opaque access token with its owner, scopes and expiry (Unix time in seconds)."""

    token: str
    client_id: str
    account: Account
    scopes: tuple[str, ...]
    expires_at: float

    @property
    def expired(self) -> bool:
        return time.time() >= self.expires_at

    @property
    def resource_scopes(self) -> tuple[str, ...]:
        return tuple(scope for scope in self.scopes if not is_oidc_scope(scope))
