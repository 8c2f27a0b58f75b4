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

    names = list(series)
    return Chart(
        title=title,
        description=description or _describe_series(x, series, ""),
        headers=["", *names],
        rows=[[c, *[series[n][i] for n in names]] for i, c in enumerate(x)],
        draw=draw,
        margins=(60, 130 if len(series) > 1 else 20, 12, 70 if len(x) >= 8 else 50),
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
    return Chart(
        title=title,
        description=summary,
        headers=["", *column_labels],
        rows=[[row_labels[i], *r] for i, r in enumerate(rows)],
        draw=draw,
        size=(7.5, 3.2),
        margins=(45, 10, 22, 30),
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

    return Chart(
        title=title,
        description=description or _describe_series(labels, {ylabel: values}, ""),
        headers=[xlabel, ylabel],
        rows=[[k, v] for k, v in zip(labels, values, strict=True)],
        draw=draw,
        size=(6.0, 3.0),
        margins=(55, 10, 12, 45),
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
    return Chart(
        title=title,
        description=summary,
        headers=[labels[1], labels[0], labels[2]],
        rows=rows,
        draw=draw,
        size=(7.0, 5.2),
        margins=(60, 110, 12, 45),
    )
