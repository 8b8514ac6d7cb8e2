"""Run the benchmarks and write the report: `python -m benchmarks [--quick] [--output PATH]`."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from benchmarks import (
    ack_latency,
    database,
    large_fetch,
    machine,
    overhead,
    report,
    scale_out,
    startup,
    token_refresh,
)
from benchmarks.context import Bench, Plan
from benchmarks.processes import REPOSITORY
from benchmarks.results import Section
from benchmarks.services import Services

log = logging.getLogger("benchmarks")

MEASUREMENTS: list[tuple[str, Callable[[Bench], Section]]] = [
    ("1. Ack latency under load", ack_latency.measure),
    ("2. Overhead per command", overhead.measure),
    ("3. Token endpoint calls", token_refresh.measure),
    ("4. Memory on large files", large_fetch.measure),
    ("5. Scale out", scale_out.measure),
    ("6. Start-up", startup.measure),
]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="Measure the app against local fakes and write a Markdown report.",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="run small sizes (for CI, under 2 minutes) and do not enforce the targets",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=REPOSITORY / "BENCHMARKS.md",
        help="where to write the report (default: BENCHMARKS.md in the repository)",
    )
    parser.add_argument(
        "--only",
        type=int,
        action="append",
        choices=range(1, len(MEASUREMENTS) + 1),
        metavar="N",
        help="run only measurement N (1 to 6); repeat to run several",
    )
    parser.add_argument(
        "--keep-logs",
        action="store_true",
        help="keep the work directory with the app logs and print its path",
    )
    return parser.parse_args(argv)


def _run_one(name: str, run: Callable[[Bench], Section], bench: Bench) -> Section:
    log.info("running %s", name)
    started = time.monotonic()
    try:
        section = run(bench)
    except Exception as exc:
        log.error("%s failed:\n%s", name, traceback.format_exc())
        section = Section(name, "", error=f"the measurement failed: {type(exc).__name__}: {exc}")
    log.info("%s took %.0f s", name, time.monotonic() - started)
    return section


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    # The fakes, httpx and alembic log every request or step at INFO; only progress is wanted.
    for noisy in ("tests", "httpx", "alembic"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    plan = Plan.quick_run() if args.quick else Plan.full_run()
    postgres = database.postgres_available()
    if not postgres:
        log.warning("PostgreSQL at %s is not reachable; using SQLite", database.postgres_url())

    # The commit is read at the start and again at the end, since bot/ may change meanwhile.
    described = machine.describe()
    directory = Path(tempfile.mkdtemp(prefix="onedrive-bench-"))
    chosen = [MEASUREMENTS[number - 1] for number in sorted(set(args.only or []))] or MEASUREMENTS
    sections = []
    try:
        with Services() as services:
            bench = Bench(services, plan, directory, postgres)
            for name, run in chosen:
                sections.append(_run_one(name, run, bench))
    finally:
        if args.keep_logs:
            log.info("logs kept in %s", directory)
        else:
            shutil.rmtree(directory, ignore_errors=True)

    commit_at_start = dict(described)["commit"]
    commit_at_end = machine.commit()
    if commit_at_end != commit_at_start:
        described.append(("commit at the end of the run", commit_at_end))
    args.output.write_text(report.render(sections, described, plan.quick))
    log.info("wrote %s", args.output)
    failed = [section.title for section in sections if section.error]
    missed = [target.text for section in sections for target in section.targets if not target.met]
    for title in failed:
        log.error("not measured: %s", title)
    for section in sections:
        if section.skipped:
            log.warning("skipped %s: %s", section.title, section.skipped)
    if plan.quick:
        return 1 if failed else 0
    for text in missed:
        log.error("target not met: %s", text)
    return 1 if failed or missed else 0


if __name__ == "__main__":
    sys.exit(main())
