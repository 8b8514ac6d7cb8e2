"""Server processes under test: the app (`python -m bot serve`) and the bare Bolt baseline.

Each runs as a child process on 127.0.0.1 with a port of its own, and this module reads its
CPU time and memory from /proc.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

REPOSITORY = Path(__file__).resolve().parent.parent
HEALTH_POLL_SECONDS = 0.01
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")

APP_COMMAND = ("-m", "bot", "serve")
BARE_COMMAND = ("-m", "benchmarks.bare_app")
COUNTING_COMMAND = ("-m", "benchmarks.counting_app")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Memory:
    """Resident set size now and its peak since start or the last reset, in bytes."""

    rss: int
    peak: int


class ServerProcess:
    """One server child process that returns 200 for `GET /healthz` when ready.

    `command` holds the interpreter arguments, such as APP_COMMAND. The child runs in
    `directory`, so no `.env` file of the repository is read, with only the given
    environment plus PATH, HOME and a PYTHONPATH that makes `bot` and `benchmarks`
    importable.
    """

    def __init__(
        self,
        command: tuple[str, ...],
        env: dict[str, str],
        directory: Path,
        name: str,
        port: int | None = None,
    ) -> None:
        self.command = command
        self.name = name
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.directory = directory
        self.log_path = directory / f"{name}.log"
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "PYTHONPATH": str(REPOSITORY),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None
        self.ready_seconds = 0.0

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError(f"{self.name} is not running")
        return self._process.pid

    def start(self, timeout: float = 30.0) -> float:
        """Start the process and wait for `/healthz` to return 200; return the seconds taken.

        Raises RuntimeError with the log when the process exits or is not ready in time.
        """
        self.directory.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log_file:
            started = time.monotonic()
            self._process = subprocess.Popen(  # noqa: S603 - fixed interpreter and module
                [sys.executable, *self.command],
                env=self.env,
                cwd=self.directory,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        deadline = started + timeout
        with httpx.Client(timeout=1.0) as client:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    code = self._process.returncode
                    raise RuntimeError(f"{self.name} exited with {code}:\n{self.log_tail()}")
                try:
                    if client.get(f"{self.url}/healthz").status_code == 200:
                        self.ready_seconds = time.monotonic() - started
                        return self.ready_seconds
                except httpx.HTTPError:
                    pass
                time.sleep(HEALTH_POLL_SECONDS)
        self.stop()
        raise RuntimeError(f"{self.name} did not return 200 for /healthz within {timeout} s")

    def stop(self) -> None:
        """Terminate the process (SIGTERM, then SIGKILL after 15 s) and wait for it."""
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def send_signal(self, number: signal.Signals) -> None:
        os.kill(self.pid, number)

    def cpu_seconds(self) -> float:
        """Return the user plus system CPU time of the process and all its threads."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        # After the command name: state is field 3, so utime (14) and stime (15) are 11, 12.
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def memory(self) -> Memory:
        values: dict[str, int] = {}
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0]) * 1024
        return Memory(rss=values["VmRSS"], peak=values["VmHWM"])

    def reset_peak_memory(self) -> bool:
        """Reset VmHWM to the current RSS (Linux clear_refs value 5); False if not allowed."""
        try:
            Path(f"/proc/{self.pid}/clear_refs").write_text("5")
        except OSError:
            return False
        return True

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
