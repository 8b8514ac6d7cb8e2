"""Listeners for the `/onedrive` command and the buttons in the app's replies.

Each listener acks at once, then does the Graph work and replies through `response_url`
(`respond`) or the Web API. A button always acts for the person who clicked it, with that
person's own connection.
"""

from __future__ import annotations

import asyncio
import logging
import tempfile
from collections.abc import Awaitable, Callable
from typing import Any

from slack_bolt.async_app import AsyncAck, AsyncApp

from bot import messages
from bot.auth.tokens import AccessToken
from bot.errors import BotError, NotConnected, NotInChannel, ReconnectRequired
from bot.graph.items import DriveItem, ItemRef
from bot.logs import log_context, new_error_id
from bot.onedrive import OneDrive, Resolution, looks_like_link
from bot.slack import blocks
from bot.slack.commands import Command, parse
from bot.slack.delivery import SlackDelivery
from bot.store.queries import SlackUser

log = logging.getLogger(__name__)

Body = dict[str, Any]

# Longer search text is refused with a message; file names are at most 400 characters.
MAX_QUERY_LENGTH = 400


def register(app: AsyncApp, onedrive: OneDrive, delivery: SlackDelivery) -> Listeners:
    """Attach the listeners to the Bolt app; the returned object can drain work at shutdown."""
    listeners = Listeners(onedrive, delivery)
    app.command(messages.COMMAND)(listeners.handle_command)
    app.action(blocks.SHARE_ACTION)(listeners.handle_share_button)
    app.action(blocks.FETCH_ACTION)(listeners.handle_fetch_button)
    app.action(blocks.OPEN_ACTION)(handle_link_button)
    app.action(blocks.CONNECT_ACTION)(handle_link_button)
    return listeners


async def handle_link_button(ack: AsyncAck) -> None:
    """URL buttons open in the browser; Slack still sends the click, which needs an ack."""
    await ack()


def command_owner(body: Body) -> SlackUser:
    return SlackUser(
        team_id=str(body.get("team_id", "")),
        user_id=str(body.get("user_id", "")),
        enterprise_id=str(body.get("enterprise_id") or ""),
        user_name=str(body.get("user_name", "")),
    )


def action_owner(body: Body) -> SlackUser:
    """Return the person who clicked, never the author of the message with the button."""
    user = body.get("user") or {}
    team = body.get("team") or {}
    enterprise = body.get("enterprise") or {}
    return SlackUser(
        team_id=str(team.get("id") or user.get("team_id") or ""),
        user_id=str(user.get("id", "")),
        enterprise_id=str(enterprise.get("id") or ""),
        user_name=str(user.get("username") or user.get("name") or ""),
    )


def action_channel(body: Body) -> str:
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    return str(channel.get("id") or container.get("channel_id") or "")


class Listeners:
    def __init__(self, onedrive: OneDrive, delivery: SlackDelivery) -> None:
        self._onedrive = onedrive
        self._delivery = delivery
        # One fetch at a time per person, since each may spool FETCH_MAX_BYTES to disk.
        self._fetching: set[SlackUser] = set()
        # Work still running after its ack. Bolt starts it as a task that no other code awaits.
        self._in_flight: set[asyncio.Task[Any]] = set()

    async def drain(self, timeout: float) -> None:
        """Wait for acknowledged work to finish, so a shutdown completes what it accepted."""
        pending = {task for task in self._in_flight if not task.done()}
        if not pending:
            return
        log.info("waiting for %d commands in progress before stopping", len(pending))
        _, still_running = await asyncio.wait(pending, timeout=timeout)
        if still_running:
            log.warning("stopping with %d commands unfinished", len(still_running))

    # entry points

    async def handle_command(self, ack: AsyncAck, body: Body) -> None:
        command = parse(str(body.get("text", "")))
        if command.name == "help":
            await ack(text=messages.HELP, response_type="ephemeral")
            return
        if command.name not in _COMMANDS:
            await ack(text=messages.unknown_command(command.name), response_type="ephemeral")
            return
        await ack()

        owner = command_owner(body)
        channel_id = str(body.get("channel_id", ""))
        reply = Reply(str(body.get("response_url", "")), self._delivery, channel_id, owner.user_id)
        handler = _COMMANDS[command.name]
        with log_context(team=owner.team_id, user=owner.user_id, request=body.get("trigger_id")):
            log.info("command %s", command.name)
            await self._guard(
                owner, reply, lambda: handler(self, command, owner, channel_id, reply)
            )

    async def handle_share_button(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        await self._handle_item_button(body, share=True)

    async def handle_fetch_button(self, ack: AsyncAck, body: Body) -> None:
        await ack()
        await self._handle_item_button(body, share=False)

    async def _handle_item_button(self, body: Body, share: bool) -> None:
        owner = action_owner(body)
        channel_id = action_channel(body)
        reply = Reply(str(body.get("response_url", "")), self._delivery, channel_id, owner.user_id)
        action = (body.get("actions") or [{}])[0]
        with log_context(team=owner.team_id, user=owner.user_id, request=body.get("trigger_id")):
            log.info("button %s", action.get("action_id"))
            kind, _, encoded = str(action.get("value", "")).partition(":")
            try:
                ref = ItemRef.decode(encoded)
            except ValueError:
                log.warning("button value is not an item reference; ignored")
                return

            async def work() -> None:
                item = await self._onedrive.get_item(owner, ref)
                if share:
                    await self._share_item(owner, item, kind == "edit", channel_id, reply)
                else:
                    await self._fetch_item(owner, item, channel_id, reply)

            await self._guard(owner, reply, work)

    # subcommands

    async def _connect(
        self, command: Command, owner: SlackUser, channel_id: str, reply: Reply
    ) -> None:
        connection = await self._onedrive.status(owner)
        url = await self._onedrive.connect_link(owner)
        if connection is None:
            text = messages.connect_link(url)
        else:
            text = messages.ALREADY_CONNECTED.format(username=messages.escape(connection.username))
        await reply.send(text, blocks.connect_blocks(text, url))

    async def _status(
        self, command: Command, owner: SlackUser, channel_id: str, reply: Reply
    ) -> None:
        connection = await self._onedrive.status(owner)
        if connection is None:
            raise NotConnected("status of a person with no connection")
        await self._onedrive.check_connection(owner)
        await reply.send(messages.status_connected(connection.username, connection.created_at))

    async def _disconnect(
        self, command: Command, owner: SlackUser, channel_id: str, reply: Reply
    ) -> None:
        removed = await self._onedrive.disconnect(owner)
        await reply.send(messages.DISCONNECTED if removed else messages.NOTHING_TO_DISCONNECT)

    async def _search(
        self, command: Command, owner: SlackUser, channel_id: str, reply: Reply
    ) -> None:
        if not command.argument:
            await reply.send(f"Tell me what to look for: `{messages.COMMAND} search <words>`.")
            return
        if len(command.argument) > MAX_QUERY_LENGTH:
            await reply.send(messages.query_too_long(MAX_QUERY_LENGTH))
            return
        page = await self._onedrive.search(owner, command.argument)
        if not page.items:
            await reply.send(messages.no_results(command.argument))
            return
        header = messages.search_header(command.argument, len(page.items), page.has_more)
        await reply.send(header, blocks.search_result_blocks(header, page.items))

    async def _share(
        self, command: Command, owner: SlackUser, channel_id: str, reply: Reply
    ) -> None:
        found = await self._resolve(command, owner, reply, blocks.SHARE_ACTION, "share")
        if found is not None and found.item is not None:
            await self._share_item(
                owner, found.item, command.edit, channel_id, reply, token=found.token
            )

    async def _fetch(
        self, command: Command, owner: SlackUser, channel_id: str, reply: Reply
    ) -> None:
        found = await self._resolve(command, owner, reply, blocks.FETCH_ACTION, "upload")
        if found is not None and found.item is not None:
            await self._fetch_item(owner, found.item, channel_id, reply)

    # shared steps

    async def _resolve(
        self,
        command: Command,
        owner: SlackUser,
        reply: Reply,
        action_id: str,
        verb: str,
    ) -> Resolution | None:
        """Return the one item the argument names, or reply with a picker or a miss."""
        if not command.argument:
            await reply.send(messages.missing_argument(command.name))
            return None
        if len(command.argument) > MAX_QUERY_LENGTH and not looks_like_link(command.argument):
            await reply.send(messages.query_too_long(MAX_QUERY_LENGTH))
            return None
        resolution = await self._onedrive.resolve(owner, command.argument)
        if resolution.item is not None:
            return resolution
        if not resolution.candidates:
            await reply.send(messages.no_results(command.argument))
            return None
        header = messages.pick_one(command.argument, verb)
        picker = blocks.picker_blocks(header, resolution.candidates, action_id, command.edit)
        await reply.send(header, picker)
        return None

    async def _share_item(
        self,
        owner: SlackUser,
        item: DriveItem,
        edit: bool,
        channel_id: str,
        reply: Reply,
        token: AccessToken | None = None,
    ) -> None:
        link = await self._onedrive.create_sharing_link(owner, item.ref, edit, token)
        text = messages.shared_message(owner.user_id, item.name, link.url, edit)
        try:
            await self._delivery.post_message(channel_id, text)
        except NotInChannel:
            # response_url can post into a conversation the bot is not a member of.
            log.info("bot cannot post in the channel; posting through response_url")
            await reply.in_channel(text)
        if link.scope_was_narrowed:
            await reply.send(messages.LINK_SCOPE_BLOCKED)

    async def _fetch_item(
        self, owner: SlackUser, item: DriveItem, channel_id: str, reply: Reply
    ) -> None:
        if item.is_folder:
            await reply.send(messages.folder_not_supported(item.name))
            return
        if owner in self._fetching:
            await reply.send(messages.FETCH_IN_PROGRESS)
            return
        self._fetching.add(owner)
        try:
            await self._download_and_upload(owner, item, channel_id, reply)
        finally:
            self._fetching.discard(owner)

    async def _download_and_upload(
        self, owner: SlackUser, item: DriveItem, channel_id: str, reply: Reply
    ) -> None:
        if item.size is not None and item.size <= self._onedrive.fetch_max_bytes:
            await reply.send(messages.fetch_started(item.name, item.size))
        spool = await asyncio.to_thread(tempfile.TemporaryFile)
        try:
            size = await self._onedrive.download(owner, item, spool)
            await self._delivery.upload_file(
                channel_id,
                spool,
                item.name,
                size,
                messages.fetched_comment(owner.user_id, item.name),
            )
        finally:
            await asyncio.to_thread(spool.close)

    async def _guard(
        self, owner: SlackUser, reply: Reply, work: Callable[[], Awaitable[None]]
    ) -> None:
        """Run a listener's work and turn every failure into a reply the person can act on."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            await work()
        except (NotConnected, ReconnectRequired) as exc:
            log.info("person must connect: %s", exc)
            url = await self._onedrive.connect_link(owner)
            await reply.send(exc.user_message, blocks.connect_blocks(exc.user_message, url))
        except BotError as exc:
            log.info("replied with %s: %s", type(exc).__name__, exc)
            await reply.send(exc.user_message)
        except Exception:
            error_id = new_error_id()
            log.exception("unexpected error (error id %s)", error_id)
            await reply.send(messages.UNEXPECTED_ERROR.format(error_id=error_id))
        finally:
            if task is not None:
                self._in_flight.discard(task)


class Reply:
    """Replies to the person who asked, through `response_url` or as an ephemeral message.

    A `response_url` works for 30 minutes and 5 messages. After that, the Web API's
    chat.postEphemeral still reaches the person in channels the bot is a member of.
    """

    def __init__(
        self, response_url: str, delivery: SlackDelivery, channel_id: str, user_id: str
    ) -> None:
        self._response_url = response_url
        self._delivery = delivery
        self._channel_id = channel_id
        self._user_id = user_id

    async def send(self, text: str, reply_blocks: list[dict[str, Any]] | None = None) -> None:
        """Reply only to the person who asked, as a new ephemeral message."""
        if await self._post(text, reply_blocks, "ephemeral"):
            return
        try:
            await self._delivery.post_ephemeral(self._channel_id, self._user_id, text, reply_blocks)
        except BotError as exc:
            log.warning("could not reply to the person at all: %s", exc)

    async def in_channel(self, text: str) -> None:
        """Post visibly into the conversation the command came from."""
        if not await self._post(text, None, "in_channel"):
            raise NotInChannel("response_url rejected an in-channel message")

    async def _post(
        self, text: str, reply_blocks: list[dict[str, Any]] | None, response_type: str
    ) -> bool:
        if not self._response_url.startswith("https://"):
            return False
        message: dict[str, Any] = {
            "text": text,
            "response_type": response_type,
            "replace_original": False,
        }
        if reply_blocks is not None:
            message["blocks"] = reply_blocks
        return await self._delivery.post_to_response_url(self._response_url, message)


_COMMANDS = {
    "connect": Listeners._connect,
    "status": Listeners._status,
    "disconnect": Listeners._disconnect,
    "search": Listeners._search,
    "share": Listeners._share,
    "fetch": Listeners._fetch,
}
