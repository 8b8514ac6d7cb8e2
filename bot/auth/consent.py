"""The consent flow: a personal link, MSAL's auth code flow with PKCE, and the callback.

1. `create_link` stores a request bound to one Slack user under the digest of an
   unguessable id; the id itself lives only in the link.
2. `start` binds the request to the browser that opened it (by the digest of a random
   cookie value), stores the encrypted MSAL flow and returns Microsoft's authorize URL.
3. `finish` finds the request by the digest of `state`, checks the browser, marks the
   request used (one caller wins), redeems the code and stores the encrypted token cache.

Expected outcomes (expired, used, unknown, other browser, declined) are values, not errors.
"""

from __future__ import annotations

import enum
import json
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta

from bot.auth.msal_client import MsalClient
from bot.crypto import Cipher, DecryptionError, digest
from bot.logs import new_error_id
from bot.store.models import ConsentRequest, utcnow
from bot.store.queries import SlackUser, Store

log = logging.getLogger(__name__)

LINK_LIFETIME = timedelta(minutes=10)
CONSENT_PATH = "/auth/connect/"


class Outcome(enum.Enum):
    READY = "ready"
    REDIRECT = "redirect"
    CONNECTED = "connected"
    UNKNOWN = "unknown"
    EXPIRED = "expired"
    USED = "used"
    OTHER_BROWSER = "other_browser"
    DECLINED = "declined"
    TENANT_NOT_ALLOWED = "tenant_not_allowed"
    FAILED = "failed"


@dataclass(frozen=True)
class ConsentResult:
    outcome: Outcome
    # READY: the link may be used, and the page names the Slack account it connects.
    owner: SlackUser | None = None
    redirect_url: str = ""
    username: str = ""
    error_id: str = ""


class ConsentService:
    def __init__(
        self,
        store: Store,
        cipher: Cipher,
        msal_client: MsalClient,
        public_url: str,
        redirect_uri: str,
        allowed_tenants: frozenset[str] = frozenset(),
    ) -> None:
        self._store = store
        self._cipher = cipher
        self._msal = msal_client
        self._public_url = public_url.rstrip("/")
        self._redirect_uri = redirect_uri
        self._allowed_tenants = allowed_tenants

    async def create_link(self, owner: SlackUser) -> str:
        """Store a new consent request for the owner and return its personal link."""
        link_id = secrets.token_urlsafe(32)
        await self._store.create_consent_request(owner, digest(link_id), utcnow() + LINK_LIFETIME)
        log.info("consent link created")
        return f"{self._public_url}{CONSENT_PATH}{link_id}"

    async def check_link(self, link_id: str, browser_key: str | None) -> ConsentResult:
        """Look a link up without changing anything, for the page with the Continue button."""
        request = await self._store.get_consent_request(digest(link_id))
        problem = _check(request, browser_key)
        if problem is not None:
            return ConsentResult(problem)
        assert request is not None
        return ConsentResult(Outcome.READY, _owner(request))

    async def start(self, link_id: str, browser_key: str) -> ConsentResult:
        """Begin sign-in for a link opened in the browser holding `browser_key`."""
        request = await self._store.get_consent_request(digest(link_id))
        problem = _check(request, browser_key)
        if problem is not None:
            return ConsentResult(problem)
        assert request is not None

        flow = await self._msal.initiate_auth_code_flow(self._redirect_uri)
        opened = await self._store.open_consent_request(
            request.id,
            state_digest=digest(flow["state"]),
            browser_digest=digest(browser_key),
            flow=self._cipher.encrypt(json.dumps(flow)),
            now=utcnow(),
        )
        if not opened:
            # Used, expired or claimed by another browser between the read and the write.
            return ConsentResult(Outcome.USED)
        log.info("consent link opened; redirecting to Microsoft")
        return ConsentResult(Outcome.REDIRECT, _owner(request), redirect_url=flow["auth_uri"])

    async def finish(self, params: dict[str, str], browser_key: str | None) -> ConsentResult:
        """Complete sign-in from Microsoft's redirect to the callback."""
        state = params.get("state", "")
        request = await self._store.get_consent_request_by_state(digest(state)) if state else None
        if request is None or request.flow is None:
            return ConsentResult(Outcome.USED if request else Outcome.UNKNOWN)
        problem = _check(request, browser_key)
        if problem is not None:
            return ConsentResult(problem)
        owner = _owner(request)

        try:
            flow = json.loads(self._cipher.decrypt(request.flow))
        except DecryptionError:
            return ConsentResult(Outcome.UNKNOWN)
        if not await self._store.claim_consent_request(request.id, utcnow()):
            return ConsentResult(Outcome.USED)

        if "error" in params:
            log.info("sign-in was declined or failed at Microsoft: %s", params["error"][:64])
            return ConsentResult(Outcome.DECLINED, owner)

        result, cache = await self._msal.redeem_auth_code(flow, params)
        if "error" in result:
            error_id = new_error_id()
            log.warning(
                "auth code redemption failed: %s, codes %s (error id %s)",
                result.get("error"),
                result.get("error_codes", []),
                error_id,
            )
            return ConsentResult(Outcome.FAILED, owner, error_id=error_id)

        claims = result.get("id_token_claims", {})
        tenant_id = str(claims.get("tid", "")).lower()
        if self._allowed_tenants and tenant_id not in self._allowed_tenants:
            log.warning("sign-in from tenant %s, which is not allowed; nothing stored", tenant_id)
            return ConsentResult(Outcome.TENANT_NOT_ALLOWED, owner)
        accounts = cache.find(cache.CredentialType.ACCOUNT)
        account = accounts[0] if accounts else {}
        username = _clean(claims.get("preferred_username") or account.get("username"), 512)
        await self._store.save_connection(
            owner,
            home_account_id=_clean(account.get("home_account_id"), 256),
            username=username,
            tenant_id=_clean(claims.get("tid", account.get("realm")), 64),
            token_cache=self._cipher.encrypt(cache.serialize()),
        )
        log.info("Microsoft account connected (tenant %s)", claims.get("tid", "?"))
        return ConsentResult(Outcome.CONNECTED, owner, username=username)


def _clean(value: object, max_length: int) -> str:
    """Make an identity-token claim safe to store: a string without NULs, of bounded length."""
    text = str(value or "").replace("\x00", "").strip()
    return text[:max_length] or "unknown"


def _check(request: ConsentRequest | None, browser_key: str | None) -> Outcome | None:
    """Return why a request cannot go on, or None when it can."""
    if request is None:
        return Outcome.UNKNOWN
    if request.used_at is not None:
        return Outcome.USED
    if request.expires_at <= utcnow():
        return Outcome.EXPIRED
    if request.browser_digest is not None and (
        browser_key is None
        or not secrets.compare_digest(request.browser_digest, digest(browser_key))
    ):
        return Outcome.OTHER_BROWSER
    return None


def _owner(request: ConsentRequest) -> SlackUser:
    return SlackUser(
        team_id=request.team_id,
        user_id=request.user_id,
        enterprise_id=request.enterprise_id,
        user_name=request.user_name,
    )
