"""End-to-end tests: Debian's Chromium, driven by Playwright, against a live server.

Each test gets a small deterministic demo directory (Brighton, Hove and London, from the
project's own synthetic generator with fixed seeds) in a transactional test database that
the live server shares. Every xdist worker that runs e2e tests starts its own live server
and its own browser; the database is reset after each test (serialized rollback, so the
fellowships that migrations seed come back for the next one).

Nothing here downloads a browser: `make setup` installs Debian's `chromium` (as root) and
axe-core from the npm registry into var/npm. Without them these tests FAIL, saying so.

UPDATE_SCREENSHOTS=1 writes the screenshots the tests take to docs/img/ (for README.md);
otherwise no test writes into the tree.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    # Without these, Chromium's own connections get refused here and slow every launch.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
SCREENSHOT_DIR = PROJECT_DIR / "docs" / "img"
TIMEOUT_MS = 10_000

# The demo directory: (seed, towns, count). Slugs carry the seed, so batches never clash.
DEMO_BATCHES = [
    (2026, ["Brighton", "Hove"], 220),
    (2027, ["London"], 130),
]


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: drives Debian's Chromium against a live server (tests/e2e)"
    )


@dataclass(frozen=True)
class Site:
    """The live server and what was loaded into it."""

    url: str
    meetings: int


def _load_demo_directory() -> int:
    from django.core.cache import cache

    from mutualaid.directory.demo import (
        DEMO_SOURCE_NAME,
        fellowships_by_code,
        meeting_objects,
    )
    from mutualaid.directory.models import Meeting, Source, SourceFormat
    from mutualaid.lib import synthetic

    cache.clear()  # the report form's rate limits count per address, kept in the cache
    source = Source.objects.create(
        name=DEMO_SOURCE_NAME,
        format=SourceFormat.DEMO,
        location="mutualaid.lib.synthetic",
        default_timezone=synthetic.TIMEZONE,
    )
    by_code = fellowships_by_code()
    created = 0
    for seed, towns, count in DEMO_BATCHES:
        rows = synthetic.generate_meetings(count, seed=seed, towns=towns)
        created += len(Meeting.objects.bulk_create(meeting_objects(rows, by_code, source=source)))
    return created


@pytest.fixture
def site(transactional_db, django_db_serialized_rollback, live_server) -> Site:
    """The live server with a fresh demo directory (a few hundred meetings)."""
    return Site(url=live_server.url, meetings=_load_demo_directory())


@pytest.fixture
def audit_trail_emptied_after(site):
    """For tests whose pages commit audit events (signing in, client pages). The database
    is emptied after each test, and the audit table's append-only triggers (audit
    migration 0002) refuse that: after the test, and only then, lift them, delete the
    test's events and put them back."""
    yield
    import importlib

    from django.db import connection

    triggers = importlib.import_module("mutualaid.audit.migrations.0002_append_only_triggers")
    down = {"sqlite": triggers.SQLITE_DOWN, "postgresql": triggers.POSTGRES_DOWN}
    up = {"sqlite": triggers.SQLITE_UP, "postgresql": triggers.POSTGRES_UP}
    with connection.cursor() as cursor:
        for sql in down.get(connection.vendor, []):
            cursor.execute(sql)
        cursor.execute("DELETE FROM audit_auditevent")
        for sql in up.get(connection.vendor, []):
            cursor.execute(sql)


@pytest.fixture(scope="package")
def browser(django_db_setup):
    """Debian's Chromium, one per xdist worker that runs e2e tests, closed after the last
    of them: while Playwright runs, this thread looks to asyncio (and Django) as if an
    event loop were running on it, which no other test should have to put up with."""
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: the e2e tests need Debian's chromium. Run `make setup` "
            "(as root it runs `apt-get install chromium`), or: apt-get install -y chromium",
            pytrace=False,
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("playwright is not installed: run `make setup`", pytrace=False)
    from django.db import connections

    # Playwright's sync API marks its asyncio loop as running on this thread between its
    # calls. Django then refuses ORM calls (SynchronousOnlyOperation), though nothing here
    # is async, and hands out other, context-local connection objects: these lack the
    # snapshot of the migrated database that serialized rollback restores after each
    # test, so it is copied over to them.
    snapshots = {
        alias: connections[alias]._test_serialized_contents
        for alias in connections
        if hasattr(connections[alias], "_test_serialized_contents")
    }
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    for alias, snapshot in snapshots.items():
        connections[alias]._test_serialized_contents = snapshot
    try:
        try:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        except Exception as exc:
            pytest.fail(f"could not start {CHROMIUM}: {exc}", pytrace=False)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def new_page(browser, site):
    """new_page(device="phone"|"desktop", javascript=True, timezone="Europe/London"): a page
    in a fresh browser context whose relative URLs go to the live server. Requests to any
    other host (map tiles) are refused, so nothing leaves the machine."""
    contexts = []
    elsewhere = re.compile(r"^(?!" + re.escape(site.url) + r"/)(https?|wss?)://")

    def make(device="phone", *, javascript=True, timezone="Europe/London", **options):
        phone = device == "phone"
        context = browser.new_context(
            base_url=site.url,
            viewport=PHONE if phone else DESKTOP,
            device_scale_factor=2 if phone else 1,
            is_mobile=phone,
            has_touch=phone,
            java_script_enabled=javascript,
            locale="en-GB",
            timezone_id=timezone,
            **options,
        )
        context.set_default_timeout(TIMEOUT_MS)
        context.route(elsewhere, lambda route: route.abort())
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def phone(new_page):
    return new_page("phone")


@pytest.fixture
def desktop(new_page):
    return new_page("desktop")


@pytest.fixture
def screenshot():
    """screenshot(page, "phone-home"): docs/img/phone-home.png, only with UPDATE_SCREENSHOTS=1."""

    def take(page, name, **options):
        if os.environ.get("UPDATE_SCREENSHOTS") != "1":
            return None
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOT_DIR / f"{name}.png"
        page.screenshot(path=str(path), **options)
        return path

    return take
