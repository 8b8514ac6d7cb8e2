"""In-memory OneDrive drives and items for the fake Microsoft Graph."""

from __future__ import annotations

import base64
import hashlib
import mimetypes
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote

from tests.fakes.accounts import Account

GENERATED_BLOCK_SIZE = 64 * 1024
DEFAULT_CHUNK_SIZE = 1024 * 1024


def _generated_block(seed: str) -> bytes:
    """Return the pseudo-random 64 KiB block that a size-only item repeats as content."""
    return hashlib.shake_256(seed.encode("utf-8")).digest(GENERATED_BLOCK_SIZE)


@dataclass(eq=False)
class DriveItem:
    """A file or folder. A file has ``content`` bytes, or only a ``size`` for large files.

    The content of a size-only file is a pseudo-random 64 KiB block, derived from the
    item id, repeated up to ``size`` bytes. It is generated while it is read.
    """

    id: str
    name: str
    drive: Drive
    parent: DriveItem | None
    is_folder: bool
    size: int
    content: bytes | None
    mime_type: str | None
    created: datetime
    last_modified: datetime
    web_url: str
    children: list[DriveItem] = field(default_factory=list)
    version: int = 1

    @property
    def is_root(self) -> bool:
        return self.parent is None

    @property
    def path(self) -> str:
        """Path from the drive root, e.g. ``/Documents/Reports/q1.pdf``; ``""`` for the root."""
        if self.parent is None:
            return ""
        return f"{self.parent.path}/{self.name}"

    @property
    def folder_path(self) -> str:
        """Path of the containing folder from the drive root; ``""`` for the root's children."""
        return self.parent.path if self.parent is not None else ""

    def ancestors(self) -> Iterator[DriveItem]:
        """Yield this item, then its parent folders up to the root."""
        item: DriveItem | None = self
        while item is not None:
            yield item
            item = item.parent

    def iter_content(
        self, start: int = 0, end: int | None = None, chunk_size: int = DEFAULT_CHUNK_SIZE
    ) -> Iterator[bytes]:
        """Yield the bytes from ``start`` up to, not including, ``end`` in chunks."""
        stop = self.size if end is None else min(end, self.size)
        if self.content is not None:
            for offset in range(start, stop, chunk_size):
                yield self.content[offset : min(offset + chunk_size, stop)]
            return
        block = _generated_block(self.id)
        # Long enough that any chunk starts inside the first block and fits.
        repeated = block * (chunk_size // GENERATED_BLOCK_SIZE + 2)
        for offset in range(start, stop, chunk_size):
            in_block = offset % GENERATED_BLOCK_SIZE
            yield repeated[in_block : in_block + min(chunk_size, stop - offset)]

    def read_content(self) -> bytes:
        """Return the whole content; meant for small items."""
        return b"".join(self.iter_content())

    def sha256(self) -> str:
        """Return the hex SHA-256 of the content, streaming it for large items."""
        digest = hashlib.sha256()
        for chunk in self.iter_content():
            digest.update(chunk)
        return digest.hexdigest()


@dataclass(eq=False)
class Drive:
    """One user's OneDrive: ``business`` for work accounts, ``personal`` for personal ones."""

    id: str
    owner: Account
    drive_type: str
    web_base_url: str
    root: DriveItem = field(init=False)
    items: dict[str, DriveItem] = field(default_factory=dict)
    _next_number: int = 101

    def __post_init__(self) -> None:
        now = datetime.now(UTC)
        self.root = DriveItem(
            id=self.new_item_id(),
            name="root",
            drive=self,
            parent=None,
            is_folder=True,
            size=0,
            content=None,
            mime_type=None,
            created=now,
            last_modified=now,
            web_url=self.web_url_for(""),
        )
        self.items[self.root.id] = self.root

    @classmethod
    def for_account(cls, account: Account, web_base_url: str) -> Drive:
        if account.is_personal:
            cid = account.personal_cid or secrets.token_hex(8)
            return cls(
                id=cid.lower(), owner=account, drive_type="personal", web_base_url=web_base_url
            )
        drive_id = "b!" + base64.urlsafe_b64encode(secrets.token_bytes(48)).decode("ascii")
        return cls(id=drive_id, owner=account, drive_type="business", web_base_url=web_base_url)

    @property
    def owner_slug(self) -> str:
        """The owner's name as SharePoint puts it in personal site URLs."""
        return "".join(c if c.isalnum() else "_" for c in self.owner.preferred_username.lower())

    def new_item_id(self) -> str:
        """Return an id in the style of the drive type: ``CID!123`` or ``01`` + 32 chars."""
        if self.drive_type == "personal":
            self._next_number += 1
            return f"{self.id.upper()}!{self._next_number}"
        return "01" + base64.b32encode(secrets.token_bytes(20)).decode("ascii")[:32]

    def web_url_for(self, path: str) -> str:
        if self.drive_type == "personal":
            return f"{self.web_base_url}/personal/{self.id}/Documents{quote(path)}"
        return f"{self.web_base_url}/personal/{self.owner_slug}/Documents{quote(path)}"

    def folder(self, path: str) -> DriveItem:
        """Return the folder at ``path`` (e.g. ``/Documents/Reports``), creating it as needed."""
        current = self.root
        for name in (part for part in path.split("/") if part):
            found = next((c for c in current.children if c.name == name), None)
            if found is None:
                found = self.add(current, name, is_folder=True)
            elif not found.is_folder:
                raise ValueError(f"{found.path} is a file, not a folder")
            current = found
        return current

    def add(
        self,
        parent: DriveItem,
        name: str,
        *,
        is_folder: bool = False,
        content: bytes | None = None,
        size: int | None = None,
        mime_type: str | None = None,
        last_modified: datetime | None = None,
    ) -> DriveItem:
        if any(child.name.lower() == name.lower() for child in parent.children):
            raise ValueError(f"an item named {name!r} already exists in {parent.path or '/'}")
        now = datetime.now(UTC)
        if not is_folder and mime_type is None:
            mime_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        item = DriveItem(
            id=self.new_item_id(),
            name=name,
            drive=self,
            parent=parent,
            is_folder=is_folder,
            size=len(content) if content is not None else (size or 0),
            content=content,
            mime_type=mime_type,
            created=last_modified or now,
            last_modified=last_modified or now,
            web_url=self.web_url_for(f"{parent.path}/{name}"),
        )
        parent.children.append(item)
        self.items[item.id] = item
        return item
