from __future__ import annotations

import pytest

from bot.slack.commands import Command, parse


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Command("help")),
        ("   ", Command("help")),
        ("HELP", Command("help")),
        ("search budget 2025", Command("search", "budget 2025")),
        ("share --edit Plan.docx", Command("share", "Plan.docx", edit=True)),
        ("share Plan.docx --edit", Command("share", "Plan.docx", edit=True)),
        ('fetch "Q3 plan.docx"', Command("fetch", "Q3 plan.docx")),
        ("fetch “Q3 plan.docx”", Command("fetch", "Q3 plan.docx")),
        ("fetch it's.txt", Command("fetch", "it's.txt")),
        (
            "share <https://contoso.sharepoint.com/x|link>",
            Command("share", "https://contoso.sharepoint.com/x"),
        ),
        ("fetch --edit a.txt", Command("fetch", "--edit a.txt")),
        ("frobnicate", Command("frobnicate")),
    ],
)
def test_parse_command(text: str, expected: Command) -> None:
    assert parse(text) == expected
