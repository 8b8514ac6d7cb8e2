"""`python -m bot serve` with a count of the SQL statements the app sends to its database.

SQLAlchemy event listeners count statements by their first keyword (SELECT, INSERT,
UPDATE, DELETE, ...), transactions begun (BEGIN) and committed (COMMIT) outside
AUTOCOMMIT, and connections checked out of the pool (CHECKOUT). With `pool_pre_ping`,
which the app's PostgreSQL engine sets, each checkout is also a `SELECT 1` round trip.

On SIGUSR1 the counts are written as JSON to the file named by BENCH_SQL_COUNTS_PATH
(written whole, then renamed into place), so the benchmark can read them before and after
a command. Nothing else about the app changes.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from sqlalchemy import Connection, Engine, event
from sqlalchemy.pool import Pool

_counts: Counter[str] = Counter()
# Reentrant, because the SIGUSR1 handler runs in the main thread, which may hold it.
_lock = threading.RLock()


def _count_statement(
    conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
) -> None:
    keyword = statement.lstrip().split(None, 1)[0].upper() if statement.strip() else "?"
    with _lock:
        _counts[keyword] += 1


def _counter(key: str) -> Callable[..., None]:
    def count(*args: Any) -> None:
        with _lock:
            _counts[key] += 1

    return count


def _transaction_counter(key: str) -> Callable[[Connection], None]:
    """Count BEGIN or COMMIT, but not on an AUTOCOMMIT connection, where none is sent."""

    def count(conn: Connection) -> None:
        autocommit = conn.get_execution_options().get("isolation_level") == "AUTOCOMMIT"
        with _lock:
            _counts[f"{key} (autocommit, not sent)" if autocommit else key] += 1

    return count


def _write_counts(signum: int, frame: FrameType | None) -> None:
    with _lock:
        snapshot = dict(_counts)
    path = Path(os.environ["BENCH_SQL_COUNTS_PATH"])
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(snapshot))
    partial.replace(path)


def main() -> int:
    event.listen(Engine, "before_cursor_execute", _count_statement)
    event.listen(Engine, "begin", _transaction_counter("BEGIN"))
    event.listen(Engine, "commit", _transaction_counter("COMMIT"))
    event.listen(Pool, "checkout", _counter("CHECKOUT"))
    signal.signal(signal.SIGUSR1, _write_counts)

    from bot.cli import main as bot_main

    return bot_main(["serve"])


if __name__ == "__main__":
    sys.exit(main())
