"""A description of the machine and the code a run measured."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from benchmarks.processes import REPOSITORY


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name":
            return value.strip()
    return platform.processor() or "unknown"


def _memory_total() -> str:
    for line in Path("/proc/meminfo").read_text().splitlines():
        key, _, value = line.partition(":")
        if key == "MemTotal":
            return f"{int(value.split()[0]) / 2**20:.1f} GiB"
    return "unknown"


def _git(*args: str) -> str:
    try:
        completed = subprocess.run(  # noqa: S603 - fixed program
            ["git", *args],  # noqa: S607 - git from PATH
            cwd=REPOSITORY,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return completed.stdout.strip()


def commit() -> str:
    """Return the short commit id, noting uncommitted changes in bot/."""
    current = _git("rev-parse", "--short", "HEAD") or "unknown"
    if _git("status", "--porcelain", "--", "bot"):
        current += " with uncommitted changes in bot/"
    return current


def describe() -> list[tuple[str, str]]:
    """Return (name, value) pairs: date, CPUs, memory, CPU model, Python, OS and commit."""
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPUs (nproc)", str(len(os.sched_getaffinity(0)))),
        ("memory", _memory_total()),
        ("CPU model", _cpu_model()),
        ("Python", platform.python_version()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("commit", commit()),
    ]
