from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings
from bot.crypto import generate_key

REQUIRED = {
    "SLACK_SIGNING_SECRET": "signing-secret-value",
    "SLACK_BOT_TOKEN": "xoxb-1-2-abc",
    "MS_CLIENT_ID": "11111111-2222-3333-4444-555555555555",
    "MS_CLIENT_SECRET": "client-secret-value",
    "PUBLIC_URL": "https://bot.example.com",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path) -> pytest.MonkeyPatch:
    monkeypatch.chdir(tmp_path)  # no .env file here
    for name in [*REQUIRED, "TOKEN_ENCRYPTION_KEY", "DATABASE_URL", "MS_TENANT"]:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def test_config_defaults(environment: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("TOKEN_ENCRYPTION_KEY", generate_key())
    settings = load_settings()
    assert settings.database_url == "sqlite:///onedrive-bot.db"
    assert settings.ms_tenant == "common"
    assert settings.fetch_max_bytes == 104_857_600
    assert settings.port == 3000
    assert settings.redirect_uri == "https://bot.example.com/auth/callback"
    assert settings.authority == "https://login.microsoftonline.com/common"
    assert settings.is_microsoft_authority
    assert settings.scopes == ["User.Read", "Files.ReadWrite.All"]


def test_config_lists_every_problem(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SLACK_BOT_TOKEN", "xoxp-user-token-secret")
    environment.setenv("TOKEN_ENCRYPTION_KEY", "not-a-key-secret")
    environment.setenv("FETCH_MAX_BYTES", "lots")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    for name in ("SLACK_SIGNING_SECRET", "MS_CLIENT_ID", "MS_CLIENT_SECRET", "PUBLIC_URL"):
        assert f"{name}: not set" in message
    assert "SLACK_BOT_TOKEN: must be a bot token starting with xoxb-" in message
    assert "TOKEN_ENCRYPTION_KEY" in message
    assert "onedrive-bot keygen" in message
    assert "FETCH_MAX_BYTES" in message


def test_config_never_echoes_values(environment: pytest.MonkeyPatch) -> None:
    environment.setenv("SLACK_BOT_TOKEN", "xoxp-user-token-secret")
    environment.setenv("TOKEN_ENCRYPTION_KEY", "not-a-key-secret")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "xoxp-user-token-secret" not in str(caught.value)
    assert "not-a-key-secret" not in str(caught.value)


def test_config_non_microsoft_authority(environment: pytest.MonkeyPatch) -> None:
    for name, value in REQUIRED.items():
        environment.setenv(name, value)
    environment.setenv("TOKEN_ENCRYPTION_KEY", f"{generate_key()},{generate_key()}")
    environment.setenv("MS_AUTHORITY_HOST", "https://127.0.0.1:8443")
    settings = load_settings()
    assert not settings.is_microsoft_authority
    assert len(settings.encryption_keys) == 2


def test_config_reads_dotenv(environment: pytest.MonkeyPatch, tmp_path) -> None:
    lines = [f"{name}={value}" for name, value in REQUIRED.items()]
    lines.append(f"TOKEN_ENCRYPTION_KEY={generate_key()}")
    lines.append("MS_TENANT=organizations")
    (tmp_path / ".env").write_text("\n".join(lines))
    assert load_settings().ms_tenant == "organizations"
