"""Fake download host that serves the pre-authenticated URLs the fake Graph redirects to."""

from __future__ import annotations

import logging
import re
import secrets
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.fakes.graph_drive import DriveItem
from tests.fakes.records import RecordLog
from tests.fakes.server import FakeServer
from tests.fakes.tls import TestCA

logger = logging.getLogger(__name__)

_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


@dataclass
class DownloadRecord:
    """One request to the download host."""

    item_id: str | None
    status: int
    range_header: str | None
    authorization: str | None
    bytes_planned: int


@dataclass
class _Ticket:
    item: DriveItem
    expires_at: float


class FakeDownloadHost(FakeServer):
    """Serves ``GET /download/{token}`` with the item's bytes, streamed in 1 MiB chunks.

    A token is unguessable and expires after ``lifetime`` seconds. Single byte ranges
    are supported. Every ``Authorization`` header that reaches the host is kept in
    ``authorization_headers_seen``: a client must not send its Graph token here.
    """

    def __init__(self, ca: TestCA | None, *, lifetime: float = 300.0) -> None:
        app = Starlette(routes=[Route("/download/{token}", self._download, methods=["GET"])])
        super().__init__(app, ca=ca, name="graph-download")
        self.lifetime = lifetime
        self._lock = threading.Lock()
        self._tickets: dict[str, _Ticket] = {}
        self.authorization_headers_seen: list[str] = []
        self.downloads: RecordLog[DownloadRecord] = RecordLog("download")

    def url_for(self, item: DriveItem) -> str:
        """Return a new pre-authenticated download URL for ``item``."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._tickets[token] = _Ticket(item, time.time() + self.lifetime)
        return f"{self.url}/download/{token}"

    def expire_urls(self) -> None:
        """Make every download URL issued so far invalid."""
        with self._lock:
            self._tickets.clear()

    async def _download(self, request: Request) -> Response:
        authorization = request.headers.get("authorization")
        if authorization is not None:
            with self._lock:
                self.authorization_headers_seen.append(authorization)
        range_header = request.headers.get("range")
        with self._lock:
            ticket = self._tickets.get(request.path_params["token"])
        if ticket is None or time.time() >= ticket.expires_at:
            self.downloads.append(DownloadRecord(None, 401, range_header, authorization, 0))
            logger.info("fake download host rejected an unknown or expired URL")
            return PlainTextResponse("The download URL is invalid or has expired.", 401)

        item = ticket.item
        start, end = 0, item.size
        status = 200
        headers = {
            "Accept-Ranges": "bytes",
            "Content-Type": item.mime_type or "application/octet-stream",
            "ETag": f'"{{{item.id}}},{item.version}"',
        }
        if range_header is not None:
            parsed = _parse_range(range_header, item.size)
            if parsed is None:
                self.downloads.append(DownloadRecord(item.id, 416, range_header, authorization, 0))
                logger.info(
                    "fake download host rejected range %r of item %s", range_header, item.id
                )
                return Response(status_code=416, headers={"Content-Range": f"bytes */{item.size}"})
            start, end = parsed
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{item.size}"
        headers["Content-Length"] = str(end - start)
        self.downloads.append(
            DownloadRecord(item.id, status, range_header, authorization, end - start)
        )

        async def body() -> AsyncIterator[bytes]:
            for chunk in item.iter_content(start, end):
                yield chunk

        return StreamingResponse(body(), status_code=status, headers=headers)


def _parse_range(value: str, size: int) -> tuple[int, int] | None:
    """Return the half-open byte range of a single-range header, or None if unsatisfiable."""
    match = _RANGE.match(value.strip())
    if match is None or match.group(1) == match.group(2) == "":
        return None
    first, last = match.group(1), match.group(2)
    if first == "":
        length = int(last)
        return (max(size - length, 0), size) if length > 0 and size > 0 else None
    start = int(first)
    end = size if last == "" else min(int(last) + 1, size)
    return (start, end) if start < size and start < end else None
