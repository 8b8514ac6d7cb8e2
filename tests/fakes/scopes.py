"""OAuth scope strings as the Microsoft identity platform v2.0 endpoint reads them."""

from __future__ import annotations

import re

OIDC_SCOPES = frozenset({"openid", "profile", "email", "offline_access"})

# Microsoft Graph accepts its permissions in short form ("Files.Read"), with its resource
# URI or with its application id as prefix.
GRAPH_SCOPE_PREFIXES = (
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000/",
)
_PERMISSION_NAME = re.compile(r"^(?:[A-Za-z][A-Za-z0-9]*(?:\.[A-Za-z0-9]+)*|\.default)$")


def split_scopes(value: str) -> list[str]:
    """Split a space-separated scope parameter, dropping empty entries."""
    return [scope for scope in value.split(" ") if scope]


def is_oidc_scope(scope: str) -> bool:
    return scope.lower() in OIDC_SCOPES


def graph_permission(scope: str) -> str | None:
    """Return the lower-case Graph permission named by ``scope``, or None for other scopes.

    ``.default`` is only accepted with a resource prefix, as on the real endpoint.
    """
    lowered = scope.lower()
    for prefix in GRAPH_SCOPE_PREFIXES:
        if lowered.startswith(prefix):
            name = scope[len(prefix) :]
            return name.lower() if _PERMISSION_NAME.match(name) else None
    if is_oidc_scope(scope) or scope == ".default":
        return None
    return lowered if _PERMISSION_NAME.match(scope) else None


def is_known_scope(scope: str) -> bool:
    """Return whether the fake can grant ``scope``: an OpenID Connect scope or a Graph one."""
    return is_oidc_scope(scope) or graph_permission(scope) is not None


def graph_permissions(scopes: list[str] | tuple[str, ...]) -> set[str]:
    """Return the lower-case Graph permissions among ``scopes``."""
    permissions = {graph_permission(scope) for scope in scopes}
    return {permission for permission in permissions if permission is not None}
