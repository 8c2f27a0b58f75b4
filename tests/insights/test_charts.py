"""mutualaid.lib.charts: SVG fit for a strict CSP (no <style>, no style="", no script),
with a text alternative; PNG for PDFs; hidden values drawn as "*", never as zero."""

from __future__ import annotations

import re

from mutualaid.lib import charts


def other_kinds(lines: dict) -> list:
    """One chart of each kind but bars: a line chart of `lines`, a heatmap, a histogram and
    a grid map with a cell outside the area."""
    return [
        charts.line_chart(["0", "1", "2"], lines, title="BARC", reference=(47, "47")),
        charts.heatmap(["Mon", "Tue"], ["18", "19"], [[1, 0.5], [0, 2]], title="When"),
        charts.histogram({0: 3, 1: 5}, title="Choice", xlabel="fellowships", ylabel="cells"),
        charts.grid_map(
            [50.0, 50.01],
            [-0.1, -0.09],
            [[0.5, 3.0], [6.0, float("nan")]],
            threshold_km=5,
            points=[(50.0, -0.1)],
            places=[("Town", 50.0, -0.1)],
            title="Distance",
        ),
    ]


def _assert_clean(svg: str) -> None:
    assert "<style" not in svg
    assert "style=" not in svg
    assert "<script" not in svg
    assert 'role="img"' in svg


def test_bar_chart_svg_is_clean_and_described():
    chart = charts.bar_chart(
        ["AA", "NA", "SMART"], {"Meetings": [12, "*", 0]}, title="Meetings per week"
    )
    svg = chart.svg(element_id="chart-x")
    _assert_clean(svg)
    assert '<title id="chart-x-title">Meetings per week</title>' in svg
    assert 'aria-labelledby="chart-x-title chart-x-desc"' in svg
    assert "AA: 12, NA: *, SMART: 0" in chart.description
    # text stays text (svg.fonttype none): the labels and the hidden marker are readable
    assert ">AA<" in svg and ">*<" in svg
    # colours survived as presentation attributes (Okabe-Ito blue)
    assert re.search(r'fill="#0072b2"', svg, re.I)
    assert chart.rows == [["AA", 12], ["NA", "*"], ["SMART", 0]]


def test_every_kind_renders_clean_svg_and_png():
    kinds = other_kinds({"Mean": [30, None, 44]})
    for chart in kinds:
        _assert_clean(chart.svg())
        assert chart.png().startswith(b"\x89PNG\r\n\x1a\n")
        assert chart.title and chart.description
    assert "1 of 3 grid cells" in kinds[3].description  # the NaN cell is outside the area


def test_the_same_data_gives_the_same_svg():
    def make():
        return charts.bar_chart(["a"], {"n": [1]}, title="t").svg()

    assert make() == make()


def test_the_charts_own_words_follow_the_language():
    from django.utils import translation

    def grid():
        return charts.grid_map(
            [50.0, 50.01], [-0.1, -0.09], [[0.5, 3.0], [6.0, 1.0]], threshold_km=5, title="t"
        )

    def heat():
        return charts.heatmap(["Mon"], ["18"], [[2]], title="When")

    english = grid()
    assert english.description == "1 of 4 grid cells are more than 5 km from a meeting."
    assert english.headers == ["latitude", "longitude", "km to the nearest meeting"]
    assert heat().description.startswith("Busiest: Mon 18 (2).")
    with translation.override("es"):
        spanish = grid()
        svg = spanish.svg()
        assert heat().description.startswith("Más reuniones: Mon 18 (2).")
    assert spanish.description == (
        "1 de 4 celdas de la cuadrícula están a más de 5 km de una reunión."
    )
    assert spanish.headers == ["latitud", "longitud", "km hasta la reunión más cercana"]
    assert ">longitud<" in svg and "&gt; 5 km" in svg  # the legend and the axis, drawn


def test_page_svg_is_written_directly_and_matches_its_table():
    """The page's SVG is written without matplotlib (a chart took 30-240 ms there, under
    5 ms here); it is well-formed, one bar per drawn value, hidden values labelled
    "*" with no bar, every value written as text."""
    import xml.etree.ElementTree as ET

    chart = charts.bar_chart(
        ["AA", "NA", "SMART"],
        {"Meetings": [12, "*", 0], "Online": [3, 2.5, None]},
        title="Meetings & more <per week>",
    )
    svg = chart.svg(element_id="chart-y")
    _assert_clean(svg)
    root = ET.fromstring(svg)  # well-formed XML, the title escaped
    ns = "{http://www.w3.org/2000/svg}"
    assert root.find(f"{ns}title").text == "Meetings & more <per week>"
    colours = [r.get("fill").lower() for r in root.iter(f"{ns}rect")]
    assert colours.count("#0072b2") == 1 + 1  # AA's 12, and its legend swatch
    assert colours.count("#e69f00") == 2 + 1  # 3 and 2.5, and the swatch
    texts = [t.text for t in root.iter(f"{ns}text") if t.text]
    for label in ("12", "*", "0", "3", "2.5", "–", "AA", "NA", "SMART", "Online"):
        assert label in texts, label
    assert svg == chart.svg(element_id="chart-y")  # the same data, the same SVG
    for kind in other_kinds({"Mean": [30, None, 44], "B": [1, 2, 3]}):
        page = kind.svg()
        _assert_clean(page)
        ET.fromstring(page)
        _assert_clean(kind.matplotlib_svg())  # the PDF's drawing of the same chart
