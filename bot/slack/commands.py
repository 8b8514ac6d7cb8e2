"""Parsing of `/onedrive` slash command text."""

from __future__ import annotations

from dataclasses import dataclass

SUBCOMMANDS = ("help", "connect", "status", "search", "share", "fetch", "disconnect")


@dataclass(frozen=True)
class Command:
    name: str
    argument: str = ""
    edit: bool = False


def parse(text: str) -> Command:
    """Split the command text into a subcommand, its argument and the `--edit` flag.

    Slack may send links wrapped as `<https://...>` or `<https://...|label>`; those are
    unwrapped so a pasted link works either way.
    """
    text = text.strip()
    if not text:
        return Command("help")
    word, _, rest = text.partition(" ")
    name = word.lower()
    rest = rest.strip()

    edit = False
    if name == "share":
        words = rest.split(" ")
        if "--edit" in words:
            edit = True
            rest = " ".join(w for w in words if w != "--edit").strip()
    return Command(name, _unwrap(_unquote(rest)), edit)


def _unquote(text: str) -> str:
    """Drop the quotes a person may type around a whole name, as in "Q3 plan.docx"."""
    for opening, closing in (('"', '"'), ("'", "'"), ("“", "”")):
        inner = text[1:-1]
        if (
            len(text) >= 2
            and text.startswith(opening)
            and text.endswith(closing)
            and opening not in inner
            and closing not in inner
        ):
            return inner.strip()
    return text


def _unwrap(text: str) -> str:
    if text.startswith("<") and text.endswith(">") and "://" in text:
        return text[1:-1].split("|", 1)[0]
    return text
