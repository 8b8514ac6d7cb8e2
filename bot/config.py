"""Settings read from environment variables and an optional `.env` file.

`load_settings()` validates everything at once and raises `ConfigError` whose message lists
every problem, what each variable is for and how to get it. No message ever contains a value,
because several of these variables are secrets.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from cryptography.fernet import Fernet
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

MICROSOFT_AUTHORITY_HOSTS = (
    "login.microsoftonline.com",
    "login.microsoftonline.us",
    "login.chinacloudapi.cn",
    "login.partner.microsoftonline.cn",
)

# The purpose of each variable and where to get it, shown next to any problem with it.
HELP = {
    "SLACK_SIGNING_SECRET": "verifies requests from Slack; Slack app settings > Basic"
    " Information > Signing Secret",
    "SLACK_BOT_TOKEN": "the bot token, starting xoxb-; Slack app settings > OAuth & Permissions",
    "MS_CLIENT_ID": "the Application (client) ID of the Microsoft Entra app registration",
    "MS_CLIENT_SECRET": "a client secret of the Entra app registration; Certificates & secrets",
    "MS_TENANT": "common, organizations, consumers, or a tenant id",
    "PUBLIC_URL": "the app's public base URL, such as https://onedrive-bot.example.com;"
    " the Microsoft redirect URI is PUBLIC_URL/auth/callback",
    "DATABASE_URL": "an SQLAlchemy URL, sqlite:///onedrive-bot.db or postgresql://...",
    "TOKEN_ENCRYPTION_KEY": "Fernet keys that encrypt stored tokens, comma-separated, the first"
    " one encrypts; create one with `onedrive-bot keygen`",
    "FETCH_MAX_BYTES": "the largest file, in bytes, that fetch uploads into Slack",
    "PORT": "the TCP port `serve` listens on",
    "HOST": "the address `serve` listens on",
    "SLACK_API_URL": "the Slack Web API base URL",
    "MS_AUTHORITY_HOST": "the Microsoft identity platform base URL",
    "GRAPH_API_URL": "the Microsoft Graph base URL",
    "MS_SCOPES": "space-separated Microsoft Graph delegated permissions",
    "LOG_LEVEL": "DEBUG, INFO, WARNING or ERROR",
    "ALLOWED_TENANTS": "comma-separated Microsoft tenant ids whose accounts may connect;"
    " empty allows every tenant",
    "HTTP_TIMEOUT_SECONDS": "how long one request to Graph or the identity platform may take,"
    " in seconds",
}


class ConfigError(Exception):
    """The configuration is missing or invalid; the message lists every problem."""


class Settings(BaseSettings):
    """The app's settings; field names are the environment variable names in lowercase."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    slack_signing_secret: SecretStr
    slack_bot_token: SecretStr
    ms_client_id: str
    ms_client_secret: SecretStr
    ms_tenant: str = "common"
    public_url: str
    database_url: str = "sqlite:///onedrive-bot.db"
    token_encryption_key: SecretStr
    fetch_max_bytes: int = Field(default=104_857_600, gt=0)
    port: int = Field(default=3000, ge=0, le=65535)
    host: str = "0.0.0.0"  # noqa: S104 - a web service listens on all interfaces by default
    slack_api_url: str = "https://slack.com/api/"
    ms_authority_host: str = "https://login.microsoftonline.com"
    graph_api_url: str = "https://graph.microsoft.com/v1.0"
    ms_scopes: str = "User.Read Files.ReadWrite.All"
    allowed_tenants: str = ""
    http_timeout_seconds: float = Field(default=30.0, gt=0)
    log_level: str = "INFO"

    @field_validator("slack_bot_token")
    @classmethod
    def _check_bot_token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return value

    @field_validator("slack_signing_secret", "ms_client_secret")
    @classmethod
    def _check_not_empty(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("ms_client_id", "ms_tenant")
    @classmethod
    def _check_identifier(cls, value: str) -> str:
        value = value.strip()
        if not value or not all(c.isalnum() or c in "-." for c in value):
            raise ValueError("must be an id made of letters, digits, '-' and '.'")
        return value

    @field_validator("token_encryption_key")
    @classmethod
    def _check_fernet_keys(cls, value: SecretStr) -> SecretStr:
        keys = [key.strip() for key in value.get_secret_value().split(",") if key.strip()]
        if not keys:
            raise ValueError("must contain at least one key")
        for key in keys:
            try:
                Fernet(key.encode())
            except ValueError:
                raise ValueError(
                    "each key must be 32 url-safe base64-encoded bytes, as keygen prints"
                ) from None
        return value

    @field_validator("public_url", "slack_api_url", "ms_authority_host", "graph_api_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        parts = urlsplit(value.strip())
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http:// or https:// URL")
        if parts.query or parts.fragment:
            raise ValueError("must not contain a query or a fragment")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @property
    def redirect_uri(self) -> str:
        return self.public_url.rstrip("/") + "/auth/callback"

    @property
    def authority(self) -> str:
        return f"{self.ms_authority_host.rstrip('/')}/{self.ms_tenant}"

    @property
    def is_microsoft_authority(self) -> bool:
        return urlsplit(self.ms_authority_host).hostname in MICROSOFT_AUTHORITY_HOSTS

    @property
    def scopes(self) -> list[str]:
        return self.ms_scopes.split()

    @property
    def tenant_allow_list(self) -> frozenset[str]:
        return frozenset(t.strip().lower() for t in self.allowed_tenants.split(",") if t.strip())

    @property
    def encryption_keys(self) -> list[bytes]:
        raw = self.token_encryption_key.get_secret_value()
        return [key.strip().encode() for key in raw.split(",") if key.strip()]

    @property
    def cookies_secure(self) -> bool:
        return self.public_url.startswith("https://")


def load_settings(**overrides: object) -> Settings:
    """Read and validate the settings, raising `ConfigError` that lists every problem."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = ["The configuration is incomplete or invalid:"]
    for error in exc.errors(include_input=False, include_url=False):
        name = str(error["loc"][0]).upper() if error["loc"] else "?"
        if error["type"] == "missing":
            problem = "not set"
        else:
            # The message of a validator names the rule, never the value.
            problem = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  - {name}: {problem} ({HELP.get(name, 'see the README')})")
    lines.append("Set them in the environment or in a .env file, then start again.")
    return "\n".join(lines)
