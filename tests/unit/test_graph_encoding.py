from __future__ import annotations

import base64

import pytest

from bot.graph.client import odata_string, share_id
from bot.graph.items import DriveItem, ItemRef, folder_path


def test_odata_string_doubles_quotes() -> None:
    assert odata_string("it's") == "'it%27%27s'"


def test_odata_string_encodes_reserved() -> None:
    assert odata_string("a#b%c&d/é") == "'a%23b%25c%26d%2F%C3%A9'"


def test_share_id_unpadded_base64url() -> None:
    url = "https://onedrive.live.com/redir?resid=1231244193912!12&authKey=1201919!12921!1"
    encoded = share_id(url)
    assert encoded.startswith("u!")
    assert "=" not in encoded
    padded = encoded[2:] + "=" * (-len(encoded[2:]) % 4)
    assert base64.urlsafe_b64decode(padded).decode() == url


def test_item_ref_round_trip() -> None:
    ref = ItemRef("b!drive-id_1", "01ABC!123")
    assert ItemRef.decode(ref.encode()) == ref


def test_folder_path_strips_root() -> None:
    assert folder_path("/drive/root:/Documents/Reports") == "/Documents/Reports"
    assert folder_path("/drive/root:") == "/"
    assert folder_path(None) == "/"


def test_drive_item_follows_remote_item() -> None:
    item = DriveItem.from_graph(
        {
            "id": "local!1",
            "name": "Deck.pptx",
            "remoteItem": {
                "id": "987def!654",
                "size": 145362,
                "file": {},
                "parentReference": {"driveId": "987def", "driveType": "business"},
            },
        }
    )
    assert item.ref == ItemRef("987def", "987def!654")
    assert item.size == 145362
    assert not item.is_folder


def test_item_ref_rejects_dot_segments() -> None:
    for value in ("../x", "d/..", "./x", "d/.", "d/a/b", "/x", "d/"):
        with pytest.raises(ValueError):
            ItemRef.decode(value)
