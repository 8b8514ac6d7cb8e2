"""The `onedrive-bot` command itself: keygen, config errors, migrations at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet

from tests.conftest import BACKENDS, empty_database
from tests.e2e.app_process import AppProcess

BASE_ENV = {
    "SLACK_SIGNING_SECRET": "signing",
    "SLACK_BOT_TOKEN": "xoxb-1-2-3",
    "MS_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "MS_CLIENT_SECRET": "secret",
    # Nothing listens here; start-up must not contact Microsoft or Slack.
    "MS_AUTHORITY_HOST": "https://127.0.0.1:9",
    "SLACK_API_URL": "https://127.0.0.1:9/api/",
    "GRAPH_API_URL": "https://127.0.0.1:9/v1.0",
}


def _run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed interpreter and module
        [sys.executable, "-m", "bot", *args],
        env={"PATH": "/usr/bin:/bin", **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_keygen_prints_fernet_key(tmp_path: Path) -> None:
    result = _run(["keygen"], {}, tmp_path)
    assert result.returncode == 0
    Fernet(result.stdout.strip().encode())


def test_serve_without_config_lists_problems(tmp_path: Path) -> None:
    result = _run(["serve"], {}, tmp_path)
    assert result.returncode == 2
    for name in ("SLACK_SIGNING_SECRET", "TOKEN_ENCRYPTION_KEY", "PUBLIC_URL"):
        assert name in result.stderr
    assert "onedrive-bot keygen" in result.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_serve_on_empty_database(backend: str, tmp_path: Path) -> None:
    with empty_database(backend, tmp_path) as database_url:
        env = {**BASE_ENV, "DATABASE_URL": database_url}
        env["TOKEN_ENCRYPTION_KEY"] = Fernet.generate_key().decode()
        process = AppProcess(env, tmp_path / "app.log")
        if backend == "sqlite":
            # SQLite is migrated at start, so serve comes up and answers health checks.
            with process:
                assert httpx.get(f"{process.url}/healthz").text == "ok"
        else:
            with pytest.raises(RuntimeError, match="onedrive-bot migrate"):
                process.start(timeout=15)
            assert process.run_command("migrate").returncode == 0
            with process:
                assert httpx.get(f"{process.url}/healthz").status_code == 200
