"""Shared pytest setup for the whole suite. Keep it generic; add fixtures below."""

from pathlib import Path

import pytest

PROJECT_DIR = Path(__file__).resolve().parent.parent
# Real feeds live beside the project (../shared), never inside it; a bare clone has none.
REALFEEDS_DIR = PROJECT_DIR.parent / "shared" / "data" / "realfeeds"


def pytest_report_header(config):
    """Say which database the run uses, so a CI log shows SQLite vs PostgreSQL."""
    from django.conf import settings

    db = settings.DATABASES["default"]
    where = f"{db.get('HOST') or ''}:{db.get('PORT') or ''}".strip(":")
    return f"database: {db['ENGINE'].rsplit('.', 1)[-1]} {db.get('NAME')}" + (
        f" at {where}" if where else ""
    )


def pytest_collection_modifyitems(config, items):
    """Tests marked realfeeds skip when ../shared/data/realfeeds is absent."""
    if REALFEEDS_DIR.is_dir():
        return
    skip = pytest.mark.skip(reason=f"{REALFEEDS_DIR} is absent")
    for item in items:
        if item.get_closest_marker("realfeeds"):
            item.add_marker(skip)
