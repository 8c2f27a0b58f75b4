"""The in-process NumPy index (search_index.py) gives exactly the SQL path's results.

These tests commit (transactional_db): inside a transaction search() uses SQL, so the
index is only used, as in production, between transactions. Run on SQLite and
PostgreSQL like every test.
"""

import random
from datetime import UTC, datetime, time

import pytest
from django.test import override_settings

from mutualaid.accounts.models import Organisation
from mutualaid.directory import cache, search_index
from mutualaid.directory.models import Fellowship, Meeting
from mutualaid.directory.search import SearchQuery, search
from mutualaid.lib import geo
from tests.directory.test_search import NOWS, brute_force, build_directory, random_query

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture
def index_on():
    with override_settings(
        SEARCH_INDEX=True, SEARCH_INDEX_MIN_MEETINGS=0, SEARCH_INDEX_BUILD="inline"
    ):
        search_index._indexes.clear()
        search_index._first_seen.clear()
        yield
    search_index._indexes.clear()
    search_index._first_seen.clear()


def both(query):
    """(index results, SQL results) of one query."""
    search_index.for_query(query)  # the first of a generation uses SQL; this builds it
    assert search_index.for_query(query) is not None or query.text.strip()
    fast = search(query)
    with override_settings(SEARCH_INDEX=False):
        slow = search(query)
    return fast, slow


def as_rows(results):
    return results.count, [
        (r.meeting.pk, r.distance_km, r.next_start, r.meeting.fellowship.code)
        for r in results.results
    ]


@pytest.mark.parametrize("seed", [20261128, 3, 5, 11])
def test_index_equals_sql_and_brute_force_on_random_queries(index_on, seed):
    rng = random.Random(seed)
    org = Organisation.objects.create(name=f"HMP {seed}", slug=f"hmp-{seed}")
    meetings = build_directory(rng, 700, org)
    used = 0
    for _ in range(200):
        query = random_query(rng, org.pk)
        query = SearchQuery(**{**query.__dict__, "now": rng.choice(NOWS), "text": ""})
        fast, slow = both(query)
        assert as_rows(fast) == as_rows(slow), query
        expected = brute_force(meetings, query, query.now)
        assert fast.count == len(expected), query
        used += query.near is not None
    assert used > 100


def test_meetings_exactly_on_the_radius(index_on):
    """Membership at the boundary is decided by the same float operations."""
    aa = Fellowship.objects.get(code="AA")
    centre = (51.5074, -0.1278)
    meetings = []
    rng = random.Random(7)
    for i in range(300):
        meetings.append(
            Meeting(
                fellowship=aa,
                name=f"Ring {i}",
                slug=f"ring-{i}",
                weekday=i % 7,
                start_time=time(19, 0),
                timezone="Europe/London",
                latitude=centre[0] + rng.uniform(-0.3, 0.3),
                longitude=centre[1] + rng.uniform(-0.45, 0.45),
            )
        )
    for m in meetings:
        m.refresh_derived()
    Meeting.objects.bulk_create(meetings)
    cache.directory_changed()
    for m in meetings[:40]:
        radius = geo.haversine_km(*centre, m.latitude, m.longitude)
        for r in (radius, radius * (1 - 1e-12), radius * (1 + 1e-12)):
            query = SearchQuery(near=centre, radius_km=r, limit=500, now=NOWS[0])
            fast, slow = both(query)
            assert as_rows(fast) == as_rows(slow)


def test_antimeridian_and_pole_boxes(index_on):
    aa = Fellowship.objects.get(code="AA")
    points = [(-17.7, 179.99), (-17.7, -179.99), (-17.8, 178.5), (89.95, 10.0), (89.9, -170.0)]
    for i, (lat, lng) in enumerate(points):
        Meeting(
            fellowship=aa,
            name=f"Edge {i}",
            weekday=1,
            start_time=time(8, 0),
            timezone="Pacific/Fiji",
            latitude=lat,
            longitude=lng,
        ).save()
    for near in [(-17.7, 180.0), (-17.7, -179.9), (89.99, 0.0)]:
        for radius in (5, 50, 300):
            fast, slow = both(SearchQuery(near=near, radius_km=radius, now=NOWS[1]))
            assert as_rows(fast) == as_rows(slow)
            assert fast.count > 0 or radius == 5


def test_index_follows_every_change(index_on):
    aa = Fellowship.objects.get(code="AA")
    query = SearchQuery(near=(51.5, -0.12), radius_km=10, now=NOWS[2])
    first = Meeting(
        fellowship=aa,
        name="First",
        weekday=2,
        start_time=time(18, 0),
        timezone="Europe/London",
        latitude=51.5,
        longitude=-0.12,
    )
    first.save()
    assert both(query)[0].count == 1
    second = Meeting(
        fellowship=aa,
        name="Second",
        slug="second",
        weekday=3,
        start_time=time(18, 0),
        timezone="Europe/London",
        latitude=51.51,
        longitude=-0.12,
    )
    second.refresh_derived()
    Meeting.objects.bulk_create([second])  # no signal, no generation: the highest id moves
    assert both(query)[0].count == 2
    first.mode = "online"
    first.latitude = first.longitude = None
    first.save()  # a signal moves the generation
    assert [r.distance_km for r in both(query)[0].results][-1] is None
    Meeting.objects.filter(name="Second").update(status="removed")
    cache.directory_changed()
    fast, slow = both(query)
    assert as_rows(fast) == as_rows(slow) and fast.count == 1


def test_first_search_of_a_generation_uses_sql(index_on):
    aa = Fellowship.objects.get(code="AA")
    Meeting(fellowship=aa, name="One", weekday=1, start_time=time(9, 0), timezone="UTC").save()
    query = SearchQuery(near=(51.5, -0.12), radius_km=10, now=NOWS[3])
    assert search_index.for_query(query) is None
    assert search_index.for_query(query) is not None
    Meeting(fellowship=aa, name="Two", weekday=1, start_time=time(9, 0), timezone="UTC").save()
    assert search_index.for_query(query) is None  # a new generation: SQL once more
    assert search_index.for_query(query) is not None


def test_inside_a_transaction_sql_answers(index_on):
    from django.db import transaction

    query = SearchQuery(near=(51.5, -0.12), radius_km=10, now=NOWS[3])
    with transaction.atomic():
        assert search_index.for_query(query) is None


def test_fellowship_and_approach_filters(index_on):
    rng = random.Random(99)
    org = Organisation.objects.create(name="Org", slug="org")
    build_directory(rng, 300, org)
    for fellowships in [(), ("AA",), ("NA", "SMART"), ("NOPE",), ("AA", "NOPE")]:
        for approaches in [(), ("secular",), ("twelve_step", "family")]:
            query = SearchQuery(
                near=(51.5, -0.12),
                radius_km=60,
                fellowships=fellowships,
                approaches=approaches,
                now=datetime(2026, 5, 1, tzinfo=UTC),
                limit=100,
            )
            fast, slow = both(query)
            assert as_rows(fast) == as_rows(slow), (fellowships, approaches)
