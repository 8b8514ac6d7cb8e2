"""Bolt middleware that runs before every listener."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger(__name__)

Next = Callable[[], Awaitable[BoltResponse]]


async def skip_slack_retries(req: AsyncBoltRequest, resp: BoltResponse, next: Next) -> BoltResponse:
    """Acknowledge a request Slack resends and do nothing with it.

    Slack resends when it saw no answer within 3 seconds; the app acks within milliseconds,
    so the first copy is almost surely being worked on, and a share or fetch must not
    happen twice. https://api.slack.com/apis/events-api#retries
    """
    retry = (req.headers.get("x-slack-retry-num") or [""])[0]
    # Event listeners only delete data, which is safe to repeat, and a lost first delivery
    # of app_uninstalled must not leave a workspace's tokens behind.
    if retry and req.body.get("type") != "event_callback":
        reason = (req.headers.get("x-slack-retry-reason") or ["unknown"])[0]
        log.info("ignoring Slack retry %s (reason %s)", retry, reason)
        return BoltResponse(status=200, body="")
    return await next()


async def reject_foreign_team(
    req: AsyncBoltRequest, resp: BoltResponse, next: Next
) -> BoltResponse:
    """Drop a payload whose team is not the workspace the bot token belongs to."""
    context = req.context
    installed = context.authorize_result
    if installed is not None and context.team_id and installed.team_id:
        same_team = context.team_id == installed.team_id
        same_org = (
            bool(installed.enterprise_id) and context.enterprise_id == installed.enterprise_id
        )
        if not same_team and not same_org:
            log.warning("rejected a request for team %s, not the installed team", context.team_id)
            return BoltResponse(status=200, body="")
    return await next()
