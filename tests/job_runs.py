"""Proof that a repeating job ran, for tests that assert a run sent nothing.

Sleeping "long enough for a tick" and then asserting that nothing arrived passes just as well
when the job never ran (a slow machine, a job that stopped). `JobRuns` counts the finished
runs of one JobQueue job instead: `await runs.next_run()` returns once a run that started
after the call (so with the clock as the test has just set it) is over, and only then does
the test look for what it sent.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import Application


class JobRuns:
    """Counts the started and finished runs of the application's job called `name`."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any], name: str) -> None:
        assert application.job_queue is not None
        jobs = application.job_queue.get_jobs_by_name(name)
        assert len(jobs) == 1, f"expected one job named {name!r}, found {jobs}"
        self.name = name
        self.started = 0
        self.finished = 0
        original = jobs[0].callback

        async def counted(context: Any) -> None:
            self.started += 1
            try:
                await original(context)
            finally:
                self.finished += 1

        jobs[0].callback = counted

    async def next_run(self, within: float = 10) -> None:
        """Wait until a run that starts after this call has finished (runs never overlap:
        the jobs are registered with max_instances=1)."""
        target = self.started + 1
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while self.finished < target:
            if loop.time() > deadline:
                raise AssertionError(f"the job {self.name!r} did not run within {within}s")
            await asyncio.sleep(0.02)
