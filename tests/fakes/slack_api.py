"""Web API methods of the fake Slack."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from tests.fakes.slack_records import SlackMessage
from tests.fakes.slack_workspace import SlackApiError

if TYPE_CHECKING:
    from tests.fakes.slack import FakeSlack

MAX_TEXT_LENGTH = 40_000
MAX_BLOCKS = 50

Args = dict[str, Any]


def _parse_json_argument(args: Args, name: str) -> Any:
    """Return an argument that form requests send as a JSON string and JSON bodies inline."""
    value = args.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as error:
            raise SlackApiError(f"invalid_{name}") from error
    return value


class SlackMethods:
    """Handlers that take the merged arguments and return the fields of an ok response.

    They raise SlackApiError for ``{"ok": false}`` responses.
    """

    def __init__(self, fake: FakeSlack) -> None:
        self.fake = fake
        self._handlers: dict[str, Callable[[Args], Args]] = {
            "auth.test": self.auth_test,
            "chat.postMessage": self.chat_post_message,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "chat.update": self.chat_update,
            "conversations.open": self.conversations_open,
            "files.getUploadURLExternal": self.files_get_upload_url_external,
            "files.completeUploadExternal": self.files_complete_upload_external,
        }

    def handler(self, method: str) -> Callable[[Args], Args]:
        handler = self._handlers.get(method)
        if handler is None:
            raise SlackApiError("unknown_method")
        return handler

    def auth_test(self, args: Args) -> Args:
        return {
            "url": f"{self.fake.url}/",
            "team": self.fake.team_name,
            "user": "onedrive",
            "team_id": self.fake.team_id,
            "user_id": self.fake.bot_user_id,
            "bot_id": self.fake.bot_id,
            "is_enterprise_install": False,
        }

    def _content(self, args: Args) -> tuple[str | None, list[Any] | None]:
        """Return the text and blocks of a message, checking Slack's limits."""
        text = args.get("text")
        blocks = _parse_json_argument(args, "blocks")
        if not text and not blocks and not args.get("attachments"):
            raise SlackApiError("no_text")
        if text is not None and len(str(text)) > MAX_TEXT_LENGTH:
            raise SlackApiError("msg_too_long")
        if blocks is not None:
            if not isinstance(blocks, list) or len(blocks) > MAX_BLOCKS:
                raise SlackApiError("invalid_blocks")
            if not all(isinstance(block, dict) and "type" in block for block in blocks):
                raise SlackApiError("invalid_blocks")
        return (str(text) if text is not None else None), blocks

    def _bot_message(self, text: str | None, blocks: list[Any] | None, ts: str) -> Args:
        message: Args = {
            "type": "message",
            "subtype": "bot_message",
            "text": text or "",
            "ts": ts,
            "user": self.fake.bot_user_id,
            "bot_id": self.fake.bot_id,
            "team": self.fake.team_id,
        }
        if blocks is not None:
            message["blocks"] = blocks
        return message

    def chat_post_message(self, args: Args) -> Args:
        channel = self.fake.workspace.resolve(args.get("channel"))
        text, blocks = self._content(args)
        ts = self.fake.workspace.next_ts()
        self.fake.messages.append(
            SlackMessage(
                kind="message",
                channel=channel,
                text=text,
                blocks=blocks,
                ts=ts,
                thread_ts=args.get("thread_ts"),
                raw=dict(args),
            )
        )
        return {"channel": channel, "ts": ts, "message": self._bot_message(text, blocks, ts)}

    def chat_post_ephemeral(self, args: Args) -> Args:
        channel = self.fake.workspace.resolve(args.get("channel"))
        user = args.get("user")
        if not user:
            raise SlackApiError("user_not_found")
        self.fake.workspace.check_member(channel, str(user))
        text, blocks = self._content(args)
        ts = self.fake.workspace.next_ts()
        self.fake.messages.append(
            SlackMessage(
                kind="ephemeral",
                channel=channel,
                text=text,
                blocks=blocks,
                user=str(user),
                ts=ts,
                thread_ts=args.get("thread_ts"),
                raw=dict(args),
            )
        )
        return {"message_ts": ts}

    def chat_update(self, args: Args) -> Args:
        channel = self.fake.workspace.resolve(args.get("channel"))
        ts = args.get("ts")
        posted = self.fake.messages.find(
            lambda message: (
                message.kind == "message" and message.channel == channel and message.ts == ts
            )
        )
        if posted is None:
            raise SlackApiError("message_not_found")
        text, blocks = self._content(args)
        self.fake.messages.append(
            SlackMessage(
                kind="update", channel=channel, text=text, blocks=blocks, ts=ts, raw=dict(args)
            )
        )
        return {
            "channel": channel,
            "ts": ts,
            "text": text or "",
            "message": self._bot_message(text, blocks, str(ts)),
        }

    def conversations_open(self, args: Args) -> Args:
        users = [user for user in str(args.get("users", "")).split(",") if user]
        if len(users) != 1:
            raise SlackApiError("users_list_not_supplied" if not users else "not_supported")
        channel_id = self.fake.workspace.open_direct_message(users[0])
        return {"channel": {"id": channel_id}}

    def files_get_upload_url_external(self, args: Args) -> Args:
        filename = args.get("filename")
        length = args.get("length")
        if not filename or length is None or not str(length).isdigit() or int(length) < 1:
            raise SlackApiError("invalid_arguments")
        upload = self.fake.announce_upload(str(filename), int(length))
        return {"upload_url": upload.upload_url, "file_id": upload.file_id}

    def files_complete_upload_external(self, args: Args) -> Args:
        files = _parse_json_argument(args, "files")
        if not isinstance(files, list) or not files:
            raise SlackApiError("invalid_arguments")
        targets = [args["channel_id"]] if args.get("channel_id") else []
        targets += [c for c in str(args.get("channels") or "").split(",") if c]
        channels = [self.fake.workspace.resolve(target) for target in targets]

        uploads = []
        for entry in files:
            if not isinstance(entry, dict) or not entry.get("id"):
                raise SlackApiError("invalid_arguments")
            upload = self.fake.find_upload(str(entry["id"]))
            # NOTE: Slack's documentation names no error code for a file that was never
            # uploaded or whose size differs from `length`; these codes are the fake's.
            if upload is None or upload.completed:
                raise SlackApiError("file_not_found")
            if upload.size is None:
                raise SlackApiError("file_not_uploaded")
            if upload.size != upload.length:
                raise SlackApiError("file_size_mismatch")
            uploads.append((upload, entry.get("title")))

        comment = args.get("initial_comment")
        thread_ts = args.get("thread_ts")
        for upload, title in uploads:
            upload.completed = True
            upload.title = str(title) if title else upload.filename
            upload.channel = channels[0] if channels else None
            upload.initial_comment = comment
            upload.thread_ts = thread_ts
            self.fake.completed_uploads.append(upload)
        file_ids = [upload.file_id for upload, _ in uploads]
        for channel in channels:
            self.fake.messages.append(
                SlackMessage(
                    kind="file_share",
                    channel=channel,
                    text=comment,
                    ts=self.fake.workspace.next_ts(),
                    thread_ts=thread_ts,
                    file_ids=file_ids,
                    raw=dict(args),
                )
            )
        return {
            "files": [
                {
                    "id": upload.file_id,
                    "title": upload.title,
                    "name": upload.filename,
                    "size": upload.size,
                }
                for upload, _ in uploads
            ]
        }
