"""A shape check of interactive payloads before Bolt sees them.

Bolt indexes into `actions` without checking it, so a signed payload with an empty list
fails inside Bolt with a 500. Slack never sends one; rejecting it early keeps the answer a
plain 400.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs


def is_malformed_interaction(body: bytes, content_type: str) -> bool:
    """Return True for a form-encoded `payload` that is not a usable interaction object."""
    if not content_type.startswith("application/x-www-form-urlencoded"):
        return False
    fields = parse_qs(body.decode("utf-8"))
    if "payload" not in fields:
        return False
    try:
        payload = json.loads(fields["payload"][0])
    except ValueError:
        return True
    if not isinstance(payload, dict):
        return True
    if payload.get("type") == "block_actions":
        actions = payload.get("actions")
        return not (isinstance(actions, list) and actions and isinstance(actions[0], dict))
    return False
