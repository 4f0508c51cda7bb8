"""Configuration: defaults, parsing, and one clear line per bad value."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings

LONG_SECRET = "s3cr3t_value-long-enough-for-a-webhook"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.chdir(tmp_path)  # no .env from the developer's folder
    for name in ("BOT_TOKEN", "ADMIN_TELEGRAM_IDS", "DEFAULT_TIMEZONE", "DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def test_defaults() -> None:
    """Without any variable, the documented defaults apply."""
    settings = load_settings()
    assert settings.bot_token is None
    assert settings.database_path.as_posix() == "data/nextstep.sqlite3"
    assert settings.default_timezone == "UTC"
    assert settings.default_currency == "USD"
    assert settings.reminder_sweep_seconds == 30
    assert settings.file_base_url == "https://api.telegram.org/file/bot"


def test_environment_values_are_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Admin ids are a comma-separated list; the currency is normalised to upper case."""
    monkeypatch.setenv("ADMIN_TELEGRAM_IDS", " 101, 202 ,303")
    monkeypatch.setenv("DEFAULT_CURRENCY", "eur")
    monkeypatch.setenv("TELEGRAM_BASE_URL", "http://127.0.0.1:8081/bot")
    settings = load_settings()
    assert settings.admin_telegram_ids == (101, 202, 303)
    assert settings.default_currency == "EUR"
    assert settings.file_base_url == "http://127.0.0.1:8081/file/bot"


def test_env_file_is_read(tmp_path) -> None:
    """`.env` in the working folder is read; empty values count as unset."""
    (tmp_path / ".env").write_text("BOT_TOKEN=123:abc\nWEBHOOK_URL=\nDEFAULT_LOCALE=de\n")
    settings = load_settings()
    assert settings.bot_token is not None
    assert settings.bot_token.get_secret_value() == "123:abc"
    assert settings.webhook_url is None
    assert settings.default_locale == "de"


def test_explicit_file_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    """TELEGRAM_BASE_FILE_URL overrides the derived download address."""
    monkeypatch.setenv("TELEGRAM_BASE_FILE_URL", "http://files.local/file/bot")
    assert load_settings().file_base_url == "http://files.local/file/bot"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("DEFAULT_TIMEZONE", "Mars/Olympus", "DEFAULT_TIMEZONE: 'Mars/Olympus' is not an IANA"),
        ("ADMIN_TELEGRAM_IDS", "12,abc", "ADMIN_TELEGRAM_IDS: 'abc' is not a numeric"),
        ("DEFAULT_CURRENCY", "XYZ", "DEFAULT_CURRENCY: 'XYZ' is not an ISO 4217"),
        ("DEFAULT_LOCALE", "zz_QQ", "DEFAULT_LOCALE: 'zz_QQ' is not a known locale"),
        ("REMINDER_SWEEP_SECONDS", "0", "REMINDER_SWEEP_SECONDS: Input should be greater"),
        ("DATABASE_URL", "postgres://x", "DATABASE_URL: 'postgres://x' must look like"),
        ("WEBHOOK_URL", "https://bot.example/hook", "WEBHOOK_SECRET must be set"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, expected: str
) -> None:
    """Each wrong value stops start-up with one line naming the variable."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_settings()
    assert str(error.value).startswith(expected) or expected in str(error.value)
    assert "\n" not in str(error.value)


def test_secrets_lists_token_and_webhook_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """The values to redact from logs."""
    monkeypatch.setenv("BOT_TOKEN", "123:secret")
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", LONG_SECRET)
    assert load_settings().secrets() == ["123:secret", LONG_SECRET]


@pytest.mark.parametrize("secret", ["s3cr3t_value", "x" * 31, "bad secret with spaces" * 2])
def test_webhook_secret_must_be_long(monkeypatch: pytest.MonkeyPatch, secret: str) -> None:
    """A guessable webhook secret (under 32 characters) or one with other characters stops
    start-up, naming WEBHOOK_SECRET; the secret itself is never echoed."""
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", secret)
    with pytest.raises(ConfigError) as error:
        load_settings()
    message = str(error.value)
    assert message.startswith("WEBHOOK_SECRET: ") and "32" in message
    assert secret not in message and "\n" not in message


def test_webhook_secret_of_32_characters_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    """32 to 256 characters of A-Z a-z 0-9 _ - are fine."""
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example/hook")
    monkeypatch.setenv("WEBHOOK_SECRET", "a" * 32)
    assert load_settings().webhook_secret is not None
