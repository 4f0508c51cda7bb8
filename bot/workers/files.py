"""Big files off the bot's event loop: the /export file and the reading of an imported CSV.

Both are CPU-bound for seconds at full size (an export of 20,000 clients with 200,000
contacts, a 10,000-row file whose phone numbers are parsed one by one), and on the loop they
stalled the bot for everyone (9.5 s and 2.6 s). A big one runs in a worker process of
`bot.workers.digest`' pool (started by "spawn", at most two, stopped with the Application),
so it holds no GIL the bot needs; a small one, where starting a process would cost more than
the work, runs in a thread. The export's worker reads the rows itself through a read-only
connection of its own (`bot.services.client_export`), so no row crosses into the bot; the
import's worker gets the file's bytes and returns the validated rows, which the bot saves
in short chunks (`bot.services.clients.import_parsed`).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from bot.clock import Clock
from bot.services import client_export, clients
from bot.services.client_export import ExportFiles
from bot.services.clients import ParsedImport
from bot.workers import pool
from storage import clients as client_rows
from storage.db import Database
from storage.users import User

# Up to these sizes a thread does the work (a process takes ~1 s to start); above, a process.
THREAD_EXPORT_ROWS = 2_000
THREAD_IMPORT_BYTES = 32 * 1024
TIMEOUT_S = 600.0

T = TypeVar("T")


async def _off_loop(in_thread: bool, function: Callable[[], T]) -> T:
    """Run `function` (picklable) in a thread or in a worker process, within TIMEOUT_S."""
    if in_thread:
        return await asyncio.wait_for(asyncio.to_thread(function), TIMEOUT_S)
    return await asyncio.wait_for(pool.start(function).result(), TIMEOUT_S)


async def make_export(
    db: Database,
    clock: Clock,
    *,
    actor: User,
    folder: Path,
    part_limit: int = client_export.TELEGRAM_UPLOAD_LIMIT,
    max_parts: int = client_export.MAX_PARTS,
) -> ExportFiles:
    """Write the actor's export (everyone's for a lead) into `folder`, off the loop; audited
    once made. The caller sends the files and removes `folder`, also after an error."""
    owner = clients.export_owner(actor)
    rows = await client_rows.count_export_rows(db, owner_id=owner)
    write = functools.partial(
        client_export.write_export,
        db.path,
        owner_id=owner,
        timezone=actor.timezone,
        folder=folder,
        part_limit=part_limit,
        max_parts=max_parts,
    )
    made = await _off_loop(rows <= THREAD_EXPORT_ROWS, write)
    if not made.too_big:
        await clients.record_export(db, clock, actor=actor, rows=made.rows)
    return made


async def parse_import(data: bytes, region: str) -> ParsedImport:
    """`clients.parse_csv` off the loop (its DomainError is raised here)."""
    parse = functools.partial(clients.parse_csv, data, region)
    return await _off_loop(len(data) <= THREAD_IMPORT_BYTES, parse)
