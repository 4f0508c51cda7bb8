"""The digest's chart: who is doing the work and who is slipping, one row per manager.

Three panels side by side, sharing the rows (busiest first):
1. the week's contacts, a horizontal bar split into calls, meetings and other contacts, with
   the total written after it (one scale for the whole team);
2. the discipline rate (next step within an hour of the contact): a dot on 0–100 % with the
   80 % target as a line; red under the target, green on or over it, none without contacts;
3. what is overdue now: open steps and invoices (counts; money in several currencies is
   never added up), two thin bars with their numbers.

A team of up to 20 gets the phone layout: 720 px wide, the three panels one under another,
20-point type (a phone shows the image at about half size, so type stays ~14 px). A bigger
team gets the panels side by side, 1280 px wide, one 46 px row per manager. Drawn with
matplotlib's object API on the Agg canvas (no pyplot, no display); the bot draws it in a
worker process (`bot.workers.digest`). Matplotlib's font objects are shared and not
thread-safe, so within a process one chart is drawn at a time (a lock). Names are plain text
(`parse_math=False`: a `$` in a name is not TeX). Names in any script are drawn with a list
of fonts (matplotlib ≥ 3.6 falls back glyph by glyph; ≥ 3.11 shapes Devanagari and Gujarati):
DejaVu Sans, then Debian's Noto fonts (`make` installs fonts-noto-core); a glyph no font has
is drawn as a box, not warned about.
"""

from __future__ import annotations

import io
import threading
import warnings
from pathlib import Path

from matplotlib import font_manager, rc_context
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.transforms import blended_transform_factory

from bot.services.digest.figures import DISCIPLINE_TARGET, ChartData

DPI = 100
WIDTH_PX = 1280
WIDTH_IN = WIDTH_PX / DPI
ROW_IN = 0.46
HEADER_IN = 1.55
FOOTER_IN = 0.2
MIN_HEIGHT_IN = 3.2
NAMES_IN = 2.6
GAP_IN = 0.25
PANELS_IN = (4.6, 2.2, 2.5)  # contacts, discipline, overdue
NAME_CHARS = 18
BAR_HEIGHT = 0.62
PNG_COMPRESSION = 2
_DRAWING = threading.Lock()
KINDS = (("Calls", "#3b6fd8"), ("Meetings", "#f0932b"), ("Other", "#5aa469"))
STEPS_COLOUR = "#8e44ad"
INVOICES_COLOUR = "#c0392b"
GOOD = "#2e8b57"
BAD = "#d62728"
STRIPE = "#f1f3f6"
FONT = 15
# A team of up to PHONE_ROWS gets the phone layout: 720 px wide, the panels stacked.
PHONE_ROWS = 20
PHONE_WIDTH_PX = 720
PHONE_WIDTH_IN = PHONE_WIDTH_PX / DPI
PHONE_FONT = 20
PHONE_TITLE_IN = 0.6
PHONE_LEGEND_IN = 1.4
PHONE_HEADING_IN = 0.5
PHONE_ROW_IN = 0.5
PHONE_GAP_IN = 0.25
PHONE_NAMES_IN = 2.7
NOTO_DIR = Path("/usr/share/fonts/truetype/noto")
NOTO_FILES = {
    "Noto Sans": ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"),
    "Noto Sans Devanagari": ("NotoSansDevanagari-Regular.ttf", "NotoSansDevanagari-Bold.ttf"),
    "Noto Sans Gujarati": ("NotoSansGujarati-Regular.ttf", "NotoSansGujarati-Bold.ttf"),
}


def _font_families() -> list[str]:
    """DejaVu Sans, then the Noto fonts that are installed (Debian's fonts-noto-core),
    tried in order for each glyph: Latin and Cyrillic, Devanagari, Gujarati.

    The files are registered by path, so a font cache built before they were installed
    does not hide them."""
    families = ["DejaVu Sans"]
    for family, files in NOTO_FILES.items():
        paths = [NOTO_DIR / name for name in files if (NOTO_DIR / name).is_file()]
        for path in paths:
            font_manager.fontManager.addfont(str(path))
        if paths:
            families.append(family)
    return families


FONT_FAMILIES = _font_families()


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


def render_chart(data: ChartData, *, title: str) -> bytes:
    """The chart as PNG bytes."""
    with _DRAWING, rc_context({"font.family": FONT_FAMILIES}):
        return _png(_draw(data, title=title))


def _box(left: float, right: float, bottom: float, top: float) -> list[tuple[float, float]]:
    return [(left, bottom), (left, top), (right, top), (right, bottom)]


def _panel(figure: Figure, left_in: float, width_in: float, height_in: float) -> Axes:
    axes = figure.add_axes(
        (
            left_in / WIDTH_IN,
            FOOTER_IN / height_in,
            width_in / WIDTH_IN,
            (height_in - HEADER_IN - FOOTER_IN) / height_in,
        )
    )
    axes.set_axis_off()
    return axes


def _stripes(axes: Axes, rows: int, right: float) -> None:
    boxes = [_box(0, right, row - 0.5, row + 0.5) for row in range(0, rows, 2)]
    axes.add_collection(PolyCollection(boxes, facecolors=STRIPE, linewidths=0, zorder=0))


def _heading(axes: Axes, x: float, text: str) -> None:
    axes.text(
        x, -0.75, text, ha="center", va="bottom", fontsize=FONT + 1, fontweight="bold",
        parse_math=False,
    )  # fmt: skip


def _names(figure: Figure, axes: Axes, data: ChartData, width_in: float, size: int) -> None:
    """The managers' names left of a panel's rows."""
    names = blended_transform_factory(figure.transFigure, axes.transData)
    for index, row in enumerate(data.rows):
        figure.text(
            0.12 / width_in, index, _short(row.name), va="center", ha="left", fontsize=size,
            parse_math=False, transform=names,
        )  # fmt: skip


def _contacts(axes: Axes, data: ChartData, size: int) -> None:
    """Panel 1: the week's contacts by kind, one collection per kind (one artist, not one
    patch per bar), the total after each bar."""
    rows = len(data.rows)
    busiest = max((row.contacts for row in data.rows), default=0)
    scale = 0.82 / busiest if busiest else 0.0
    _stripes(axes, rows, 1.0)
    starts = [0.0] * rows
    for kind, (_, colour) in enumerate(KINDS):
        boxes = []
        for index, row in enumerate(data.rows):
            count = (row.calls, row.meetings, row.other)[kind]
            if count:
                width = count * scale
                boxes.append(
                    _box(starts[index], starts[index] + width, index - BAR_HEIGHT / 2,
                         index + BAR_HEIGHT / 2)
                )  # fmt: skip
                starts[index] += width
        axes.add_collection(PolyCollection(boxes, facecolors=colour, linewidths=0, zorder=2))
    for index, row in enumerate(data.rows):
        axes.text(
            starts[index] + 0.015, index, str(row.contacts), va="center", ha="left",
            fontsize=size, fontweight="bold", parse_math=False, zorder=3,
        )  # fmt: skip
    axes.set_xlim(0, 1.0)
    if not rows:
        axes.text(0.5, 0, "No contacts logged", ha="center", va="center", fontsize=size + 3)


def _discipline(axes: Axes, data: ChartData, size: int) -> None:
    """Panel 2: a dot per person on 0-100 %, the target as a line."""
    _stripes(axes, len(data.rows), 100.0)
    axes.axvline(DISCIPLINE_TARGET, color="#888888", linewidth=1.5, linestyle="--")
    dots: dict[str, tuple[list[int], list[int]]] = {GOOD: ([], []), BAD: ([], [])}
    for index, row in enumerate(data.rows):
        if row.discipline is None:
            axes.text(50, index, "—", ha="center", va="center", fontsize=size, color="#888888")
            continue
        colour = BAD if row.below_target else GOOD
        dots[colour][0].append(row.discipline)
        dots[colour][1].append(index)
        right_side = row.discipline < 62
        axes.text(
            row.discipline + (5 if right_side else -5), index, f"{row.discipline}%",
            ha="left" if right_side else "right", va="center", fontsize=size - 1,
            color=colour, fontweight="bold", parse_math=False,
        )  # fmt: skip
    for colour, (xs, ys) in dots.items():
        if xs:  # one artist per colour, not one per person
            axes.scatter(xs, ys, s=size * 8, color=colour, zorder=3)
    axes.set_xlim(-4, 104)


def _overdue(axes: Axes, data: ChartData, size: int) -> None:
    """Panel 3: overdue steps and invoices, two thin bars per row, counts after them."""
    most = max((max(row.overdue_steps, row.overdue_invoices) for row in data.rows), default=0)
    unit = 0.72 / most if most else 0.0
    _stripes(axes, len(data.rows), 1.0)
    for offset, colour, values in (
        (-0.17, STEPS_COLOUR, [row.overdue_steps for row in data.rows]),
        (0.17, INVOICES_COLOUR, [row.overdue_invoices for row in data.rows]),
    ):
        boxes = []
        for index, value in enumerate(values):
            if not value:
                continue  # nothing overdue: an empty lane says it (and draws faster)
            boxes.append(_box(0, value * unit, index + offset - 0.15, index + offset + 0.15))
            axes.text(
                value * unit + 0.02, index + offset, str(value), ha="left", va="center",
                fontsize=size - 1, color=colour, parse_math=False,
            )  # fmt: skip
        axes.add_collection(PolyCollection(boxes, facecolors=colour, linewidths=0, zorder=2))
    axes.set_xlim(0, 1.0)


def _legend(figure: Figure, y: float, size: int, *, ncol: int) -> None:
    figure.legend(
        handles=[Patch(color=colour, label=label) for label, colour in KINDS]
        + [
            Patch(color=STEPS_COLOUR, label="Overdue steps"),
            Patch(color=INVOICES_COLOUR, label="Overdue invoices"),
        ],
        loc="upper left",
        bbox_to_anchor=(0.005, y),
        ncol=ncol,
        fontsize=size - 1,
        frameon=False,
    )


def _draw(data: ChartData, *, title: str) -> Figure:
    """A team of up to PHONE_ROWS: the three panels one under another, 720 px wide, large
    type (a phone shows it at about half size). A bigger team: side by side, 1280 px wide."""
    if len(data.rows) <= PHONE_ROWS:
        return _draw_stacked(data, title=title)
    return _draw_wide(data, title=title)


def _draw_stacked(data: ChartData, *, title: str) -> Figure:
    shown = max(len(data.rows), 1)
    band_in = PHONE_HEADING_IN + PHONE_ROW_IN * shown
    height_in = PHONE_TITLE_IN + PHONE_LEGEND_IN + 3 * band_in + 2 * PHONE_GAP_IN + FOOTER_IN
    figure = Figure(figsize=(PHONE_WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    total = sum(row.contacts for row in data.rows)
    headings = (
        f"Contacts this week ({total})",
        f"Discipline (target {DISCIPLINE_TARGET}%)",
        "Overdue now",
    )
    top_in = PHONE_TITLE_IN + PHONE_LEGEND_IN
    for band, (heading, draw) in enumerate(
        zip(headings, (_contacts, _discipline, _overdue), strict=True)
    ):
        band_top = top_in + band * (band_in + PHONE_GAP_IN)
        rows_top = band_top + PHONE_HEADING_IN
        axes = figure.add_axes(
            (
                PHONE_NAMES_IN / PHONE_WIDTH_IN,
                1 - (rows_top + PHONE_ROW_IN * shown) / height_in,
                (PHONE_WIDTH_IN - PHONE_NAMES_IN - 0.15) / PHONE_WIDTH_IN,
                PHONE_ROW_IN * shown / height_in,
            )
        )
        axes.set_axis_off()
        axes.set_ylim(shown - 0.5, -0.5)
        draw(axes, data, PHONE_FONT)
        _names(figure, axes, data, PHONE_WIDTH_IN, PHONE_FONT)
        figure.text(
            0.12 / PHONE_WIDTH_IN, 1 - (band_top + 0.08) / height_in, heading, ha="left",
            va="top", fontsize=PHONE_FONT + 1, fontweight="bold", parse_math=False,
        )  # fmt: skip
    figure.text(
        0.12 / PHONE_WIDTH_IN, 1 - 0.1 / height_in, title, ha="left", va="top",
        fontsize=PHONE_FONT + 4, fontweight="bold", parse_math=False,
    )  # fmt: skip
    _legend(figure, 1 - (PHONE_TITLE_IN - 0.05) / height_in, PHONE_FONT, ncol=2)
    return figure


def _draw_wide(data: ChartData, *, title: str) -> Figure:
    rows = len(data.rows)
    shown = max(rows, 1)
    height_in = max(MIN_HEIGHT_IN, HEADER_IN + FOOTER_IN + ROW_IN * shown)
    figure = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)
    left = NAMES_IN
    contacts_axes = _panel(figure, left, PANELS_IN[0], height_in)
    left += PANELS_IN[0] + GAP_IN
    discipline_axes = _panel(figure, left, PANELS_IN[1], height_in)
    left += PANELS_IN[1] + GAP_IN
    overdue_axes = _panel(figure, left, PANELS_IN[2], height_in)
    for axes in (contacts_axes, discipline_axes, overdue_axes):
        axes.set_ylim(shown - 0.5, -0.5)
    _contacts(contacts_axes, data, FONT)
    _names(figure, contacts_axes, data, WIDTH_IN, FONT + 1)
    _heading(contacts_axes, 0.5, f"Contacts this week ({sum(r.contacts for r in data.rows)})")
    _discipline(discipline_axes, data, FONT)
    _heading(discipline_axes, 50, f"Discipline (target {DISCIPLINE_TARGET}%)")
    _overdue(overdue_axes, data, FONT)
    _heading(overdue_axes, 0.5, "Overdue now")
    figure.text(
        0.01, 1 - 0.1 / height_in, title, ha="left", va="top", fontsize=20, fontweight="bold",
        parse_math=False,
    )  # fmt: skip
    _legend(figure, 1 - 0.5 / height_in, FONT, ncol=5)
    return figure


def _png(figure: Figure) -> bytes:
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
