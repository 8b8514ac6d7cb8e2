"""OData syntax that the fake Graph parses: string literals, $select, $top and $skiptoken."""

from __future__ import annotations

import base64
import binascii
import json
import re
from urllib.parse import quote

DEFAULT_SEARCH_PAGE_SIZE = 200
MAX_PAGE_SIZE = 999

# Properties of microsoft.graph.driveItem that $select accepts.
DRIVE_ITEM_PROPERTIES = frozenset(
    {
        "audio",
        "bundle",
        "cTag",
        "content",
        "createdBy",
        "createdByUser",
        "createdDateTime",
        "deleted",
        "description",
        "eTag",
        "file",
        "fileSystemInfo",
        "folder",
        "id",
        "image",
        "lastModifiedBy",
        "lastModifiedByUser",
        "lastModifiedDateTime",
        "location",
        "malware",
        "name",
        "package",
        "parentReference",
        "photo",
        "publication",
        "remoteItem",
        "root",
        "searchResult",
        "shared",
        "sharepointIds",
        "size",
        "specialFolder",
        "video",
        "webDavUrl",
        "webUrl",
        "@microsoft.graph.downloadUrl",
    }
)

_SEARCH_FUNCTION = re.compile(r"^search\(q=(?P<literal>.*)\)$", re.DOTALL)


class ODataError(ValueError):
    """Invalid OData syntax; the message is the one Graph would return."""


def parse_string_literal(text: str) -> str:
    """Return the value of a single-quoted OData string literal, where ``''`` is one ``'``.

    Raises ODataError when the quotes are missing or a lone ``'`` appears inside.
    """
    if len(text) < 2 or not text.startswith("'") or not text.endswith("'"):
        raise ODataError(f"Syntax error: the parameter value {text!r} is not a quoted string.")
    inner = text[1:-1]
    position = 0
    while position < len(inner):
        if inner[position] == "'":
            if inner[position + 1 : position + 2] != "'":
                raise ODataError(
                    f'Syntax error: character "\'" is not valid at position {position + 1} '
                    f"in {text!r}."
                )
            position += 1
        position += 1
    return inner.replace("''", "'")


def format_string_literal(value: str) -> str:
    """Return ``value`` as a quoted OData string literal, percent-encoded for a URL path."""
    return "'" + quote(value.replace("'", "''"), safe="") + "'"


def parse_search_segment(segment: str) -> str:
    """Parse a decoded ``search(q='...')`` path segment and return the query text."""
    match = _SEARCH_FUNCTION.match(segment)
    if match is None:
        raise ODataError(f"Syntax error: {segment!r} is not a valid search function call.")
    return parse_string_literal(match.group("literal"))


def parse_select(value: str | None) -> list[str] | None:
    """Return the property names of a $select value, or None when absent."""
    if value is None:
        return None
    names = [name.strip() for name in value.split(",") if name.strip()]
    for name in names:
        if name not in DRIVE_ITEM_PROPERTIES:
            raise ODataError(
                f"Could not find a property named '{name}' on type 'microsoft.graph.driveItem'."
            )
    return names


def parse_top(value: str | None) -> int:
    if value is None:
        return DEFAULT_SEARCH_PAGE_SIZE
    if not value.isdigit() or not 1 <= int(value) <= MAX_PAGE_SIZE:
        raise ODataError(f"Invalid page size specified: '{value}'. Must be from 1 to 999.")
    return int(value)


def encode_skiptoken(offset: int) -> str:
    raw = json.dumps({"offset": offset}).encode("utf-8")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_skiptoken(value: str | None) -> int:
    """Return the result offset stored in a $skiptoken, 0 when absent."""
    if value is None:
        return 0
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        offset = json.loads(raw)["offset"]
    except (binascii.Error, ValueError, KeyError, TypeError) as error:
        raise ODataError(f"Invalid $skiptoken value '{value}'.") from error
    if not isinstance(offset, int) or offset < 0:
        raise ODataError(f"Invalid $skiptoken value '{value}'.")
    return offset


def query_option(params: dict[str, str], name: str) -> str | None:
    """Return a system query option given as ``$name`` or ``name``, as Graph v1.0 accepts both."""
    return params.get(f"${name}", params.get(name))


def project(resource: dict[str, object], select: list[str] | None) -> dict[str, object]:
    """Keep only the selected properties, ``id`` and OData annotations, like Graph's $select."""
    if select is None:
        return resource
    keep = {"id", *select}
    return {
        name: value
        for name, value in resource.items()
        if name in keep or name.startswith("@odata.")
    }
