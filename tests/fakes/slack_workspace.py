"""Channels, direct messages and message timestamps of the fake Slack workspace."""

from __future__ import annotations

import hashlib
import threading
import time


class SlackApiError(Exception):
    """A Web API error response ``{"ok": false, "error": code}``."""

    def __init__(self, error: str, status: int = 200) -> None:
        super().__init__(error)
        self.error = error
        self.status = status


class Workspace:
    """Conversations known to the fake, and which of them the bot is a member of.

    ``channels`` maps public or private channel ids (C..., G...) to names.
    ``bot_channels`` contains the ids the bot is a member of. ``channel_members``
    optionally lists the users of a channel; chat.postEphemeral checks it when present.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.channels: dict[str, str] = {"C2147483705": "test"}
        self.bot_channels: set[str] = {"C2147483705"}
        self.channel_members: dict[str, set[str]] = {}
        self.direct_messages: dict[str, str] = {}
        self._last_ts = (0, 0)

    def add_channel(self, channel_id: str, name: str, *, bot_member: bool = True) -> None:
        with self.lock:
            self.channels[channel_id] = name
            if bot_member:
                self.bot_channels.add(channel_id)
            else:
                self.bot_channels.discard(channel_id)

    def open_direct_message(self, user_id: str) -> str:
        """Return the D... id of the bot's direct message with ``user_id``."""
        digest = hashlib.sha256(user_id.encode("utf-8")).hexdigest()[:10].upper()
        channel_id = f"D{digest}"
        with self.lock:
            self.direct_messages[channel_id] = user_id
        return channel_id

    def resolve(self, channel: str | None) -> str:
        """Return the conversation id the bot may post to for ``channel``.

        A user id (U... or W...) opens a direct message. Raises SlackApiError with
        channel_not_found or not_in_channel as Slack does.
        """
        if not channel:
            raise SlackApiError("channel_not_found")
        if channel[0] in "UW":
            return self.open_direct_message(channel)
        with self.lock:
            if channel.startswith("D"):
                if channel not in self.direct_messages:
                    raise SlackApiError("channel_not_found")
                return channel
            channel_id = channel
            if channel not in self.channels:
                name = channel.removeprefix("#")
                matches = [cid for cid, cname in self.channels.items() if cname == name]
                if not matches:
                    raise SlackApiError("channel_not_found")
                channel_id = matches[0]
            if channel_id not in self.bot_channels:
                raise SlackApiError("not_in_channel")
            return channel_id

    def check_member(self, channel_id: str, user_id: str) -> None:
        with self.lock:
            members = self.channel_members.get(channel_id)
            if members is not None and user_id not in members:
                raise SlackApiError("user_not_in_channel")

    def next_ts(self) -> str:
        """Return a new message timestamp, strictly increasing like Slack's."""
        with self.lock:
            seconds = int(time.time())
            last_seconds, last_counter = self._last_ts
            counter = last_counter + 1 if seconds <= last_seconds else 1
            seconds = max(seconds, last_seconds)
            self._last_ts = (seconds, counter)
        return f"{seconds}.{counter:06d}"
