"""JSON batching for the fake Graph: `POST /v1.0/$batch` with up to 20 GET requests.

https://learn.microsoft.com/graph/json-batching
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote_to_bytes, urlsplit

from starlette.requests import Request

from tests.fakes.graph_errors import GraphError

MAX_BATCH_REQUESTS = 20

# Runs one sub-request: (method, raw path, query, headers) -> (status, headers, body).
SubRequestRunner = Callable[
    [str, str, str, dict[str, str]], Awaitable[tuple[int, dict[str, str], Any]]
]


def parse_batch(body: bytes) -> list[dict[str, Any]]:
    """Return the batch's requests, or raise GraphError 400 as Graph does for a bad batch."""
    try:
        data = json.loads(body)
    except ValueError as error:
        raise GraphError(400, "BadRequest", "Invalid JSON in the batch request.") from error
    requests = data.get("requests") if isinstance(data, dict) else None
    if not isinstance(requests, list) or not requests:
        raise GraphError(400, "BadRequest", "The batch request must contain requests.")
    if len(requests) > MAX_BATCH_REQUESTS:
        raise GraphError(
            400, "BadRequest", f"A batch request has at most {MAX_BATCH_REQUESTS} requests."
        )
    ids = [str(item.get("id", "")) for item in requests if isinstance(item, dict)]
    if len(ids) != len(requests) or "" in ids or len(set(ids)) != len(ids):
        raise GraphError(400, "BadRequest", "Each batch request needs a unique id.")
    return requests


async def run_batch(request: Request, run: SubRequestRunner) -> dict[str, Any]:
    """Run each sub-request with the batch's Authorization header; collect the responses."""
    requests = parse_batch(await request.body())
    authorization = request.headers.get("authorization", "")
    responses = []
    for item in requests:
        method = str(item.get("method", "GET")).upper()
        parts = urlsplit(str(item.get("url", "")))
        path = "/v1.0" + (parts.path if parts.path.startswith("/") else "/" + parts.path)
        status, headers, body = await run(
            method, path, parts.query, {"authorization": authorization}
        )
        responses.append(
            {"id": str(item["id"]), "status": status, "headers": headers, "body": body}
        )
    return {"responses": responses}


def decode_path(raw_path: str) -> str:
    return unquote_to_bytes(raw_path).decode("utf-8")
