"""Measurement 6: time from `serve` to a healthy app on a fresh SQLite database."""

from __future__ import annotations

import subprocess
import sys
import time

from benchmarks import database
from benchmarks.context import Bench
from benchmarks.processes import REPOSITORY
from benchmarks.results import Figure, Section, Target
from benchmarks.stats import median, ms, ratio, times

MAX_READY_SECONDS = 2.0

CAUSE = (
    "Most of the time is imports: `bot.web` alone takes {imports} to import in a fresh"
    " interpreter (`python -X importtime` puts alembic, imported by bot.store.db for the"
    " schema check, slack_bolt, SQLAlchemy, msal with requests, pydantic-settings and"
    " aiohttp at the top), against {bare} for the whole bare Bolt app to become ready."
)

METHOD = (
    "{runs} starts of `python -m bot serve` (what `onedrive-bot serve` runs), each on a new"
    " SQLite file with no schema, so `serve` applies the migrations itself; the time runs"
    " from starting the process to the first `GET /healthz` that returns 200, polled every"
    " 10 ms. The starts alternate with starts of the bare Bolt app (same imports of Bolt,"
    " Starlette and uvicorn, no database), the baseline. The import of `bot.web` alone is"
    " timed in a fresh interpreter too."
)


def _import_seconds(module: str) -> float:
    """Return the time a fresh interpreter takes to import `module`, less an empty start."""
    timings = []
    for code in ("pass", f"import {module}"):
        started = time.monotonic()
        subprocess.run(  # noqa: S603 - fixed interpreter
            [sys.executable, "-c", code], cwd=REPOSITORY, check=True, timeout=60
        )
        timings.append(time.monotonic() - started)
    return timings[1] - timings[0]


def measure(bench: Bench) -> Section:
    runs = bench.plan.startup_runs
    section = Section("6. Start-up", METHOD.format(runs=runs))
    app_times: list[float] = []
    bare_times: list[float] = []
    imports: list[float] = []
    for _ in range(runs):
        with database.sqlite_database(bench.directory, migrated=False) as fresh:
            app = bench.new_app("startup-app", fresh)
            app_times.append(app.start())
            app.stop()
        bare = bench.new_bare_app("startup-bare")
        bare_times.append(bare.start())
        bare.stop()
        imports.append(_import_seconds("bot.web"))

    app_median, bare_median = median(app_times), median(bare_times)
    section.figures += [
        Figure(
            "`serve` to healthz 200 (median)",
            ms(app_median),
            ms(bare_median),
            times(ratio(app_median, bare_median)),
        ),
        Figure("slowest start", ms(max(app_times)), ms(max(bare_times))),
        Figure("import of `bot.web` (median)", ms(median(imports))),
    ]
    met = app_median < MAX_READY_SECONDS
    section.targets.append(
        Target(
            f"ready in under {MAX_READY_SECONDS:g} s on a fresh SQLite database (median)",
            ms(app_median),
            met,
            gap="" if met else f"{ms(app_median - MAX_READY_SECONDS)} over",
            cause="" if met else CAUSE.format(imports=ms(median(imports)), bare=ms(bare_median)),
        )
    )
    return section
