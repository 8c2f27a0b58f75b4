"""In Chromium: no page breaks its Content-Security-Policy, and a Spanish speaker can use the
site from start to finish (by the browser's language, or the switcher without JavaScript).

Each page is loaded with a listener for `securitypolicyviolation` events (added before the
page's own scripts run) and with the console watched for Chromium's "Refused to ..."
messages; any of either fails the test.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

RESULTS = "ol.results > li.meeting"
WATCH = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__cspViolations.push(e.violatedDirective + " blocked " + (e.blockedURI || "inline") +
    " at " + (e.sourceFile || document.location.pathname) + ":" + e.lineNumber);
});
"""


class Watched:
    """A page whose CSP violations are collected, from events and from the console."""

    def __init__(self, page):
        self.page = page
        self.console = []
        page.add_init_script(WATCH)
        page.on("console", self._console)

    def _console(self, message):
        text = message.text
        if "Content Security Policy" in text or text.startswith("Refused to"):
            self.console.append(text)

    def visit(self, url):
        response = self.page.goto(url)
        assert response.status == 200, f"{url}: {response.status}"
        policy = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in policy and "unsafe-inline" not in policy, url
        self.check(url)

    def check(self, where):
        events = self.page.evaluate("window.__cspViolations || []")
        found, self.console = [*events, *self.console], []
        self.page.evaluate("window.__cspViolations = []")
        assert not found, f"{where}: Content-Security-Policy violations:\n" + "\n".join(found)


def test_public_pages_keep_their_content_security_policy(desktop):
    from django.contrib.staticfiles import finders

    watched = Watched(desktop)
    watched.visit("/")
    watched.visit("/?place=Brighton&when=soon&tz=Europe/London")
    if finders.find("leaflet/leaflet.js"):
        desktop.get_by_role("button", name="Show on a map").click()
        expect(desktop.locator("#results-map.leaflet-container")).to_be_visible()
        expect(desktop.locator("#results-map path.leaflet-interactive").first).to_be_attached()
        # Leaflet's own stylesheet applied (a static file): the map has its layout.
        position = desktop.locator("#results-map .leaflet-pane").first.evaluate(
            "node => getComputedStyle(node).position"
        )
        assert position == "absolute"
        watched.check("the results map")
    link = desktop.locator(f"{RESULTS} .name a").first
    meeting = link.get_attribute("href").split("?")[0]
    with desktop.expect_navigation():
        link.click()
    watched.check("a meeting's page")
    with desktop.expect_navigation():
        desktop.get_by_role("link", name="Back to results").click()
    assert "place=Brighton" in desktop.url, "Back to results returns to the results"
    watched.visit(meeting)
    watched.visit(meeting + "report/")
    watched.visit("/guide/")
    watched.visit("/guide/?who=me&about=alcohol&place=Brighton")
    watched.visit("/print/")
    watched.visit("/print/?place=Brighton&format=html")
    watched.visit("/accounts/login/")
    watched.visit("/admin/login/")
    watched.visit("/api/v1/docs")
    expect(desktop.locator(".swagger-ui").first).to_be_visible()
    watched.check("the API docs")


def test_casework_pages_keep_their_content_security_policy(audit_trail_emptied_after, desktop):
    from mutualaid.accounts.models import Role
    from tests.accounts.helpers import (
        STAFF_PASSWORD,
        current_totp,
        make_organisation,
        make_staff,
    )
    from tests.casework.helpers import make_client

    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    person = make_client(keyworker)
    watched = Watched(desktop)
    watched.visit("/accounts/login/")
    desktop.get_by_label("Username").fill(keyworker.get_username())
    desktop.get_by_label("Password").fill(STAFF_PASSWORD)
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Sign in").click()
    desktop.locator("#id_token").fill(current_totp(keyworker.totp_device))
    with desktop.expect_navigation():
        desktop.get_by_role("button", name="Continue").click()
    watched.check("signing in")
    for url in (
        "/casework/",
        f"/casework/clients/{person.pk}/",
        "/casework/volunteers/",
        "/accounts/",
    ):
        watched.visit(url)


@pytest.fixture
def spanish_phone(browser, site):
    """A phone whose browser is set to Spanish (so it sends Accept-Language: es-ES)."""
    from tests.e2e.conftest import PHONE, TIMEOUT_MS

    context = browser.new_context(
        base_url=site.url,
        viewport=PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="es-ES",
        timezone_id="Europe/London",
    )
    context.set_default_timeout(TIMEOUT_MS)
    elsewhere = re.compile(r"^(?!" + re.escape(site.url) + r"/)(https?|wss?)://")
    context.route(elsewhere, lambda route: route.abort())
    yield context.new_page()
    context.close()


def test_a_spanish_speaker_finds_a_meeting(spanish_phone, screenshot):
    phone = spanish_phone
    watched = Watched(phone)
    watched.visit("/")
    expect(phone.get_by_role("heading", level=1)).to_have_text("Encuentre una reunión")
    phone.get_by_label("Pueblo, ciudad o código postal").fill("Brighton")
    phone.get_by_label("Cuándo").select_option(label="Empiezan pronto")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Buscar", exact=True).click()
    expect(phone.get_by_role("heading", level=2)).to_contain_text("cerca de Brighton")
    badges = phone.locator(f"{RESULTS} .badges .badge").all_inner_texts()
    assert any(b.startswith(("Abierta:", "Cerrada:")) for b in badges), badges
    when = phone.locator(f"{RESULTS} .when time").first.inner_text()
    assert re.match(r"^(lun|mar|mié|jue|vie|sáb|dom)", when), when
    phone.locator("main section h2").first.evaluate("n => n.scrollIntoView({block: 'start'})")
    screenshot(phone, "phone-results-es")
    watched.check("the Spanish results")

    explained = (
        phone.locator(RESULTS)
        .filter(has=phone.locator(".badge", has_text=re.compile(r"^(Abierta|Cerrada):")))
        .first
    )
    with phone.expect_navigation():
        explained.locator(".name a").click()
    expect(phone.get_by_text(re.compile(r"^Reunión (abierta|cerrada):"))).to_be_visible()
    expect(phone.get_by_role("link", name="Añadir a mi calendario")).to_be_visible()
    screenshot(phone, "phone-meeting-es")
    watched.check("the Spanish meeting page")

    watched.visit("/guide/?who=me&about=alcohol&place=Brighton")
    expect(phone.get_by_role("heading", level=1)).to_have_text("¿Qué grupo me puede venir bien?")
    expect(phone.get_by_text("Lo que la gente valora").first).to_be_visible()


def test_the_language_switcher_works_without_javascript(new_page):
    page = new_page("phone", javascript=False)
    page.goto("/?place=Brighton")
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a meeting")
    with page.expect_navigation():
        page.get_by_role("button", name="Ver este sitio en español").click()
    assert page.url.endswith("/?place=Brighton"), "the switcher keeps the visitor's search"
    expect(page.get_by_role("heading", level=1)).to_have_text("Encuentre una reunión")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    with page.expect_navigation():
        page.get_by_role("button", name="Read this site in English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Find a meeting")
