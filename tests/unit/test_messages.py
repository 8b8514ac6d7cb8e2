from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from bot import messages


def test_escape_neutralizes_mentions() -> None:
    assert messages.escape("<!channel> & <@U123>") == "&lt;!channel&gt; &amp; &lt;@U123&gt;"


def test_link_label_cannot_break_out() -> None:
    rendered = messages.link("https://x.example/a|b>c", "n<a>m|e")
    assert rendered == "<https://x.example/a%7Cb&gt;c|n&lt;a&gt;m¦e>"


def test_format_size_units() -> None:
    assert messages.format_size(512) == "512 bytes"
    assert messages.format_size(2048) == "2.0 KB"
    assert messages.format_size(5 * 1024 * 1024) == "5.0 MB"


def test_item_line_escapes_folder() -> None:
    line = messages.item_line(
        "a.txt", "https://x", "/<!here>", 10, datetime(2026, 1, 2, 3, 4, tzinfo=UTC)
    )
    assert "<!here>" not in line
    assert "2026-01-02 03:04 UTC" in line


CONTROL = re.compile(r"<[@#!]|<https?:|<mailto:")


@given(st.text(max_size=300))
def test_messages_never_carry_user_controls(text: str) -> None:
    rendered = [
        messages.unknown_command(text),
        messages.no_results(text),
        messages.search_header(text, 3, True),
        messages.pick_one(text, "share"),
        messages.status_connected(text, datetime(2026, 1, 1, tzinfo=UTC)),
        messages.connected_in_slack(text),
        messages.reconnect_required(text),
        messages.fetched_comment("U123", text),
        messages.folder_not_supported(text),
        messages.fetch_started(text, 10),
        messages.slack_refused(text),
    ]
    for message in rendered:
        assert not CONTROL.search(message.replace("<@U123>", ""))


@given(st.text(max_size=300), st.text(max_size=300))
def test_links_keep_one_target(label: str, path: str) -> None:
    rendered = messages.shared_message("U1", label, "https://x.example/" + path, edit=False)
    rest = rendered.replace("<@U1>", "", 1)
    assert rest.count("<") == 1
    assert rest.count(">") == 1
    assert "<https://x.example/" in rest


def test_search_header_counts() -> None:
    assert messages.search_header("plan", 1, more=False) == "1 file matches “plan”."
    assert messages.search_header("plan", 3, more=False) == "3 files match “plan”."
    assert "first 10 files" in messages.search_header("plan", 10, more=True)
