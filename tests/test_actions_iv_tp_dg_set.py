"""The declared actions of invoices (iv), reply templates (tp), the tact check (tc), the
digest (dg) and settings (set): their parses, and their choices kept in step with the enums
and presets they mirror."""

from __future__ import annotations

import pytest

from bot.services.receivables.aging import ListFilter, Stage
from bot.services.schedule import MAX_HEADS_UP_MINUTES
from bot.views import actions
from bot.views.actions import (
    COMPANY_TEMPLATE_EDIT,
    DIGEST_DAY,
    DIGEST_PERIOD,
    DIGEST_TIME,
    INVOICE_LIST,
    INVOICE_NET,
    INVOICE_PROMISED_IN,
    INVOICE_SUGGEST,
    SETTINGS_ASK,
    SETTINGS_HEADS_UP,
    SETTINGS_QUIET_HOURS,
    SETTINGS_TIMEZONE,
    SETTINGS_TIMEZONES,
    SETTINGS_WORKING_DAY,
    SETTINGS_WORKING_DAYS_SAVE,
    TEAM_THRESHOLD,
    TEAM_THRESHOLDS,
    TEMPLATE_OPEN,
    TEMPLATES_HOME,
    TRUST_SET,
    Action,
    Choice,
)
from bot.views.callback_data import MAX_BYTES, any_of
from handlers import invoices as invoice_handlers
from handlers import settings as settings_handlers
from storage.invoices import TrustLevel

MINE = ("iv", "tp", "tc", "dg", "set")


def mine() -> list[tuple[str, Action]]:
    """Every action declared under one of these prefixes."""
    return [
        (name, value)
        for name, value in vars(actions).items()
        if isinstance(value, Action) and value.prefix in MINE
    ]


def test_every_pattern_is_its_own() -> None:
    """No two actions share a pattern, so each press reaches exactly one handler."""
    patterns = [action.pattern.pattern for _, action in mine()]
    assert len(mine()) >= 40
    assert len(patterns) == len(set(patterns))


def choices(action: Action, index: int) -> frozenset[str]:
    """The words a Choice field of `action` accepts."""
    field = action.fields[index]
    assert isinstance(field, Choice)
    return field.values


def test_choices_mirror_the_enums_and_presets() -> None:
    """Tones, list filters and trust levels are the services' own; presets the handlers'."""
    assert choices(INVOICE_SUGGEST, 1) == {stage.value for stage in Stage}
    assert choices(INVOICE_LIST, 0) == {view.value for view in ListFilter}
    assert choices(TRUST_SET, 1) == {level.value for level in TrustLevel}
    assert choices(INVOICE_NET, 0) == {str(days) for days in invoice_handlers.NET_TERMS}
    picks = {str(days) for _, days in invoice_handlers.PROMISE_PICKS}
    assert choices(INVOICE_PROMISED_IN, 0) == picks
    assert choices(TEAM_THRESHOLD, 0) == set(settings_handlers.THRESHOLDS)
    assert SETTINGS_HEADS_UP.parse(f"set:hu:{MAX_HEADS_UP_MINUTES}") == (MAX_HEADS_UP_MINUTES,)
    assert SETTINGS_HEADS_UP.parse(f"set:hu:{MAX_HEADS_UP_MINUTES + 1}") is None


def test_a_client_or_none_is_zero_or_an_id() -> None:
    """`tp:home:0` opens the templates without a client; an id names one; nothing else."""
    assert TEMPLATES_HOME.parse("tp:home:0") == (0,)
    assert TEMPLATES_HOME.parse("tp:home:42") == (42,)
    for forged in ("tp:home:00", "tp:home:-1", "tp:home:042", "tp:home:", "tp:home:1|2"):
        assert TEMPLATES_HOME.parse(forged) is None, forged
    assert TEMPLATE_OPEN.pack("payment_gentle", 0) == "tp:t:payment_gentle:0"
    assert TEMPLATE_OPEN.parse("tp:t:co12:7") == ("co12", 7)
    assert TEMPLATE_OPEN.parse("tp:t:Payment:7") is None  # keys are lower case
    # The longest key and id still fit Telegram's 64 bytes.
    longest = TEMPLATE_OPEN.pack("k" * 40, 10**18 - 1)
    assert len(longest.encode()) <= MAX_BYTES


def test_a_word_in_the_action_slot() -> None:
    """Edit text / Rename share one handler: the word comes back as a value."""
    assert COMPANY_TEMPLATE_EDIT.pack("et", 3) == "tp:et:3"
    assert COMPANY_TEMPLATE_EDIT.parse("tp:eb:3") == ("eb", 3)
    assert COMPANY_TEMPLATE_EDIT.parse("tp:ex:3") is None
    assert DIGEST_PERIOD.parse("dg:t:last") == ("t", "last")
    assert DIGEST_PERIOD.parse("dg:x:last") is None


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("dg:time:t:0730", ("t", "0730")),
        ("dg:time:o:2359", ("o", "2359")),
        ("dg:time:t:2400", None),
        ("dg:time:t:0760", None),
        ("dg:time:t:730", None),
        ("dg:day:o:0", None),  # a day is not a time
    ],
)
def test_digest_times_are_wall_times(data: str, expected: tuple[str, str] | None) -> None:
    """HHMM on the 24-hour clock only."""
    assert DIGEST_TIME.parse(data) == expected


def test_any_of_takes_each_action_and_nothing_between() -> None:
    """One handler's pattern for several actions: each one's data matches, no mixture."""
    pattern = any_of(DIGEST_DAY, DIGEST_TIME)
    assert pattern.match("dg:day:t:7") and pattern.match("dg:time:o:0800")
    for forged in ("dg:day:t:0800", "dg:time:t:7", "dg:day:t:8", "dg:cfg", "xdg:day:t:1"):
        assert not (
            pattern.match(forged) and (DIGEST_DAY.matches(forged) or DIGEST_TIME.matches(forged))
        ), forged
    threshold = any_of(TEAM_THRESHOLDS, TEAM_THRESHOLD)
    assert threshold.match("set:th") and threshold.match("set:th:5000")
    assert not threshold.match("set:th:5")
    with pytest.raises(ValueError, match="at least one"):
        any_of()


@pytest.mark.parametrize(
    ("action", "data", "expected"),
    [
        (SETTINGS_ASK, "set:qh", ("qh",)),
        (SETTINGS_ASK, "set:tz", None),  # the zones have their own action
        (SETTINGS_TIMEZONES, "set:tz", ()),
        (SETTINGS_TIMEZONE, "set:tz:America/Los_Angeles", ("America/Los_Angeles",)),
        (SETTINGS_TIMEZONE, "set:tz:Etc/GMT+5", ("Etc/GMT+5",)),
        (SETTINGS_TIMEZONE, "set:tz:../etc", None),
        (SETTINGS_QUIET_HOURS, "set:qh:2200-0700", ("2200-0700",)),
        (SETTINGS_QUIET_HOURS, "set:qh:off", ("off",)),
        (SETTINGS_QUIET_HOURS, "set:qh:9-", None),
        (SETTINGS_QUIET_HOURS, "set:qh:2500-0700", None),
        (SETTINGS_WORKING_DAY, "set:wd:7", (7,)),
        (SETTINGS_WORKING_DAY, "set:wd:8", None),
        (SETTINGS_WORKING_DAY, "set:wd:save", None),
        (SETTINGS_WORKING_DAYS_SAVE, "set:wd:save", ()),
        (INVOICE_LIST, "iv:ls:overdue:3", ("overdue", 3)),
        (INVOICE_LIST, "iv:ls:overdue:100000", None),
        (INVOICE_SUGGEST, "iv:sug:5:firm", (5, "firm")),
        (INVOICE_SUGGEST, "iv:sug:5:rude", None),
    ],
)
def test_settings_and_invoice_values(action: Action, data: str, expected: object) -> None:
    """Each value is read typed, or refused (None) when it is not one the buttons make."""
    assert action.parse(data) == expected
