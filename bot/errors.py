"""Exceptions whose messages the person sees in Slack.

    BotError                      every error with a message meant for the person
    ├── NotConnected              no Microsoft account is connected
    ├── ReconnectRequired         the stored sign-in no longer works (invalid_grant and kin)
    ├── TokenServiceUnavailable   the identity platform failed in a way that may pass
    ├── SignInUnreadable          the stored cache does not decrypt with the configured keys
    ├── GraphError                Microsoft Graph answered with an error
    │   ├── Throttled             429/503 past the retry budget; carries retry_after
    │   ├── ItemNotFound          404
    │   ├── AccessDenied          403
    │   ├── LinkScopeBlocked      403 for a sharing link scope the organization disallows
    │   ├── DownloadTooLarge      the content ran past FETCH_MAX_BYTES while streaming
    │   └── GraphUnavailable      5xx, timeouts and broken responses
    ├── FileTooLarge              over FETCH_MAX_BYTES; nothing was downloaded
    └── SlackDeliveryError        Slack rejected a message or upload
        ├── NotInChannel          the bot is not a member of the channel
        ├── ChannelArchived       the channel is archived
        └── SlackTokenInvalid     the bot token was revoked or the app uninstalled

Each error's `user_message` is mrkdwn for Slack; `str(error)` is the log detail and never
contains a token.
"""

from __future__ import annotations

from bot import messages


class BotError(Exception):
    """An error with a plain-words message for the person."""

    @property
    def user_message(self) -> str:
        return messages.UNEXPECTED_ERROR.format(error_id="-")


class NotConnected(BotError):
    @property
    def user_message(self) -> str:
        return messages.NOT_CONNECTED


class ReconnectRequired(BotError):
    """The refresh token was rejected; the connection has been deleted."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(detail or reason)
        self.reason = reason

    @property
    def user_message(self) -> str:
        return messages.reconnect_required(self.reason)


class TokenServiceUnavailable(BotError):
    @property
    def user_message(self) -> str:
        return messages.SIGN_IN_SERVICE_UNAVAILABLE


class SignInUnreadable(BotError):
    """The stored token cache does not decrypt; the connection is kept for the admin to fix."""

    @property
    def user_message(self) -> str:
        return messages.SIGN_IN_UNREADABLE


class GraphError(BotError):
    def __init__(
        self, detail: str, *, status: int = 0, code: str = "", request_id: str = ""
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.request_id = request_id

    @property
    def user_message(self) -> str:
        return messages.GRAPH_FAILED


class Throttled(GraphError):
    def __init__(self, detail: str, *, retry_after: float, **kwargs: object) -> None:
        super().__init__(detail, **kwargs)  # type: ignore[arg-type]
        self.retry_after = retry_after

    @property
    def user_message(self) -> str:
        return messages.throttled(self.retry_after)


class ItemNotFound(GraphError):
    @property
    def user_message(self) -> str:
        return messages.ITEM_NOT_FOUND


class AccessDenied(GraphError):
    @property
    def user_message(self) -> str:
        return messages.ACCESS_DENIED


class LinkScopeBlocked(GraphError):
    """The organization's policy forbids sharing links of the requested scope."""

    @property
    def user_message(self) -> str:
        return messages.LINK_SCOPE_BLOCKED


class DownloadTooLarge(GraphError):
    """The content exceeded the limit, though the item's reported size was below it."""


class GraphUnavailable(GraphError):
    @property
    def user_message(self) -> str:
        return messages.GRAPH_UNAVAILABLE


class FileTooLarge(BotError):
    def __init__(self, name: str, size: int, limit: int, web_url: str) -> None:
        super().__init__(f"file of {size} bytes is over the limit of {limit} bytes")
        self.name = name
        self.size = size
        self.limit = limit
        self.web_url = web_url

    @property
    def user_message(self) -> str:
        return messages.file_too_large(self.name, self.size, self.limit, self.web_url)


class SlackDeliveryError(BotError):
    def __init__(self, error: str) -> None:
        super().__init__(f"Slack answered {error}")
        self.error = error

    @property
    def user_message(self) -> str:
        return messages.slack_refused(self.error)


class NotInChannel(SlackDeliveryError):
    @property
    def user_message(self) -> str:
        return messages.NOT_IN_CHANNEL


class ChannelArchived(SlackDeliveryError):
    @property
    def user_message(self) -> str:
        return messages.CHANNEL_ARCHIVED


class SlackTokenInvalid(SlackDeliveryError):
    @property
    def user_message(self) -> str:
        return messages.SLACK_INSTALL_BROKEN
