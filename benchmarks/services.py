"""The fakes from `tests.fakes`, with arrival and transfer times recorded for the benchmarks.

All times are `time.monotonic()` values. On Linux that clock is CLOCK_MONOTONIC, shared by
every process on the machine, so times taken in the load generator process compare with
these.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from tests.fakes import (
    FakeDownloadHost,
    FakeGraph,
    FakeIdentityPlatform,
    FakeServer,
    FakeSlack,
    RecordLog,
    SlackMessage,
    TestCA,
)


@dataclass(frozen=True)
class Interval:
    """One request as a fake server handled it, from arrival to the last byte handed over."""

    started: float
    ended: float
    path: str
    size: int = 0


class TimedRecordLog(RecordLog[Any]):
    """A RecordLog that also keeps the arrival time of every record and wakes waiters."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self._changed = threading.Condition()
        self._times: list[float] = []

    def append(self, item: Any) -> None:
        with self._changed:
            super().append(item)
            self._times.append(time.monotonic())
            self._changed.notify_all()

    def timed(self) -> list[tuple[Any, float]]:
        with self._changed:
            return list(zip(self.snapshot(), self._times, strict=True))

    def wait_timed(
        self, predicate: Callable[[Any], bool], timeout: float, start: int = 0
    ) -> tuple[Any, float]:
        """Block until a record from index `start` on satisfies `predicate`.

        Returns the record and its arrival time. Raises TimeoutError after `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            checked = start
            while True:
                items = self.snapshot()
                for index in range(checked, len(items)):
                    if predicate(items[index]):
                        return items[index], self._times[index]
                checked = max(checked, len(items))
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no {self.name} record matched within {timeout} s")
                self._changed.wait(remaining)


class IntervalLog:
    """Thread-safe list of Intervals."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[Interval] = []

    def add(self, interval: Interval) -> None:
        with self._lock:
            self._items.append(interval)

    def snapshot(self) -> list[Interval]:
        with self._lock:
            return list(self._items)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)


class TimedDownloadHost(FakeDownloadHost):
    """The fake download host, recording when each download started and finished."""

    def __init__(self, ca: TestCA | None) -> None:
        super().__init__(ca)
        self.transfers = IntervalLog()

    async def _download(self, request: Request) -> Response:
        started = time.monotonic()
        response = await super()._download(request)
        if not isinstance(response, StreamingResponse):
            return response
        inner = response.body_iterator
        path = request.url.path

        async def timed_body() -> AsyncIterator[Any]:
            sent = 0
            async for chunk in inner:
                sent += len(chunk)
                yield chunk
            self.transfers.add(Interval(started, time.monotonic(), path, sent))

        response.body_iterator = timed_body()
        return response


class TimedGraph(FakeGraph):
    """The fake Graph, recording the interval of every request it handled."""

    def __init__(self, identity: FakeIdentityPlatform, ca: TestCA | None) -> None:
        super().__init__(identity, ca)
        # Replace the download host before it starts; the unused one only owns a socket.
        self.download_host.stop()
        self.timed_download_host = TimedDownloadHost(ca)
        self.download_host = self.timed_download_host
        self.intervals = IntervalLog()

    async def _dispatch(self, request: Request) -> Response:
        started = time.monotonic()
        try:
            return await super()._dispatch(request)
        finally:
            self.intervals.add(Interval(started, time.monotonic(), request.url.path))


class TimedSlack(FakeSlack):
    """The fake Slack, with timed message records and timed uploads."""

    def __init__(self, ca: TestCA | None) -> None:
        super().__init__(ca)
        self.messages: TimedRecordLog = TimedRecordLog("Slack message")
        self.completed_uploads: TimedRecordLog = TimedRecordLog("completed upload")
        self.upload_intervals = IntervalLog()

    async def _upload(self, request: Request) -> Response:
        started = time.monotonic()
        response = await super()._upload(request)
        size = int(request.headers.get("content-length") or 0)
        self.upload_intervals.add(Interval(started, time.monotonic(), request.url.path, size))
        return response

    def wait_message(
        self, predicate: Callable[[SlackMessage], bool], timeout: float, start: int = 0
    ) -> tuple[SlackMessage, float]:
        """Wait for a message the app sent; return it with its arrival time."""
        message, arrived = self.messages.wait_timed(predicate, timeout, start)
        return message, arrived


def disable_nagle(fake: FakeServer) -> None:
    """Set TCP_NODELAY on a fake's listening socket, so its connections inherit it (Linux).

    NOTE: tests/fakes/server.py binds `socket.socket(AF_INET, SOCK_STREAM)`, whose protocol
    number is 0, so asyncio's own TCP_NODELAY (set only for IPPROTO_TCP sockets) is skipped.
    Nagle's algorithm then delays each response's second segment until the client's delayed
    ACK, about 40 ms per response, which would be counted against the app. Remove this
    once the fakes create their socket with IPPROTO_TCP.
    """
    listening: socket.socket = fake._server._socket
    listening.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Services:
    """A test CA and the fake identity platform, Graph and Slack, all on 127.0.0.1."""

    def __init__(self) -> None:
        self.ca = TestCA()
        self.identity = FakeIdentityPlatform(self.ca)
        self.graph = TimedGraph(self.identity, self.ca)
        self.slack = TimedSlack(self.ca)
        for fake in (self.identity, self.graph, self.graph.download_host, self.slack):
            disable_nagle(fake)

    def start(self) -> Self:
        self.identity.start()
        self.graph.start()
        self.slack.start()
        return self

    def stop(self) -> None:
        self.slack.stop()
        self.graph.stop()
        self.identity.stop()
        self.ca.close()

    def app_env(self) -> dict[str, str]:
        """Return the app settings that point it at these fakes."""
        return {
            "SLACK_BOT_TOKEN": self.slack.bot_token,
            "MS_CLIENT_ID": self.identity.client_id,
            "MS_CLIENT_SECRET": self.identity.client_secret,
            "MS_TENANT": "common",
            "SLACK_API_URL": self.slack.api_url,
            "MS_AUTHORITY_HOST": self.identity.url,
            "GRAPH_API_URL": f"{self.graph.url}/v1.0",
            **self.ca.env(),
        }

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
