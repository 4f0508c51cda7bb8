"""The /export file: clients and contacts streamed from the database into zipped CSV parts.

Runs in a worker thread or process (`bot.workers.files`), never on the bot's event loop:
`write_export` reads through a read-only connection of its own and writes row by row into a
ZIP file in a folder the caller owns (and removes), so memory stays flat whatever the size.
Each part is a complete CSV (header included) that opens on its own, and stays under the
upload limit (Telegram's is 50 MB): when a part's file comes close to it, the next rows go
into the next part. An export that would need more than `max_parts` parts is abandoned
(`ExportFiles.too_big`). A small export is sent as a plain .csv instead of a ZIP.

Cells that start with = + - @ (or a tab or CR) get a leading ' so that a spreadsheet does
not run them as formulas (OWASP CSV injection); the import removes it again.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from storage.clients import ExportRecord, iter_export_records
from storage.db import read_only_connection

TELEGRAM_UPLOAD_LIMIT = 50 * 1000 * 1000  # bytes a bot may upload (core.telegram.org/bots/api)
MAX_PARTS = 10
# Up to this many CSV bytes the export goes as a plain .csv (opens straight from the chat).
PLAIN_LIMIT = 2 * 1024 * 1024
PENDING_MARGIN = 96 * 1024
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
PLAIN_NAME = "clients.csv"


@dataclass(frozen=True, slots=True)
class ExportFiles:
    """What `write_export` made: the files to send in order (empty when `too_big`)."""

    parts: list[Path] = field(default_factory=list)
    rows: int = 0
    csv_bytes: int = 0
    too_big: bool = False


def header(timezone: str) -> list[str]:
    """The export's column titles (times in `timezone`)."""
    return [
        "client_id",
        "name",
        "contact_person",
        "phone",
        "email",
        "tags",
        "status",
        "owner",
        "notes",
        f"last_contact ({timezone})",
        "contact_id",
        "kind",
        f"happened ({timezone})",
        "summary",
        "state",
        "outcome",
        "outcome_reason",
    ]


def safe(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def cells(record: ExportRecord, zone: ZoneInfo) -> list[str]:
    """One record as the export's row, every cell neutralised."""

    def local(moment: dt.datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""

    client, contact = record.client, record.contact
    values: Iterable[object] = (
        client.id,
        client.name,
        client.contact_person,
        client.phone_e164,
        client.email,
        ", ".join(client.tags),
        client.status.value,
        record.owner_name,
        client.notes,
        local(client.last_contact_at),
        contact.id if contact else None,
        contact.kind.value if contact else None,
        local(contact.happened_at) if contact else None,
        contact.summary if contact else None,
        contact.state.value if contact else None,
        contact.outcome.value if contact and contact.outcome else None,
        contact.outcome_reason if contact else None,
    )
    return [safe(value) for value in values]


class _Parts:
    """ZIP parts written one after the other, each holding one CSV with the header."""

    def __init__(self, folder: Path, titles: list[str], limit: int, max_parts: int) -> None:
        self.folder = folder
        self.titles = titles
        self.limit = limit
        # What is not on disk yet: zlib's pending block (at most 16,384 symbols, ~40 KB
        # compressed), the text buffer (8 KB), the last row and the ZIP's central directory.
        # A part is closed once its file is within this of the limit.
        self.margin = min(PENDING_MARGIN, limit // 2)
        self.max_parts = max_parts
        self.paths: list[Path] = []
        self.csv_bytes = 0
        self._file: io.BufferedWriter | None = None
        self._zip: zipfile.ZipFile | None = None
        self._text: io.TextIOWrapper | None = None
        self._writer: Any = None  # csv.writer's type is private

    def open(self) -> bool:
        """Start the next part; False when that would be more than `max_parts`."""
        if len(self.paths) == self.max_parts:
            return False
        number = len(self.paths) + 1
        path = self.folder / f"clients-part{number}.zip"
        self.paths.append(path)
        self._file = open(path, "wb")  # noqa: SIM115 - closed in close()
        self._zip = zipfile.ZipFile(self._file, "w", zipfile.ZIP_DEFLATED, compresslevel=6)
        # Part 1 holds clients.csv whether or not more follow (a ZIP entry can't be renamed).
        inner = PLAIN_NAME if number == 1 else f"clients-part{number}.csv"
        raw = self._zip.open(inner, "w", force_zip64=True)
        self._text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
        self._writer = csv.writer(self._text)
        self._writer.writerow(self.titles)
        return True

    def full(self) -> bool:
        """Whether the open part's file is close enough to the limit to be closed."""
        assert self._file is not None
        return self._file.tell() + self.margin >= self.limit

    def write(self, row: list[str]) -> None:
        """Add one row to the open part."""
        assert self._writer is not None
        self._writer.writerow(row)

    def close(self) -> None:
        """Finish the open part (if any) and check it is within the limit."""
        if self._text is None:
            return
        assert self._zip is not None and self._file is not None
        self._text.close()  # closes the ZIP entry, which writes its sizes
        self.csv_bytes += self._zip.getinfo(self._zip.namelist()[-1]).file_size
        self._zip.close()
        self._file.close()
        self._text = self._zip = self._file = self._writer = None
        size = self.paths[-1].stat().st_size
        if size > self.limit:  # the margin is meant to make this impossible
            raise RuntimeError(f"export part of {size} bytes over the limit of {self.limit}")

    def abandon(self) -> None:
        """Close and delete everything written (the export is too big to send)."""
        try:
            self.close()
        finally:
            for path in self.paths:
                path.unlink(missing_ok=True)
            self.paths = []


def write_export(
    database: Path,
    *,
    owner_id: int | None,
    timezone: str,
    folder: Path,
    part_limit: int = TELEGRAM_UPLOAD_LIMIT,
    max_parts: int = MAX_PARTS,
    plain_limit: int = PLAIN_LIMIT,
) -> ExportFiles:
    """Write the export of `owner_id`'s clients (everyone's for None) into `folder`.

    Returns the files to send: `clients.csv` for a small export, else `clients.zip` or ZIP
    parts (`clients-part1.zip`, ...) each under
    `part_limit` bytes; nothing, with `too_big`, when more than `max_parts` would be needed.
    The caller removes `folder` afterwards, also after an error.
    """
    zone = ZoneInfo(timezone)
    parts = _Parts(folder, header(timezone), part_limit, max_parts)
    rows = 0
    conn = read_only_connection(database)
    try:
        parts.open()
        for record in iter_export_records(conn, owner_id=owner_id):
            if rows and parts.full():
                parts.close()
                if not parts.open():
                    parts.abandon()
                    return ExportFiles(rows=rows, too_big=True)
            parts.write(cells(record, zone))
            rows += 1
        parts.close()
    except BaseException:
        parts.abandon()
        raise
    finally:
        conn.close()
    paths = parts.paths
    if len(paths) == 1 and parts.csv_bytes <= plain_limit:
        plain = folder / PLAIN_NAME
        with zipfile.ZipFile(paths[0]) as archive:
            plain.write_bytes(archive.read(archive.namelist()[0]))
        paths[0].unlink()
        paths = [plain]
    elif len(paths) == 1:
        paths = [paths[0].rename(folder / "clients.zip")]
    return ExportFiles(parts=paths, rows=rows, csv_bytes=parts.csv_bytes)
