"""The one source of "now": every service takes the time from a Clock, never from datetime."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

UTC = dt.UTC


class Clock(Protocol):
    """Anything that tells the current time as an aware UTC datetime."""

    def now(self) -> dt.datetime:
        """Return the current moment in UTC."""
        ...


class SystemClock:
    """Real time, optionally shifted forward (the sandbox's fast-forward moves `offset`)."""

    def __init__(self, offset: dt.timedelta = dt.timedelta(0)) -> None:
        self.offset = offset

    def now(self) -> dt.datetime:
        """Return the wall-clock time in UTC plus the offset."""
        return dt.datetime.now(UTC) + self.offset

    def advance(self, delta: dt.timedelta) -> None:
        """Move this clock forward by `delta`."""
        self.offset += delta


class FrozenClock:
    """A clock that only moves when told to; for tests."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("FrozenClock needs an aware datetime")
        self._now = start.astimezone(UTC)

    def now(self) -> dt.datetime:
        """Return the frozen moment."""
        return self._now

    def advance(self, delta: dt.timedelta) -> None:
        """Move this clock forward by `delta`."""
        self._now += delta

    def set(self, moment: dt.datetime) -> None:
        """Jump to `moment` (aware)."""
        self._now = moment.astimezone(UTC)
