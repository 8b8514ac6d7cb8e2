"""Databases for the app under test: a PostgreSQL schema of its own, or a SQLite file.

The PostgreSQL server comes from BENCH_DATABASE_URL, else TEST_DATABASE_URL, else
postgresql://postgres@127.0.0.1:5432/test. Each benchmark creates a schema named
`bench_<random>`, points the app at it through `search_path` and drops it afterwards.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from bot.store import db

DEFAULT_POSTGRES_URL = "postgresql://postgres@127.0.0.1:5432/test"
STATS_SETTLE_TIMEOUT = 30.0


def postgres_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get(
        "TEST_DATABASE_URL", DEFAULT_POSTGRES_URL
    )


def postgres_available() -> bool:
    engine = create_engine(db.normalize_url(postgres_url()), connect_args={"connect_timeout": 3})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError:
        return False
    finally:
        engine.dispose()
    return True


@dataclass(frozen=True)
class Database:
    """A migrated, empty database for one app; `schema` is empty on SQLite."""

    url: str
    schema: str = ""

    @property
    def is_postgres(self) -> bool:
        return bool(self.schema)


def _schema_url(schema: str) -> str:
    url = db.normalize_url(postgres_url())
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def migrate(url: str) -> None:
    engine = db.create_db_engine(url)
    try:
        db.migrate(engine)
    finally:
        engine.dispose()


@contextmanager
def postgres_database() -> Iterator[Database]:
    """Yield a migrated schema of its own on the PostgreSQL server; drop it afterwards."""
    schema = "bench_" + secrets.token_hex(6)
    admin = create_engine(db.normalize_url(postgres_url()))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        database = Database(_schema_url(schema), schema)
        migrate(database.url)
        yield database
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@contextmanager
def sqlite_database(directory: Path, migrated: bool = True) -> Iterator[Database]:
    """Yield a SQLite file in `directory`, migrated if `migrated`; delete it afterwards."""
    path = directory / f"bench-{secrets.token_hex(4)}.db"
    database = Database(f"sqlite:///{path}")
    if migrated:
        migrate(database.url)
    try:
        yield database
    finally:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


@dataclass(frozen=True)
class TableCounters:
    """Cumulative pg_stat_user_tables counters summed over one schema's tables."""

    scans: int
    inserted: int
    updated: int
    deleted: int

    @property
    def written(self) -> int:
        return self.inserted + self.updated + self.deleted

    def __sub__(self, other: TableCounters) -> TableCounters:
        return TableCounters(
            self.scans - other.scans,
            self.inserted - other.inserted,
            self.updated - other.updated,
            self.deleted - other.deleted,
        )


def table_counters(schema: str, quiet_seconds: float) -> TableCounters:
    """Read the schema's table statistics once they have not changed for `quiet_seconds`.

    PostgreSQL 15 publishes a backend's counters only after the backend goes idle, at most
    once a second. Writes made before a measurement were seen to arrive 3 s or more later,
    so this polls once a second, for at most 30 seconds.
    """
    engine = create_engine(db.normalize_url(postgres_url()))
    query = text(
        "SELECT coalesce(sum(seq_scan + coalesce(idx_scan, 0)), 0),"
        " coalesce(sum(n_tup_ins), 0), coalesce(sum(n_tup_upd), 0),"
        " coalesce(sum(n_tup_del), 0)"
        " FROM pg_stat_user_tables WHERE schemaname = :schema"
    )
    deadline = time.monotonic() + STATS_SETTLE_TIMEOUT
    previous: TableCounters | None = None
    changed_at = time.monotonic()
    try:
        while True:
            with engine.connect() as connection:
                row = connection.execute(query, {"schema": schema}).one()
            current = TableCounters(*(int(value) for value in row))
            now = time.monotonic()
            if current != previous:
                changed_at = now
            if now - changed_at >= quiet_seconds or now > deadline:
                return current
            previous = current
            time.sleep(1.0)
    finally:
        engine.dispose()
