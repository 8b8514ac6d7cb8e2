"""Typed views of Graph driveItem resources."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

# The properties the app reads, asked for with $select so Graph sends nothing else.
SELECT = "id,name,size,webUrl,lastModifiedDateTime,parentReference,file,folder,remoteItem"


@dataclass(frozen=True)
class ItemRef:
    """Where a drive item lives; small enough to carry in a Slack button value."""

    drive_id: str
    item_id: str

    def encode(self) -> str:
        return f"{self.drive_id}/{self.item_id}"

    @classmethod
    def decode(cls, value: str) -> ItemRef:
        drive_id, sep, item_id = value.partition("/")
        if not sep or not drive_id or not item_id:
            raise ValueError("not an item reference")
        if {drive_id, item_id} & {".", ".."} or "/" in item_id:
            # Dot segments would move the request to another Graph path.
            raise ValueError("not an item reference")
        return cls(drive_id, item_id)


@dataclass(frozen=True)
class DriveItem:
    ref: ItemRef
    name: str
    web_url: str
    size: int | None
    folder_path: str
    last_modified: datetime | None
    is_folder: bool
    drive_type: str
    parent: ItemRef | None = None

    @classmethod
    def from_graph(cls, data: dict[str, Any]) -> DriveItem:
        """Build an item from Graph JSON, following `remoteItem` to the item it points at."""
        remote = data.get("remoteItem") or {}
        parent = remote.get("parentReference") or data.get("parentReference") or {}
        item_id = remote.get("id") or data.get("id", "")
        is_folder = "folder" in data or "folder" in remote
        return cls(
            ref=ItemRef(parent.get("driveId", ""), item_id),
            name=data.get("name") or remote.get("name") or "(no name)",
            web_url=data.get("webUrl") or remote.get("webUrl") or "",
            size=None if is_folder else _int(data.get("size", remote.get("size"))),
            folder_path=folder_path(parent.get("path")) if parent.get("path") else "",
            last_modified=_datetime(
                data.get("lastModifiedDateTime") or remote.get("lastModifiedDateTime")
            ),
            is_folder=is_folder,
            drive_type=parent.get("driveType", ""),
            parent=ItemRef(parent["driveId"], parent["id"])
            if parent.get("driveId") and parent.get("id")
            else None,
        )


def folder_path_of(data: dict[str, Any]) -> str:
    """The path of a folder item itself, such as `/Documents/Reports`; `/` for the root."""
    if "root" in data:
        return "/"
    parent = folder_path((data.get("parentReference") or {}).get("path"))
    return parent.rstrip("/") + "/" + str(data.get("name", ""))


def folder_path(path: str | None) -> str:
    """Turn Graph's `/drive/root:/Documents/Reports` into `/Documents/Reports`."""
    if not path:
        return "/"
    _, sep, rest = path.partition("root:")
    return (rest if sep else path) or "/"


def _int(value: Any) -> int | None:
    return int(value) if isinstance(value, int | float) else None


def _datetime(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
