"""The pages themselves: every table has its CSV, the supervision report and the
self-assessment are PDFs with the answers in them, and nothing inline would need
'unsafe-inline' under a Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient

from mutualaid.lib.pdf import PDFUnavailable
from tests.accounts.helpers import login_verified

from .helpers import build_world, journey

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    w = build_world()
    for days in (40, 50, 100):
        journey(w.keyworker, w.meeting, to="attended", days_ago=days, weeks=(1, 2, 3), ways=3,
                barc=[(3, 30), (45, 40)])  # fmt: skip
    journey(w.keyworker, w.meeting, to="introduced", days_ago=8, kind="information")
    journey(w.keyworker2, w.meeting, to="discussed", days_ago=5)
    return w


def _no_inline(html: str) -> None:
    assert "<style" not in html
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)


def _ids(html: str, prefix: str) -> list[str]:
    return re.findall(rf'id="{prefix}([a-z0-9-]+)"', html)


def test_manager_outcomes_page_tables_charts_and_csv(world):
    browser = HttpClient()
    login_verified(browser, world.manager)
    html = browser.get("/insights/outcomes/").content.decode()
    _no_inline(html)
    tables = _ids(html, "data-")
    assert {"funnel", "by-method", "by-fellowship", "by-approach", "by-keyworker",
            "by-month", "barc10", "barc10-change"} <= set(tables)  # fmt: skip
    assert html.count("<svg") >= 6 and html.count("<desc") == html.count("<svg")
    for table_id in tables:
        response = browser.get(f"/insights/outcomes/?csv={table_id}")
        assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
        assert "attachment" in response["Content-Disposition"]
    funnel_csv = browser.get("/insights/outcomes/?csv=funnel").content.decode().splitlines()
    assert funnel_csv[1].startswith("Offered mutual aid,5,")  # 3 + 1 + 1 clients
    assert browser.get("/insights/outcomes/?csv=nope").status_code == 404
    # a bad period is refused with a clear message and the page still answers
    bad = browser.get("/insights/outcomes/?since=2026-05-01&until=2026-01-01").content.decode()
    assert "must be on or before" in bad


def test_area_page_for_a_commissioner(world):
    browser = HttpClient()
    login_verified(browser, world.commissioner)
    html = browser.get("/insights/area/").content.decode()
    _no_inline(html)
    assert {"area-funnel", "area-categories", "per-week-fellowship", "per-week-approach",
            "per-week-type", "per-week-mode", "heatmap", "choice", "places", "gaps",
            "distance-map", "stale"} <= set(_ids(html, "data-"))  # fmt: skip
    assert "Service A" in html and "Service B" in html and "Service C" not in html


def _pdf_or_skip(response):
    if response.status_code == 503:
        pytest.skip("WeasyPrint/Pango not installed")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    return response


def test_supervision_pdf(world):
    browser = HttpClient()
    login_verified(browser, world.team_lead)
    _pdf_or_skip(browser.get(f"/insights/supervision/{world.keyworker.get_username()}/pdf/"))


def test_self_assessment_pdf_has_the_answers(world, monkeypatch):
    from mutualaid.insights import views

    texts = []
    real = views.pdf.render_pdf

    def spy(html, **kwargs):
        try:
            rendered = real(html, **kwargs)
        except PDFUnavailable:
            raise
        texts.append(rendered.text)
        return rendered

    monkeypatch.setattr(views.pdf, "render_pdf", spy)
    browser = HttpClient()
    login_verified(browser, world.commissioner)
    browser.post("/insights/self-assessment/", {"volunteers-answer": "no",
                                                "volunteers-note": "Only in Hove"})  # fmt: skip
    _pdf_or_skip(browser.get("/insights/self-assessment/pdf/"))
    text = " ".join(texts[0].split())
    assert "Only in Hove" in text
    assert "What mutual aid meets locally" in text
    assert "Meetings per week by fellowship" in text
