"""What the fake Slack records: API calls, messages and file uploads."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class SlackCall:
    """One Web API call.

    ``args`` contains the merged query, form or JSON arguments without the token.
    ``error`` is the Slack error code of a failed call.
    """

    method: str
    args: dict[str, Any]
    authenticated: bool
    ok: bool
    error: str | None
    http_status: int


@dataclass
class SlackMessage:
    """A message the app sent.

    ``kind`` is ``message`` (chat.postMessage), ``ephemeral`` (chat.postEphemeral),
    ``update`` (chat.update), ``response_url`` (a POST to a response_url) or
    ``file_share`` (the initial_comment of files.completeUploadExternal).
    ``channel`` is the resolved channel id, a D... id for a message sent to a user.
    """

    kind: str
    channel: str | None
    text: str | None
    blocks: list[Any] | None = None
    user: str | None = None
    ts: str | None = None
    thread_ts: str | None = None
    response_type: str | None = None
    replace_original: bool | None = None
    delete_original: bool | None = None
    response_url: str | None = None
    file_ids: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass
class SlackUpload:
    """A file announced by files.getUploadURLExternal and what reached the upload host.

    ``size`` and ``sha256`` describe the received bytes and stay None until the upload
    URL was posted to. The bytes are kept on disk at ``path`` until the fake stops.
    """

    file_id: str
    filename: str
    length: int
    upload_url: str
    size: int | None = None
    sha256: str | None = None
    path: Path | None = None
    upload_content_type: str | None = None
    upload_authorization: str | None = None
    completed: bool = False
    title: str | None = None
    channel: str | None = None
    initial_comment: str | None = None
    thread_ts: str | None = None

    def read_bytes(self) -> bytes:
        """Return the received bytes; meant for small files."""
        if self.path is None:
            raise ValueError(f"file {self.file_id} was never uploaded")
        return self.path.read_bytes()


class HashingFileWriter:
    """Write chunks to a file while counting them and computing their SHA-256."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = path.open("wb")
        self._digest = hashlib.sha256()
        self.size = 0

    def write(self, chunk: bytes) -> None:
        self._file.write(chunk)
        self._digest.update(chunk)
        self.size += len(chunk)

    def close(self) -> None:
        self._file.close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()
