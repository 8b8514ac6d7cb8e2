"""The baseline: a bare Bolt AsyncApp whose `/onedrive` listener only acks.

It is hosted like the real app (Starlette, `AsyncSlackRequestHandler`, `uvicorn.run` with the
arguments `bot.cli.serve` uses) and reads SLACK_SIGNING_SECRET, SLACK_BOT_TOKEN,
SLACK_API_URL, HOST and PORT. With BARE_RESPOND=1 the listener also posts one message to
`response_url`, the least that any command of the real app sends after its ack.
"""

from __future__ import annotations

import logging
import os

import uvicorn
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route


def create_app() -> Starlette:
    respond_too = os.environ.get("BARE_RESPOND") == "1"
    client = AsyncWebClient(
        token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]
    )
    bolt = AsyncApp(
        client=client,
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        process_before_response=False,
        logger=logging.getLogger("bare.bolt"),
    )

    @bolt.command("/onedrive")
    async def handle_command(ack: AsyncAck, respond: AsyncRespond) -> None:
        await ack()
        if respond_too:
            await respond(text="ok", response_type="ephemeral", replace_original=False)

    handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        return await handler.handle(request)

    async def healthz(request: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    uvicorn.run(
        create_app(),
        host=os.environ.get("HOST", "127.0.0.1"),
        port=int(os.environ["PORT"]),
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=25,
    )


if __name__ == "__main__":
    main()
