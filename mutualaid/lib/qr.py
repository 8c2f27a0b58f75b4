"""QR codes as inline SVG, drawn by the pure-Python `segno` (no image libraries, no Django).

The SVG has a viewBox and no width or height, so CSS sizes it; it draws the dark modules
as one stroked path, which both browsers and WeasyPrint render crisply at any size.
"""

from __future__ import annotations

from functools import lru_cache

import segno

# Modules of light margin around the code. The standard asks for 4; 2 is plenty on white
# paper with nothing printed right next to it, and keeps the code larger in a small box.
BORDER = 2


def make(data: str) -> segno.QRCode:
    """The QR code for `data`: the smallest version that holds it, with the highest error
    correction that version allows (segno's boost_error), never a Micro QR code (many phone
    cameras do not read those)."""
    return segno.make(data, micro=False, boost_error=True)


@lru_cache(maxsize=4096)
def qr_svg(data: str, *, title: str | None = None, css_class: str = "qr") -> str:
    """An inline <svg> element (no XML declaration, no namespace) encoding `data`.

    Cached: a meeting's address rarely changes, and choosing the best mask (segno tries all
    eight) costs a few milliseconds per code."""
    return make(data).svg_inline(
        scale=1,
        border=BORDER,
        omitsize=True,
        svgclass=css_class,
        lineclass=None,
        title=title,
    )
