"""Fake Microsoft Graph v1.0 over in-memory OneDrive drives.

The app is configured with ``GRAPH_API_URL = f"{fake.url}/v1.0"``. Every call needs a
bearer token that the FakeIdentityPlatform issued. Routes (path segments match without
regard to case, like Graph):

- ``GET /v1.0/me``, ``GET /v1.0/me/drive``, ``GET /v1.0/me/drive/root``
- ``GET /v1.0/me/drive/root/search(q='...')`` with $top, $select and $skiptoken
- ``GET /v1.0/me/drive/items/{id}`` and ``GET /v1.0/drives/{drive-id}/items/{id}``
- ``GET .../items/{id}/content``: 302 to the separate FakeDownloadHost
- ``POST .../items/{id}/createLink``
- ``GET /v1.0/shares/{u!...}/driveItem`` and ``.../driveItem/content``
"""

from __future__ import annotations

import asyncio
import copy
import json
import logging
import re
import threading
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Self
from urllib.parse import unquote_to_bytes, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.fakes.accounts import Account
from tests.fakes.faults import CannedResponse, FaultQueue
from tests.fakes.graph_batch import decode_path, run_batch
from tests.fakes.graph_download import FakeDownloadHost
from tests.fakes.graph_drive import Drive, DriveItem
from tests.fakes.graph_errors import (
    FILES_READ_ANY,
    FILES_READ_OWN,
    FILES_WRITE_ANY,
    FILES_WRITE_OWN,
    USER_READ,
    GraphError,
    access_denied,
    default_fault_body,
    invalid_request,
    item_not_found,
)
from tests.fakes.graph_odata import (
    ODataError,
    decode_skiptoken,
    encode_skiptoken,
    format_string_literal,
    parse_search_segment,
    parse_select,
    parse_top,
    project,
    query_option,
)
from tests.fakes.graph_render import (
    SharingLink,
    drive_json,
    error_body,
    fill_inner_error,
    item_json,
    permission_json,
    user_json,
)
from tests.fakes.graph_sharing import (
    ROLE_READ,
    Sharing,
    decode_share_id,
    encode_sharing_url,
    parse_json_body,
)
from tests.fakes.identity import FakeIdentityPlatform
from tests.fakes.identity_grants import AccessTokenGrant
from tests.fakes.records import RecordLog
from tests.fakes.scopes import graph_permissions
from tests.fakes.server import FakeServer
from tests.fakes.tls import TestCA

logger = logging.getLogger(__name__)

GRAPH_APP_ID = "00000003-0000-0000-c000-000000000000"
DIAGNOSTIC_HEADER = json.dumps(
    {"ServerInfo": {"DataCenter": "Loopback", "Slice": "E", "Ring": "0", "ScaleUnit": "000"}}
)

Handler = Callable[[Request, AccessTokenGrant, dict[str, str]], Awaitable[Response]]


@dataclass
class GraphRequest:
    """A request as the fake received it. ``path`` keeps the client's percent-encoding."""

    method: str
    path: str
    query: str
    headers: dict[str, str]


def _mask_headers(request: Request) -> dict[str, str]:
    headers = {}
    for name, value in request.headers.items():
        if name == "authorization":
            scheme = value.split(" ", 1)[0]
            value = f"{scheme} <masked>"
        headers[name] = value
    return headers


class FakeGraph(FakeServer):
    """Microsoft Graph's OneDrive API for the accounts of a FakeIdentityPlatform.

    ``download_host`` is a second server, started and stopped with this one.
    ``web_base_url`` is the base of item webUrls and sharing links; it defaults to this
    fake's own URL so that nothing points at a real host.
    """

    def __init__(
        self,
        identity: FakeIdentityPlatform,
        ca: TestCA | None,
        *,
        web_base_url: str | None = None,
    ) -> None:
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE"]
        app = Starlette(routes=[Route("/{path:path}", self._dispatch, methods=methods)])
        super().__init__(app, ca=ca, name="graph")
        self.identity = identity
        self.download_host = FakeDownloadHost(ca)
        self.web_base_url = web_base_url or self.url
        self.sharing = Sharing(self.web_base_url)
        self.lock = threading.RLock()
        self.drives: dict[str, Drive] = {}
        self._drive_of_account: dict[Account, Drive] = {}

        self.enforce_scopes = True
        self.delay_seconds = 0.0
        self.search_results_include_parent_path = False
        self.faults = FaultQueue()
        self.requests: RecordLog[GraphRequest] = RecordLog("Graph request")
        self.searches: RecordLog[str] = RecordLog("search query")

        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        me_item = r"/v1\.0/me/drive/items/(?P<item>[^/]+)"
        drive_item = r"/v1\.0/drives/(?P<drive>[^/]+)/items/(?P<item>[^/]+)"
        share = r"/v1\.0/shares/(?P<share>[^/]+)/driveItem"
        self._route("GET", r"/v1\.0/me/drive/(?:root/)?search\((?P<args>.*)\)", self._search)
        self._route("GET", r"/v1\.0/me/?", self._me)
        self._route("GET", r"/v1\.0/me/drive/?", self._my_drive)
        self._route("GET", r"/v1\.0/me/drive/root/?", self._my_root)
        self._route("GET", me_item + "/?", self._get_item)
        self._route("GET", me_item + "/content", self._content)
        self._route("POST", me_item + "/createLink", self._create_link)
        self._route("GET", r"/v1\.0/drives/(?P<drive>[^/]+)/?", self._drive)
        self._route("GET", drive_item + "/?", self._get_item)
        self._route("GET", drive_item + "/content", self._content)
        self._route("POST", drive_item + "/createLink", self._create_link)
        self._route("GET", share + "/?", self._shared_item)
        self._route("GET", share + "/content", self._shared_content)
        self._route("POST", r"/v1\.0/\$batch", self._batch)
        self.batches: RecordLog[int] = RecordLog("batch size")

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        compiled = re.compile(f"^{pattern}$", re.IGNORECASE | re.DOTALL)
        self._routes.append((method, compiled, handler))

    def start(self) -> Self:
        self.download_host.start()
        try:
            super().start()
        except BaseException:
            self.download_host.stop()
            raise
        return self

    def stop(self) -> None:
        super().stop()
        self.download_host.stop()

    # Test API.

    @property
    def block_anonymous_links(self) -> bool:
        """When True, createLink with scope anonymous on a work drive fails with 403."""
        return self.sharing.block_anonymous_links

    @block_anonymous_links.setter
    def block_anonymous_links(self, value: bool) -> None:
        self.sharing.block_anonymous_links = value

    def drive_for(self, account: Account) -> Drive:
        """Return the account's drive, creating it on first use."""
        with self.lock:
            drive = self._drive_of_account.get(account)
            if drive is None:
                drive = Drive.for_account(account, self.web_base_url)
                self._drive_of_account[account] = drive
                self.drives[drive.id] = drive
            return drive

    def add_item(
        self,
        account: Account,
        name: str,
        folder: str = "/Documents",
        *,
        content: bytes | None = None,
        size: int | None = None,
        mime_type: str | None = None,
        last_modified: datetime | None = None,
    ) -> DriveItem:
        """Add a file to the account's drive, creating the folders of ``folder``.

        Give ``content`` for real bytes or ``size`` for a large file whose bytes are
        generated while they are read (see DriveItem). With neither the file is empty.
        """
        if content is not None and size is not None:
            raise ValueError("give content or size, not both")
        drive = self.drive_for(account)
        with self.lock:
            parent = drive.folder(folder)
            return drive.add(
                parent,
                name,
                content=content,
                size=size,
                mime_type=mime_type,
                last_modified=last_modified,
            )

    def add_folder(self, account: Account, path: str) -> DriveItem:
        drive = self.drive_for(account)
        with self.lock:
            return drive.folder(path)

    def grant(self, item: DriveItem, account: Account, role: str = ROLE_READ) -> None:
        """Share ``item`` (and, for a folder, its contents) with ``account``."""
        self.sharing.grant(item, account, role)

    def links(self) -> list[SharingLink]:
        """Return the sharing links created through createLink."""
        return self.sharing.links()

    def find_item(self, item_id: str) -> DriveItem | None:
        with self.lock:
            for drive in self.drives.values():
                if item_id in drive.items:
                    return drive.items[item_id]
        return None

    @staticmethod
    def share_id(url: str) -> str:
        """Return the ``u!`` share id that the shares endpoint takes for ``url``."""
        return encode_sharing_url(url)

    def fail_next(
        self,
        count: int = 1,
        status: int = 429,
        body: Any = None,
        headers: dict[str, str] | None = None,
        *,
        method: str | None = None,
        path_pattern: str | None = None,
        delay_seconds: float = 0.0,
    ) -> None:
        """Queue a canned response for the next ``count`` matching requests.

        A None body sends Graph's documented error for the status, such as
        activityLimitReached for 429, serviceNotAvailable for 503 or gatewayTimeout for
        504. A str body is sent as text, to stand for a response that is not JSON. With
        ``headers`` None, 429 and 503 responses carry ``Retry-After: 1``.
        ``path_pattern`` is a regular expression searched in the raw request path, e.g.
        ``r"/search\\("``.
        """
        if body is None:
            body = default_fault_body(status)
        if headers is None:
            headers = {"Retry-After": "1"} if status in (429, 503) else {}
        canned = CannedResponse(status, body, dict(headers), delay_seconds)
        self.faults.add(canned, count=count, method=method, path_pattern=path_pattern)

    # Request handling.

    async def _dispatch(self, request: Request) -> Response:
        request_id = str(uuid.uuid4())
        client_request_id = request.headers.get("client-request-id") or str(uuid.uuid4())
        headers = {
            "request-id": request_id,
            "client-request-id": client_request_id,
            "x-ms-ags-diagnostic": DIAGNOSTIC_HEADER,
        }
        raw_path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
        raw_path_text = raw_path.decode("latin-1")
        self.requests.append(
            GraphRequest(request.method, raw_path_text, request.url.query, _mask_headers(request))
        )

        if self.delay_seconds:
            await asyncio.sleep(self.delay_seconds)
        canned = self.faults.take(method=request.method, path=raw_path_text)
        if canned is not None:
            if canned.delay_seconds:
                await asyncio.sleep(canned.delay_seconds)
            logger.info(
                "fake Graph sent injected %d for %s %s (request-id %s)",
                canned.status,
                request.method,
                raw_path_text,
                request_id,
            )
            body = fill_inner_error(copy.deepcopy(canned.body), request_id, client_request_id)
            return CannedResponse(canned.status, body, canned.headers).to_response(headers)

        try:
            # Routes match the percent-decoded path. A decoded "/" or ")" inside a search
            # literal is harmless because the search route is tried first and its
            # pattern takes everything up to the last ")".
            try:
                path = unquote_to_bytes(raw_path).decode("utf-8")
            except UnicodeDecodeError as error:
                raise invalid_request("The request path is not valid UTF-8.") from error
            handler, params = self._match(request.method, path)
            grant = self._authenticate(request)
            response = await handler(request, grant, params)
        except GraphError as error:
            logger.info(
                "fake Graph rejected %s %s (request-id %s): %s",
                request.method,
                raw_path_text,
                request_id,
                error,
            )
            body = error_body(error.code, error.message, request_id, client_request_id)
            return JSONResponse(body, error.status, headers={**headers, **error.headers})

        response.headers.update(headers)
        return response

    def _match(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        allowed = False
        for route_method, pattern, handler in self._routes:
            match = pattern.match(path)
            if match is None:
                continue
            if route_method == method:
                return handler, {name: value for name, value in match.groupdict().items()}
            allowed = True
        if allowed:
            raise GraphError(405, "BadRequest", f"The method {method} is not allowed on {path}.")
        raise GraphError(400, "BadRequest", f"Resource not found for the segment '{path}'.")

    def _authenticate(self, request: Request) -> AccessTokenGrant:
        authorization = request.headers.get("authorization", "")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise self._unauthenticated("Access token is empty.")
        grant = self.identity.lookup_access_token(token)
        if grant is None:
            raise self._unauthenticated("IDX14100: JWT is not well formed, there are no dots (.).")
        if grant.expired:
            raise self._unauthenticated("Lifetime validation failed, the token is expired.")
        return grant

    def _unauthenticated(self, message: str) -> GraphError:
        challenge = (
            f'Bearer realm="", authorization_uri="{self.identity.url}/common/oauth2/authorize", '
            f'client_id="{GRAPH_APP_ID}"'
        )
        return GraphError(
            401, "InvalidAuthenticationToken", message, {"WWW-Authenticate": challenge}
        )

    def _require(self, grant: AccessTokenGrant, allowed: frozenset[str]) -> None:
        if not self.enforce_scopes:
            return
        permissions = graph_permissions(grant.scopes)
        if not permissions:
            raise access_denied("Either scp or roles claim need to be present in the token.")
        if not permissions & allowed:
            if allowed is USER_READ:
                raise GraphError(
                    403,
                    "Authorization_RequestDenied",
                    "Insufficient privileges to complete the operation.",
                )
            raise access_denied(
                f"The token's scopes {sorted(permissions)} do not allow this call; "
                f"it needs one of {sorted(allowed)}."
            )

    def _require_files(self, grant: AccessTokenGrant, item: DriveItem, *, write: bool) -> None:
        own = item.drive.owner == grant.account
        if write:
            self._require(grant, FILES_WRITE_OWN if own else FILES_WRITE_ANY)
        else:
            self._require(grant, FILES_READ_OWN if own else FILES_READ_ANY)

    def _find(self, grant: AccessTokenGrant, params: dict[str, str], *, write: bool) -> DriveItem:
        """Return the item a route names, checking drive, existence, scopes and sharing."""
        item_id = params["item"]
        if "drive" not in params:
            drive = self.drive_for(grant.account)
        else:
            drive_id = params["drive"]
            with self.lock:
                found = self.drives.get(drive_id) or self.drives.get(drive_id.lower())
            if found is None:
                raise item_not_found()
            drive = found
        with self.lock:
            item = drive.items.get(item_id)
        if item is None:
            raise item_not_found()
        self._require_files(grant, item, write=write)
        self.sharing.check_access(grant.account, item, write=write)
        return item

    async def _batch(
        self, request: Request, grant: AccessTokenGrant, _: dict[str, str]
    ) -> Response:
        body = await run_batch(request, self._run_sub_request)
        self.batches.append(len(body["responses"]))
        return JSONResponse(body)

    async def _run_sub_request(
        self, method: str, raw_path: str, query: str, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], Any]:
        """Run one request of a batch through the same routes as a direct request."""
        scope = {
            "type": "http",
            "method": method,
            "path": decode_path(raw_path),
            "raw_path": raw_path.encode("latin-1"),
            "query_string": query.encode("latin-1"),
            "headers": [(name.encode(), value.encode()) for name, value in headers.items()],
        }
        sub_request = Request(scope)
        try:
            handler, params = self._match(method, decode_path(raw_path))
            grant = self._authenticate(sub_request)
            response = await handler(sub_request, grant, params)
        except GraphError as error:
            body = error_body(error.code, error.message, str(uuid.uuid4()), str(uuid.uuid4()))
            return error.status, dict(error.headers), body
        content = bytes(response.body) if response.body else b""
        return response.status_code, {}, json.loads(content) if content else None

    async def _me(self, request: Request, grant: AccessTokenGrant, _: dict[str, str]) -> Response:
        self._require(grant, USER_READ)
        return JSONResponse(user_json(grant.account, self.url))

    async def _my_drive(
        self, request: Request, grant: AccessTokenGrant, _: dict[str, str]
    ) -> Response:
        self._require(grant, FILES_READ_OWN)
        return JSONResponse(drive_json(self.drive_for(grant.account)))

    async def _drive(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        with self.lock:
            drive = self.drives.get(params["drive"])
        if drive is None:
            raise item_not_found()
        self._require(grant, FILES_READ_OWN if drive.owner == grant.account else FILES_READ_ANY)
        if drive.owner != grant.account:
            raise access_denied()
        return JSONResponse(drive_json(drive))

    async def _my_root(
        self, request: Request, grant: AccessTokenGrant, _: dict[str, str]
    ) -> Response:
        self._require(grant, FILES_READ_OWN)
        root = self.drive_for(grant.account).root
        return JSONResponse(item_json(root, caller=grant.account))

    async def _get_item(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        item = self._find(grant, params, write=False)
        return self._item_response(request, grant, item)

    def _item_response(
        self, request: Request, grant: AccessTokenGrant, item: DriveItem
    ) -> Response:
        try:
            select = parse_select(query_option(dict(request.query_params), "select"))
        except ODataError as error:
            raise invalid_request(str(error)) from error
        download_url = None if item.is_folder else self.download_host.url_for(item)
        body = item_json(item, caller=grant.account, download_url=download_url)
        return JSONResponse(project(body, select))

    async def _content(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        return self._redirect_to_content(self._find(grant, params, write=False))

    def _redirect_to_content(self, item: DriveItem) -> Response:
        if item.is_folder:
            raise item_not_found("The item is a folder and has no content to download.")
        return Response(status_code=302, headers={"Location": self.download_host.url_for(item)})

    async def _create_link(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        item = self._find(grant, params, write=True)
        body = parse_json_body(await request.body())
        link, created = self.sharing.create_link(grant.account, item, body)
        return JSONResponse(permission_json(link), status_code=201 if created else 200)

    def _resolve_share(self, grant: AccessTokenGrant, params: dict[str, str]) -> DriveItem:
        url = decode_share_id(params["share"])
        with self.lock:
            items = [item for drive in self.drives.values() for item in drive.items.values()]
        item = self.sharing.resolve(grant.account, url, items)
        self._require_files(grant, item, write=False)
        return item

    async def _shared_item(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        return self._item_response(request, grant, self._resolve_share(grant, params))

    async def _shared_content(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        return self._redirect_to_content(self._resolve_share(grant, params))

    async def _search(
        self, request: Request, grant: AccessTokenGrant, params: dict[str, str]
    ) -> Response:
        self._require(grant, FILES_READ_OWN)
        options = dict(request.query_params)
        try:
            query = parse_search_segment(f"search({params['args']})")
            top = parse_top(query_option(options, "top"))
            select = parse_select(query_option(options, "select"))
            offset = decode_skiptoken(query_option(options, "skiptoken"))
        except ODataError as error:
            raise invalid_request(str(error)) from error
        self.searches.append(query)

        drive = self.drive_for(grant.account)
        words = query.casefold().split()
        with self.lock:
            hits = [
                item
                for item in drive.items.values()
                if not item.is_root and words and all(w in item.name.casefold() for w in words)
            ]
        include_path = self.search_results_include_parent_path or drive.drive_type == "personal"
        value = []
        for item in hits[offset : offset + top]:
            rendered = item_json(item, caller=grant.account, include_parent_path=include_path)
            rendered = {"@odata.type": "#microsoft.graph.driveItem", **rendered}
            rendered["searchResult"] = {}
            value.append(project(rendered, select))
        body: dict[str, Any] = {
            "@odata.context": f"{self.url}/v1.0/$metadata#Collection(driveItem)",
            "value": value,
        }
        if offset + top < len(hits):
            next_options = {"$top": str(top), "$skiptoken": encode_skiptoken(offset + top)}
            if select is not None:
                next_options["$select"] = ",".join(select)
            body["@odata.nextLink"] = (
                f"{self.url}/v1.0/me/drive/root/search(q={format_string_literal(query)})"
                f"?{urlencode(next_options)}"
            )
        return JSONResponse(body)
