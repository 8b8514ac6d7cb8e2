"""Messages and file uploads through the Slack Web API.

`SlackApiError` and upload-host failures are translated into `bot.errors` here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

import httpx
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import ChannelArchived, NotInChannel, SlackDeliveryError, SlackTokenInvalid

log = logging.getLogger(__name__)

CHUNK_SIZE = 256 * 1024

# Errors that mean the bot cannot post into the channel, though response_url may still work.
# Slack returns channel_not_found for a private channel the bot is not a member of.
CANNOT_POST_HERE = frozenset({"not_in_channel", "channel_not_found"})
# Errors that mean the bot token itself no longer works.
TOKEN_DEAD = frozenset({"invalid_auth", "not_authed", "token_revoked", "account_inactive"})


class SlackDelivery:
    def __init__(self, client: AsyncWebClient, http: httpx.AsyncClient) -> None:
        self.client = client
        self._http = http

    async def post_message(
        self, channel_id: str, text: str, blocks: list[dict[str, Any]] | None = None
    ) -> None:
        try:
            await self.client.chat_postMessage(
                channel=channel_id, text=text, blocks=blocks, unfurl_links=True
            )
        except SlackApiError as exc:
            raise _translate(exc) from None

    async def post_ephemeral(
        self,
        channel_id: str,
        user_id: str,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        """Show a message to one person in a channel, through the Web API."""
        try:
            await self.client.chat_postEphemeral(
                channel=channel_id, user=user_id, text=text, blocks=blocks
            )
        except SlackApiError as exc:
            raise _translate(exc) from None

    async def post_to_response_url(self, response_url: str, message: dict[str, Any]) -> bool:
        """Post a message to a `response_url`; return whether Slack accepted it.

        The shared client keeps connections to Slack open, where Bolt's `respond` would
        open a new session, connection and TLS handshake for every message.
        """
        try:
            response = await self._http.post(response_url, json=message)
        except httpx.HTTPError as exc:
            log.warning("response_url failed: %s", type(exc).__name__)
            return False
        if response.status_code != 200:
            log.warning("response_url returned HTTP %d", response.status_code)
            return False
        return True

    async def notify_user(self, user_id: str, text: str) -> None:
        """Send a direct message from the app to one person."""
        await self.post_message(user_id, text)

    async def upload_file(
        self, channel_id: str, source: BinaryIO, filename: str, size: int, comment: str
    ) -> str:
        """Upload a file into a channel the way `files_upload_v2` does, streaming its bytes.

        https://api.slack.com/messaging/files#uploading_files
        """
        try:
            ticket = await self.client.files_getUploadURLExternal(filename=filename, length=size)
            file_id = str(ticket["file_id"])
            await self._send_bytes(str(ticket["upload_url"]), source, size)
            await self.client.files_completeUploadExternal(
                files=[{"id": file_id, "title": filename}],
                channel_id=channel_id,
                initial_comment=comment,
            )
        except SlackApiError as exc:
            raise _translate(exc) from None
        log.info("uploaded file %s (%d bytes)", file_id, size)
        return file_id

    async def _send_bytes(self, upload_url: str, source: BinaryIO, size: int) -> None:
        source.seek(0)
        try:
            response = await self._http.post(
                upload_url,
                content=_chunks(source),
                headers={
                    "Content-Length": str(size),
                    "Content-Type": "application/octet-stream",
                },
                timeout=httpx.Timeout(30.0, write=120.0),
            )
        except httpx.HTTPError as exc:
            raise SlackDeliveryError(f"upload_failed ({type(exc).__name__})") from None
        if response.status_code != 200:
            raise SlackDeliveryError(f"upload_failed (HTTP {response.status_code})")


async def _chunks(source: BinaryIO) -> AsyncIterator[bytes]:
    while chunk := await asyncio.to_thread(source.read, CHUNK_SIZE):
        yield chunk


def _translate(exc: SlackApiError) -> SlackDeliveryError:
    error = str(exc.response.get("error", "unknown_error"))
    log.warning("Slack API call failed: %s", error)
    if error in CANNOT_POST_HERE:
        return NotInChannel(error)
    if error == "is_archived":
        return ChannelArchived(error)
    if error in TOKEN_DEAD:
        return SlackTokenInvalid(error)
    return SlackDeliveryError(error)
