"""The Starlette app: Slack's endpoint, the consent pages and the health check.

`create_app` wires every part together; routes only parse the request, call the core and
format the answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from http.cookiejar import CookieJar, DefaultCookiePolicy

import aiohttp
import httpx
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Engine
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from bot import messages, pages
from bot.auth.consent import CONSENT_PATH, ConsentResult, ConsentService, Outcome
from bot.auth.msal_client import MsalClient
from bot.auth.tokens import TokenProvider
from bot.config import Settings
from bot.crypto import Cipher
from bot.errors import BotError
from bot.graph.client import GraphClient
from bot.logs import log_context, new_error_id
from bot.onedrive import OneDrive
from bot.slack.delivery import SlackDelivery
from bot.slack.events import register_events
from bot.slack.listeners import register
from bot.slack.middleware import reject_foreign_team, skip_slack_retries
from bot.slack.payloads import is_malformed_interaction
from bot.store import db
from bot.store.models import utcnow
from bot.store.queries import Store

log = logging.getLogger(__name__)

BROWSER_COOKIE = "onedrive_consent"
PURGE_EVERY_SECONDS = 3600
KEEP_EXPIRED_REQUESTS = timedelta(days=1)
# How long a stopping process keeps working on acknowledged commands; platforms such as
# Heroku and Kubernetes send SIGKILL 30 seconds after SIGTERM by default.
DRAIN_SECONDS = 20.0
WORKER_THREADS = 32

_PAGES = {
    Outcome.UNKNOWN: ("Link not valid", messages.PAGE_LINK_UNKNOWN, 404),
    Outcome.EXPIRED: ("Link expired", messages.PAGE_LINK_EXPIRED, 410),
    Outcome.USED: ("Link already used", messages.PAGE_LINK_USED, 410),
    Outcome.OTHER_BROWSER: ("Opened in another browser", messages.PAGE_OTHER_BROWSER, 403),
    Outcome.DECLINED: ("Nothing connected", messages.PAGE_DECLINED, 200),
    Outcome.TENANT_NOT_ALLOWED: ("Account not allowed", messages.PAGE_TENANT_NOT_ALLOWED, 403),
}


def create_app(settings: Settings, engine: Engine) -> Starlette:
    cipher = Cipher(settings.encryption_keys)
    store = Store(engine)
    http = httpx.AsyncClient(
        timeout=httpx.Timeout(30.0, connect=10.0),
        # Keep every pooled connection alive: with fewer keep-alive slots than connections,
        # httpcore closes and reopens connections under load.
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
        follow_redirects=False,
        # One client serves every person, so it must never carry one person's cookies
        # (from a download host, say) into another person's requests.
        cookies=CookieJar(policy=DefaultCookiePolicy(allowed_domains=[])),
    )
    msal_client = MsalClient(settings)
    consent = ConsentService(
        store,
        cipher,
        msal_client,
        settings.public_url,
        settings.redirect_uri,
        settings.tenant_allow_list,
    )
    onedrive = OneDrive(
        store,
        TokenProvider(store, cipher, msal_client, settings.tenant_allow_list),
        consent,
        GraphClient(settings.graph_api_url, http, timeout=settings.http_timeout_seconds),
        settings.fetch_max_bytes,
    )
    slack_client = AsyncWebClient(
        token=settings.slack_bot_token.get_secret_value(), base_url=settings.slack_api_url
    )
    # Honour Slack's Retry-After on `ratelimited`, twice at most, as slack_sdk documents.
    slack_client.retry_handlers.append(AsyncRateLimitErrorRetryHandler(max_retry_count=2))
    delivery = SlackDelivery(slack_client, http)
    bolt = AsyncApp(
        client=slack_client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=False,
        logger=logging.getLogger("bot.slack.bolt"),
    )
    bolt.use(skip_slack_retries)
    bolt.use(reject_foreign_team)
    listeners = register(bolt, onedrive, delivery)
    register_events(bolt, onedrive)
    slack_handler = AsyncSlackRequestHandler(bolt)

    async def slack_events(request: Request) -> Response:
        body = await request.body()
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            # Bolt's adapter would fail on it; Slack always sends UTF-8.
            return PlainTextResponse("request body is not UTF-8", status_code=400)
        if is_malformed_interaction(body, request.headers.get("content-type", "")):
            log.info("rejected a Slack interaction payload of the wrong shape")
            return PlainTextResponse("request body does not parse", status_code=400)
        try:
            return await slack_handler.handle(request)
        except (ValueError, TypeError, AttributeError, KeyError, IndexError) as exc:
            # Bolt parses the body before it checks the signature and trusts its shape, so
            # malformed JSON or a payload of the wrong type raises inside Bolt.
            log.info("rejected a Slack request that does not parse: %s", type(exc).__name__)
            return PlainTextResponse("request body does not parse", status_code=400)

    async def consent_page(request: Request) -> Response:
        """Show whose Slack account the link connects; nothing changes until the POST."""
        browser_key = request.cookies.get(BROWSER_COOKIE) or secrets.token_urlsafe(32)
        result = await consent.check_link(request.path_params["link_id"], browser_key)
        if result.outcome is not Outcome.READY or result.owner is None:
            return _outcome_page(result)
        owner = result.owner
        slack_user = messages.slack_account(owner.user_name, owner.user_id)
        response = pages.confirm_page(
            messages.PAGE_CONFIRM_TITLE,
            messages.page_confirm(slack_user, owner.team_id),
            messages.PAGE_CONFIRM_BUTTON,
        )
        # SameSite=Lax keeps the cookie off cross-site POSTs, so only this page's form
        # can start sign-in, and the callback must come back to the same browser.
        response.set_cookie(
            BROWSER_COOKIE,
            browser_key,
            max_age=600,
            path="/auth",
            httponly=True,
            samesite="lax",
            secure=settings.cookies_secure,
        )
        return response

    async def consent_start(request: Request) -> Response:
        browser_key = request.cookies.get(BROWSER_COOKIE)
        if not browser_key:
            return pages.page("Cookie missing", messages.PAGE_NO_COOKIE, 400)
        result = await consent.start(request.path_params["link_id"], browser_key)
        if result.outcome is not Outcome.REDIRECT:
            return _outcome_page(result)
        response = RedirectResponse(result.redirect_url, status_code=303)
        response.headers.update(pages.SECURITY_HEADERS)
        return response

    async def consent_callback(request: Request) -> Response:
        params = {key: value for key, value in request.query_params.items()}
        try:
            result = await consent.finish(params, request.cookies.get(BROWSER_COOKIE))
        except Exception:
            error_id = new_error_id()
            log.exception("consent callback failed (error id %s)", error_id)
            result = ConsentResult(Outcome.FAILED, error_id=error_id)
        if result.outcome is Outcome.CONNECTED and result.owner is not None:
            with log_context(team=result.owner.team_id, user=result.owner.user_id):
                try:
                    await delivery.notify_user(
                        result.owner.user_id, messages.connected_in_slack(result.username)
                    )
                except BotError as exc:
                    log.warning("could not tell the person in Slack: %s", exc)
        response = _outcome_page(result)
        response.delete_cookie(BROWSER_COOKIE, path="/auth")
        return response

    # Health checks get a thread of their own, so slow token refreshes holding the shared
    # worker threads never make the load balancer think the process is dead.
    health_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="healthz")

    async def healthz(request: Request) -> Response:
        try:
            await asyncio.get_running_loop().run_in_executor(health_executor, db.ping, engine)
        except Exception as exc:
            log.warning("health check failed: %s", type(exc).__name__)
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("ok")

    async def purge_loop() -> None:
        while True:
            try:
                purged = await store.purge_consent_requests(utcnow() - KEEP_EXPIRED_REQUESTS)
                if purged:
                    log.info("purged %d expired consent requests", purged)
            except Exception:
                log.exception("purging expired consent requests failed")
            await asyncio.sleep(PURGE_EVERY_SECONDS)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Database queries, MSAL calls and file writes run in worker threads. asyncio's
        # default of min(32, CPUs + 4) threads is 6 on a 2-core host, too few when several
        # token refreshes wait on the identity platform at once.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=WORKER_THREADS, thread_name_prefix="worker")
        )
        # One aiohttp session for the Web API keeps connections to Slack open.
        slack_client.session = aiohttp.ClientSession()
        purger = asyncio.create_task(purge_loop())
        log.info("app started")
        try:
            yield
        finally:
            purger.cancel()
            await listeners.drain(timeout=DRAIN_SECONDS)
            await http.aclose()
            await slack_client.session.close()
            health_executor.shutdown(wait=False)
            log.info("app stopped")

    return Starlette(
        routes=[
            Route("/slack/events", slack_events, methods=["POST"]),
            Route(CONSENT_PATH + "{link_id}", consent_page, methods=["GET"]),
            Route(CONSENT_PATH + "{link_id}", consent_start, methods=["POST"]),
            Route("/auth/callback", consent_callback, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def _outcome_page(result: ConsentResult) -> Response:
    if result.outcome is Outcome.CONNECTED and result.owner is not None:
        slack_user = messages.slack_account(result.owner.user_name, result.owner.user_id)
        text = messages.page_connected(result.username, slack_user)
        return pages.page(messages.PAGE_CONNECTED_TITLE, text)
    if result.outcome is Outcome.FAILED:
        text = messages.PAGE_SIGN_IN_FAILED.format(error_id=result.error_id)
        return pages.page("Sign-in failed", text, 400)
    title, text, status = _PAGES[result.outcome]
    return pages.page(title, text, status)
