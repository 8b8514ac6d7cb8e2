"""State shared by the measurements: the fakes, the run's sizes, secrets and app processes."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from benchmarks import database
from benchmarks.database import Database
from benchmarks.processes import APP_COMMAND, BARE_COMMAND, ServerProcess
from benchmarks.services import Services
from bot.crypto import generate_key


@dataclass(frozen=True)
class Plan:
    """The sizes of one run: `full_run()` for the targets, `quick_run()` for CI."""

    quick: bool
    ack_people: int
    ack_requests: int
    ack_rounds: int
    overhead_samples: int
    token_people: int
    token_commands: int
    token_lifetime: int
    token_hours: float
    fetch_size: int
    scale_people: int
    scale_searches: int
    scale_rounds: int
    startup_runs: int

    @classmethod
    def full_run(cls) -> Plan:
        return cls(
            quick=False,
            ack_people=20,
            ack_requests=200,
            ack_rounds=3,
            overhead_samples=30,
            token_people=50,
            token_commands=1000,
            token_lifetime=360,
            token_hours=1.0,
            fetch_size=500 * 10**6,
            scale_people=10,
            scale_searches=200,
            scale_rounds=3,
            startup_runs=7,
        )

    @classmethod
    def quick_run(cls) -> Plan:
        return cls(
            quick=True,
            ack_people=4,
            ack_requests=40,
            ack_rounds=1,
            overhead_samples=5,
            token_people=4,
            token_commands=40,
            token_lifetime=304,
            token_hours=3.0,
            fetch_size=20 * 10**6,
            scale_people=3,
            scale_searches=30,
            scale_rounds=1,
            startup_runs=3,
        )


class Bench:
    """The fakes, the plan, a work directory, and app processes started on demand."""

    def __init__(self, services: Services, plan: Plan, directory: Path, postgres: bool) -> None:
        self.services = services
        self.plan = plan
        self.directory = directory
        self.postgres = postgres
        self.signing_secret = secrets.token_hex(16)
        self.encryption_key = generate_key()
        self._names: dict[str, int] = {}

    @contextmanager
    def database(self) -> Iterator[Database]:
        """Yield a fresh, migrated database.

        That is a PostgreSQL schema when the server is reachable, else a SQLite file.
        """
        if self.postgres:
            with database.postgres_database() as created:
                yield created
        else:
            with database.sqlite_database(self.directory) as created:
                yield created

    def app_env(self, db: Database, **extra: str) -> dict[str, str]:
        return {
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "TOKEN_ENCRYPTION_KEY": self.encryption_key,
            "DATABASE_URL": db.url,
            "LOG_LEVEL": "INFO",
            **self.services.app_env(),
            **extra,
        }

    def new_app(
        self, name: str, db: Database, command: tuple[str, ...] = APP_COMMAND, **extra: str
    ) -> ServerProcess:
        """Return an app process (not started) whose callback the fake identity accepts."""
        process = ServerProcess(
            command, self.app_env(db, **extra), self.directory, self._unique(name)
        )
        self.services.identity.redirect_uris.append(f"{process.url}/auth/callback")
        return process

    def new_bare_app(self, name: str, respond: bool = False) -> ServerProcess:
        env = {
            "SLACK_SIGNING_SECRET": self.signing_secret,
            "BARE_RESPOND": "1" if respond else "0",
            **self.services.app_env(),
        }
        return ServerProcess(BARE_COMMAND, env, self.directory, self._unique(name))

    def _unique(self, name: str) -> str:
        count = self._names.get(name, 0) + 1
        self._names[name] = count
        return name if count == 1 else f"{name}-{count}"
