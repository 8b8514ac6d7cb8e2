"""The use cases behind the slash command and the buttons, free of Slack types.

Every operation acts for one Slack user with that user's own Microsoft connection.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import BinaryIO

from bot.auth.consent import ConsentService
from bot.auth.tokens import AccessToken, TokenProvider
from bot.errors import DownloadTooLarge, FileTooLarge, LinkScopeBlocked
from bot.graph.client import GraphClient, SearchPage
from bot.graph.folders import FolderPathCache
from bot.graph.items import DriveItem, ItemRef
from bot.store.models import Connection
from bot.store.queries import SlackUser, Store

log = logging.getLogger(__name__)

SEARCH_RESULTS = 10
PICKER_CHOICES = 5


@dataclass(frozen=True)
class Resolution:
    """The target of a file name or link: one item, several candidates, or nothing.

    `token` is the access token used, for the next call of the same command.
    """

    item: DriveItem | None = None
    candidates: list[DriveItem] = field(default_factory=list)
    token: AccessToken | None = None


@dataclass(frozen=True)
class SharingLink:
    url: str
    scope: str
    scope_was_narrowed: bool


def looks_like_link(target: str) -> bool:
    return target.lower().startswith(("https://", "http://"))


class OneDrive:
    def __init__(
        self,
        store: Store,
        tokens: TokenProvider,
        consent: ConsentService,
        graph: GraphClient,
        fetch_max_bytes: int,
    ) -> None:
        self._store = store
        self._tokens = tokens
        self._consent = consent
        self._graph = graph
        self.fetch_max_bytes = fetch_max_bytes
        self._folder_paths = FolderPathCache()

    async def connect_link(self, owner: SlackUser) -> str:
        return await self._consent.create_link(owner)

    async def status(self, owner: SlackUser) -> Connection | None:
        return await self._store.get_connection(owner)

    async def check_connection(self, owner: SlackUser) -> None:
        """Confirm the stored sign-in still yields a token; raises ReconnectRequired if not."""
        await self._tokens.get_access_token(owner)

    async def disconnect(self, owner: SlackUser) -> bool:
        removed = await self._store.delete_connection(owner)
        self._folder_paths.forget(owner)
        log.info("disconnect: %s", "connection removed" if removed else "nothing stored")
        return removed

    async def forget_team(self, team_id: str, enterprise_id: str = "") -> int:
        """Delete everything stored for a workspace that uninstalled the app."""
        removed = await self._store.delete_team(team_id, enterprise_id)
        log.info("deleted %d rows of an uninstalled workspace", removed)
        return removed

    async def forget_users(self, owners: list[SlackUser]) -> int:
        """Delete the connections of people whose Slack tokens for the app were revoked."""
        removed = 0
        for owner in owners:
            removed += int(await self._store.delete_connection(owner))
        log.info("deleted %d connections after Slack revoked user tokens", removed)
        return removed

    async def search(self, owner: SlackUser, text: str) -> SearchPage:
        """Search the person's drive and fill in each result's folder."""
        token = await self._tokens.get_access_token(owner)
        page = await self._graph.search(token.token, text, top=SEARCH_RESULTS)
        return SearchPage(await self._with_folders(owner, token, page.items), page.has_more)

    async def _with_folders(
        self, owner: SlackUser, token: AccessToken, items: list[DriveItem]
    ) -> list[DriveItem]:
        """Fill in folder paths, from this person's recent lookups or one batch request."""
        parents = {item.parent for item in items if not item.folder_path and item.parent}
        paths = self._folder_paths.get_many(owner, parents)
        missing = parents - paths.keys()
        if missing:
            found = await self._graph.get_folder_paths(token.token, missing)
            self._folder_paths.put_many(owner, found)
            paths.update(found)
        return [
            item
            if item.folder_path or item.parent is None
            else replace(item, folder_path=paths.get(item.parent, ""))
            for item in items
        ]

    async def get_item(self, owner: SlackUser, ref: ItemRef) -> DriveItem:
        token = await self._tokens.get_access_token(owner)
        return await self._graph.get_item(token.token, ref)

    async def resolve(self, owner: SlackUser, target: str) -> Resolution:
        """Find the item a person means by a sharing link or by (part of) its name."""
        token = await self._tokens.get_access_token(owner)
        if looks_like_link(target):
            item = await self._graph.get_shared_item(token.token, target)
            return Resolution(item=item, token=token)

        page = await self._graph.search(token.token, target, top=SEARCH_RESULTS)
        exact = [item for item in page.items if item.name.casefold() == target.casefold()]
        if len(exact) == 1:
            return Resolution(item=exact[0], token=token)
        if len(page.items) == 1:
            return Resolution(item=page.items[0], token=token)
        candidates = (exact or page.items)[:PICKER_CHOICES]
        return Resolution(candidates=await self._with_folders(owner, token, candidates))

    async def create_sharing_link(
        self, owner: SlackUser, ref: ItemRef, edit: bool, token: AccessToken | None = None
    ) -> SharingLink:
        """Create a view or edit link with the widest scope the account allows.

        Personal OneDrive only makes links for anyone; work and school accounts get links for
        people in their organization.
        """
        token = token or await self._tokens.get_access_token(owner)
        link_type = "edit" if edit else "view"
        scope = _link_scope(token)
        try:
            url = await self._graph.create_link(token.token, ref, link_type, scope)
            return SharingLink(url=url, scope=scope, scope_was_narrowed=False)
        except LinkScopeBlocked:
            if scope == "organization":
                raise
            log.info("anonymous links are blocked by policy; creating an organization link")
            url = await self._graph.create_link(token.token, ref, link_type, "organization")
            return SharingLink(url=url, scope="organization", scope_was_narrowed=True)

    async def download(self, owner: SlackUser, item: DriveItem, dest: BinaryIO) -> int:
        """Download a file into `dest` after checking it against the size limit."""
        if item.size is not None and item.size > self.fetch_max_bytes:
            raise FileTooLarge(item.name, item.size, self.fetch_max_bytes, item.web_url)
        token = await self._tokens.get_access_token(owner)
        try:
            return await self._graph.download(token.token, item.ref, dest, self.fetch_max_bytes)
        except DownloadTooLarge:
            limit = self.fetch_max_bytes
            raise FileTooLarge(item.name, limit + 1, limit, item.web_url) from None


def _link_scope(token: AccessToken) -> str:
    return "anonymous" if token.is_personal_account else "organization"
