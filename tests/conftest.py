"""Shared fixtures: a migrated database on SQLite and, when configured, on PostgreSQL.

Set TEST_DATABASE_URL (for example postgresql://postgres@127.0.0.1:5432/test) to run every
database test on PostgreSQL as well; each test gets a schema of its own there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from bot.store import db

POSTGRES_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite", "postgresql"]


def _postgres_schema_url(schema: str) -> str:
    url = db.normalize_url(POSTGRES_URL)
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


@contextmanager
def empty_database(backend: str, directory: Path) -> Iterator[str]:
    """Yield the URL of an empty database on `backend`, removed afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{directory / 'test.db'}"
        return
    if not POSTGRES_URL:
        pytest.skip("TEST_DATABASE_URL is not set")
    schema = "t_" + secrets.token_hex(6)
    admin = create_engine(db.normalize_url(POSTGRES_URL))
    with admin.begin() as connection:
        connection.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield _postgres_schema_url(schema)
    finally:
        with admin.begin() as connection:
            connection.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, on each backend in turn."""
    with empty_database(request.param, tmp_path) as url:
        yield url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on a database whose schema was built by running the migrations."""
    engine = db.create_db_engine(database_url)
    db.migrate(engine)
    yield engine
    engine.dispose()
