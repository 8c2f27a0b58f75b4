"""Shared pytest setup for the whole suite. Keep it generic; add fixtures below."""

from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Real feeds live beside the project (../shared), never inside it; a bare clone has none.
REALFEEDS_DIR = PROJECT_DIR.parent / "shared" / "data" / "realfeeds"


def pytest_terminal_summary(terminalreporter):
    """Say which database the run used (even under -q), so a CI log shows SQLite vs PostgreSQL."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    engine = db["ENGINE"].rsplit(".", 1)[-1]
    test_name = (db.get("TEST") or {}).get("NAME")
    if engine == "sqlite3" and not test_name:
        where = "test database in memory"
    else:
        where = f"test database {test_name or 'test_' + str(db['NAME'])}"
        if db.get("HOST"):
            where += f" at {db['HOST']}:{db.get('PORT') or ''}"
    terminalreporter.write_line(f"database: {engine}, {where}")


def pytest_collection_modifyitems(config, items):
    """Tests marked realfeeds skip when ../shared/data/realfeeds is absent."""
    if REALFEEDS_DIR.is_dir():
        return
    skip = pytest.mark.skip(reason=f"{REALFEEDS_DIR} is absent")
    for item in items:
        if item.get_closest_marker("realfeeds"):
            item.add_marker(skip)


_feed_dirs = iter(range(10**9))


@pytest.fixture(autouse=True)
def _own_feed_cache_dir(tmp_path_factory):
    """Each test renders its Meeting Guide feed files into its own folder (created only
    when a feed is rendered), never into var/feeds nor into another test's, and in the
    request that needs them."""
    from django.conf import settings

    before = (
        settings.FEED_CACHE_DIR,
        settings.FEED_RENDER_IN_BACKGROUND,
        settings.SEARCH_INDEX_BUILD,
    )
    settings.FEED_CACHE_DIR = tmp_path_factory.getbasetemp() / "feeds" / str(next(_feed_dirs))
    # A rendering or index-building thread would read through its own connection, outside
    # the test's transaction (and on the shared in-memory SQLite database could find a
    # table locked by the test): tests render and build in the request.
    # tests/directory/test_feed_files.py and test_search_index_build.py cover the threads.
    settings.FEED_RENDER_IN_BACKGROUND = False
    settings.SEARCH_INDEX_BUILD = "inline"
    yield
    (
        settings.FEED_CACHE_DIR,
        settings.FEED_RENDER_IN_BACKGROUND,
        settings.SEARCH_INDEX_BUILD,
    ) = before
