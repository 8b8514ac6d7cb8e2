"""Microsoft Graph client over one shared `httpx.AsyncClient`.

httpx errors and Graph error bodies are translated into `bot.errors` here and nowhere else.
Throttled and unavailable responses (429, 503, 504) and transport failures are retried with
jittered backoff that honours `Retry-After`, within a time budget per call; past the budget
the caller gets `Throttled` with the time to wait.
https://learn.microsoft.com/graph/throttling
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import logging
import random
import time
from dataclasses import dataclass
from typing import Any, BinaryIO
from urllib.parse import quote

import httpx

from bot.errors import (
    AccessDenied,
    DownloadTooLarge,
    GraphError,
    GraphUnavailable,
    ItemNotFound,
    LinkScopeBlocked,
    Throttled,
)
from bot.graph.items import SELECT, DriveItem, ItemRef, folder_path_of

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 503, 504})
MAX_ATTEMPTS = 4
MAX_BATCH_REQUESTS = 20
CHUNK_SIZE = 256 * 1024
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# The maximum time a fetch may spend downloading. Slack's response_url lasts 30 minutes.
DOWNLOAD_TIME_LIMIT = 600.0


@dataclass(frozen=True)
class SearchPage:
    items: list[DriveItem]
    has_more: bool


def odata_string(text: str) -> str:
    """Quote text as an OData string literal for a URL path: `'` doubled, then encoded."""
    return "'" + quote(text.replace("'", "''"), safe="") + "'"


def share_id(url: str) -> str:
    """Encode a sharing URL for `/shares/{id}` as Graph documents: u! + unpadded base64url."""
    encoded = base64.urlsafe_b64encode(url.encode()).decode("ascii").rstrip("=")
    return "u!" + encoded


class GraphClient:
    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        timeout: float = 30.0,
        time_budget: float = 30.0,
    ) -> None:
        self._base_url = base_url.rstrip("/")
        self._http = http
        self._timeout = httpx.Timeout(timeout, connect=min(timeout, 10.0))
        self._time_budget = time_budget

    async def search(self, token: str, text: str, top: int = 10) -> SearchPage:
        """Search the person's drive by name and content, first page only."""
        path = f"/me/drive/root/search(q={odata_string(text)})"
        data = await self._json(
            "GET", path, token, template="search", params={"$top": str(top), "$select": SELECT}
        )
        items = [DriveItem.from_graph(value) for value in data.get("value", [])]
        return SearchPage(items=items, has_more="@odata.nextLink" in data)

    async def get_item(self, token: str, ref: ItemRef) -> DriveItem:
        data = await self._json(
            "GET",
            _item_path(ref),
            token,
            template="/drives/{id}/items/{id}",
            params={"$select": SELECT},
        )
        return DriveItem.from_graph(data)

    async def get_folder_paths(self, token: str, refs: set[ItemRef]) -> dict[ItemRef, str]:
        """Look up the paths of folders in JSON batches; a folder that fails is left out.

        Search results carry the parent's id but not its path, so this fills the folder in
        with one request per 20 folders. https://learn.microsoft.com/graph/json-batching
        """
        ordered = sorted(refs, key=lambda ref: (ref.drive_id, ref.item_id))
        paths: dict[ItemRef, str] = {}
        for start in range(0, len(ordered), MAX_BATCH_REQUESTS):
            chunk = ordered[start : start + MAX_BATCH_REQUESTS]
            requests = [
                {
                    "id": str(index),
                    "method": "GET",
                    "url": _item_path(ref) + "?$select=name,parentReference,root",
                }
                for index, ref in enumerate(chunk)
            ]
            data = await self._json(
                "POST", "/$batch", token, template="/$batch (folders)", json={"requests": requests}
            )
            for response in data.get("responses", []):
                if not isinstance(response, dict) or response.get("status") != 200:
                    continue
                body = response.get("body")
                index = str(response.get("id", ""))
                if isinstance(body, dict) and index.isdigit() and int(index) < len(chunk):
                    paths[chunk[int(index)]] = folder_path_of(body)
        return paths

    async def get_shared_item(self, token: str, url: str) -> DriveItem:
        """Resolve a OneDrive or SharePoint sharing URL to the item it points at."""
        path = f"/shares/{share_id(url)}/driveItem"
        data = await self._json("GET", path, token, template="/shares/{id}/driveItem")
        return DriveItem.from_graph(data)

    async def create_link(self, token: str, ref: ItemRef, link_type: str, scope: str) -> str:
        """Create (or get the existing) sharing link and return its URL.

        Graph returns the existing link when one of that type and scope exists, so the call
        is safe to repeat.
        """
        path = _item_path(ref) + "/createLink"
        try:
            data = await self._json(
                "POST",
                path,
                token,
                template="/drives/{id}/items/{id}/createLink",
                json={"type": link_type, "scope": scope},
            )
        except AccessDenied as exc:
            if scope == "anonymous":
                raise LinkScopeBlocked(
                    str(exc), status=exc.status, code=exc.code, request_id=exc.request_id
                ) from None
            raise
        return str(data.get("link", {}).get("webUrl", ""))

    async def download(self, token: str, ref: ItemRef, dest: BinaryIO, max_bytes: int) -> int:
        """Write the item's content to `dest` and return the byte count.

        Graph responds with a 302 to a pre-authenticated URL. That request carries no
        Authorization header, because the URL is the credential and the host is not Graph.
        Bytes are streamed: past `max_bytes` or `DOWNLOAD_TIME_LIMIT` the download stops.
        https://learn.microsoft.com/graph/api/driveitem-get-content
        """
        deadline = time.monotonic() + DOWNLOAD_TIME_LIMIT
        response = await self._send(
            "GET",
            _item_path(ref) + "/content",
            token,
            template="/drives/{id}/items/{id}/content",
            stream=True,
        )
        try:
            if response.status_code not in REDIRECT_STATUSES:
                return await _copy(response, dest, max_bytes, deadline)
            location = response.headers.get("Location", "")
        finally:
            await response.aclose()
        if not location.startswith(("https://", self._base_url)):
            raise GraphUnavailable("download redirect is not an https URL")
        return await self._stream_from(location, dest, max_bytes, deadline)

    async def _stream_from(self, url: str, dest: BinaryIO, max_bytes: int, deadline: float) -> int:
        started = time.monotonic()
        try:
            async with self._http.stream("GET", url, timeout=self._timeout) as response:
                if response.status_code != 200:
                    raise GraphUnavailable(f"download host returned HTTP {response.status_code}")
                written = await _copy(response, dest, max_bytes, deadline)
        except httpx.HTTPError as exc:
            raise GraphUnavailable(f"download failed: {type(exc).__name__}") from None
        log.info("graph download %s bytes in %.0f ms", written, (time.monotonic() - started) * 1000)
        return written

    async def _json(self, method: str, path: str, token: str, **kwargs: Any) -> dict[str, Any]:
        """Send a request and parse its JSON object; a garbled response to a GET is retried once."""
        for attempt in (1, 2):
            response = await self._send(method, path, token, **kwargs)
            try:
                data = response.json()
            except ValueError:
                data = None
            if isinstance(data, dict):
                return data
            log.warning(
                "graph %s %s returned a body that is not a JSON object", method, kwargs["template"]
            )
            if method != "GET" or attempt == 2:
                break
            await asyncio.sleep(_backoff(attempt))
        raise GraphUnavailable(f"{kwargs['template']} returned a body that is not a JSON object")

    async def _send(
        self,
        method: str,
        path: str,
        token: str,
        *,
        template: str,
        params: dict[str, str] | None = None,
        json: dict[str, Any] | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send one Graph request, retrying throttled and failed attempts within the budget.

        With `stream` a successful response comes back unread, and the caller closes it.
        """
        deadline = time.monotonic() + self._time_budget
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        url = self._base_url + path
        for attempt in range(1, MAX_ATTEMPTS + 1):
            started = time.monotonic()
            try:
                request = self._http.build_request(
                    method, url, params=params, json=json, headers=headers, timeout=self._timeout
                )
                response = await self._http.send(request, stream=stream)
                if stream and response.status_code >= 400:
                    await response.aread()  # error bodies are small; they are parsed below
                    await response.aclose()
            except httpx.TransportError as exc:
                wait = _backoff(attempt)
                log.warning(
                    "graph %s %s failed: %s (attempt %d)",
                    method,
                    template,
                    type(exc).__name__,
                    attempt,
                )
                if attempt == MAX_ATTEMPTS or time.monotonic() + wait > deadline:
                    raise GraphUnavailable(f"{template}: {type(exc).__name__}") from None
                await asyncio.sleep(wait)
                continue

            request_id = response.headers.get("request-id", "")
            log.info(
                "graph %s %s -> %d in %.0f ms (request-id %s)",
                method,
                template,
                response.status_code,
                (time.monotonic() - started) * 1000,
                request_id,
            )
            if response.status_code < 400:
                return response
            if response.status_code not in RETRY_STATUSES:
                raise _error_for(response, template)

            wait = retry_after(response) or _backoff(attempt)
            if attempt == MAX_ATTEMPTS or time.monotonic() + wait > deadline:
                raise Throttled(
                    f"{template} returned {response.status_code} past the retry budget",
                    retry_after=wait,
                    status=response.status_code,
                    request_id=request_id,
                )
            log.warning(
                "graph %s %s returned %d; retrying in %.1f s",
                method,
                template,
                response.status_code,
                wait,
            )
            await asyncio.sleep(wait)
        raise AssertionError("unreachable")  # pragma: no cover


def _item_path(ref: ItemRef) -> str:
    return f"/drives/{quote(ref.drive_id, safe='')}/items/{quote(ref.item_id, safe='!')}"


def retry_after(response: httpx.Response) -> float | None:
    """Read `Retry-After` as seconds or as an HTTP date (RFC 9110, section 10.2.3)."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, moment.timestamp() - time.time())


def _backoff(attempt: int) -> float:
    return float(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random()))  # noqa: S311


def _error_for(response: httpx.Response, template: str) -> GraphError:
    """Map a Graph error response to the exception that carries the person's message."""
    code = ""
    try:
        body = response.json()
        code = str(body.get("error", {}).get("code", ""))
    except (ValueError, AttributeError):
        pass
    status = response.status_code
    detail = f"{template} returned {status} {code}".strip()
    kwargs: dict[str, Any] = {
        "status": status,
        "code": code,
        "request_id": response.headers.get("request-id", ""),
    }
    if status == 404:
        return ItemNotFound(detail, **kwargs)
    if status == 403:
        return AccessDenied(detail, **kwargs)
    if status >= 500:
        return GraphUnavailable(detail, **kwargs)
    return GraphError(detail, **kwargs)


async def _copy(response: httpx.Response, dest: BinaryIO, max_bytes: int, deadline: float) -> int:
    """Copy a streamed body to `dest`, stopping past `max_bytes` or the deadline."""
    written = 0
    async for chunk in response.aiter_bytes(CHUNK_SIZE):
        written += len(chunk)
        if written > max_bytes:
            raise DownloadTooLarge("download exceeded the size limit")
        if time.monotonic() > deadline:
            raise GraphUnavailable("download took longer than the time limit")
        await asyncio.to_thread(dest.write, chunk)
    return written
