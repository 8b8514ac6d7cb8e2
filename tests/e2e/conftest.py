"""The fakes and the real app process for end-to-end tests.

The fakes start once per session. The app starts once per module and database backend, so
each test uses Slack users and Microsoft accounts of its own (see `people`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bot.crypto import generate_key
from bot.store import db
from tests.conftest import BACKENDS, empty_database
from tests.e2e.app_process import AppProcess
from tests.e2e.people import App, People
from tests.fakes import FakeGraph, FakeIdentityPlatform, FakeSlack, TestCA

FETCH_MAX_BYTES = 3_000_000


@pytest.fixture(scope="session")
def ca() -> Iterator[TestCA]:
    with TestCA() as test_ca:
        yield test_ca


@pytest.fixture(scope="session")
def identity(ca: TestCA) -> Iterator[FakeIdentityPlatform]:
    with FakeIdentityPlatform(ca) as fake:
        yield fake


@pytest.fixture(scope="session")
def graph(identity: FakeIdentityPlatform, ca: TestCA) -> Iterator[FakeGraph]:
    with FakeGraph(identity, ca) as fake:
        yield fake


@pytest.fixture(scope="session")
def slack(ca: TestCA) -> Iterator[FakeSlack]:
    with FakeSlack(ca) as fake:
        yield fake


@pytest.fixture(scope="module", params=BACKENDS)
def app(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    ca: TestCA,
    identity: FakeIdentityPlatform,
    graph: FakeGraph,
    slack: FakeSlack,
) -> Iterator[App]:
    """The app as a separate `serve` process, configured against the fakes."""
    directory = tmp_path_factory.mktemp(f"app-{request.param}")
    with empty_database(request.param, directory) as database_url:
        signing_secret = secrets.token_hex(16)
        encryption_key = generate_key()
        env = {
            "SLACK_SIGNING_SECRET": signing_secret,
            "SLACK_BOT_TOKEN": slack.bot_token,
            "MS_CLIENT_ID": identity.client_id,
            "MS_CLIENT_SECRET": identity.client_secret,
            "MS_TENANT": "common",
            "DATABASE_URL": database_url,
            "TOKEN_ENCRYPTION_KEY": encryption_key,
            "FETCH_MAX_BYTES": str(FETCH_MAX_BYTES),
            "SLACK_API_URL": slack.api_url,
            "MS_AUTHORITY_HOST": identity.url,
            "GRAPH_API_URL": f"{graph.url}/v1.0",
            "LOG_LEVEL": "DEBUG",
            "HTTP_TIMEOUT_SECONDS": "3",
            **ca.env(),
        }
        process = AppProcess(env, directory / "app.log")
        identity.redirect_uris.append(f"{process.url}/auth/callback")
        migrated = process.run_command("migrate")
        assert migrated.returncode == 0, migrated.stderr
        engine = db.create_db_engine(database_url)
        with process:
            yield App(
                process=process,
                signing_secret=signing_secret,
                engine=engine,
                secrets=[signing_secret, encryption_key, slack.bot_token],
            )
        engine.dispose()


@pytest.fixture
def people(
    app: App, ca: TestCA, identity: FakeIdentityPlatform, graph: FakeGraph, slack: FakeSlack
) -> Iterator[People]:
    with People(app, ca, identity, graph, slack) as crowd:
        yield crowd


@pytest.fixture
def app_engine(app: App) -> Engine:
    return app.engine


@pytest.fixture
def app_log(app: App) -> Path:
    return app.process.log_path


@pytest.fixture
def another_app(app: App, identity: FakeIdentityPlatform) -> Iterator[Callable[..., AppProcess]]:
    """Start more app processes on the module's database, with extra settings."""
    started: list[AppProcess] = []

    def start(**env: str) -> AppProcess:
        name = f"app-{len(started) + 1}.log"
        process = AppProcess(app.process.env | env, app.process.log_path.with_name(name))
        process.env["PORT"] = str(process.port)
        process.env["PUBLIC_URL"] = process.url
        identity.redirect_uris.append(f"{process.url}/auth/callback")
        process.start()
        started.append(process)
        return process

    yield start
    for process in started:
        process.stop()
