"""Thread-safe request records that tests can read and wait on."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar, overload

T = TypeVar("T")

POLL_INTERVAL_SECONDS = 0.02


class RecordLog(Generic[T]):
    """An append-only list shared between a fake server thread and the test.

    Reads return snapshots, so a test can iterate while the server keeps appending.
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._lock = threading.Lock()
        self._items: list[T] = []

    def append(self, item: T) -> None:
        with self._lock:
            self._items.append(item)

    def snapshot(self) -> list[T]:
        with self._lock:
            return list(self._items)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[T]:
        return iter(self.snapshot())

    @overload
    def __getitem__(self, index: int) -> T: ...

    @overload
    def __getitem__(self, index: slice) -> list[T]: ...

    def __getitem__(self, index: int | slice) -> T | list[T]:
        with self._lock:
            return self._items[index]

    def __repr__(self) -> str:
        return f"RecordLog({self.name!r}, {self.snapshot()!r})"

    def find(self, predicate: Callable[[T], bool]) -> T | None:
        """Return the first recorded item that satisfies ``predicate``, or None."""
        for item in self.snapshot():
            if predicate(item):
                return item
        return None

    def wait_for_sync(self, predicate: Callable[[T], bool], timeout: float = 10.0) -> T:
        """Poll until an item satisfies ``predicate`` and return it.

        Blocks the calling thread, so use it only when the app under test runs in
        another thread or process. Raises TimeoutError listing what was recorded.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(predicate)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise self._timeout_error(timeout)
            time.sleep(POLL_INTERVAL_SECONDS)

    async def wait_for(self, predicate: Callable[[T], bool], timeout: float = 10.0) -> T:
        """Poll without blocking the event loop until an item satisfies ``predicate``.

        Raises TimeoutError listing what was recorded.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self.find(predicate)
            if found is not None:
                return found
            if time.monotonic() >= deadline:
                raise self._timeout_error(timeout)
            await asyncio.sleep(POLL_INTERVAL_SECONDS)

    def _timeout_error(self, timeout: float) -> TimeoutError:
        items = self.snapshot()
        return TimeoutError(
            f"no {self.name} record matched within {timeout} s; {len(items)} recorded: {items!r}"
        )
