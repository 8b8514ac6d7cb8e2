"""A short-lived, per-person cache of folder paths for search results."""

from __future__ import annotations

import time
from collections import OrderedDict

from bot.graph.items import ItemRef
from bot.store.queries import SlackUser

# A renamed or moved folder shows its old path for at most this long.
FOLDER_PATH_TTL_SECONDS = 600.0
MAX_ENTRIES = 20_000


class FolderPathCache:
    """Folder paths keyed by person, so one person's lookups never serve another's."""

    def __init__(
        self, ttl: float = FOLDER_PATH_TTL_SECONDS, max_entries: int = MAX_ENTRIES
    ) -> None:
        self._ttl = ttl
        self._max_entries = max_entries
        self._entries: OrderedDict[tuple[SlackUser, ItemRef], tuple[str, float]] = OrderedDict()

    def get_many(self, owner: SlackUser, refs: set[ItemRef]) -> dict[ItemRef, str]:
        now = time.monotonic()
        found: dict[ItemRef, str] = {}
        for ref in refs:
            entry = self._entries.get((owner, ref))
            if entry is not None and entry[1] > now:
                found[ref] = entry[0]
        return found

    def put_many(self, owner: SlackUser, paths: dict[ItemRef, str]) -> None:
        expires = time.monotonic() + self._ttl
        for ref, path in paths.items():
            self._entries[(owner, ref)] = (path, expires)
            self._entries.move_to_end((owner, ref))
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)

    def forget(self, owner: SlackUser) -> None:
        for key in [key for key in self._entries if key[0] == owner]:
            del self._entries[key]
