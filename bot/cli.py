"""The `onedrive-bot` command: serve, migrate, keygen."""

from __future__ import annotations

import argparse
import logging
import sys

from bot.config import ConfigError, Settings, load_settings
from bot.crypto import generate_key
from bot.logs import setup_logging
from bot.store import db

log = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="onedrive-bot", description="OneDrive for Slack: search, share and fetch files."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("serve", help="start the web server on HOST:PORT")
    commands.add_parser("migrate", help="bring the database schema up to date")
    commands.add_parser("keygen", help="print a new TOKEN_ENCRYPTION_KEY")
    args = parser.parse_args(argv)

    if args.command == "keygen":
        sys.stdout.write(generate_key() + "\n")
        return 0

    try:
        settings = load_settings()
    except ConfigError as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    setup_logging(settings.log_level)
    if args.command == "migrate":
        db.migrate(db.create_db_engine(settings.database_url))
        log.info("database schema is up to date")
        return 0
    return serve(settings)


def serve(settings: Settings) -> int:
    import uvicorn

    from bot.web import create_app

    engine = db.create_db_engine(settings.database_url)
    if not db.schema_is_current(engine):
        if db.is_sqlite(engine):
            # One process owns a SQLite file, so migrating on start is safe there.
            db.migrate(engine)
        else:
            sys.stderr.write(
                "The database schema is out of date. Run `onedrive-bot migrate` first "
                "(the Procfile's release step does).\n"
            )
            return 2
    log.info("serving on %s:%d", settings.host, settings.port)
    uvicorn.run(
        create_app(settings, engine),
        host=settings.host,
        port=settings.port,
        log_config=None,
        # The access log would record consent link ids, which are credentials.
        access_log=False,
        proxy_headers=True,
        timeout_graceful_shutdown=5,
    )
    return 0
