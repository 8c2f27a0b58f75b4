"""The public site as a newcomer uses it: a cheap phone, a town's name, a meeting tonight.

Each test drives Debian's Chromium against a live server holding a small demo directory
around Brighton and London (conftest.py).
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.e2e

RESULTS = "ol.results > li.meeting"
# The results page a phone downloads (HTML, CSS, JS; no map until asked): at most this.
MAX_RESULTS_PAGE_BYTES = 150 * 1024
# Meeting Guide codes ("O", "W", "LGBTQ") must never reach people as badges.
CODE_LIKE = re.compile(r"^[A-Z0-9-]{1,5}$")
ACCESS_EXPLAINED = re.compile(r"^(Open meeting: anyone is welcome|Closed meeting: for people)")


def search_from_home(page, place="Brighton", *, when=None, day=None, types=()):
    page.goto("/")
    page.get_by_label("Town, city or postcode").fill(place)
    if when:
        page.get_by_label("When").select_option(label=when)
    if day:
        page.get_by_label("Day").select_option(label=day)
    for label in types:
        page.get_by_label(label, exact=True).check()


def submit(page):
    with page.expect_navigation():
        page.get_by_role("button", name="Search", exact=True).click()


def shown_on_clock(page, zone: str) -> list[tuple[datetime, str]]:
    """(next start, the text shown for it) of each result, the start in `zone`."""
    pairs = page.locator(f"{RESULTS} .when time").evaluate_all(
        "nodes => nodes.map(n => [n.getAttribute('datetime'), n.textContent.trim()])"
    )
    return [(datetime.fromisoformat(iso).astimezone(ZoneInfo(zone)), text) for iso, text in pairs]


def scroll_to_top_of(page, selector):
    page.locator(selector).first.evaluate("node => node.scrollIntoView({block: 'start'})")


def test_newcomer_on_a_phone_finds_a_meeting_starting_soon(phone, screenshot):
    search_from_home(phone, "Brighton", when="Starting soon")
    screenshot(phone, "phone-home")
    submit(phone)

    query = parse_qs(urlsplit(phone.url).query)
    assert query["place"] == ["Brighton"] and query["when"] == ["soon"]
    assert query["tz"] == ["Europe/London"], "the page should send the phone's own time zone"
    expect(phone.get_by_role("heading", level=2)).to_contain_text("near Brighton")
    results = phone.locator(RESULTS)
    expect(results.first).to_be_visible()

    # Next start on the visitor's clock, soonest first.
    shown = shown_on_clock(phone, "Europe/London")
    assert shown, "no result shows a next start"
    for start, text in shown:
        assert text == start.strftime("%a %-d %b, %H:%M")
    starts = [start for start, _ in shown]
    assert starts == sorted(starts), "'Starting soon' should list the soonest first"

    # Badges in words, never codes.
    badges = results.locator(".badges .badge").all_inner_texts()
    assert badges, "no result has a badge"
    assert not [b for b in badges if CODE_LIKE.match(b.strip())], badges
    assert any(b.startswith(("Open:", "Closed:")) for b in badges), badges
    scroll_to_top_of(phone, "main section h2")
    screenshot(phone, "phone-results")

    # A meeting whose listing says open or closed: the page explains what that means.
    explained = results.filter(
        has=phone.locator(".badge", has_text=re.compile(r"^(Open|Closed):"))
    ).first
    name = explained.locator(".name a").inner_text()
    with phone.expect_navigation():
        explained.locator(".name a").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(name)
    expect(phone.get_by_text(ACCESS_EXPLAINED)).to_be_visible()
    expect(phone.get_by_text("Meetings are free.")).to_be_visible()
    screenshot(phone, "phone-meeting")

    calendar = phone.get_by_role("link", name="Add to my calendar")
    expect(calendar).to_be_visible()
    response = phone.request.get(calendar.get_attribute("href"))
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/calendar")
    body = response.text()
    assert "BEGIN:VCALENDAR" in body and "BEGIN:VEVENT" in body


def test_filters_women_only_and_by_day(phone, site):
    from mutualaid.directory.models import Meeting
    from mutualaid.lib import schedule

    women = [
        m
        for m in Meeting.objects.filter(city__in=["Brighton", "Hove"], weekday__isnull=False)
        if "women" in m.types
    ]
    assert women, "the demo directory should have women-only meetings near Brighton"
    day = schedule.DAY_NAMES[women[0].weekday]

    search_from_home(phone, "Brighton", day=day, types=["Women only"])
    submit(phone)
    query = parse_qs(urlsplit(phone.url).query)
    assert query["type"] == ["women"] and query["day"] == [day]
    results = phone.locator(RESULTS)
    expect(results.first).to_be_visible()
    assert results.count() >= 1
    for item in results.all():
        assert "Women only" in item.locator(".badges").inner_text()
        assert day in item.locator(".when .muted").inner_text()
    # The form remembers the choices, so the next search starts from them.
    expect(phone.get_by_label("Women only", exact=True)).to_be_checked()
    expect(phone.get_by_label("Day")).to_have_value(day)


def tab_until(page, condition: str, *, limit: int = 40) -> int:
    """Press Tab until the JS `condition` (about document.activeElement) holds."""
    for presses in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate(f"() => {{ const el = document.activeElement; return !!({condition}); }}"):
            return presses
    focused = page.evaluate("() => document.activeElement.outerHTML.slice(0, 200)")
    pytest.fail(f"{limit} presses of Tab never reached {condition!r}; focus is on {focused}")


def test_keyboard_only_search_reaches_the_first_result(desktop):
    desktop.goto("/")
    tab_until(desktop, "el.id === 'place'")
    desktop.keyboard.type("Brighton")
    tab_until(desktop, "el.matches('form.search button[type=submit]')")
    with desktop.expect_navigation():
        desktop.keyboard.press("Enter")
    assert parse_qs(urlsplit(desktop.url).query)["place"] == ["Brighton"]

    tab_until(desktop, "el === document.querySelector('ol.results li .name a')")
    outline = desktop.evaluate("() => getComputedStyle(document.activeElement).outlineStyle")
    assert outline != "none", "the focused result link should show where the focus is"
    name = desktop.evaluate("() => document.activeElement.textContent")
    with desktop.expect_navigation():
        desktop.keyboard.press("Enter")
    expect(desktop.get_by_role("heading", level=1)).to_have_text(name)


def test_search_works_without_javascript(new_page):
    page = new_page("phone", javascript=False)
    search_from_home(page, "Brighton", when="Evening")
    expect(page.get_by_role("button", name="Use my location")).to_be_hidden()
    submit(page)
    results = page.locator(RESULTS)
    expect(results.first).to_be_visible()
    # Without the page's script no time zone is sent: times are the meetings' own.
    for start, text in shown_on_clock(page, "Europe/London"):
        assert text == start.strftime("%a %-d %b, %H:%M")
    assert page.locator("button.map-toggle").count() == 0
    link = results.first.locator(".name a")
    name = link.inner_text()
    with page.expect_navigation():
        link.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(name)


def test_times_are_shown_on_the_visitors_own_clock(new_page):
    page = new_page("desktop", timezone="America/New_York")
    page.goto("/?place=Brighton&when=soon&tz=America/New_York")
    shown = shown_on_clock(page, "America/New_York")
    assert shown
    for start, text in shown:
        assert text == start.strftime("%a %-d %b, %H:%M")
    expect(page.locator(RESULTS).first.locator(".when .muted")).to_contain_text("(Europe/London)")
    with page.expect_navigation():
        page.locator(f"{RESULTS} .name a").first.click()
    expect(page.get_by_text("your time (America/New_York)")).to_be_visible()


def test_report_a_problem_from_a_meeting_page(phone, site):
    from mutualaid.directory.models import ChangeRequest, Meeting

    meeting = Meeting.objects.filter(city="Brighton").order_by("slug").first()
    phone.goto(meeting.get_absolute_url())
    with phone.expect_navigation():
        phone.get_by_role("link", name="Report a problem with this listing").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Report a problem with this listing")

    # Sent without saying what is wrong: the form says so and keeps the page.
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send the report").click()
    expect(phone.get_by_role("alert")).to_contain_text("Please choose what is wrong")

    phone.get_by_label("Wrong time or day").check()
    phone.get_by_label("Details").fill("It starts at 19:30 now, not 19:00.")
    with phone.expect_navigation():
        phone.get_by_role("button", name="Send the report").click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("Thank you")
    reports = list(ChangeRequest.objects.filter(meeting=meeting))
    assert [(r.kind, r.details) for r in reports] == [
        ("wrong_time", "It starts at 19:30 now, not 19:00.")
    ]


def is_map_tile(url: str) -> bool:
    return "tile" in (urlsplit(url).hostname or "")


def test_results_page_weight_on_a_phone(phone):
    responses = []
    phone.on("response", lambda response: responses.append(response))
    phone.goto("/?place=Brighton&when=soon&tz=Europe/London", wait_until="networkidle")
    assert phone.locator(RESULTS).count() == 50, "a full page of results is the heaviest case"

    sizes = {}
    for response in responses:
        if is_map_tile(response.url) or not response.ok:
            continue
        sizes[response.url] = len(response.body())
    total = sum(sizes.values())
    detail = ", ".join(f"{urlsplit(u).path} {n / 1024:.1f} KB" for u, n in sizes.items())
    print(f"\nresults page: {total / 1024:.1f} KB in {len(sizes)} responses ({detail})")
    assert not [u for u in sizes if "leaflet" in u], "Leaflet should load only when asked for"
    assert total <= MAX_RESULTS_PAGE_BYTES, (
        f"the results page weighs {total / 1024:.1f} KB, over "
        f"{MAX_RESULTS_PAGE_BYTES / 1024:.0f} KB: {detail}"
    )


def test_results_map_on_a_desktop(desktop, screenshot):
    from django.contrib.staticfiles import finders

    desktop.goto("/?place=Brighton&when=soon&tz=Europe/London")
    toggle = desktop.get_by_role("button", name="Show on a map")
    if not finders.find("leaflet/leaflet.js"):
        # Without Leaflet (`make setup` installs it) the list is the whole page.
        expect(toggle).to_have_count(0)
        scroll_to_top_of(desktop, "main section h2")
        screenshot(desktop, "desktop-results")
        return
    expect(toggle).to_have_attribute("aria-expanded", "false")
    toggle.click()
    hide = desktop.get_by_role("button", name="Hide the map")
    expect(hide).to_have_attribute("aria-expanded", "true")
    expect(desktop.locator("#results-map.leaflet-container")).to_be_visible()
    placed = desktop.locator(f"{RESULTS}[data-lat]").count()
    expect(desktop.locator("#results-map path.leaflet-interactive")).to_have_count(placed)
    scroll_to_top_of(desktop, "main section h2")
    screenshot(desktop, "desktop-results-map")
