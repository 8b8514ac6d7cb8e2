"""Errors and access rules of the fake Microsoft Graph."""

from __future__ import annotations

from tests.fakes.payloads import payload_body

# Lower-case Graph permissions that allow each kind of call. ".default" stands for every
# permission that was consented to the app.
USER_READ = frozenset(
    {
        "user.read",
        "user.readwrite",
        "user.readbasic.all",
        "user.read.all",
        "user.readwrite.all",
        "directory.read.all",
        "directory.readwrite.all",
        ".default",
    }
)
FILES_READ_OWN = frozenset(
    {
        "files.read",
        "files.readwrite",
        "files.read.all",
        "files.readwrite.all",
        "sites.read.all",
        "sites.readwrite.all",
        ".default",
    }
)
FILES_READ_ANY = frozenset(
    {"files.read.all", "files.readwrite.all", "sites.read.all", "sites.readwrite.all", ".default"}
)
FILES_WRITE_OWN = frozenset(
    {"files.readwrite", "files.readwrite.all", "sites.readwrite.all", ".default"}
)
FILES_WRITE_ANY = frozenset({"files.readwrite.all", "sites.readwrite.all", ".default"})

# Default bodies for fail_next() by HTTP status; the innerError ids are filled per request.
DEFAULT_FAULT_BODIES = {
    400: "msgraph/error_invalidRequest_400.json",
    401: "msgraph/error_InvalidAuthenticationToken_401.json",
    403: "msgraph/error_accessDenied_403.json",
    404: "msgraph/error_itemNotFound_404.json",
    429: "msgraph/error_activityLimitReached_429.json",
    503: "msgraph/error_serviceNotAvailable_503.json",
}


def default_fault_body(status: int) -> dict[str, object]:
    """Return the documented error body for ``status``, or a generic one in the same shape."""
    if status in DEFAULT_FAULT_BODIES:
        body: dict[str, object] = payload_body(DEFAULT_FAULT_BODIES[status])
        return body
    if status == 504:
        code, message = "gatewayTimeout", "The gateway did not receive a timely response."
    else:
        code, message = "generalException", "An unspecified error has occurred."
    return {"error": {"code": code, "message": message, "innerError": {}}}


class GraphError(Exception):
    """An error response in Graph's shape, raised by the request handlers."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def item_not_found(message: str = "The resource could not be found.") -> GraphError:
    return GraphError(404, "itemNotFound", message)


def access_denied(
    message: str = "The caller doesn't have permission to perform the action.",
) -> GraphError:
    return GraphError(403, "accessDenied", message)


def invalid_request(message: str) -> GraphError:
    return GraphError(400, "invalidRequest", message)
