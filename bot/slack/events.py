"""Listeners for Slack events that mean the app must forget stored data.

https://api.slack.com/events/app_uninstalled and https://api.slack.com/events/tokens_revoked
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp

from bot.logs import log_context
from bot.onedrive import OneDrive
from bot.store.queries import SlackUser

log = logging.getLogger(__name__)


def register_events(app: AsyncApp, onedrive: OneDrive) -> None:
    async def handle_app_uninstalled(body: dict[str, Any]) -> None:
        team_id = str(body.get("team_id", ""))
        enterprise_id = str(body.get("enterprise_id") or "")
        with log_context(team=team_id, request=body.get("event_id")):
            log.info("app uninstalled from the workspace")
            await onedrive.forget_team(team_id, enterprise_id)

    async def handle_tokens_revoked(body: dict[str, Any], event: dict[str, Any]) -> None:
        team_id = str(body.get("team_id", ""))
        enterprise_id = str(body.get("enterprise_id") or "")
        tokens = event.get("tokens") or {}
        with log_context(team=team_id, request=body.get("event_id")):
            if tokens.get("bot"):
                # Without its bot token the app is gone from the workspace.
                log.info("bot token revoked")
                await onedrive.forget_team(team_id, enterprise_id)
                return
            owners = [
                SlackUser(team_id=team_id, user_id=str(user_id), enterprise_id=enterprise_id)
                for user_id in tokens.get("oauth") or []
            ]
            await onedrive.forget_users(owners)

    app.event("app_uninstalled")(handle_app_uninstalled)
    app.event("tokens_revoked")(handle_tokens_revoked)
