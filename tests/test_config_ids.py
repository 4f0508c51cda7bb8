"""ADMIN_TELEGRAM_IDS given as a value rather than text: any shape is checked, politely."""

from __future__ import annotations

import pytest

from bot.config import ConfigError, load_settings


def test_ids_given_as_a_list_are_kept() -> None:
    """A list of numbers (as tests and the sandbox pass them) is the tuple of ids."""
    assert load_settings(_env_file=None, admin_telegram_ids=[7, 8]).admin_telegram_ids == (7, 8)


@pytest.mark.parametrize("value", [5, ["x"], {"a": 1}], ids=["number", "words", "mapping"])
def test_ids_of_the_wrong_shape_name_the_variable(value: object) -> None:
    """Not a TypeError from deep inside the parsing: the one-line ConfigError."""
    with pytest.raises(ConfigError, match=r"^ADMIN_TELEGRAM_IDS: "):
        load_settings(_env_file=None, admin_telegram_ids=value)
