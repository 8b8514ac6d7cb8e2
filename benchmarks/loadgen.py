"""Load generator: sends prepared HTTP POSTs from a process of its own and times each one.

It runs apart from the fakes, so their threads do not compete with it for the GIL. Run
through `send_requests()`; as `python -m benchmarks.loadgen` it reads a JSON job on stdin
and writes the results as JSON on stdout. Each request goes on a new connection, as
Slack's do, written with asyncio streams to keep the client's own cost small.

With `preconnect`, every connection is opened before the first request is written, so all
requests are in flight together. Without it, each request waits until `at` seconds after
the start. Every request is bounded by `timeout`, and so is the process.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from benchmarks.processes import REPOSITORY


@dataclass(frozen=True)
class Request:
    url: str
    body: str
    headers: dict[str, str]
    at: float = 0.0


@dataclass(frozen=True)
class Result:
    """One request's HTTP status (0 on failure) and its monotonic send and done times."""

    status: int
    sent: float
    done: float
    error: str = ""

    @property
    def latency(self) -> float:
        return self.done - self.sent


@dataclass
class Job:
    requests: list[Request]
    preconnect: bool = False
    timeout: float = 30.0


def _encode(request: Request) -> tuple[str, int, bytes]:
    parts = urlsplit(request.url)
    body = request.body.encode()
    lines = [
        f"POST {parts.path or '/'} HTTP/1.1",
        f"Host: {parts.netloc}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in request.headers.items()),
    ]
    head = ("\r\n".join(lines) + "\r\n\r\n").encode()
    return parts.hostname or "127.0.0.1", parts.port or 80, head + body


async def _read_status(reader: asyncio.StreamReader) -> int:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
    await reader.readexactly(length)
    return status


Connection = tuple[asyncio.StreamReader, asyncio.StreamWriter]


async def _send(
    request: Request, start: float, timeout: float, connection: Connection | None
) -> Result:
    host, port, payload = _encode(request)
    if connection is None:
        await asyncio.sleep(max(0.0, start + request.at - time.monotonic()))
    sent = time.monotonic()
    writer: asyncio.StreamWriter | None = None
    try:
        async with asyncio.timeout(timeout):
            reader, writer = connection or await asyncio.open_connection(host, port)
            writer.write(payload)
            await writer.drain()
            status = await _read_status(reader)
    except (OSError, TimeoutError, ValueError, IndexError, asyncio.IncompleteReadError) as exc:
        return Result(0, sent, time.monotonic(), f"{type(exc).__name__}: {exc}")
    finally:
        if writer is not None:
            writer.close()
    return Result(status, sent, time.monotonic())


async def _run(job: Job) -> list[Result]:
    connections: list[Connection | None] = [None] * len(job.requests)
    if job.preconnect:
        opened = await asyncio.gather(
            *(asyncio.open_connection(*_encode(request)[:2]) for request in job.requests)
        )
        connections = list(opened)
    start = time.monotonic()
    return list(
        await asyncio.gather(
            *(
                _send(request, start, job.timeout, connection)
                for request, connection in zip(job.requests, connections, strict=True)
            )
        )
    )


def send_requests(requests: list[Request], preconnect: bool, timeout: float = 30.0) -> list[Result]:
    """Send the requests from a child process and return one Result per request, in order."""
    job = {
        "requests": [asdict(request) for request in requests],
        "preconnect": preconnect,
        "timeout": timeout,
    }
    limit = max((request.at for request in requests), default=0.0) + timeout + 30.0
    completed = subprocess.run(
        [sys.executable, "-m", "benchmarks.loadgen"],
        input=json.dumps(job),
        capture_output=True,
        text=True,
        cwd=REPOSITORY,
        timeout=limit,
        check=False,
    )
    if completed.returncode != 0:
        raise RuntimeError(f"load generator failed:\n{completed.stderr[-2000:]}")
    return [Result(**item) for item in json.loads(completed.stdout)]


def main() -> None:
    data: dict[str, Any] = json.load(sys.stdin)
    job = Job(
        requests=[Request(**item) for item in data["requests"]],
        preconnect=bool(data.get("preconnect")),
        timeout=float(data.get("timeout", 30.0)),
    )
    results = asyncio.run(_run(job))
    json.dump([asdict(result) for result in results], sys.stdout)


if __name__ == "__main__":
    main()
