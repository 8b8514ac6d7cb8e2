"""The Slack app manifest asks for exactly the scopes the code's Web API calls need."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]

# Web API methods the app may call, and the bot scope each one needs.
METHOD_SCOPES = {
    "chat_postMessage": "chat:write",
    "chat_postEphemeral": "chat:write",
    "files_getUploadURLExternal": "files:write",
    "files_completeUploadExternal": "files:write",
}


def _manifest() -> dict:
    return yaml.safe_load((ROOT / "manifest.yml").read_text())


def test_manifest_scopes_match_code() -> None:
    code = "\n".join(path.read_text() for path in (ROOT / "bot").rglob("*.py"))
    used = set(re.findall(r"\.(\w+)\(", code)) & set(METHOD_SCOPES)
    needed = {METHOD_SCOPES[method] for method in used} | {"commands"}
    assert set(_manifest()["oauth_config"]["scopes"]["bot"]) == needed


def test_manifest_points_at_slack_events() -> None:
    manifest = _manifest()
    commands = manifest["features"]["slash_commands"]
    assert [command["command"] for command in commands] == ["/onedrive"]
    assert commands[0]["url"].endswith("/slack/events")
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    assert manifest["settings"]["interactivity"]["request_url"].endswith("/slack/events")


def test_procfile_migrates_on_release() -> None:
    lines = dict(
        line.split(":", 1) for line in (ROOT / "Procfile").read_text().splitlines() if line
    )
    assert lines["release"].strip() == "onedrive-bot migrate"
    assert lines["web"].strip() == "onedrive-bot serve"
