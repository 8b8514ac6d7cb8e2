"""Sharing in the fake Graph: per-item grants, createLink and the shares endpoint."""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
from pathlib import PurePosixPath

from tests.fakes.accounts import Account
from tests.fakes.graph_drive import DriveItem
from tests.fakes.graph_errors import access_denied, invalid_request, item_not_found
from tests.fakes.graph_render import SharingLink

LINK_TYPES = ("view", "edit", "embed")
LINK_SCOPES = ("anonymous", "organization", "users")
# Letter that SharePoint puts in a sharing URL for the kind of file, e.g. /:w:/ for Word.
_KIND_LETTERS = {".docx": "w", ".doc": "w", ".xlsx": "x", ".xls": "x", ".pptx": "p", ".pdf": "b"}
ROLE_READ = "read"
ROLE_WRITE = "write"


def encode_sharing_url(url: str) -> str:
    """Return the ``u!`` share id for a sharing URL: unpadded base64url of the URL."""
    return "u!" + base64.urlsafe_b64encode(url.encode("utf-8")).decode("ascii").rstrip("=")


def decode_share_id(share_id: str) -> str:
    """Return the URL inside a ``u!`` share id; raise GraphError for other forms."""
    if not share_id.startswith("u!"):
        raise invalid_request(f"The share id '{share_id}' is not a u! encoded sharing URL.")
    encoded = share_id[2:]
    try:
        return base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise invalid_request(f"The share id '{share_id}' is not valid base64url.") from error


class Sharing:
    """Grants given by tests and links created through createLink, shared across threads."""

    def __init__(self, web_base_url: str) -> None:
        self.web_base_url = web_base_url
        self.block_anonymous_links = False
        self._lock = threading.Lock()
        self._grants: dict[DriveItem, dict[Account, str]] = {}
        self._links: dict[tuple[DriveItem, str, str], SharingLink] = {}

    def grant(self, item: DriveItem, account: Account, role: str = ROLE_READ) -> None:
        if role not in (ROLE_READ, ROLE_WRITE):
            raise ValueError(f"role must be {ROLE_READ!r} or {ROLE_WRITE!r}, got {role!r}")
        with self._lock:
            self._grants.setdefault(item, {})[account] = role

    def links(self) -> list[SharingLink]:
        with self._lock:
            return list(self._links.values())

    def role_of(self, account: Account, item: DriveItem) -> str | None:
        """Return the best role ``account`` has on ``item`` through the item or a parent."""
        if item.drive.owner == account:
            return ROLE_WRITE
        best: str | None = None
        with self._lock:
            for ancestor in item.ancestors():
                role = self._grants.get(ancestor, {}).get(account)
                if role == ROLE_WRITE:
                    return ROLE_WRITE
                best = best or role
        return best

    def check_access(self, account: Account, item: DriveItem, *, write: bool = False) -> None:
        role = self.role_of(account, item)
        if role is None or (write and role != ROLE_WRITE):
            raise access_denied()

    def create_link(
        self, caller: Account, item: DriveItem, body: object
    ) -> tuple[SharingLink, bool]:
        """Return the link for the request body and whether it was created just now."""
        link_type, scope = self._validate_link_request(item, body)
        self.check_access(caller, item, write=True)

        key = (item, link_type, scope)
        with self._lock:
            existing = self._links.get(key)
            if existing is not None:
                return existing, False
            link = SharingLink(
                id=secrets.token_hex(16),
                item=item,
                link_type=link_type,
                scope=scope,
                web_url=self._link_url(item),
                created_by=caller,
            )
            self._links[key] = link
            return link, True

    def _validate_link_request(self, item: DriveItem, body: object) -> tuple[str, str]:
        """Return the link type and scope of a createLink body, or raise GraphError.

        Without a scope, a work drive uses organization and a personal drive anonymous.
        """
        if not isinstance(body, dict):
            raise invalid_request("The request body must be a JSON object.")
        link_type = body.get("type")
        if link_type not in LINK_TYPES:
            raise invalid_request(f"Invalid link type '{link_type}': use view, edit or embed.")
        personal = item.drive.drive_type == "personal"
        scope = body.get("scope", "anonymous" if personal else "organization")
        if scope not in LINK_SCOPES:
            raise invalid_request(
                f"Invalid link scope '{scope}': use anonymous, organization or users."
            )

        if personal and scope != "anonymous":
            raise invalid_request(
                f"Sharing links with scope '{scope}' are not supported for OneDrive personal."
            )
        if link_type == "embed" and not personal:
            raise invalid_request("Embed links are only supported for OneDrive personal.")
        if scope == "anonymous" and self.block_anonymous_links and not personal:
            raise access_denied(
                "Sharing links with scope 'anonymous' are disabled by the organization's "
                "sharing policy."
            )
        return str(link_type), str(scope)

    def _link_url(self, item: DriveItem) -> str:
        token = secrets.token_urlsafe(24)
        if item.drive.drive_type == "personal":
            return f"{self.web_base_url}/u/s!{token}"
        letter = "f" if item.is_folder else _KIND_LETTERS.get(PurePosixPath(item.name).suffix, "u")
        return f"{self.web_base_url}/:{letter}:/g/personal/{item.drive.owner_slug}/{token}"

    def resolve(self, caller: Account, url: str, items: list[DriveItem]) -> DriveItem:
        """Return the item behind a sharing link URL or an item's webUrl, checking access.

        Anonymous links open for anyone, organization links for the owner's tenant,
        ``users`` links and plain webUrls only for the owner and accounts with a grant.
        """
        with self._lock:
            link = next((link for link in self._links.values() if link.web_url == url), None)
        if link is not None:
            if link.scope == "anonymous":
                return link.item
            if link.scope == "organization" and caller.tid == link.item.drive.owner.tid:
                return link.item
            self.check_access(caller, link.item)
            return link.item
        item = next((item for item in items if item.web_url == url), None)
        if item is None:
            raise item_not_found()
        self.check_access(caller, item)
        return item


def parse_json_body(raw: bytes) -> object:
    try:
        return json.loads(raw) if raw else None
    except json.JSONDecodeError as error:
        raise invalid_request(f"The request body is not valid JSON: {error}") from error
