"""Queues of canned responses that the fakes send in place of their normal response."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import Response

JSON_CONTENT_TYPE = "application/json; charset=utf-8"


RESET = 0


class _BrokenResponse(Response):
    """Sends the start of a response, then fails, so the server drops the connection."""

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"100")]}
        )
        await send({"type": "http.response.body", "body": b"{", "more_body": True})
        raise ConnectionResetError("the fake dropped the connection on purpose")


@dataclass
class CannedResponse:
    """A response to send verbatim.

    A dict or list body is sent as JSON, a str body as UTF-8 text, bytes as they are,
    and None as an empty body. Status ``RESET`` breaks the connection after the status
    line, as a proxy or a load balancer that drops it does.
    ``delay_seconds`` is slept before the response is sent.
    """

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay_seconds: float = 0.0

    def to_response(self, extra_headers: dict[str, str] | None = None) -> Response:
        if self.status == RESET:
            return _BrokenResponse()
        headers = dict(extra_headers or {})
        headers.update(self.headers)
        has_content_type = any(name.lower() == "content-type" for name in headers)
        if isinstance(self.body, dict | list):
            content: bytes = json.dumps(self.body).encode("utf-8")
            if not has_content_type:
                headers["Content-Type"] = JSON_CONTENT_TYPE
        elif isinstance(self.body, str):
            content = self.body.encode("utf-8")
            if not has_content_type:
                headers["Content-Type"] = "text/plain; charset=utf-8"
        elif isinstance(self.body, bytes):
            content = self.body
        else:
            content = b""
        return Response(content=content, status_code=self.status, headers=headers)


@dataclass
class _QueuedFault:
    response: CannedResponse
    remaining: int
    method: str | None
    path_pattern: re.Pattern[str] | None
    key: str | None

    def matches(self, method: str, path: str, key: str | None) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.key is not None and self.key != key:
            return False
        return self.path_pattern is None or self.path_pattern.search(path) is not None


class FaultQueue:
    """Thread-safe FIFO of canned responses, each used for a number of matching requests."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[_QueuedFault] = []

    def add(
        self,
        response: CannedResponse,
        *,
        count: int = 1,
        method: str | None = None,
        path_pattern: str | None = None,
        key: str | None = None,
    ) -> None:
        """Queue ``response`` for the next ``count`` requests that match.

        ``method`` matches the HTTP method, ``path_pattern`` is a regular expression
        searched in the request path, and ``key`` is a fake-specific name such as a
        Slack method or an OAuth grant type. None matches anything.
        """
        if count < 1:
            raise ValueError(f"count must be at least 1, got {count}")
        pattern = re.compile(path_pattern) if path_pattern is not None else None
        with self._lock:
            self._faults.append(_QueuedFault(response, count, method, pattern, key))

    def take(self, *, method: str, path: str, key: str | None = None) -> CannedResponse | None:
        """Return the first queued response that matches, counting it as used once."""
        with self._lock:
            for fault in self._faults:
                if fault.matches(method, path, key):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault.response
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    def __len__(self) -> int:
        """Return the number of responses still queued, counting repeats."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)
