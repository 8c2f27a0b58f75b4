"""Insights in a browser, on the casework demo (mutualaid/casework/demo.py) over the e2e
demo directory: a manager signs in with password and authenticator code and reads the
service outcomes; a commissioner reads the area page. Charts are inline SVG with a text
alternative, every page passes without JavaScript, and UPDATE_SCREENSHOTS=1 writes
docs/img/insights-outcomes.png and docs/img/insights-area.png for docs/insights.md."""

from __future__ import annotations

import base64

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("audit_trail_emptied_after")]


@pytest.fixture
def demo(site):
    from mutualaid.casework.demo import load_casework_demo

    loaded = load_casework_demo(clients=40)
    assert loaded.clients == 40
    return {s.username: s for s in loaded.staff}


def sign_in(page, staff):
    from django_otp.oath import totp

    # The first insights page builds the offline gazetteer and draws every chart: on a busy
    # machine that is slower than the suite's 10 s default.
    page.set_default_timeout(90_000)
    page.set_default_navigation_timeout(90_000)
    page.goto("/accounts/login/?next=/insights/")
    page.fill("#id_username", staff.username)
    page.fill("#id_password", staff.password)
    page.click("form.card button[type=submit]")
    key = base64.b32decode(staff.totp_secret + "=" * (-len(staff.totp_secret) % 8))
    page.fill("#id_token", f"{totp(key):06d}")
    page.click("form.card button[type=submit]")


def test_manager_reads_service_outcomes(new_page, demo, screenshot):
    page = new_page("desktop", javascript=False)
    sign_in(page, demo["demo-manager"])
    page.wait_for_url("**/insights/outcomes/")
    assert page.locator("h1").inner_text() == "Service outcomes"
    funnel = page.locator("#data-funnel tbody tr")
    assert funnel.count() == 7
    assert funnel.first.locator("td").first.inner_text() == "40"
    chart = page.locator("#table-funnel svg[role=img]")
    assert chart.locator("desc").text_content().startswith("Offered mutual aid: 40")
    assert page.locator("#data-by-method tbody tr").count() >= 2
    screenshot(page, "insights-outcomes", full_page=False)
    page.goto("/insights/supervision/demo-keyworker/")
    assert "Supervision report" in page.locator("h1").inner_text()
    assert page.locator("#data-compare tbody tr").count() == 7


def test_commissioner_reads_the_area(new_page, demo, screenshot):
    page = new_page("desktop", javascript=False)
    sign_in(page, demo["demo-commissioner"])
    page.wait_for_url("**/insights/area/")
    assert page.locator("#data-area-categories").is_visible()
    cells = page.locator("#data-area-categories td").all_inner_texts()
    assert all(c in ("*", "0") or int(c) >= 5 for c in cells)
    assert page.locator("#table-heatmap svg[role=img]").count() == 1
    assert page.locator("#table-distance-map svg[role=img]").count() == 1
    page.locator("#gaps").scroll_into_view_if_needed()
    screenshot(page, "insights-area", full_page=False)
    page.goto("/insights/self-assessment/")
    assert page.locator("#self-assessment-form").is_visible()
