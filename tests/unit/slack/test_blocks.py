from __future__ import annotations

import json
import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot import messages
from bot.graph.items import DriveItem, ItemRef
from bot.slack import blocks
from bot.slack.commands import parse

# A Slack control sequence: a mention, a broadcast or a link, all written inside <...>.
CONTROL = re.compile(r"<[@#!]|<https?:|<mailto:")


def _item(name: str, folder: str = "/Documents") -> DriveItem:
    return DriveItem(
        ref=ItemRef("b!drive", "01ITEM"),
        name=name,
        web_url="https://contoso-my.sharepoint.com/personal/a/doc",
        size=1234,
        folder_path=folder,
        last_modified=datetime(2026, 1, 2, tzinfo=UTC),
        is_folder=False,
        drive_type="business",
    )


def _mrkdwn_texts(block_list: list[dict]) -> list[str]:
    texts = []
    for block in block_list:
        if "text" in block and block["text"]["type"] == "mrkdwn":
            texts.append(block["text"]["text"])
    return texts


@given(st.text(max_size=500), st.text(max_size=200))
def test_user_text_never_forms_a_control_sequence(name: str, folder: str) -> None:
    rendered = blocks.search_result_blocks(
        messages.search_header(name, 1, False), [_item(name, folder)]
    )
    for text in _mrkdwn_texts(rendered):
        # The only control sequence allowed is the item's own link, which the app builds.
        without_own_link = text.replace("<https://contoso-my.sharepoint.com/personal/a/doc|", "")
        assert not CONTROL.search(without_own_link)


@given(st.text(max_size=3000))
def test_parse_never_raises(text: str) -> None:
    command = parse(text)
    assert command.name == command.name.lower()


def test_search_blocks_respect_limits() -> None:
    items = [_item("x" * 400) for _ in range(10)]
    rendered = blocks.search_result_blocks("header", items)
    assert len(rendered) <= 50
    for block in rendered:
        if block["type"] == "section":
            assert len(block["text"]["text"]) <= 3000
        for element in block.get("elements", []):
            assert len(element.get("value", "")) <= 2000
            assert len(element["text"]["text"]) <= 75
            assert len(element["action_id"]) <= 255
    assert len(json.dumps(rendered)) < 50_000


def test_search_blocks_buttons_per_item() -> None:
    rendered = blocks.search_result_blocks("header", [_item("Plan.docx")])
    actions = next(block for block in rendered if block["type"] == "actions")
    assert [element["action_id"] for element in actions["elements"]] == [
        blocks.SHARE_ACTION,
        blocks.FETCH_ACTION,
        blocks.OPEN_ACTION,
    ]
    assert actions["elements"][0]["value"] == "view:b!drive/01ITEM"


def test_folder_has_no_upload_button() -> None:
    folder = DriveItem(
        ref=ItemRef("d", "i"),
        name="Reports",
        web_url="https://x.example/r",
        size=None,
        folder_path="/",
        last_modified=None,
        is_folder=True,
        drive_type="business",
    )
    rendered = blocks.search_result_blocks("header", [folder])
    actions = next(block for block in rendered if block["type"] == "actions")
    assert blocks.FETCH_ACTION not in [element["action_id"] for element in actions["elements"]]
