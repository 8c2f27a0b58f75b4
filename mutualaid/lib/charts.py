"""Accessible charts with matplotlib (Agg), framework-free: SVG for pages, PNG for PDFs.

Every chart is built from plain lists and carries its own text alternative (`title` and
`description`) and the table it was drawn from, so a page can show the numbers beside the
picture and offer them as CSV. Colours are the Okabe-Ito palette (distinguishable with the
common colour-vision deficiencies); bars also carry their value as text, and a hidden
(suppressed) value is drawn as an empty bar labelled "*", never as zero.

    chart = bar_chart(["AA", "NA"], {"Meetings": [12, 7]}, title="Meetings per week")
    chart.svg()   # <svg role="img" ...> with <title> and <desc>; no <style>, no style=""
    chart.png()   # bytes, for a PDF

The SVG is safe under a Content-Security-Policy without 'unsafe-inline': matplotlib's
<style> block and style="" attributes are rewritten as SVG presentation attributes.
No pyplot: figures are made with the object API, so rendering is thread-safe.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field

import matplotlib

matplotlib.use("Agg")

from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.colors import BoundaryNorm, ListedColormap  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

# Okabe & Ito (2008), "Color Universal Design": black first is left out (text colour).
OKABE_ITO = [
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
]
HIDDEN = "*"
INK = "#1d2733"
GRID = "#d8dee4"
SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
ET.register_namespace("xlink", XLINK_NS)

_RC = {
    "svg.fonttype": "none",  # text stays text: readable by screen readers, searchable
    "svg.hashsalt": "mutualaid",  # stable ids: the same data gives the same SVG
    "font.family": "DejaVu Sans",
    "font.size": 10,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
}
# style="" properties that are also SVG presentation attributes (same name and syntax).
_PRESENTATION = {
    "fill", "fill-opacity", "fill-rule", "stroke", "stroke-width", "stroke-linecap",
    "stroke-linejoin", "stroke-miterlimit", "stroke-dasharray", "stroke-dashoffset",
    "stroke-opacity", "opacity", "font-size", "font-family", "font-weight", "font-style",
    "text-anchor", "dominant-baseline", "clip-path", "mask", "color", "visibility",
}  # fmt: skip


Value = int | float | str | None


def _(message: str) -> str:
    """The chart's own words (legends, default labels, text alternatives) in the active
    language: through Django's gettext when Django is set up (the strings are in its
    catalogue), as they are otherwise, so the module needs no framework."""
    try:
        from django.conf import settings
        from django.utils.translation import gettext
    except ImportError:
        return message
    return gettext(message) if settings.configured else message


@dataclass
class Chart:
    """A drawn chart: its text alternative, its data table and the figure-making function."""

    title: str
    description: str
    headers: list[str]
    rows: list[list[Value]]
    draw: object = field(repr=False, default=None)  # callable(Figure) -> None
    size: tuple[float, float] = (7.0, 3.6)
    # (left, right, top, bottom) in pixels at 100 dpi; fixed margins, because matplotlib's
    # constrained layout solver doubles the drawing time of a chart
    margins: tuple[int, int, int, int] = (60, 20, 12, 45)
    # callable(_Canvas) -> None: the same chart written as SVG elements directly, for the
    # page (matplotlib takes 40-120 ms a chart, this well under 5); None: matplotlib's SVG
    vector: object = field(repr=False, default=None)

    def _figure(self) -> Figure:
        with matplotlib.rc_context(_RC):
            figure = Figure(figsize=self.size, dpi=100)
            width, height = self.size[0] * 100, self.size[1] * 100
            left, right, top, bottom = self.margins
            figure.subplots_adjust(
                left=left / width,
                right=1 - right / width,
                top=1 - top / height,
                bottom=bottom / height,
            )
            self.draw(figure)
        return figure

    def svg(self, *, element_id: str = "") -> str:
        """Inline SVG: role="img", <title> and <desc>, no <style> or style attributes."""
        if self.vector is not None:
            canvas = _Canvas(self.size, self.margins)
            self.vector(canvas)
            return canvas.document(self.title, self.description, element_id)
        return self.matplotlib_svg(element_id=element_id)

    def matplotlib_svg(self, *, element_id: str = "") -> str:
        """The chart as matplotlib draws it (as the PNG), cleaned the same way."""
        with matplotlib.rc_context(_RC):
            figure = self._figure()
            buffer = io.StringIO()
            figure.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
        return clean_svg(
            buffer.getvalue(), title=self.title, description=self.description, element_id=element_id
        )

    def png(self, *, dpi: int = 150) -> bytes:
        with matplotlib.rc_context(_RC):
            figure = self._figure()
            FigureCanvasAgg(figure)
            buffer = io.BytesIO()
            figure.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
        return buffer.getvalue()


def _style_pairs(style: str) -> list[tuple[str, str]]:
    pairs = []
    for part in style.split(";"):
        name, _, value = part.partition(":")
        name, value = name.strip(), value.strip()
        if name and value:
            pairs.append((name, value))
    return pairs


def clean_svg(text: str, *, title: str, description: str, element_id: str = "") -> str:
    """matplotlib's SVG, made fit to inline in a page under a strict CSP and readable by
    assistive technology: <style> blocks and style="" attributes become presentation
    attributes, metadata goes, and <title>/<desc> with role="img" are added."""
    text = re.sub(r"<\?xml[^>]*\?>|<!DOCTYPE[^>]*>", "", text, flags=re.S)
    root = ET.fromstring(text.strip())
    inherited: list[tuple[str, str]] = []
    for parent in list(root.iter()):
        for child in list(parent):
            tag = child.tag.split("}")[-1]
            if tag == "style":
                # matplotlib's only rule is "*{stroke-linejoin: round; stroke-linecap: butt}"
                for rule in re.findall(r"\{([^}]*)\}", child.text or ""):
                    inherited += _style_pairs(rule)
                parent.remove(child)
            elif tag == "metadata":
                parent.remove(child)
    for element in root.iter():
        style = element.attrib.pop("style", None)
        if style:
            for name, value in _style_pairs(style):
                if name in _PRESENTATION:
                    element.set(name, value)
    for name, value in inherited:
        if name in _PRESENTATION:
            root.set(name, value)
    root.set("role", "img")
    ident = element_id or "chart"
    root.set("aria-labelledby", f"{ident}-title {ident}-desc")
    if element_id:
        root.set("id", element_id)
    # Scale to the container (CSS max-width), keep the aspect ratio.
    for attr in ("width", "height"):
        root.attrib.pop(attr, None)
    desc = ET.Element(f"{{{SVG_NS}}}desc", id=f"{ident}-desc")
    desc.text = description
    head = ET.Element(f"{{{SVG_NS}}}title", id=f"{ident}-title")
    head.text = title
    root.insert(0, desc)
    root.insert(0, head)
    text = ET.tostring(root, encoding="unicode")
    # ElementTree cannot write the SVG namespace as the default one (unprefixed attributes):
    # it names it ns0. An inline <svg> in HTML must be unprefixed.
    match = re.search(r'xmlns:(\w+)="' + re.escape(SVG_NS) + '"', text)
    if match:
        prefix = match.group(1)
        text = text.replace(f"xmlns:{prefix}=", "xmlns=")
        text = re.sub(rf"<(/?){prefix}:", r"<\1", text)
    return text


# --- SVG written directly -----------------------------------------------------------------
#
# The page's charts are drawn here as SVG elements, in the layout matplotlib gives the same
# chart (fixed margins, the same fonts, colours, ticks and labels); matplotlib still draws
# the PNG for PDFs and the grid map. Units are points (72 an inch) as in matplotlib's SVG.

PT = 0.72  # points per pixel at 100 dpi (margins are given in pixels)


def _esc(text: object) -> str:
    return (
        str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace('"', "&quot;")
    )  # fmt: skip


def _n(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _ticks(low: float, high: float, length: float, *, vertical: bool = False) -> list[float]:
    """Tick values as matplotlib's default locator chooses them for an axis `length` points
    long (one tick per 3 font sizes across, 2 up, at most 9), within low..high."""
    from matplotlib.ticker import MaxNLocator

    if high <= low:
        high = low + 1
    bins = max(1, min(9, int(length // (20 if vertical else 30))))
    values = MaxNLocator(nbins=bins, steps=[1, 2, 2.5, 5, 10]).tick_values(low, high)
    span = (high - low) * 1e-9
    return [float(v) for v in values if low - span <= v <= high + span]


def _tick_labels(ticks: list[float]) -> list[str]:
    """As matplotlib's default formatter: the same decimals for every tick, a true minus."""
    decimals = next(
        (d for d in range(7) if all(abs(round(t, d) - t) <= 1e-9 * max(1, abs(t)) for t in ticks)),
        6,
    )
    return [f"{t:.{decimals}f}".replace("-", "\u2212") if round(t, decimals) else
            f"{0:.{decimals}f}" for t in ticks]  # fmt: skip


class _Canvas:
    """An SVG document being written: the plot area is x0..x1, y0..y1 (points)."""

    def __init__(self, size: tuple[float, float], margins: tuple[int, int, int, int]):
        self.width, self.height = size[0] * 72, size[1] * 72
        left, right, top, bottom = (m * PT for m in margins)
        self.x0, self.x1 = left, self.width - right
        self.y0, self.y1 = top, self.height - bottom
        self.parts: list[str] = []

    def rect(self, x, y, w, h, fill) -> None:
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(max(w, 0))}" height="{_n(max(h, 0))}" '
            f'fill="{fill}"/>'
        )

    def line(self, x1, y1, x2, y2, stroke, width=0.8, dash="") -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<path d="M {_n(x1)} {_n(y1)} L {_n(x2)} {_n(y2)}" fill="none" stroke="{stroke}" '
            f'stroke-width="{_n(width)}"{extra}/>'
        )

    def polyline(self, points, stroke, width=2.0) -> None:
        d = " ".join(f"{'M' if i == 0 else 'L'} {_n(x)} {_n(y)}" for i, (x, y) in enumerate(points))
        self.parts.append(
            f'<path d="{d}" fill="none" stroke="{stroke}" stroke-width="{_n(width)}" '
            'stroke-linejoin="round" stroke-linecap="square"/>'
        )

    def marker(self, kind: str, x, y, colour, size=6.0) -> None:
        r = size / 2
        if kind == "s":
            self.rect(x - r, y - r, size, size, colour)
            return
        if kind in ("^", "v", "D"):
            points = {
                "^": [(x, y - r), (x + r, y + r), (x - r, y + r)],
                "v": [(x, y + r), (x + r, y - r), (x - r, y - r)],
                "D": [(x, y - r), (x + r, y), (x, y + r), (x - r, y)],
            }[kind]
            d = " ".join(f"{_n(a)},{_n(b)}" for a, b in points)
            self.parts.append(f'<polygon points="{d}" fill="{colour}"/>')
            return
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{colour}"/>')

    def text(self, x, y, text, *, size=10.0, anchor="start", baseline="central",
             fill=INK, rotate: float = 0) -> None:  # fmt: skip
        """Text at (x, y); several lines (\n) are centred on y as matplotlib centres them."""
        lines = str(text).split("\n")
        rotation = f' transform="rotate({_n(rotate)} {_n(x)} {_n(y)})"' if rotate else ""
        attrs = (
            f'x="{_n(x)}" y="{_n(y)}" font-size="{_n(size)}" text-anchor="{anchor}" '
            f'dominant-baseline="{baseline}" fill="{fill}"{rotation}'
        )
        if len(lines) == 1:
            self.parts.append(f"<text {attrs}>{_esc(text)}</text>")
            return
        step = size * 1.2
        first = -(len(lines) - 1) * step / 2
        spans = "".join(
            f'<tspan x="{_n(x)}" dy="{_n(first if i == 0 else step)}">{_esc(line)}</tspan>'
            for i, line in enumerate(lines)
        )
        self.parts.append(f"<text {attrs}>{spans}</text>")

    def axes_lines(self, *, left=True, bottom=True) -> None:
        if left:
            self.line(self.x0, self.y0, self.x0, self.y1, INK)
        if bottom:
            self.line(self.x0, self.y1, self.x1, self.y1, INK)

    def x_ticks(self, positions: list[tuple[float, str]], *, rotate=False, size=10.0) -> None:
        for x, label in positions:
            self.line(x, self.y1, x, self.y1 + 3.5, INK)
            if rotate:
                self.text(x, self.y1 + 6, label, size=size, anchor="end", baseline="hanging",
                          rotate=-45)  # fmt: skip
            else:
                self.text(x, self.y1 + 5.5, label, size=size, anchor="middle",
                          baseline="hanging")  # fmt: skip

    def y_ticks(self, positions: list[tuple[float, str]], *, size=10.0) -> None:
        for y, label in positions:
            self.line(self.x0 - 3.5, y, self.x0, y, INK)
            self.text(self.x0 - 5.5, y, label, size=size, anchor="end")

    def x_label(self, text: str, *, below: float = 19) -> None:
        if text:
            self.text((self.x0 + self.x1) / 2, self.y1 + below, text, anchor="middle",
                      baseline="hanging")  # fmt: skip

    def legend(self, names: list[str], x: float, y: float, *, line=False, markers=()) -> None:
        """Swatches (or line samples with their marker) and names, one per line, from the
        top-left corner (x, y)."""
        for k, name in enumerate(names):
            colour = OKABE_ITO[k % 7]
            middle = y + 11 * k + 5
            if line:
                self.line(x, middle, x + 16, middle, colour, 2)
                self.marker(markers[k % len(markers)] if markers else "o", x + 8, middle, colour)
            else:
                self.rect(x, middle - 3.5, 12, 7, colour)
            self.text(x + 20, middle, name, size=8)

    def y_label(self, text: str, offset: float = 34) -> None:
        if text:
            middle = (self.y0 + self.y1) / 2
            self.text(self.x0 - offset, middle, text, anchor="middle", rotate=-90)

    def document(self, title: str, description: str, element_id: str = "") -> str:
        ident = element_id or "chart"
        id_attr = f' id="{_esc(element_id)}"' if element_id else ""
        return (
            f'<svg xmlns="{SVG_NS}" viewBox="0 0 {_n(self.width)} {_n(self.height)}" '
            f'version="1.1" role="img" aria-labelledby="{ident}-title {ident}-desc"{id_attr} '
            'font-family="DejaVu Sans, Bitstream Vera Sans, sans-serif" stroke-linejoin="round" '
            'stroke-linecap="butt">'
            f'<title id="{ident}-title">{_esc(title)}</title>'
            f'<desc id="{ident}-desc">{_esc(description)}</desc>'
            f'<rect x="0" y="0" width="{_n(self.width)}" height="{_n(self.height)}" '
            'fill="#ffffff"/>' + "".join(self.parts) + "</svg>"
        )


# --- helpers ----------------------------------------------------------------------------


def _number(value: Value) -> float | None:
    """A plottable number, or None for hidden/missing."""
    if value is None or value == HIDDEN or isinstance(value, str):
        return None
    number = float(value)
    return None if math.isnan(number) else number


def _label(value: Value, unit: str = "") -> str:
    if value is None:
        return "–"
    if value == HIDDEN:
        return HIDDEN
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}{unit}"
    return f"{int(value) if isinstance(value, float) else value}{unit}"


def _describe_series(categories, series, unit) -> str:
    parts = []
    for name, values in series.items():
        items = ", ".join(
            f"{c}: {_label(v, unit)}" for c, v in zip(categories, values, strict=True)
        )
        parts.append(f"{name}: {items}" if len(series) > 1 else items)
    return "; ".join(parts)


def _axes_style(ax) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", color=GRID, linewidth=0.6)
    ax.set_axisbelow(True)


# --- chart kinds ------------------------------------------------------------------------


def bar_chart(
    categories: Sequence[str],
    series: dict[str, Sequence[Value]],
    *,
    title: str,
    xlabel: str = "",
    unit: str = "",
    max_value: float | None = None,
    description: str = "",
) -> Chart:
    """Horizontal bars, one group per category, one bar per series (in palette order).
    Hidden values ("*") are labelled "*" with no bar; None means "no figure" (–)."""
    categories = [str(c) for c in categories]
    wrapped = [textwrap.fill(c, 30) for c in categories]
    names = list(series)
    n_series = max(1, len(names))
    lines = sum(w.count("\n") + 1 for w in wrapped)
    height = max(1.8, 0.2 * max(lines, len(categories) * n_series * 0.8) + 1.2)
    height += 0.2 * (n_series > 1) * n_series
    longest = max((len(line) for w in wrapped for line in w.split("\n")), default=4)
    margins = (min(320, 7.4 * longest + 22), 20, 12, 45 + (20 * n_series if n_series > 1 else 0))

    def draw(figure):
        ax = figure.add_subplot()
        _axes_style(ax)
        band = 0.8 / n_series
        numbers = [_number(v) for values in series.values() for v in values]
        top = max_value or max([n for n in numbers if n is not None] + [1])
        for s, name in enumerate(names):
            ys = [i - 0.4 + band * (s + 0.5) for i in range(len(categories))]
            values = list(series[name])
            widths = [_number(v) or 0 for v in values]
            ax.barh(ys, widths, height=band * 0.9, color=OKABE_ITO[s % 7], label=name)
            for y, v, w in zip(ys, values, widths, strict=True):
                ax.text(w + top * 0.01, y, _label(v, unit), va="center", ha="left", fontsize=8)
        ax.set_yticks(range(len(categories)), wrapped)
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.12)
        if xlabel:
            ax.set_xlabel(xlabel)
        if len(names) > 1:
            figure.legend(loc="lower left", fontsize=8, frameon=False, ncol=1,
                          bbox_to_anchor=(0.01, 0.0))  # fmt: skip

    def vector(c: _Canvas) -> None:
        numbers = [_number(v) for values in series.values() for v in values]
        top = max_value or max([n for n in numbers if n is not None] + [1])
        right = top * 1.12
        n = max(1, len(categories))
        band = 0.8 / n_series

        def x(value):
            return c.x0 + (c.x1 - c.x0) * value / right

        # the bars' extent and matplotlib's 5% margins, the first category at the top
        top_y, span = -0.4 - 0.05 * (n - 0.2), (n - 0.2) * 1.1

        def y(value):
            return c.y0 + (c.y1 - c.y0) * (value - top_y) / span

        ticks = _ticks(0, right, c.x1 - c.x0)
        for t in ticks:
            c.line(x(t), c.y0, x(t), c.y1, GRID, 0.6)
        for s, name in enumerate(names):
            for i, value in enumerate(series[name]):
                middle = i - 0.4 + band * (s + 0.5)
                width = _number(value) or 0
                if width > 0:
                    c.rect(x(0), y(middle - band * 0.45), x(width) - x(0),
                           y(middle + band * 0.45) - y(middle - band * 0.45), OKABE_ITO[s % 7])  # fmt: skip
                c.text(x(width + top * 0.01), y(middle), _label(value, unit), size=8)
        c.axes_lines()
        c.x_ticks(list(zip([x(t) for t in ticks], _tick_labels(ticks), strict=True)))
        c.y_ticks([(y(i), label) for i, label in enumerate(wrapped)])
        c.x_label(xlabel)
        if len(names) > 1:
            c.legend(names, c.width * 0.01, c.height - 11 * len(names) - 2)

    headers = ["", *names]
    rows = [[c, *[series[n][i] for n in names]] for i, c in enumerate(categories)]
    return Chart(
        title=title,
        description=description or _describe_series(categories, series, unit),
        headers=headers,
        rows=rows,
        draw=draw,
        size=(7.0, min(height, 9.0)),
        margins=margins,
        vector=vector,
    )


def line_chart(
    x: Sequence[str],
    series: dict[str, Sequence[Value]],
    *,
    title: str,
    ylabel: str = "",
    xlabel: str = "",
    reference: tuple[float, str] | None = None,
    description: str = "",
) -> Chart:
    """Lines over ordered categories (months, weeks); gaps where a value is hidden or missing.
    `reference` draws a dashed horizontal line with its label (e.g. a threshold)."""
    x = [str(v) for v in x]
    markers = ["o", "s", "^", "D", "v", "P", "X"]

    def draw(figure):
        ax = figure.add_subplot()
        _axes_style(ax)
        ax.grid(axis="y", color=GRID, linewidth=0.6)
        for s, (name, values) in enumerate(series.items()):
            ys = [_number(v) for v in values]
            ax.plot(
                range(len(x)),
                [math.nan if v is None else v for v in ys],
                marker=markers[s % len(markers)],
                color=OKABE_ITO[s % 7],
                label=name,
                linewidth=2,
            )
        if reference is not None:
            ax.axhline(reference[0], color=OKABE_ITO[5], linestyle="--", linewidth=1)
            ax.text(len(x) - 1, reference[0], f" {reference[1]}", va="bottom", ha="right")
        ax.set_xticks(range(len(x)), x, rotation=0 if len(x) < 8 else 45)
        if ylabel:
            ax.set_ylabel(ylabel)
        if xlabel:
            ax.set_xlabel(xlabel)
        if len(series) > 1:
            ax.legend(fontsize=8, frameon=False, loc="upper left", bbox_to_anchor=(1.01, 1))

    def vector(c: _Canvas) -> None:
        numbers = [n for values in series.values() for v in values if (n := _number(v)) is not None]
        if reference is not None:
            numbers.append(reference[0])
        low, high = (min(numbers), max(numbers)) if numbers else (0.0, 1.0)
        if high == low:
            low, high = low - 1, high + 1
        pad = (high - low) * 0.05
        low, high = low - pad, high + pad
        last = max(1, len(x) - 1)
        left, right = (-0.05 * last, last * 1.05) if len(x) > 1 else (-0.5, 0.5)

        def px(i):
            return c.x0 + (c.x1 - c.x0) * (i - left) / (right - left)

        def py(v):
            return c.y1 - (c.y1 - c.y0) * (v - low) / (high - low)

        ticks = _ticks(low, high, c.y1 - c.y0, vertical=True)
        for t in ticks:
            c.line(c.x0, py(t), c.x1, py(t), GRID, 0.6)
        for i in range(len(x)):
            c.line(px(i), c.y0, px(i), c.y1, GRID, 0.6)
        for s, values in enumerate(series.values()):
            colour = OKABE_ITO[s % 7]
            run: list[tuple[float, float]] = []
            points = [(px(i), py(n)) if (n := _number(v)) is not None else None
                      for i, v in enumerate(values)]  # fmt: skip
            for point in [*points, None]:
                if point is None:
                    if len(run) > 1:
                        c.polyline(run, colour)
                    run = []
                else:
                    run.append(point)
            for point in points:
                if point is not None:
                    c.marker(markers[s % len(markers)], *point, colour)
        if reference is not None:
            c.line(c.x0, py(reference[0]), c.x1, py(reference[0]), OKABE_ITO[5], 1, "3.7,1.6")
            c.text(px(len(x) - 1), py(reference[0]) - 2, f" {reference[1]}", anchor="end",
                   baseline="auto")  # fmt: skip
        c.axes_lines()
        rotate = len(x) >= 8
        c.x_ticks([(px(i), label) for i, label in enumerate(x)], rotate=rotate)
        c.y_ticks(list(zip([py(t) for t in ticks], _tick_labels(ticks), strict=True)))
        c.y_label(ylabel)
        c.x_label(xlabel, below=36 if rotate else 19)
        if len(series) > 1:
            c.legend(list(series), c.x1 + 8, c.y0, line=True, markers=markers)

    names = list(series)
    return Chart(
        title=title,
        description=description or _describe_series(x, series, ""),
        headers=["", *names],
        rows=[[c, *[series[n][i] for n in names]] for i, c in enumerate(x)],
        draw=draw,
        margins=(60, 130 if len(series) > 1 else 20, 12, 70 if len(x) >= 8 else 50),
        vector=vector,
    )


def heatmap(
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    values: Sequence[Sequence[float]],
    *,
    title: str,
    unit_label: str = "",
    description: str = "",
) -> Chart:
    """A grid of counts (e.g. weekday × hour) in a colour-blind-safe sequential map
    (cividis), each non-zero cell also labelled with its number."""
    rows = [list(r) for r in values]

    def draw(figure):
        ax = figure.add_subplot()
        image = ax.imshow(rows, aspect="auto", cmap="cividis_r", vmin=0)
        ax.set_yticks(range(len(row_labels)), row_labels)
        ax.set_xticks(range(len(column_labels)), column_labels, fontsize=8)
        top = max([v for r in rows for v in r] + [1])
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                if v:
                    ax.text(
                        j, i, _label(round(v, 1)), ha="center", va="center", fontsize=7,
                        color="#ffffff" if v > top * 0.55 else INK,
                    )  # fmt: skip
        if unit_label:
            ax.set_title(unit_label, fontsize=8, loc="right")
        del image

    busiest = max(
        ((v, row_labels[i], column_labels[j]) for i, r in enumerate(rows) for j, v in enumerate(r)),
        default=(0, "", ""),
    )
    summary = description or (
        _("Busiest: %(row)s %(column)s (%(value)s).")
        % {"row": busiest[1], "column": busiest[2], "value": _label(busiest[0])}
        + " "
        + "; ".join(f"{row_labels[i]}: {_label(round(sum(r), 1))}" for i, r in enumerate(rows))
    )

    def vector(c: _Canvas) -> None:
        from matplotlib import colormaps
        from matplotlib.colors import to_hex

        colours = colormaps["cividis_r"]
        top = max([v for r in rows for v in r] + [1])
        scale = max([v for r in rows for v in r] + [0]) or 1  # imshow's vmax: the largest
        n_rows, n_columns = max(1, len(rows)), max(1, len(column_labels))
        width, height = (c.x1 - c.x0) / n_columns, (c.y1 - c.y0) / n_rows
        for i, row in enumerate(rows):
            for j, v in enumerate(row):
                x, y = c.x0 + j * width, c.y0 + i * height
                # a hair wider than the cell, so no background shows between cells
                c.rect(x, y, width + 0.3, height + 0.3, to_hex(colours(min(1.0, v / scale))))
                if v:
                    c.text(x + width / 2, y + height / 2, _label(round(v, 1)), size=7,
                           anchor="middle", fill="#ffffff" if v > top * 0.55 else INK)  # fmt: skip
        c.axes_lines()
        c.line(c.x0, c.y0, c.x1, c.y0, INK)
        c.line(c.x1, c.y0, c.x1, c.y1, INK)
        c.y_ticks([(c.y0 + (i + 0.5) * height, label) for i, label in enumerate(row_labels)])
        c.x_ticks([(c.x0 + (j + 0.5) * width, label) for j, label in enumerate(column_labels)],
                  size=8)  # fmt: skip
        if unit_label:
            c.text(c.x1, c.y0 - 4, unit_label, size=8, anchor="end", baseline="auto")

    return Chart(
        title=title,
        description=summary,
        headers=["", *column_labels],
        rows=[[row_labels[i], *r] for i, r in enumerate(rows)],
        draw=draw,
        size=(7.5, 3.2),
        margins=(45, 10, 22, 30),
        vector=vector,
    )


def histogram(
    counts: dict[str, int], *, title: str, xlabel: str, ylabel: str, description: str = ""
) -> Chart:
    """Vertical bars for a distribution (e.g. how many places have 1, 2, 3 … fellowships)."""
    labels = [str(k) for k in counts]
    values = list(counts.values())

    def draw(figure):
        ax = figure.add_subplot()
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.bar(range(len(labels)), values, color=OKABE_ITO[0])
        for i, v in enumerate(values):
            ax.text(i, v, _label(v), ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)

    def vector(c: _Canvas) -> None:
        top = max([v for v in values if v] + [1]) * 1.05
        n = max(1, len(labels))
        left, right = -0.4 - 0.05 * (n - 0.2), n - 0.6 + 0.05 * (n - 0.2)

        def x(i):
            return c.x0 + (c.x1 - c.x0) * (i - left) / (right - left)

        def y(v):
            return c.y1 - (c.y1 - c.y0) * v / top

        ticks = _ticks(0, top, c.y1 - c.y0, vertical=True)
        for i, v in enumerate(values):
            if v:
                c.rect(x(i - 0.4), y(v), x(i + 0.4) - x(i - 0.4), y(0) - y(v), OKABE_ITO[0])
            c.text(x(i), y(v) - 2, _label(v), size=8, anchor="middle", baseline="auto")
        c.axes_lines()
        c.x_ticks([(x(i), label) for i, label in enumerate(labels)])
        c.y_ticks(list(zip([y(t) for t in ticks], _tick_labels(ticks), strict=True)))
        c.x_label(xlabel)
        c.y_label(ylabel, offset=30)

    return Chart(
        title=title,
        description=description or _describe_series(labels, {ylabel: values}, ""),
        headers=[xlabel, ylabel],
        rows=[[k, v] for k, v in zip(labels, values, strict=True)],
        draw=draw,
        size=(6.0, 3.0),
        margins=(55, 10, 12, 45),
        vector=vector,
    )


def grid_map(
    lats: Sequence[float],
    lngs: Sequence[float],
    distances_km: Sequence[Sequence[float]],
    *,
    threshold_km: float,
    points: Sequence[tuple[float, float]] = (),
    places: Sequence[tuple[str, float, float]] = (),
    title: str,
    description: str = "",
    labels: tuple[str, str, str] | None = None,
) -> Chart:
    """A map of the distance from each grid cell to the nearest meeting: three bands
    (within half the threshold, within it, beyond it), meetings as dots, named places.
    Cells beyond the threshold are vermillion, hatched and outlined, so the gap shows
    without colour. NaN cells (outside the area) are not drawn."""
    if labels is None:
        labels = (_("longitude"), _("latitude"), _("km to the nearest meeting"))
    grid = [list(r) for r in distances_km]
    bounds = [0, threshold_km / 2, threshold_km, max(threshold_km * 100, 1e6)]
    colours = ListedColormap(["#56B4E9", "#F0E442", "#D55E00"])
    norm = BoundaryNorm(bounds, colours.N)

    within = _("≤ %(km)s km")
    beyond_label = _("> %(km)s km") % {"km": f"{threshold_km:g}"}

    def draw(figure):
        import numpy as np

        ax = figure.add_subplot()
        values = np.ma.masked_invalid(np.array(grid, dtype=float))
        step_lat = (lats[-1] - lats[0]) / max(1, len(lats) - 1) / 2 if len(lats) > 1 else 0.005
        step_lng = (lngs[-1] - lngs[0]) / max(1, len(lngs) - 1) / 2 if len(lngs) > 1 else 0.005
        # A raster (one <image> in the SVG) rather than a path per cell: far faster to draw
        ax.imshow(
            values,
            origin="lower",
            cmap=colours,
            norm=norm,
            interpolation="nearest",
            extent=(lngs[0] - step_lng, lngs[-1] + step_lng, lats[0] - step_lat,
                    lats[-1] + step_lat),
        )  # fmt: skip
        if len(lats) > 1 and len(lngs) > 1 and values.count():
            top = float(values.max())
            if top > threshold_km:
                ax.contourf(lngs, lats, values, levels=[threshold_km, top + 1], colors="none",
                            hatches=["//"])  # fmt: skip
                ax.contour(lngs, lats, values, levels=[threshold_km], colors=INK, linewidths=1)
        if points:
            ax.scatter([p[1] for p in points], [p[0] for p in points], s=6, color=INK)
        for name, lat, lng in places:
            ax.annotate(name, (lng, lat), fontsize=7, xytext=(3, 3), textcoords="offset points")
        ax.set_xlabel(labels[0])
        ax.set_ylabel(labels[1])
        mid = math.radians(sum(lats) / max(1, len(lats)))
        ax.set_aspect(1 / max(0.1, math.cos(mid)))
        from matplotlib.patches import Patch

        ax.legend(
            handles=[
                Patch(color="#56B4E9", label=within % {"km": f"{threshold_km / 2:g}"}),
                Patch(color="#F0E442", label=within % {"km": f"{threshold_km:g}"}),
                Patch(facecolor="#D55E00", hatch="//", label=beyond_label),
            ],
            fontsize=7,
            loc="upper left",
            bbox_to_anchor=(1.01, 1),
            frameon=False,
        )

    cells = [v for r in grid for v in r if not math.isnan(v)]  # NaN: outside the area
    beyond = sum(1 for v in cells if v > threshold_km)
    summary = description or (
        _("%(beyond)s of %(cells)s grid cells are more than %(km)s km from a meeting.")
        % {"beyond": beyond, "cells": len(cells), "km": f"{threshold_km:g}"}
    )
    rows = [[round(lat, 4), round(lng, 4), round(grid[i][j], 2)]
            for i, lat in enumerate(lats) for j, lng in enumerate(lngs)
            if not math.isnan(grid[i][j])]  # fmt: skip

    def vector(c: _Canvas) -> None:
        n_lat, n_lng = len(lats), len(lngs)
        half_lat = (lats[-1] - lats[0]) / max(1, n_lat - 1) / 2 if n_lat > 1 else 0.005
        half_lng = (lngs[-1] - lngs[0]) / max(1, n_lng - 1) / 2 if n_lng > 1 else 0.005
        west, east = lngs[0] - half_lng, lngs[-1] + half_lng
        south, north = lats[0] - half_lat, lats[-1] + half_lat
        # matplotlib's set_aspect (box adjusted, centred): a km is as long either way
        aspect = 1 / max(0.1, math.cos(math.radians(sum(lats) / max(1, n_lat))))
        box_w, box_h = c.x1 - c.x0, c.y1 - c.y0
        wanted = (north - south) * aspect / (east - west)
        if wanted > box_h / box_w:
            width = box_h / wanted
            c.x0, c.x1 = c.x0 + (box_w - width) / 2, c.x0 + (box_w + width) / 2
        else:
            height = box_w * wanted
            c.y0, c.y1 = c.y0 + (box_h - height) / 2, c.y0 + (box_h + height) / 2

        def px(lng):
            return c.x0 + (c.x1 - c.x0) * (lng - west) / (east - west)

        def py(lat):
            return c.y1 - (c.y1 - c.y0) * (lat - south) / (north - south)

        def band(v):  # BoundaryNorm: each band includes its lower bound
            return 0 if v < threshold_km / 2 else 1 if v < threshold_km else 2

        colours = ["#56B4E9", "#F0E442", "#D55E00"]
        c.parts.append(
            '<defs><pattern id="gap-hatch" patternUnits="userSpaceOnUse" width="9" height="9">'
            f'<path d="M 0 9 L 9 0" stroke="{INK}" stroke-width="0.8"/></pattern></defs>'
        )
        hatched = []
        for i in range(n_lat):
            for j in range(n_lng):
                v = grid[i][j]
                if math.isnan(v):
                    continue
                x, y = px(lngs[j] - half_lng), py(lats[i] + half_lat)
                w, h = px(lngs[j] + half_lng) - x, py(lats[i] - half_lat) - y
                c.rect(x, y, w + 0.5, h + 0.5, colours[band(v)])
                if v > threshold_km:
                    hatched.append(f"M {_n(x)} {_n(y)} h {_n(w)} v {_n(h)} h {_n(-w)} Z")
        if hatched:
            c.parts.append(f'<path d="{" ".join(hatched)}" fill="url(#gap-hatch)"/>')
        # the edge of the gap: between a cell beyond N and a neighbour within it
        edges = []
        for i in range(n_lat):
            for j in range(n_lng):
                v = grid[i][j]
                if math.isnan(v) or v <= threshold_km:
                    continue
                for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    a, b = i + di, j + dj
                    if not (0 <= a < n_lat and 0 <= b < n_lng):
                        continue
                    other = grid[a][b]
                    if math.isnan(other) or other > threshold_km:
                        continue
                    if di:
                        lat = lats[i] + di * half_lat
                        edges.append(f"M {_n(px(lngs[j] - half_lng))} {_n(py(lat))} "
                                     f"H {_n(px(lngs[j] + half_lng))}")  # fmt: skip
                    else:
                        lng = lngs[j] + dj * half_lng
                        edges.append(f"M {_n(px(lng))} {_n(py(lats[i] - half_lat))} "
                                     f"V {_n(py(lats[i] + half_lat))}")  # fmt: skip
        if edges:
            c.parts.append(f'<path d="{" ".join(edges)}" fill="none" stroke="{INK}" '
                           'stroke-width="1"/>')  # fmt: skip
        for lat, lng in points:
            c.parts.append(f'<circle cx="{_n(px(lng))}" cy="{_n(py(lat))}" r="1.2" fill="{INK}"/>')
        for name, lat, lng in places:
            c.text(px(lng) + 2.2, py(lat) - 2.2, name, size=7, baseline="auto")
        c.line(c.x0, c.y0, c.x1, c.y0, INK)
        c.line(c.x1, c.y0, c.x1, c.y1, INK)
        c.axes_lines()
        across = _ticks(west, east, c.x1 - c.x0)
        up = _ticks(south, north, c.y1 - c.y0, vertical=True)
        c.x_ticks(list(zip([px(t) for t in across], _tick_labels(across), strict=True)))
        c.y_ticks(list(zip([py(t) for t in up], _tick_labels(up), strict=True)))
        c.x_label(labels[0])
        c.y_label(labels[1], offset=44)
        legend_x, legend_y = c.x1 + (c.x1 - c.x0) * 0.01 + 4, c.y0 + 2
        keys = [within % {"km": f"{threshold_km / 2:g}"}, within % {"km": f"{threshold_km:g}"},
                beyond_label]  # fmt: skip
        for k, key in enumerate(keys):
            y = legend_y + 10 * k
            c.rect(legend_x, y, 14, 7, colours[k])
            if k == 2:
                c.rect(legend_x, y, 14, 7, "url(#gap-hatch)")
            c.text(legend_x + 18, y + 3.5, key, size=7)

    return Chart(
        title=title,
        description=summary,
        headers=[labels[1], labels[0], labels[2]],
        rows=rows,
        draw=draw,
        size=(7.0, 5.2),
        margins=(60, 110, 12, 45),
        vector=vector,
    )
