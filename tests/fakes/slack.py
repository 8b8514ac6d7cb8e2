"""Fake Slack: the Web API, the external file upload host and response_url hooks.

Point slack_sdk at it with ``AsyncWebClient(token=fake.bot_token, base_url=fake.api_url)``.
Routes:

- ``GET|POST /api/{method}`` for auth.test, chat.postMessage, chat.postEphemeral,
  chat.update, conversations.open, files.getUploadURLExternal and
  files.completeUploadExternal. Arguments may come as query string, form, multipart
  or JSON; the token as ``Authorization: Bearer`` or a ``token`` query or form field.
- ``POST /upload/v1/{upload token}``: the upload_url of files.getUploadURLExternal.
- ``POST /hooks/...``: the URLs from ``new_response_url()``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from tests.fakes.faults import CannedResponse, FaultQueue
from tests.fakes.multipart import MultipartError, MultipartParser, boundary_from_content_type
from tests.fakes.payloads import payload_body
from tests.fakes.records import RecordLog
from tests.fakes.server import FakeServer
from tests.fakes.slack_api import SlackMethods
from tests.fakes.slack_records import HashingFileWriter, SlackCall, SlackMessage, SlackUpload
from tests.fakes.slack_workspace import SlackApiError, Workspace
from tests.fakes.tls import TestCA

logger = logging.getLogger(__name__)

RecordKind = Literal["messages", "calls", "uploads"]


@dataclass
class _ResponseUrl:
    url: str
    created_at: float
    uses: int = 0


class FakeSlack(FakeServer):
    """The Slack endpoints an app uses, with records that tests can wait on.

    Channel C2147483705 ("test") exists and has the bot as a member. Use
    ``add_channel()`` or the ``channels`` and ``bot_channels`` collections for others.
    """

    def __init__(
        self,
        ca: TestCA | None,
        *,
        bot_token: str | None = None,
        team_id: str = "T0001",
        team_name: str = "Example",
        bot_user_id: str = "U0BOT0001",
        bot_id: str = "B0BOT0001",
    ) -> None:
        app = Starlette(
            routes=[
                Route("/api/{method}", self._api, methods=["GET", "POST"]),
                Route("/upload/v1/{token}", self._upload, methods=["POST"]),
                Route("/hooks/{rest:path}", self._hook, methods=["POST"]),
            ]
        )
        super().__init__(app, ca=ca, name="slack")
        self.bot_token = bot_token or (
            f"xoxb-{secrets.randbelow(10**12)}-{secrets.randbelow(10**12)}-{secrets.token_hex(12)}"
        )
        self.valid_tokens: set[str] = {self.bot_token}
        self.team_id = team_id
        self.team_name = team_name
        self.bot_user_id = bot_user_id
        self.bot_id = bot_id

        self.workspace = Workspace()

        self.response_url_max_uses = 5
        self.response_url_lifetime = 30 * 60.0
        self.faults = FaultQueue()
        self.calls: RecordLog[SlackCall] = RecordLog("Slack call")
        self.messages: RecordLog[SlackMessage] = RecordLog("Slack message")
        self.completed_uploads: RecordLog[SlackUpload] = RecordLog("completed upload")
        self.upload_authorization_headers_seen: list[str] = []

        self._lock = threading.Lock()
        self._uploads_by_token: dict[str, SlackUpload] = {}
        self._uploads: dict[str, SlackUpload] = {}
        self._response_urls: dict[str, _ResponseUrl] = {}
        self._upload_directory = Path(tempfile.mkdtemp(prefix="fake-slack-uploads-"))
        self._methods = SlackMethods(self)

    @property
    def api_url(self) -> str:
        """The ``base_url`` for slack_sdk clients, with its trailing slash."""
        return f"{self.url}/api/"

    def stop(self) -> None:
        """Stop the server and delete the uploaded files."""
        super().stop()
        shutil.rmtree(self._upload_directory, ignore_errors=True)

    # Test API.

    @property
    def channels(self) -> dict[str, str]:
        """Known public and private channels: id (C... or G...) to name."""
        return self.workspace.channels

    @channels.setter
    def channels(self, value: dict[str, str]) -> None:
        self.workspace.channels = value

    @property
    def bot_channels(self) -> set[str]:
        """Ids of the channels the bot is a member of."""
        return self.workspace.bot_channels

    @bot_channels.setter
    def bot_channels(self, value: set[str]) -> None:
        self.workspace.bot_channels = value

    @property
    def channel_members(self) -> dict[str, set[str]]:
        """Optional member lists by channel id, checked by chat.postEphemeral."""
        return self.workspace.channel_members

    @channel_members.setter
    def channel_members(self, value: dict[str, set[str]]) -> None:
        self.workspace.channel_members = value

    def add_channel(self, channel_id: str, name: str, *, bot_member: bool = True) -> None:
        self.workspace.add_channel(channel_id, name, bot_member=bot_member)

    def new_response_url(self, team_id: str | None = None) -> str:
        """Return a fresh response_url like the one in a slash command or interaction."""
        with self._lock:
            number = len(self._response_urls) + 1
            path = f"/hooks/commands/{team_id or self.team_id}/{number}/{secrets.token_urlsafe(18)}"
            self._response_urls[path] = _ResponseUrl(f"{self.url}{path}", time.time())
        return f"{self.url}{path}"

    @property
    def uploads(self) -> dict[str, SlackUpload]:
        """Files announced by files.getUploadURLExternal, by file id."""
        with self._lock:
            return dict(self._uploads)

    def fail_next(
        self,
        method: str,
        body: Any = None,
        status: int = 200,
        headers: dict[str, str] | None = None,
        *,
        error: str | None = None,
        count: int = 1,
        delay_seconds: float = 0.0,
    ) -> None:
        """Queue a canned response for the next ``count`` calls of ``method``.

        ``method`` is a Web API method name, ``upload`` for the upload host or
        ``response_url`` for the hooks. ``error`` is a shortcut for the body
        ``{"ok": false, "error": error}``. A None body with status 429 sends the
        documented ``ratelimited`` body, and with ``headers`` None a 429 carries
        ``Retry-After: 1``.
        """
        if error is not None:
            body = {"ok": False, "error": error}
        elif body is None:
            if status == 429:
                body = payload_body("slack/error_ratelimited.json")
            else:
                body = {"ok": False, "error": "fatal_error"}
        if headers is None:
            headers = {"Retry-After": "1"} if status == 429 else {}
        canned = CannedResponse(status, body, dict(headers), delay_seconds)
        self.faults.add(canned, count=count, key=method)

    async def wait_for(
        self,
        predicate: Callable[[Any], bool],
        timeout: float = 10.0,
        *,
        kind: RecordKind = "messages",
    ) -> Any:
        """Wait without blocking the event loop until a record satisfies ``predicate``.

        ``kind`` picks the records: ``messages`` (SlackMessage), ``calls`` (SlackCall)
        or ``uploads`` (SlackUpload, once completed). Raises TimeoutError.
        """
        return await self._records(kind).wait_for(predicate, timeout)

    def wait_for_sync(
        self,
        predicate: Callable[[Any], bool],
        timeout: float = 10.0,
        *,
        kind: RecordKind = "messages",
    ) -> Any:
        """Block the calling thread until a record satisfies ``predicate``; see wait_for."""
        return self._records(kind).wait_for_sync(predicate, timeout)

    def _records(self, kind: RecordKind) -> RecordLog[Any]:
        logs: dict[str, RecordLog[Any]] = {
            "messages": self.messages,
            "calls": self.calls,
            "uploads": self.completed_uploads,
        }
        return logs[kind]

    # Upload bookkeeping used by SlackMethods.

    def announce_upload(self, filename: str, length: int) -> SlackUpload:
        token = secrets.token_urlsafe(32)
        file_id = "F" + "".join(
            secrets.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(10)
        )
        upload = SlackUpload(file_id, filename, length, f"{self.url}/upload/v1/{token}")
        with self._lock:
            self._uploads_by_token[token] = upload
            self._uploads[file_id] = upload
        return upload

    def find_upload(self, file_id: str) -> SlackUpload | None:
        with self._lock:
            return self._uploads.get(file_id)

    # Endpoints.

    async def _api(self, request: Request) -> Response:
        method = request.path_params["method"]
        headers = {"x-slack-req-id": secrets.token_hex(16)}
        try:
            args, form_token = await _read_arguments(request)
        except SlackApiError as error:
            self.calls.append(SlackCall(method, {}, False, False, error.error, 200))
            return JSONResponse({"ok": False, "error": error.error}, headers=headers)
        authorization = request.headers.get("authorization", "")
        token = authorization[7:].strip() if authorization.lower().startswith("bearer ") else None
        token = token or form_token
        authenticated = token is not None and token in self.valid_tokens

        canned = self.faults.take(method=request.method, path=request.url.path, key=method)
        if canned is not None:
            if canned.delay_seconds:
                await asyncio.sleep(canned.delay_seconds)
            error_code = canned.body.get("error") if isinstance(canned.body, dict) else None
            self.calls.append(
                SlackCall(method, args, authenticated, False, error_code, canned.status)
            )
            return canned.to_response(headers)

        try:
            handler = self._methods.handler(method)
            if not token:
                raise SlackApiError("not_authed")
            if not authenticated:
                raise SlackApiError("invalid_auth")
            result = handler(args)
        except SlackApiError as error:
            logger.info("fake Slack rejected %s: %s", method, error.error)
            body: dict[str, Any] = {"ok": False, "error": error.error}
            if error.error == "unknown_method":
                body["req_method"] = method
            self.calls.append(SlackCall(method, args, authenticated, False, error.error, 200))
            return JSONResponse(body, status_code=error.status, headers=headers)
        self.calls.append(SlackCall(method, args, authenticated, True, None, 200))
        return JSONResponse({"ok": True, **result}, headers=headers)

    async def _upload(self, request: Request) -> Response:
        authorization = request.headers.get("authorization")
        if authorization is not None:
            with self._lock:
                self.upload_authorization_headers_seen.append(authorization)
        canned = self.faults.take(method="POST", path=request.url.path, key="upload")
        if canned is not None:
            return canned.to_response()
        with self._lock:
            upload = self._uploads_by_token.get(request.path_params["token"])
        if upload is None:
            logger.info("fake Slack rejected an upload to unknown URL %s", request.url.path)
            return PlainTextResponse("Invalid upload URL.", status_code=404)

        content_type = request.headers.get("content-type", "")
        writer = HashingFileWriter(self._upload_directory / f"{upload.file_id}.bin")
        try:
            # Slack stores a body that is not multipart as the file's raw bytes, even a
            # form-encoded one.
            if content_type.lower().startswith("multipart/form-data"):
                parser = MultipartParser(boundary_from_content_type(content_type), writer.write)
                async for chunk in request.stream():
                    parser.feed(chunk)
                parser.close()
            else:
                async for chunk in request.stream():
                    writer.write(chunk)
        except MultipartError as error:
            logger.info("fake Slack rejected upload %s: %s", upload.file_id, error)
            return PlainTextResponse(f"Invalid multipart body: {error}", status_code=400)
        finally:
            writer.close()
        with self._lock:
            upload.size = writer.size
            upload.sha256 = writer.sha256
            upload.path = writer.path
            upload.upload_content_type = content_type or None
            upload.upload_authorization = authorization
        return PlainTextResponse(f"OK - {writer.size}")

    async def _hook(self, request: Request) -> Response:
        path = request.url.path
        canned = self.faults.take(method="POST", path=path, key="response_url")
        if canned is not None:
            return canned.to_response()

        with self._lock:
            state = self._response_urls.get(path)
            if state is not None:
                state.uses += 1
        if state is None:
            return _hook_error(path, "invalid_token", 404)
        if time.time() - state.created_at > self.response_url_lifetime:
            return _hook_error(path, "expired_url", 404)
        if state.uses > self.response_url_max_uses:
            return _hook_error(path, "used_url", 404)

        try:
            payload = await _read_hook_payload(request)
        except ValueError:
            return _hook_error(path, "invalid_payload", 400)
        has_content = any(payload.get(key) for key in ("text", "blocks", "attachments"))
        if not has_content and not payload.get("delete_original"):
            return _hook_error(path, "no_text", 400)

        self.messages.append(
            SlackMessage(
                kind="response_url",
                channel=None,
                text=payload.get("text"),
                blocks=payload.get("blocks"),
                thread_ts=payload.get("thread_ts"),
                response_type=payload.get("response_type", "ephemeral"),
                replace_original=_as_bool(payload.get("replace_original")),
                delete_original=_as_bool(payload.get("delete_original")),
                response_url=state.url,
                raw=payload,
            )
        )
        return PlainTextResponse("ok")


def _hook_error(path: str, error: str, status: int) -> Response:
    """Return a response_url error as Slack sends it: the error code as plain text."""
    logger.info("fake Slack rejected a post to response_url %s: %s", path, error)
    return PlainTextResponse(error, status_code=status)


def _as_bool(value: Any) -> bool | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value.lower() == "true"
    return bool(value)


async def _read_arguments(request: Request) -> tuple[dict[str, Any], str | None]:
    """Merge query string and body arguments; return them and a token given outside JSON.

    Slack reads the token from a query or form field but never from a JSON body.
    """
    args: dict[str, Any] = dict(request.query_params)
    token = args.pop("token", None)
    content_type = request.headers.get("content-type", "")
    media_type = content_type.split(";")[0].strip().lower()
    body = await request.body()
    if media_type == "application/json":
        try:
            data = json.loads(body or b"{}")
        except json.JSONDecodeError as error:
            raise SlackApiError("invalid_json") from error
        if not isinstance(data, dict):
            raise SlackApiError("invalid_json")
        data.pop("token", None)
        args.update(data)
    elif media_type == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
        token = form.pop("token", None) or token
        args.update(form)
    elif media_type == "multipart/form-data":
        try:
            parser = MultipartParser(boundary_from_content_type(content_type), lambda _: None)
            parser.feed(body)
            parser.close()
        except MultipartError as error:
            raise SlackApiError("invalid_form_data") from error
        token = parser.fields.pop("token", None) or token
        args.update(parser.fields)
    return args, token


async def _read_hook_payload(request: Request) -> dict[str, Any]:
    """Read a response_url body: JSON, or a form with a ``payload`` JSON field."""
    body = await request.body()
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type == "application/x-www-form-urlencoded":
        body = dict(parse_qsl(body.decode("utf-8"))).get("payload", "").encode("utf-8")
    payload = json.loads(body)
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload
