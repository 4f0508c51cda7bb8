"""The digest's chart: contacts per manager per day of the week, stacked by kind, as a PNG.

One row per manager and one column per day; in each cell a horizontal bar split into calls,
meetings and other contacts, with the day's count beside it, and the week's total at the end
of the row. All cells share one scale, so a busy day stands out across the team. The image is
1280 px wide whatever the team's size and grows in height with it (one 42 px row per
manager), so names stay large enough to read on a phone; the day headers carry the team's
total per day.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display). The bot draws it
in a worker process (`bot.workers.digest`); matplotlib's font objects are shared and not
thread-safe, so within a process one chart is drawn at a time (a lock). Names are drawn as
plain text (`parse_math=False`: a `$` in a name is not TeX), and glyphs missing from the font
are drawn as boxes, not warned about.
"""

from __future__ import annotations

import io
import threading
import warnings
from collections.abc import Sequence

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory, offset_copy

from bot.services.digest.figures import ChartData

DPI = 100
WIDTH_PX = 1280
WIDTH_IN = WIDTH_PX / DPI
ROW_IN = 0.42
HEADER_IN = 1.75
FOOTER_IN = 0.25
NAMES_IN = 2.7
NAMES_LEFT_IN = 0.12
RIGHT_IN = 0.1
MIN_HEIGHT_IN = 3.2
NAME_CHARS = 17
TOTAL_COLUMN = 0.7
"""Width of the week-total column, in day columns."""
BAR_HEIGHT = 0.66
CELL_LABELS_UP_TO = 30
"""Up to this many managers each day's count is written beside its bar (beyond, the week
total column and the spreadsheet carry the numbers, and drawing stays fast)."""
PNG_COMPRESSION = 3
_DRAWING = threading.Lock()
KINDS = (("Calls", "#3b6fd8"), ("Meetings", "#f0932b"), ("Other", "#5aa469"))
BAR_SPAN = 0.72
"""The share of a day column the busiest cell's bar fills (its total is written after it)."""


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def render_chart(data: ChartData, *, title: str, day_labels: Sequence[str]) -> bytes:
    """The chart as PNG bytes; `day_labels` are the seven column headings (Mon 23, …)."""
    with _DRAWING:
        return _draw(data, title=title, day_labels=day_labels)


def _draw(data: ChartData, *, title: str, day_labels: Sequence[str]) -> bytes:
    rows = len(data.names)
    height_in = max(MIN_HEIGHT_IN, HEADER_IN + FOOTER_IN + ROW_IN * max(rows, 1))
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    axes = figure.add_axes(
        (
            NAMES_IN / WIDTH_IN,
            FOOTER_IN / height_in,
            (WIDTH_IN - NAMES_IN - RIGHT_IN) / WIDTH_IN,
            (height_in - HEADER_IN - FOOTER_IN) / height_in,
        )
    )
    counts = np.array(data.counts, dtype=float).reshape(rows, 7, 3)
    totals = counts.sum(axis=2)
    busiest = float(totals.max()) if rows else 0.0
    scale = BAR_SPAN / busiest if busiest else 0.0
    rows_at = np.arange(rows, dtype=float)

    # Zebra stripes guide the eye along a row; every bar of a kind is one collection (one
    # artist instead of thousands of patches keeps a 100-manager chart fast).
    stripes = [_box(0, 7 + TOTAL_COLUMN, row - 0.5, row + 0.5) for row in range(0, rows, 2)]
    axes.add_collection(PolyCollection(stripes, facecolors="#f1f3f6", linewidths=0, zorder=0))
    for day in range(1, 8):
        axes.axvline(day, color="#c9ced6", linewidth=1, zorder=1)
    offsets = np.zeros((rows, 7))
    for kind, (_, colour) in enumerate(KINDS):
        widths = counts[:, :, kind] * scale
        row_index, day_index = np.nonzero(widths)
        lefts = day_index + 0.04 + offsets[row_index, day_index]
        boxes = [
            _box(left, left + width, row - BAR_HEIGHT / 2, row + BAR_HEIGHT / 2)
            for left, width, row in zip(
                lefts, widths[row_index, day_index], rows_at[row_index], strict=True
            )
        ]
        axes.add_collection(PolyCollection(boxes, facecolors=colour, linewidths=0, zorder=2))
        offsets += widths
    if rows <= CELL_LABELS_UP_TO:
        for row, day in zip(*np.nonzero(totals), strict=True):
            axes.text(
                day + 0.06 + offsets[row, day],
                row,
                str(int(totals[row, day])),
                va="center",
                ha="left",
                fontsize=13,
                color="#333333",
                parse_math=False,
                zorder=3,
            )
    week_totals = totals.sum(axis=1)
    for row, name in enumerate(data.names):
        axes.text(
            NAMES_LEFT_IN / WIDTH_IN,
            row,
            _short(name),
            va="center",
            ha="left",
            fontsize=16,
            parse_math=False,
            transform=blended_transform_factory(figure.transFigure, axes.transData),
        )
        axes.text(
            7 + TOTAL_COLUMN / 2,
            row,
            str(int(week_totals[row])),
            va="center",
            ha="center",
            fontsize=15,
            fontweight="bold",
            parse_math=False,
        )
    day_totals = totals.sum(axis=0) if rows else np.zeros(7)
    heading = offset_copy(axes.get_xaxis_transform(), figure, y=10, units="dots")
    headings = [f"{label}\n{int(day_totals[day])}" for day, label in enumerate(day_labels)]
    headings.append(f"Week\n{int(day_totals.sum())}")
    for column, text in enumerate(headings):
        width = TOTAL_COLUMN if column == 7 else 1.0
        axes.text(
            column + width / 2,
            1.0,
            text,
            ha="center",
            va="bottom",
            fontsize=16,
            fontweight="bold",
            parse_math=False,
            transform=heading,
        )
    if not rows:
        axes.text(3.5, 0, "No contacts logged", ha="center", va="center", fontsize=18)
    axes.set_xlim(0, 7 + TOTAL_COLUMN)
    axes.set_ylim(max(rows, 1) - 0.5, -0.5)
    axes.set_axis_off()
    figure.text(
        0.01,
        1 - 0.12 / height_in,
        title,
        ha="left",
        va="top",
        fontsize=20,
        fontweight="bold",
        parse_math=False,
    )
    figure.legend(
        handles=[Patch(color=colour, label=label) for label, colour in KINDS],
        loc="upper right",
        bbox_to_anchor=(1 - 0.1 / WIDTH_IN, 1 - 0.55 / height_in),
        ncol=3,
        fontsize=16,
        frameon=False,
    )
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Glyph missing from font" for CJK or emoji names
        figure.savefig(
            buffer,
            format="png",
            dpi=DPI,
            facecolor="white",
            pil_kwargs={"compress_level": PNG_COMPRESSION},
        )
    return buffer.getvalue()


def _box(left: float, right: float, bottom: float, top: float) -> list[tuple[float, float]]:
    return [(left, bottom), (left, top), (right, top), (right, bottom)]
