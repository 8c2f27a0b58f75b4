"""Which database the suite really ran on, and SQLite's WAL mode.

CI runs the suite twice: without DATABASE_URL (SQLite) and with a PostgreSQL
DATABASE_URL. The first test fails if the backend in use is not the one the
environment asked for. SQLite's test database is in memory (settings set
TEST.NAME to None), where WAL cannot apply, so WAL is checked on a real file
database opened through Django's backend with the OPTIONS the settings produce.
"""

import os
from urllib.parse import urlsplit

import pytest
from django.db import connection
from django.db.utils import ConnectionHandler

from mutualaid import settings as project_settings

VENDOR_BY_SCHEME = {
    "postgres": "postgresql",
    "postgresql": "postgresql",
    "pgsql": "postgresql",
    "postgis": "postgresql",
    "sqlite": "sqlite",
    "spatialite": "sqlite",
    "mysql": "mysql",
    "mysql2": "mysql",
}


@pytest.mark.django_db
def test_backend_is_the_one_database_url_asks_for():
    url = os.environ.get("DATABASE_URL")
    expected = VENDOR_BY_SCHEME[urlsplit(url).scheme.split("+")[0]] if url else "sqlite"
    assert connection.vendor == expected

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT current_setting('server_version_num')::int")
            assert cursor.fetchone()[0] >= 150000  # production and CI run PostgreSQL 15
        elif connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
            assert cursor.fetchone()[0]
    # The suite talks to a test database, never the one DATABASE_URL names.
    if connection.vendor != "sqlite" or not connection.is_in_memory_db():
        assert connection.settings_dict["NAME"].split("/")[-1].startswith("test_")


@pytest.mark.django_db
def test_sqlite_test_database_journal_mode_is_honest():
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        mode = cursor.fetchone()[0]
    # An in-memory database ignores WAL; a file test database must honour it.
    assert mode == ("memory" if connection.is_in_memory_db() else "wal")


@pytest.fixture
def sqlite_default_config(monkeypatch, tmp_path):
    """database_config() as a developer without DATABASE_URL gets it, under tmp_path."""
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(project_settings, "VAR_DIR", tmp_path / "var")
    return project_settings.database_config()


def test_default_database_config_is_sqlite_file_in_wal_mode(sqlite_default_config, tmp_path):
    config = sqlite_default_config
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == tmp_path / "var" / "mutualaid.sqlite3"
    assert "PRAGMA journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert config["TEST"]["NAME"] is None  # tests use an in-memory database


def test_sqlite_file_database_opened_by_django_is_in_wal_mode(
    sqlite_default_config, django_db_blocker
):
    handler = ConnectionHandler({"default": sqlite_default_config})
    conn = handler["default"]
    try:
        with django_db_blocker.unblock(), conn.cursor() as cursor:
            cursor.execute("PRAGMA journal_mode")
            assert cursor.fetchone()[0] == "wal"
            cursor.execute("PRAGMA synchronous")
            assert cursor.fetchone()[0] == 1  # NORMAL
            cursor.execute("PRAGMA busy_timeout")
            assert cursor.fetchone()[0] == 5000
            cursor.execute("CREATE TABLE t (x integer)")
            cursor.execute("INSERT INTO t VALUES (1)")
        # Writers append to the -wal file beside the database.
        assert sqlite_default_config["NAME"].with_name("mutualaid.sqlite3-wal").exists()
    finally:
        handler.close_all()
