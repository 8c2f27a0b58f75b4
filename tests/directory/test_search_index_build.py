"""The search index is built in a background thread (SEARCH_INDEX_BUILD="background").

No search waits for a build: while one runs, searches answer from SQL (the same results
as the index's); the index is swapped in when it is done, only if its stamp is still the
current one; a failed build is logged without row data and retried by a later search.
These tests commit (transactional_db): the builder thread reads on its own connection.
"""

import logging
import random
import threading
import time
from datetime import time as clock

import pytest
from django.db import connections
from django.test import override_settings

from mutualaid.accounts.models import Organisation
from mutualaid.directory import search_index
from mutualaid.directory.models import Fellowship, Meeting
from mutualaid.directory.search import SearchQuery, search
from tests.directory.test_search import NOWS, build_directory
from tests.directory.test_search_index import as_rows

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def _reset():
    search_index.wait_for_build(timeout=60)
    search_index._indexes.clear()
    search_index._first_seen.clear()
    search_index._failed_at.clear()


@pytest.fixture
def background():
    with override_settings(
        SEARCH_INDEX=True,
        SEARCH_INDEX_MIN_MEETINGS=0,
        SEARCH_INDEX_BUILD="background",
        SEARCH_INDEX_RETRY_SECONDS=0,
    ):
        _reset()
        yield
        _reset()


@pytest.fixture
def directory():
    rng = random.Random(42)
    org = Organisation.objects.create(name="Org", slug="org")
    build_directory(rng, 300, org)
    return org


def queries(org):
    return [
        SearchQuery(near=(51.5, -0.12), radius_km=40, now=NOWS[0], limit=30),
        SearchQuery(near=(51.5, -0.12), radius_km=60, upcoming=True, now=NOWS[1], limit=20),
        SearchQuery(
            near=(50.82, -0.14),
            radius_km=30,
            types=("women",),
            organisation_ids=(org.pk,),
            now=NOWS[2],
        ),
        SearchQuery(near=(40.71, -74.0), radius_km=50, weekdays=(2, 5), now=NOWS[3]),
    ]


class Gate:
    """Wraps NearIndex.build: the builder thread waits at the gate until it is opened."""

    def __init__(self, monkeypatch, *, before=True):
        self.real = search_index.NearIndex.build
        self.reached, self.open = threading.Event(), threading.Event()
        self.before = before
        self.calls = 0
        monkeypatch.setattr(search_index.NearIndex, "build", classmethod(self._build))

    def _build(self, cls, using):
        self.calls += 1
        if self.before:
            self.reached.set()
            assert self.open.wait(60)
        index = self.real(using)
        if not self.before:
            self.reached.set()
            assert self.open.wait(60)
        return index


def test_searches_during_a_build_use_sql_and_the_index_is_swapped_in(
    background, directory, monkeypatch
):
    gate = Gate(monkeypatch)
    first = queries(directory)[0]
    assert search_index.for_query(first) is None  # the first of a stamp: SQL, no build
    assert "default" not in search_index._builders
    started = time.monotonic()
    during = [search(q) for q in queries(directory)]  # the second starts the builder
    assert gate.reached.wait(30)
    assert search_index._builders["default"].is_alive()
    assert search_index._indexes.get("default") is None
    assert search_index.for_query(first) is None  # still building: SQL answers
    took = time.monotonic() - started
    assert took < 20  # they did not wait for the gate (opened only below)
    with override_settings(SEARCH_INDEX=False):
        sql = [search(q) for q in queries(directory)]
    assert [as_rows(r) for r in during] == [as_rows(r) for r in sql]
    gate.open.set()
    assert search_index.wait_for_build(timeout=60)
    index = search_index.for_query(first)
    assert index is not None and search_index._indexes["default"] is index
    after = [search(q) for q in queries(directory)]
    assert [as_rows(r) for r in after] == [as_rows(r) for r in during]
    assert sum(r.count for r in after) > 50
    assert gate.calls == 1  # at most one build per process and database


def test_an_index_outdated_while_it_was_built_is_not_used(background, directory, monkeypatch):
    gate = Gate(monkeypatch, before=False)  # waits after reading the rows
    query = queries(directory)[0]
    search_index.for_query(query)
    search_index.for_query(query)  # starts the builder
    assert gate.reached.wait(30)
    aa = Fellowship.objects.get(code="AA")
    Meeting(
        fellowship=aa,
        name="New while building",
        weekday=1,
        start_time=clock(19, 0),
        timezone="Europe/London",
        latitude=51.5,
        longitude=-0.12,
    ).save()  # moves the generation
    gate.open.set()
    assert search_index.wait_for_build(timeout=60)
    assert search_index._indexes.get("default") is None  # discarded, never answered
    with override_settings(SEARCH_INDEX=False):
        expected = as_rows(search(query))
    assert any(pk for pk, *_ in expected[1] if pk == Meeting.objects.get(name__startswith="New").pk)
    assert as_rows(search(query)) == expected  # the first search of the new stamp: SQL
    assert as_rows(search(query)) == expected  # starts a new build; SQL meanwhile
    assert search_index.wait_for_build(timeout=60)
    assert search_index.for_query(query) is not None
    assert as_rows(search(query)) == expected
    assert gate.calls == 2


def test_a_failed_build_is_logged_without_row_data_and_retried(
    background, directory, monkeypatch, caplog
):
    real = search_index.NearIndex.build
    calls = []

    def failing_once(cls, using):
        calls.append(using)
        if len(calls) == 1:
            raise RuntimeError("row 17: Serenity Group, 12 High Street")
        return real(using)

    monkeypatch.setattr(search_index.NearIndex, "build", classmethod(failing_once))
    query = queries(directory)[1]
    with override_settings(SEARCH_INDEX_RETRY_SECONDS=3600):
        search(query)
        with caplog.at_level(logging.ERROR, logger="mutualaid.directory.search_index"):
            search(query)  # starts the builder, which fails
            assert search_index.wait_for_build(timeout=60)
        assert len(calls) == 1
        failures = [r for r in caplog.records if r.name == "mutualaid.directory.search_index"]
        assert len(failures) == 1 and "RuntimeError" in failures[0].getMessage()
        assert "Serenity" not in caplog.text and "High Street" not in caplog.text
        assert search_index._indexes.get("default") is None
        search(query)  # within the retry interval: no new build
        assert search_index.wait_for_build(timeout=60) and len(calls) == 1
    search(query)  # retry interval over (0 s): a later search tries again
    assert search_index.wait_for_build(timeout=60)
    assert len(calls) == 2
    assert search_index.for_query(query) is not None
    assert "default" not in search_index._failed_at


def test_the_builder_thread_closes_its_connection(background, directory, monkeypatch):
    closed = []
    real_close = type(connections["default"]).close

    def close(self):
        closed.append(threading.current_thread().name)
        return real_close(self)

    monkeypatch.setattr(type(connections["default"]), "close", close)
    query = queries(directory)[0]
    search_index.for_query(query)
    search_index.for_query(query)
    assert search_index.wait_for_build(timeout=60)
    assert "search-index-default" in closed
    assert search_index.for_query(query) is not None


def test_inline_mode_builds_in_the_search(directory):
    with override_settings(SEARCH_INDEX_MIN_MEETINGS=0, SEARCH_INDEX_BUILD="inline"):
        _reset()
        query = queries(directory)[0]
        assert search_index.for_query(query) is None
        assert search_index.for_query(query) is not None
        assert "default" not in search_index._builders
        _reset()


def test_the_index_is_small(background, directory):
    """Narrow columns: well under the 120 bytes a meeting the first version held."""
    with override_settings(SEARCH_INDEX_BUILD="inline"):
        query = queries(directory)[0]
        search_index.for_query(query)
        index = search_index.for_query(query)
    rows = len(index.placed) + len(index.online)
    assert rows > 200
    assert index.nbytes / rows < 60
    assert index.placed.ids.dtype.itemsize <= 4 and index.placed.types.dtype.itemsize <= 2


def test_the_rows_and_the_stamp_come_from_one_snapshot(directory, monkeypatch):
    """A meeting committed by another connection between the build's stamp and its rows
    is in neither (read separately, the rows would be newer than the stamp they claim)."""
    if connection_is_in_memory_sqlite():
        pytest.skip("another connection cannot write to a shared-cache in-memory database")
    real = search_index._generation
    added = []

    def then_someone_writes(using):
        stamp = real(using)
        if not added:

            def write():
                aa = Fellowship.objects.get(code="AA")
                meeting = Meeting(
                    fellowship=aa,
                    name="Committed mid-build",
                    weekday=3,
                    start_time=clock(18, 0),
                    timezone="Europe/London",
                    latitude=51.5,
                    longitude=-0.12,
                )
                meeting.save()
                added.append(meeting.pk)
                connections["default"].close()

            thread = threading.Thread(target=write)
            thread.start()
            thread.join(60)
        return stamp

    monkeypatch.setattr(search_index, "_generation", then_someone_writes)
    with override_settings(SEARCH_INDEX_MIN_MEETINGS=0):
        index = search_index.NearIndex.build("default")
    assert added
    assert index.stamp[-1] < added[0]  # the highest id it claims
    assert added[0] not in index.placed.ids.tolist()
    assert search_index._generation("default") != index.stamp  # so it would not be used


def connection_is_in_memory_sqlite() -> bool:
    db = connections["default"]
    return db.vendor == "sqlite" and db.is_in_memory_db()


SQLITE_SNAPSHOT_SCRIPT = """
import threading
from datetime import time

import django

django.setup()
from django.core.management import call_command
from django.db import connections

call_command("migrate", verbosity=0)
from mutualaid.directory import search_index
from mutualaid.directory.models import Fellowship, Meeting

aa = Fellowship.objects.get(code="AA")


def meeting(name):
    return Meeting(
        fellowship=aa, name=name, weekday=3, start_time=time(18, 0),
        timezone="Europe/London", latitude=51.5, longitude=-0.12,
    )


for i in range(5):
    meeting(f"Before {i}").save()
real = search_index._generation
added = []


def then_someone_writes(using):
    stamp = real(using)
    if not added:

        def write():
            m = meeting("Committed mid-build")
            m.save()
            added.append(m.pk)
            connections["default"].close()

        thread = threading.Thread(target=write)
        thread.start()
        thread.join(60)
    return stamp


search_index._generation = then_someone_writes
index = search_index.NearIndex.build("default")
assert added, "the writer did not commit (locked out by the build?)"
assert index.stamp[-1] < added[0], (index.stamp, added)
assert added[0] not in index.placed.ids.tolist()
assert len(index.placed) == 5
assert real("default") != index.stamp
print("ok")
"""


def test_the_rows_and_the_stamp_come_from_one_snapshot_on_sqlite(tmp_path):
    """The same on an SQLite file in WAL mode, as in production (the test database is in
    memory): the build's deferred read transaction keeps one snapshot and does not keep
    a writer out."""
    import os
    import subprocess
    import sys

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mutualaid.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'snapshot.sqlite3'}",
        "SEARCH_INDEX_MIN_MEETINGS": "0",
    }
    result = subprocess.run(
        [sys.executable, "-c", SQLITE_SNAPSHOT_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().endswith("ok")
