"""Configuration from the environment or `.env`, validated once at start-up."""

from __future__ import annotations

import re
import zoneinfo
from pathlib import Path
from typing import Annotated, Any

import phonenumbers
from babel import Locale, UnknownLocaleError
from babel.numbers import list_currencies
from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

TELEGRAM_API_URL = "https://api.telegram.org/bot"
SQLITE_PREFIX = "sqlite:///"
# Telegram accepts 1-256 characters; anything under 32 could be guessed by whoever can reach
# the webhook port, and would let them post forged updates as any member.
WEBHOOK_SECRET_MIN = 32
WEBHOOK_SECRET_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{WEBHOOK_SECRET_MIN},256}}")


TEMPLATES_DIR = Path(__file__).resolve().parent.parent / "templates"
"""Jinja2 texts and per-locale data (reply templates, tact rules, digest layout)."""


class ConfigError(Exception):
    """A configuration value is wrong; the message names the variable."""


class Settings(BaseSettings):
    """Every setting NextStep reads; see `.env.example` for the documentation of each."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,
        extra="ignore",
        case_sensitive=False,
    )

    bot_token: SecretStr | None = None
    database_url: str = "sqlite:///data/nextstep.sqlite3"
    telegram_base_url: str = TELEGRAM_API_URL
    telegram_base_file_url: str | None = None
    admin_telegram_ids: Annotated[tuple[int, ...], NoDecode] = ()
    default_timezone: str = "UTC"
    default_locale: str = "en"
    default_currency: str = "USD"
    default_phone_region: str = "US"
    # The most clients one manager can have (/newclient, imports, reassigning).
    max_clients_per_manager: int = Field(default=20_000, ge=1)
    reminder_sweep_seconds: float = Field(default=30, ge=1)
    # Telegram's overall flood limit is about 30 messages/s; sends are spaced evenly below it.
    # 0 switches pacing off (load benchmarks against the fake Bot API server only).
    telegram_messages_per_second: float = Field(default=29.5, ge=0, le=1000)
    log_level: str = "INFO"
    webhook_url: str | None = None
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = Field(default=8443, ge=1, le=65535)
    webhook_secret: SecretStr | None = None
    # Calendar feeds (issue 21): on the webhook server in webhook mode, else on
    # CALENDAR_LISTEN:CALENDAR_PORT (0 switches the feed off); links start with PUBLIC_URL.
    calendar_listen: str = "127.0.0.1"
    calendar_port: int = Field(default=8090, ge=0, le=65535)
    public_url: str | None = None
    # The local sandbox (`make run` without BOT_TOKEN, `python -m bot sandbox`).
    sandbox_port: int = Field(default=8080, ge=1, le=65535)
    sandbox_database_url: str = "sqlite:///data/sandbox.sqlite3"

    @field_validator("admin_telegram_ids", mode="before")
    @classmethod
    def _parse_admin_ids(cls, value: object) -> object:
        if value is None or value == "":
            return ()
        if isinstance(value, str):
            parts = [part.strip() for part in value.replace(";", ",").split(",")]
            ids = []
            for part in filter(None, parts):
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a numeric Telegram id")
                ids.append(int(part))
            return tuple(ids)
        return value  # a list or tuple of ids: pydantic checks it is a tuple[int, ...]

    @field_validator("default_timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            zoneinfo.ZoneInfo(value)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone such as Europe/Berlin") from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _check_locale(cls, value: str) -> str:
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise ValueError(f"{value!r} is not a known locale such as en or de") from None
        return value

    @field_validator("default_currency")
    @classmethod
    def _check_currency(cls, value: str) -> str:
        code = value.strip().upper()
        if code not in list_currencies():
            raise ValueError(f"{value!r} is not an ISO 4217 currency code such as USD or EUR")
        return code

    @field_validator("default_phone_region")
    @classmethod
    def _check_region(cls, value: str) -> str:
        region = value.strip().upper()
        if region not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f"{value!r} is not a phone region code such as US, GB or DE")
        return region

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("database_url", "sandbox_database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not value.startswith(SQLITE_PREFIX) or value == SQLITE_PREFIX:
            raise ValueError(f"{value!r} must look like sqlite:///data/nextstep.sqlite3")
        return value

    @field_validator("telegram_base_url", "telegram_base_file_url", "webhook_url", "public_url")
    @classmethod
    def _check_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError(f"{value!r} must start with http:// or https://")
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _check_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not WEBHOOK_SECRET_PATTERN.fullmatch(value.get_secret_value()):
            raise ValueError(
                f"must be {WEBHOOK_SECRET_MIN}-256 characters of A-Z, a-z, 0-9, _ and - "
                "(make one with: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> Settings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("WEBHOOK_SECRET must be set when WEBHOOK_URL is set")
        return self

    @property
    def database_path(self) -> Path:
        """The SQLite file named by DATABASE_URL (`sqlite:///relative` or `sqlite:////abs`)."""
        return Path(self.database_url.removeprefix(SQLITE_PREFIX))

    @property
    def sandbox_database_path(self) -> Path:
        """The sandbox's own SQLite file (SANDBOX_DATABASE_URL), never the production one."""
        return Path(self.sandbox_database_url.removeprefix(SQLITE_PREFIX))

    @property
    def file_base_url(self) -> str:
        """Where files are downloaded: TELEGRAM_BASE_FILE_URL, else derived from the base URL.

        Telegram and a local Bot API server both serve files under `/file/bot<token>/` on the
        host that serves the methods under `/bot<token>/`.
        """
        if self.telegram_base_file_url:
            return self.telegram_base_file_url
        base = self.telegram_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base.rsplit("/", 1)[0] + "/file/bot"

    def secrets(self) -> list[str]:
        """The values that must never appear in a log line or an error."""
        values = [self.bot_token, self.webhook_secret]
        return [v.get_secret_value() for v in values if v is not None and v.get_secret_value()]


def load_settings(**overrides: Any) -> Settings:
    """Read the settings; a bad value raises ConfigError with one line naming the variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "WEBHOOK_SECRET"
        message = str(first["msg"]).removeprefix("Value error, ")
        raise ConfigError(f"{name}: {message}") from None
