"""The bot process killed with SIGKILL at random moments under scripted load loses nothing.

`make test` runs 20 people and 3 kills; `make reliability` 200 people and 20 kills. After
each restart and at the end: every acknowledged write is stored, no contact is complete
without a next step or a closure, every due reminder arrived once or twice, every person
interrupted by a kill got an answer after the restart, and no secret reached the logs.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.crash import CrashReport, crash_run


def assert_survived(report: CrashReport, kills: int) -> None:
    """Everything the issue promises after crashes."""
    assert report.kills == kills and report.restarts == kills
    assert report.acks > 0 and report.scenarios > 0
    assert report.lost_writes == [], "acknowledged writes missing after a restart"
    assert report.incomplete_contacts == []
    assert report.integrity == "ok"
    assert report.never_delivered == [], "due reminders that never arrived"
    assert report.over_twice == [], "reminders delivered more than twice"
    assert report.recovered_silently == 0, "a person got no answer after a restart"
    assert report.apologies == 0 and report.errors_logged == 0, report.log_text[-3000:]
    assert report.secrets_in_logs == 0
    assert report.violations == []


async def test_twenty_people_three_kills(tmp_path: Path) -> None:
    """Reduced run for `make test`."""
    report = await crash_run(tmp_path, users=20, kills=3, seconds=11)
    print(report.summary())
    assert_survived(report, kills=3)


@pytest.mark.reliability
async def test_two_hundred_people_twenty_kills(tmp_path: Path) -> None:
    """Full run for `make reliability`."""
    report = await crash_run(tmp_path, users=200, kills=20, seconds=120, seed=2)
    print(report.summary())
    assert_survived(report, kills=20)
