"""mutualaid.lib.pdf (WeasyPrint) and mutualaid.lib.qr (segno SVG)."""

import re
import shutil
import subprocess

import pytest
import segno

from mutualaid.lib import pdf, qr


def svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules (column, row) an SVG from qr_svg draws, read back from its path."""
    path = re.search(r' d="([^"]+)"', svg).group(1)
    x = y = 0.0
    dark = set()
    for command, a, b in re.findall(r"([Mmh])(-?[\d.]+)(?: (-?[\d.]+))?", path):
        a = float(a)
        if command == "M":
            x, y = a, float(b)
        elif command == "m":
            x, y = x + a, y + float(b)
        else:  # h: a horizontal run of `a` modules on row y - 0.5
            dark.update((int(x + i), int(y)) for i in range(int(a)))
            x += a
    return dark


def matrix_modules(code: segno.QRCode, border: int) -> set[tuple[int, int]]:
    return {
        (col + border, row + border)
        for row, bits in enumerate(code.matrix)
        for col, bit in enumerate(bits)
        if bit
    }


def test_qr_svg_draws_exactly_the_code_segno_makes_for_the_url():
    url = "https://meetings.example.org/meetings/leeds-monday-night-big-book-2/"
    svg = qr.qr_svg(url)
    assert svg.startswith("<svg") and 'class="qr"' in svg
    assert "<?xml" not in svg and 'width="' not in svg  # CSS sizes it
    side = segno.make(url, micro=False, boost_error=True).symbol_size(border=qr.BORDER)[0]
    assert f'viewBox="0 0 {side} {side}"' in svg
    expected = matrix_modules(qr.make(url), qr.BORDER)
    assert svg_modules(svg) == expected
    # ...and a different address draws a different code.
    assert svg_modules(qr.qr_svg(url.replace("-2/", "-3/"))) != expected


def test_qr_code_is_never_micro_and_keeps_error_correction():
    code = qr.make("http://127.0.0.1:8000/meetings/a/")
    assert not code.is_micro
    assert code.error in {"M", "Q", "H"}  # boosted above L when the version has room


def test_render_pdf_gives_pages_text_and_metadata():
    html = (
        "<html><head><title>Doc title</title><style>@page { size: A4; "
        "@bottom-center { content: 'Page ' counter(page) ' of ' counter(pages) } }</style>"
        "</head><body><h1>First page</h1><p style='break-before: page'>Second page</p>"
        + qr.qr_svg("http://example.org/")
        + "</body></html>"
    )
    rendered = pdf.render_pdf(html, title="Booklet title")
    assert rendered.data.startswith(b"%PDF-")
    assert rendered.data.rstrip().endswith(b"%%EOF")
    assert rendered.page_count == 2
    assert "First page" in rendered.page_texts[0] and "Page 1 of 2" in rendered.page_texts[0]
    assert "Second page" in rendered.page_texts[1] and "Page 2 of 2" in rendered.page_texts[1]
    assert "First page" in rendered.text and "Second page" in rendered.text


@pytest.mark.skipif(not shutil.which("pdftotext"), reason="pdftotext (poppler-utils) absent")
def test_render_pdf_text_is_extractable_by_a_pdf_reader(tmp_path):
    rendered = pdf.render_pdf("<p>Where to find meetings: Brighton Tuesday Group</p>")
    (tmp_path / "a.pdf").write_bytes(rendered.data)
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "a.pdf"), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "Brighton Tuesday Group" in text


def test_missing_weasyprint_is_a_clear_error(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_weasyprint(name, *args, **kwargs):
        if name == "weasyprint":
            raise OSError("cannot load library 'libpango-1.0-0'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_weasyprint)
    with pytest.raises(pdf.PDFUnavailable, match="apt-get install libpango"):
        pdf.render_pdf("<p>x</p>")
