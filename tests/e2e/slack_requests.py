"""Requests as Slack sends them: form-encoded, signed with the signing secret.

https://api.slack.com/authentication/verifying-requests-from-slack
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx


def new_trigger_id() -> str:
    """A trigger id shaped like Slack's, unique per request."""
    return f"{secrets.randbelow(10**11)}.{secrets.randbelow(10**9)}.{secrets.token_hex(16)}"


def signature_headers(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    base = b"v0:" + stamp.encode() + b":" + body
    digest = hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return {
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": f"v0={digest}",
        "Content-Type": "application/x-www-form-urlencoded",
    }


class SlackUserAgent:
    """Sends slash commands and button clicks to the app for one Slack user."""

    def __init__(
        self,
        app_url: str,
        signing_secret: str,
        *,
        team_id: str,
        user_id: str,
        user_name: str = "steve",
    ) -> None:
        self.app_url = app_url
        self.signing_secret = signing_secret
        self.team_id = team_id
        self.user_id = user_id
        self.user_name = user_name

    def command_body(self, text: str, channel_id: str, response_url: str) -> bytes:
        form = {
            "token": "legacy-verification-token",
            "team_id": self.team_id,
            "team_domain": "example",
            "channel_id": channel_id,
            "channel_name": "general",
            "user_id": self.user_id,
            "user_name": self.user_name,
            "command": "/onedrive",
            "text": text,
            "response_url": response_url,
            "trigger_id": new_trigger_id(),
            "api_app_id": "A123456",
            "is_enterprise_install": "false",
        }
        return urlencode(form).encode()

    def command(self, text: str, channel_id: str, response_url: str) -> httpx.Response:
        return self.post(self.command_body(text, channel_id, response_url))

    def click_body(
        self,
        action_id: str,
        value: str,
        channel_id: str,
        response_url: str,
        message_user: str = "U0BOT0001",
    ) -> bytes:
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": self.team_id, "domain": "example"},
            "user": {
                "id": self.user_id,
                "username": self.user_name,
                "name": self.user_name,
                "team_id": self.team_id,
            },
            "api_app_id": "A123456",
            "token": "legacy-verification-token",
            "container": {
                "type": "message",
                "message_ts": "1503435956.000247",
                "channel_id": channel_id,
                "is_ephemeral": True,
            },
            "trigger_id": new_trigger_id(),
            "channel": {"id": channel_id, "name": "general"},
            "message": {"type": "message", "user": message_user, "ts": "1503435956.000247"},
            "state": {"values": {}},
            "response_url": response_url,
            "actions": [
                {
                    "type": "button",
                    "block_id": "result_1",
                    "action_id": action_id,
                    "text": {"type": "plain_text", "text": "Share here", "emoji": True},
                    "value": value,
                    "action_ts": "1503435960.000100",
                }
            ],
        }
        return urlencode({"payload": json.dumps(payload)}).encode()

    def click(
        self, action_id: str, value: str, channel_id: str, response_url: str
    ) -> httpx.Response:
        return self.post(self.click_body(action_id, value, channel_id, response_url))

    def post(self, body: bytes, headers: dict[str, str] | None = None) -> httpx.Response:
        return httpx.post(
            f"{self.app_url}/slack/events",
            content=body,
            headers=headers or signature_headers(self.signing_secret, body),
            timeout=10,
        )
