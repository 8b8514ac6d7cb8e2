"""Documented vendor payloads, copied into tests/fakes/payloads/ so the repository is
self-contained.

Each file contains ``{"status": int, "headers": {...}, "body": ...}`` for a response, or
``{"redirect_query": {...}}`` for an authorize redirect. The bodies are the vendors'
documented examples: tests should check codes, not wording.
"""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any

PAYLOAD_DIRECTORY = Path(__file__).parent / "payloads"


@cache
def _read(relative_path: str) -> dict[str, Any]:
    path = PAYLOAD_DIRECTORY / relative_path
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_payload(relative_path: str) -> dict[str, Any]:
    """Return a fresh copy of a payload file, e.g. ``"msgraph/error_itemNotFound_404.json"``."""
    return copy.deepcopy(_read(relative_path))


def payload_body(relative_path: str) -> Any:
    """Return a fresh copy of the ``body`` of a response payload file."""
    return load_payload(relative_path)["body"]


def payload_headers(relative_path: str) -> dict[str, str]:
    """Return the headers of a response payload file without ``Content-Type``."""
    headers: dict[str, str] = load_payload(relative_path).get("headers", {})
    return {name: value for name, value in headers.items() if name.lower() != "content-type"}
