"""The digest's spreadsheet: the week's contacts, steps and invoice movements as an .xlsx file.

One sheet each, a bold frozen header row, times as real Excel date-times in the team's zone
(Excel has no zones; the header names it), money as numbers in major units with the currency
in its own column (never summed across currencies). Written with openpyxl's streaming
(write-only) workbook, so 10,000 rows stay quick and small in memory.

Text is written as text, never as a formula: a summary that starts with "=" stays a string,
and characters XML cannot hold are dropped.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from bot.services.receivables.money import exponent, to_decimal
from storage.digest_rows import ContactRecord, InvoiceMovement, StepRecord

MOVEMENTS = {
    "issued": "invoice issued",
    "payment": "payment",
    "promise_kept": "promise kept",
    "promise_broken": "promise broken",
}
_BOLD = Font(bold=True)
CELL_LIMIT = 32_767  # characters in one Excel cell


def _text(value: str | None) -> str | None:
    """Characters XML cannot hold dropped, cut to what an Excel cell holds."""
    return None if value is None else ILLEGAL_CHARACTERS_RE.sub("", value)[:CELL_LIMIT]


class _Sheet:
    """A write-only sheet with typed cell helpers."""

    def __init__(self, sheet: WriteOnlyWorksheet, timezone: str) -> None:
        self.sheet = sheet
        self.zone = ZoneInfo(timezone)

    def header(self, columns: Sequence[tuple[str, float]]) -> None:
        for index, (_, width) in enumerate(columns):
            letter = chr(ord("A") + index)
            self.sheet.column_dimensions[letter].width = width
        self.sheet.freeze_panes = "A2"
        cells = []
        for title, _ in columns:
            cell = WriteOnlyCell(self.sheet, title)
            cell.font = _BOLD
            cells.append(cell)
        self.sheet.append(cells)

    def text(self, value: str | None) -> Any:
        cleaned = _text(value)
        if cleaned and cleaned[0] == "=":
            cell = WriteOnlyCell(self.sheet, cleaned)
            cell.data_type = "s"  # a string that looks like a formula stays a string
            return cell
        return cleaned

    def moment(self, value: dt.datetime | None) -> dt.datetime | None:
        # A plain value gets openpyxl's date-time format; a styled cell per value would
        # double the cost of a 10,000-row sheet.
        return None if value is None else value.astimezone(self.zone).replace(tzinfo=None)

    def money(self, minor: int | None, currency: str) -> Any:
        if minor is None:
            return None
        digits = exponent(currency)
        cell = WriteOnlyCell(self.sheet, to_decimal(minor, currency))
        cell.number_format = "#,##0" + ("." + "0" * digits if digits else "")
        return cell


def _minutes(start: dt.datetime, end: dt.datetime | None) -> int | None:
    return None if end is None else int((end - start).total_seconds() // 60)


def build_workbook(
    *,
    timezone: str,
    contacts: Iterable[ContactRecord],
    steps: Iterable[StepRecord],
    movements: Iterable[InvoiceMovement],
) -> bytes:
    """The three sheets as .xlsx bytes; times shown in `timezone`."""
    book = Workbook(write_only=True)
    zone_note = f"({timezone})"

    sheet = _Sheet(book.create_sheet("Contacts"), timezone)
    sheet.header(
        [
            (f"Happened {zone_note}", 20),
            ("Manager", 20),
            ("Client", 28),
            ("Kind", 10),
            ("Next step or closure", 16),
            (f"Chosen at {zone_note}", 20),
            ("Minutes after the contact", 12),
            ("Reason", 24),
            ("Summary", 60),
        ]
    )
    for contact in contacts:
        sheet.sheet.append(
            [
                sheet.moment(contact.happened_at),
                sheet.text(contact.manager_name),
                sheet.text(contact.client_name),
                contact.kind,
                contact.outcome or "missing",
                sheet.moment(contact.resolved_at),
                _minutes(contact.happened_at, contact.resolved_at),
                sheet.text(contact.outcome_reason),
                sheet.text(contact.summary),
            ]
        )

    sheet = _Sheet(book.create_sheet("Steps"), timezone)
    sheet.header(
        [
            (f"Set {zone_note}", 20),
            (f"Due {zone_note}", 20),
            ("Manager", 20),
            ("Client", 28),
            ("Kind", 10),
            ("State", 11),
            ("Snoozes", 9),
            ("Reschedules", 11),
            ("Agenda", 50),
        ]
    )
    for step in steps:
        sheet.sheet.append(
            [
                sheet.moment(step.created_at),
                sheet.moment(step.due_at),
                sheet.text(step.manager_name),
                sheet.text(step.client_name),
                step.kind,
                step.state,
                step.snooze_count,
                step.reschedule_count,
                sheet.text(step.agenda),
            ]
        )

    sheet = _Sheet(book.create_sheet("Invoice movements"), timezone)
    sheet.header(
        [
            ("Date", 12),
            ("Movement", 16),
            ("Invoice", 14),
            ("Client", 28),
            ("Manager", 20),
            ("Currency", 9),
            ("Amount", 14),
            ("Invoice amount", 14),
            ("Balance now", 14),
            ("Due", 12),
            ("Invoice state", 12),
        ]
    )
    for move in movements:
        sheet.sheet.append(
            [
                move.on,
                MOVEMENTS.get(move.movement, move.movement),
                sheet.text(move.invoice_number),
                sheet.text(move.client_name),
                sheet.text(move.manager_name),
                move.currency,
                sheet.money(move.amount_minor, move.currency),
                sheet.money(move.invoice_amount_minor, move.currency),
                sheet.money(move.balance_minor, move.currency),
                move.due_on,
                move.state,
            ]
        )

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
