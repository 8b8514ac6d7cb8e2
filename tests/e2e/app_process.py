"""The real app, started as `python -m bot serve` in a child process for end-to-end tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

REPOSITORY = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class AppProcess:
    """One `serve` process on 127.0.0.1 with its log written to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": os.environ.get("HOME", ""),
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "PUBLIC_URL": self.url,
            **env,
        }
        self._process: subprocess.Popen[bytes] | None = None

    def run_command(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run another `onedrive-bot` subcommand with the same environment."""
        return subprocess.run(  # noqa: S603 - fixed interpreter and module
            [sys.executable, "-m", "bot", *args],
            env=self.env,
            cwd=self.log_path.parent,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    def start(self, timeout: float = 20.0) -> None:
        log_file = self.log_path.open("ab")
        self._process = subprocess.Popen(
            [sys.executable, "-m", "bot", "serve"],
            env=self.env,
            cwd=self.log_path.parent,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        log_file.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"app exited with {self._process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"app did not answer /healthz within {timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def terminate(self) -> None:
        """Send SIGTERM, as a platform does when it stops or redeploys the app."""
        assert self._process is not None
        self._process.terminate()

    def wait(self, timeout: float = 30.0) -> int:
        """Wait for the process to exit and return its exit code."""
        assert self._process is not None
        code = self._process.wait(timeout=timeout)
        self._process = None
        return code

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

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
