"""Block Kit builders for the app's replies.

Limits from https://api.slack.com/reference/block-kit: 50 blocks per message, 3000
characters of section text, 75 of button text, 2000 of button value, 255 of action id.
"""

from __future__ import annotations

from typing import Any

from bot import messages
from bot.graph.items import DriveItem

Block = dict[str, Any]

SHARE_ACTION = "share_item"
FETCH_ACTION = "fetch_item"
OPEN_ACTION = "open_item"
CONNECT_ACTION = "connect_link"

MAX_SECTION_TEXT = 3000
MAX_BUTTON_VALUE = 2000


def section(text: str) -> Block:
    if len(text) > MAX_SECTION_TEXT:
        text = text[: MAX_SECTION_TEXT - 1] + "…"
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(text: str, action_id: str, value: str = "", url: str = "") -> Block:
    element: Block = {
        "type": "button",
        "text": {"type": "plain_text", "text": text[:75], "emoji": True},
        "action_id": action_id,
    }
    if value:
        element["value"] = value[:MAX_BUTTON_VALUE]
    if url:
        element["url"] = url
    return element


def connect_blocks(text: str, url: str) -> list[Block]:
    return [
        section(text),
        {
            "type": "actions",
            "elements": [button("Connect OneDrive", CONNECT_ACTION, url=url)],
        },
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": "Only you can see this link. It works once and expires in 10 minutes.",
                }
            ],
        },
    ]


def item_value(item: DriveItem, edit: bool = False) -> str:
    """A button value naming the item and, for a share, the kind of link."""
    return ("edit:" if edit else "view:") + item.ref.encode()


def search_result_blocks(header: str, items: list[DriveItem]) -> list[Block]:
    blocks: list[Block] = [section(header)]
    for item in items:
        blocks.append(section(_item_text(item)))
        elements = [button("Share here", SHARE_ACTION, value=item_value(item))]
        if not item.is_folder:
            elements.append(button("Upload here", FETCH_ACTION, value=item_value(item)))
        if item.web_url.startswith("https://"):
            elements.append(button("Open", OPEN_ACTION, url=item.web_url))
        blocks.append({"type": "actions", "elements": elements})
    return blocks


def picker_blocks(header: str, items: list[DriveItem], action_id: str, edit: bool) -> list[Block]:
    """A question with one button per candidate file, for `share` or `fetch` by name."""
    label = "Share this" if action_id == SHARE_ACTION else "Upload this"
    blocks: list[Block] = [section(header)]
    for item in items:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _item_text(item)[:MAX_SECTION_TEXT]},
                "accessory": button(label, action_id, value=item_value(item, edit)),
            }
        )
    return blocks


def _item_text(item: DriveItem) -> str:
    return messages.item_line(
        item.name, item.web_url, item.folder_path, item.size, item.last_modified
    )
