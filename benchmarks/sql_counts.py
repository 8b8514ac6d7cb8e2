"""Read the SQL statement counts of an app started with `benchmarks.counting_app`."""

from __future__ import annotations

import json
import signal
import time
from collections import Counter
from pathlib import Path

from benchmarks.processes import ServerProcess

WRITE_KEYWORDS = ("INSERT", "UPDATE", "DELETE")
READ_TIMEOUT = 10.0


def counts_path(directory: Path, name: str) -> Path:
    return directory / f"{name}-sql-counts.json"


def read_counts(process: ServerProcess) -> Counter[str]:
    """Ask the process for its counts (SIGUSR1) and return them by statement keyword.

    Raises TimeoutError when the process writes nothing within 10 seconds.
    """
    path = Path(process.env["BENCH_SQL_COUNTS_PATH"])
    path.unlink(missing_ok=True)
    process.send_signal(signal.SIGUSR1)
    deadline = time.monotonic() + READ_TIMEOUT
    while not path.exists():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{process.name} wrote no SQL counts to {path}")
        time.sleep(0.01)
    return Counter({key: int(value) for key, value in json.loads(path.read_text()).items()})


BOOKKEEPING_KEYS = ("BEGIN", "COMMIT", "CHECKOUT")


def statements(counts: Counter[str]) -> int:
    """Return the number of SQL statements the app executed."""
    return sum(
        value
        for key, value in counts.items()
        if key not in BOOKKEEPING_KEYS and not key.endswith("(autocommit, not sent)")
    )


def postgres_round_trips(counts: Counter[str]) -> int:
    """Return the round trips these counts cost on PostgreSQL with psycopg 3.

    Each checkout pings (`pool_pre_ping`), psycopg sends BEGIN before a transaction's
    first statement, and each statement and COMMIT is one more round trip.
    """
    return counts["CHECKOUT"] + counts["BEGIN"] + statements(counts) + counts["COMMIT"]


def writes(counts: Counter[str]) -> int:
    return sum(counts[key] for key in WRITE_KEYWORDS)
