"""The SQL path of a near search keeps only what the page needs (search._search_near).

Without the index (small directories, inside transactions, while a worker builds its
index) a near search streams the matching rows, counts them and keeps the best `need`
(by distance) or the soonest few (by next start). Checked here against the brute-force
filter of tests/directory/test_search.py, with the kept set forced small so that the
"read again with more kept" step runs, and by memory: the search's peak allocation must
not grow with the number of matches.
"""

import random
import tracemalloc
from datetime import time

import pytest
from django.test import override_settings

from mutualaid.accounts.models import Organisation
from mutualaid.directory import search as search_module
from mutualaid.directory.models import Fellowship, Meeting
from mutualaid.directory.search import SearchQuery, search
from tests.directory.test_search import (
    NOWS,
    build_directory,
    check_against_brute_force,
    random_query,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def sql_only():
    with override_settings(SEARCH_INDEX=False):
        yield


@pytest.mark.parametrize("seed", [8, 13])
def test_bounded_sql_path_equals_brute_force_with_a_small_kept_set(sql_only, monkeypatch, seed):
    """Keeping need + a few rows (not 16x) makes "upcoming" read the rows again, often."""
    monkeypatch.setattr(search_module, "KEEP_PER_NEED", 1)
    monkeypatch.setattr(search_module, "KEEP_AT_LEAST", 1)
    monkeypatch.setattr(search_module, "_CHUNK_ROWS", 7)
    calls = {"again": 0}
    real = search_module._search_near_rows

    def counting(query):
        calls["again"] += 1
        return real(query)

    monkeypatch.setattr(search_module, "_search_near_rows", counting)
    rng = random.Random(seed)
    org = Organisation.objects.create(name=f"Org {seed}", slug=f"org-{seed}")
    meetings = build_directory(rng, 600, org)
    near, upcoming = 0, 0
    for _ in range(300):
        query = random_query(rng, org.pk)
        query = SearchQuery(**{**query.__dict__, "now": rng.choice(NOWS)})
        found = check_against_brute_force(meetings, query).count
        if query.near is not None and found > query.offset + query.limit:
            near += 1
            upcoming += query.effective_sort == "start"
    assert near > 15 and upcoming > 3, (near, upcoming)
    assert calls["again"] > upcoming  # some upcoming searches read their rows twice


def _london(n: int, start: int = 0) -> None:
    aa = Fellowship.objects.get(code="AA")
    rng = random.Random(n)
    meetings = []
    for i in range(start, start + n):
        m = Meeting(
            fellowship=aa,
            name=f"London {i}",
            slug=f"london-{i}",
            weekday=i % 7,
            start_time=time(rng.randrange(24), rng.randrange(0, 60, 5)),
            timezone="Europe/London",
            latitude=51.5074 + rng.uniform(-0.1, 0.1),
            longitude=-0.1278 + rng.uniform(-0.15, 0.15),
        )
        m.refresh_derived()
        meetings.append(m)
    Meeting.objects.bulk_create(meetings)


def _peak_bytes(query) -> tuple[int, int]:
    search(query)  # warm: imports, query plans, zone data
    tracemalloc.start()
    try:
        got = search(query)
        return got.count, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("upcoming", [False, True])
def test_sql_path_memory_does_not_grow_with_the_matches(sql_only, monkeypatch, upcoming):
    """Every match held as a tuple (the SQL path before) made the peak grow ~linearly:
    4x the matches was ~4x the peak. Streamed and bounded, it stays about the same."""
    monkeypatch.setattr(search_module, "_CHUNK_ROWS", 100, raising=False)
    query = SearchQuery(
        near=(51.5074, -0.1278), radius_km=25, upcoming=upcoming, limit=10, now=NOWS[0]
    )
    _london(1500)
    small_count, small_peak = _peak_bytes(query)
    _london(4500, start=1500)
    large_count, large_peak = _peak_bytes(query)
    assert (small_count, large_count) == (1500, 6000)
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)
