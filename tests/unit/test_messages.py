from __future__ import annotations

from datetime import UTC, datetime

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
