"""HTML to PDF with WeasyPrint. Framework-free: give it HTML (with its CSS inside), get bytes.

WeasyPrint needs Pango from the system (Debian: libpango-1.0-0 and libpangoft2-1.0-0, and
at least one font, e.g. fonts-dejavu-core); `make setup` checks for them. Without them
`render_pdf` raises PDFUnavailable with that advice instead of an import-time OSError.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class PDFUnavailable(RuntimeError):
    """WeasyPrint or the system libraries it needs are missing."""


@dataclass
class RenderedPDF:
    data: bytes
    page_count: int
    # The text laid out on each page, in reading order, from WeasyPrint's own layout:
    # what the PDF shows, without needing a PDF text extractor.
    page_texts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(self.page_texts)


def _weasyprint():
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: libpango not found by cffi
        raise PDFUnavailable(
            f"PDF output needs WeasyPrint and Pango ({exc}). On Debian: "
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core"
        ) from exc
    return weasyprint


def render_pdf(html: str, *, base_url: str | None = None, title: str | None = None) -> RenderedPDF:
    """Lay out `html` and write it as PDF. `base_url` resolves relative links and images;
    `title` overrides the document's <title> in the PDF's metadata."""
    weasyprint = _weasyprint()
    document = weasyprint.HTML(string=html, base_url=base_url).render()
    if title:
        document.metadata.title = title
    data = document.write_pdf()
    return RenderedPDF(
        data=data,
        page_count=len(document.pages),
        page_texts=[_page_text(page) for page in document.pages],
    )


def _page_text(page) -> str:
    from weasyprint.formatting_structure import boxes

    lines, line = [], []
    for box in page._page_box.descendants():
        if isinstance(box, boxes.LineBox) and line:
            lines.append("".join(line).strip())
            line = []
        elif isinstance(box, boxes.TextBox):
            line.append(box.text)
    if line:
        lines.append("".join(line).strip())
    return "\n".join(text for text in lines if text)
