"""Group commit: many coroutines asking for the same job share one run of it.

After every update the bot writes the conversation states and drafts it touched. Run once per
update, those writes queued behind python-telegram-bot's persistence lock and the database's
write lock: under load most updates were waiting there (bench/bench_load.py). A `Coalescer`
runs its job one run at a time; everyone who asks while a run is in progress shares the next
run, which starts when the current one ends. A caller is only answered by a run that started
after it asked, so whatever it changed before asking is included.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class Coalescer:
    """Runs `job` for all waiting callers at once; at most one run at a time."""

    def __init__(self, job: Callable[[], Awaitable[object]]) -> None:
        self._job = job
        self._next: asyncio.Future[None] | None = None
        self._driver: asyncio.Task[None] | None = None

    async def run(self) -> None:
        """Return once a run of the job that started after this call has finished.

        The run's exception, if any, is raised in every caller that shared it.
        """
        waiter = self._next
        if waiter is None:
            waiter = self._next = asyncio.get_running_loop().create_future()
            # Read the exception even if every caller was cancelled meanwhile.
            waiter.add_done_callback(lambda done: done.cancelled() or done.exception())
            if self._driver is None or self._driver.done():
                # Started as a task, so callers arriving in this loop iteration join this run.
                self._driver = asyncio.create_task(self._drive())
        await asyncio.shield(waiter)  # one caller giving up does not cancel the others' run

    async def _drive(self) -> None:
        while self._next is not None:
            waiter, self._next = self._next, None
            try:
                await self._job()
            except asyncio.CancelledError:  # shutting down: nobody may wait forever
                waiter.cancel()
                if self._next is not None:
                    self._next.cancel()
                    self._next = None
                raise
            except Exception as exc:
                waiter.set_exception(exc)
            else:
                waiter.set_result(None)
