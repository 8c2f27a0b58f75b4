"""The search selector against a brute-force filter written independently in the test."""

import random
from datetime import UTC, date, datetime, time, timedelta

import pytest

from mutualaid.accounts.models import Organisation
from mutualaid.directory.models import Fellowship, Meeting
from mutualaid.directory.search import MODE_EXPANSION, SearchError, SearchQuery, search
from mutualaid.lib import geo, schedule
from tests.factories import make_meeting

TYPES = ["open", "closed", "women", "men", "wheelchair", "newcomer", "secular", "lgbtq"]
CLUSTERS = [
    ("London", 51.5074, -0.1278, "Europe/London"),
    ("Brighton", 50.8225, -0.1372, "Europe/London"),
    ("New York", 40.7128, -74.0060, "America/New_York"),
]
ZONES = ["Europe/London", "America/New_York", "Australia/Sydney"]
FELLOWSHIPS = ["AA", "NA", "SMART", "ALANON"]


def build_directory(rng: random.Random, n: int, org: Organisation) -> list[Meeting]:
    fellowships = {f.code: f for f in Fellowship.objects.filter(code__in=FELLOWSHIPS)}
    meetings = []
    for i in range(n):
        name, lat0, lng0, zone = rng.choice(CLUSTERS)
        mode = rng.choices(["in_person", "online", "hybrid", "inactive"], [60, 20, 15, 5])[0]
        meeting = Meeting(
            fellowship=fellowships[rng.choice(FELLOWSHIPS)],
            name=f"{rng.choice(['Hope', 'Serenity', 'Big Book', 'Step'])} group {i}",
            slug=f"m-{i}",
            weekday=rng.randrange(7),
            start_time=time(rng.randrange(24), rng.randrange(0, 60, 5)),
            timezone=zone,
            mode=mode,
            city=name,
            notes=rng.choice(["", "Step study", "Tea and biscuits", "Near the station"]),
        )
        if mode == "online":
            meeting.timezone = rng.choice(ZONES)
        else:
            meeting.latitude = lat0 + rng.gauss(0, 0.2)
            meeting.longitude = lng0 + rng.gauss(0, 0.3)
        roll = rng.random()
        if roll < 0.05:
            meeting.frequency, meeting.month_week = "monthly", rng.choice([1, 2, 3, 4, 5, -1])
        elif roll < 0.10:
            meeting.frequency, meeting.series_anchor = (
                "fortnightly",
                date(2026, 1, 5) + timedelta(days=rng.randrange(14)),
            )
            meeting.weekday = meeting.series_anchor.weekday()
        elif roll < 0.12:
            meeting.weekday = meeting.start_time = None  # by appointment
        if rng.random() < 0.05:
            meeting.visibility, meeting.organisation = "restricted", org
        if rng.random() < 0.05:
            meeting.status = "removed"
        meeting.types = rng.sample(TYPES, rng.randrange(4))
        meeting.languages = rng.choice([["en"], ["en"], ["pl"], ["en", "es"]])
        meeting.refresh_derived()
        meetings.append(meeting)
    Meeting.objects.bulk_create(meetings)
    saved = list(Meeting.objects.order_by("pk"))
    for duplicate in rng.sample(saved[1:], len(saved) // 30):
        Meeting.objects.filter(pk=duplicate.pk).update(duplicate_of=saved[0])
    return list(Meeting.objects.select_related("fellowship"))


def brute_force(meetings, q: SearchQuery, now: datetime):
    """The search written the slow, obvious way."""
    allowed = set()
    for mode in q.modes:
        allowed |= {str(m) for m in MODE_EXPANSION[mode]}
    timed = q.upcoming or q.start_after or q.start_before or q.effective_sort == "start"
    found = []
    for m in meetings:
        if m.status != "active" or m.duplicate_of_id is not None:
            continue
        if m.visibility == "restricted" and m.organisation_id not in q.organisation_ids:
            continue
        if m.mode not in allowed:
            continue
        if q.fellowships and m.fellowship.code not in q.fellowships:
            continue
        if q.approaches and m.fellowship.approach not in q.approaches:
            continue
        if not set(q.types) <= set(m.types):
            continue
        if q.languages and not set(q.languages) & set(m.languages):
            continue
        haystack = " ".join([m.name, m.group_name, m.location_name, m.city, m.notes]).lower()
        if any(word.lower() not in haystack for word in q.text.split()):
            continue
        if m.weekday is None:
            if q.weekdays or timed:
                continue
        else:
            if q.weekdays and m.weekday not in q.weekdays:
                continue
            minute = m.start_time.hour * 60 + m.start_time.minute
            after = q.start_after.hour * 60 + q.start_after.minute if q.start_after else None
            before = q.start_before.hour * 60 + q.start_before.minute if q.start_before else None
            if after is not None and before is not None and before <= after:
                if not (minute >= after or minute < before):
                    continue
            else:
                if after is not None and minute < after:
                    continue
                if before is not None and minute >= before:
                    continue
        distance = None
        if q.near:
            if m.mode == "online":
                if "online" not in allowed:
                    continue
            else:
                if m.latitude is None:
                    continue
                distance = geo.haversine_km(q.near[0], q.near[1], m.latitude, m.longitude)
                if distance > q.radius_km:
                    continue
        found.append((m, distance, m.next_start(now)))
    sort = q.effective_sort
    if sort == "start":
        found.sort(key=lambda r: (r[2], r[0].pk))
    elif sort == "distance":
        found.sort(
            key=lambda r: (
                r[1] is None,
                r[1] or 0,
                r[0].week_minute is None,
                r[0].week_minute or 0,
                r[0].pk,
            )
        )
    else:
        found.sort(
            key=lambda r: (r[0].week_minute is None, r[0].week_minute or 0, r[0].name, r[0].pk)
        )
    return found


def check_against_brute_force(meetings, query: SearchQuery):
    """search(query) gives the brute force's count and page (meetings, distances, next
    starts); returns its results."""
    expected = brute_force(meetings, query, query.now)
    got = search(query)
    assert got.count == len(expected), query
    page = expected[query.offset : query.offset + query.limit]
    assert [r.meeting.pk for r in got.results] == [m.pk for m, _, _ in page], query
    for result, (_, distance, start) in zip(got.results, page, strict=True):
        assert result.next_start == start
        if distance is None:
            assert result.distance_km is None
        else:
            assert result.distance_km == pytest.approx(distance, abs=1e-6)
    return got


def random_query(rng: random.Random, org_id: int) -> SearchQuery:
    near = None
    if rng.random() < 0.7:
        _, lat, lng, _ = rng.choice(CLUSTERS)
        near = (lat + rng.gauss(0, 0.2), lng + rng.gauss(0, 0.2))
    after = before = None
    if rng.random() < 0.4:
        after = time(rng.randrange(24), rng.choice([0, 30]))
    if rng.random() < 0.4:
        before = time(rng.randrange(24), rng.choice([0, 30]))
    upcoming = rng.random() < 0.4
    return SearchQuery(
        near=near,
        radius_km=rng.choice([2, 10, 25, 60]),
        weekdays=tuple(rng.sample(range(7), rng.randrange(3))),
        start_after=after,
        start_before=before,
        types=tuple(rng.sample(TYPES, rng.choice([0, 0, 1, 2]))),
        fellowships=tuple(rng.sample(FELLOWSHIPS, rng.choice([0, 0, 1, 2]))),
        approaches=rng.choice([(), (), ("secular",), ("twelve_step", "family")]),
        modes=tuple(rng.sample(["in_person", "online", "hybrid", "inactive"], rng.randrange(1, 4)))
        if rng.random() < 0.3
        else SearchQuery.modes,
        languages=rng.choice([(), (), ("pl",), ("es", "pl")]),
        text=rng.choice(["", "", "", "step", "hope biscuits"]),
        upcoming=upcoming,
        sort=rng.choice([None, None, "start", "distance" if near else "week", "week"]),
        limit=rng.choice([5, 20, 100]),
        offset=rng.choice([0, 0, 3]),
        organisation_ids=(org_id,) if rng.random() < 0.3 else (),
    )


# Instants around both DST changes on both sides of the Atlantic, plus ordinary ones.
NOWS = [
    datetime(2026, 3, 7, 23, 0, tzinfo=UTC),
    datetime(2026, 3, 28, 22, 30, tzinfo=UTC),
    datetime(2026, 3, 29, 0, 55, tzinfo=UTC),
    datetime(2026, 10, 24, 20, 0, tzinfo=UTC),
    datetime(2026, 10, 31, 23, 0, tzinfo=UTC),
    datetime(2026, 11, 28, 12, 31, tzinfo=UTC),
    datetime(2027, 1, 1, 0, 0, tzinfo=UTC),
]


@pytest.mark.django_db
@pytest.mark.parametrize("seed", [20261128, 3, 5])
def test_search_equals_brute_force_on_random_queries(seed):
    rng = random.Random(seed)
    org = Organisation.objects.create(name="HMP Example", slug="hmp-example")
    meetings = build_directory(rng, 700, org)
    checked = 0
    for _ in range(250):
        query = random_query(rng, org.pk)
        now = rng.choice(NOWS)
        query = SearchQuery(**{**query.__dict__, "now": now})
        checked += len(check_against_brute_force(meetings, query).results)
    assert checked > 1000  # the queries were not all empty


@pytest.mark.django_db
def test_upcoming_orders_across_zones_and_includes_just_started():

    now = datetime(2026, 11, 30, 19, 5, tzinfo=UTC)  # Monday 19:05 in London, 14:05 in New York
    just_started = make_meeting(name="Started 5 min ago", weekday=0, start_time=time(19, 0))
    too_late = make_meeting(name="Started 15 min ago", weekday=0, start_time=time(18, 50))
    new_york = make_meeting(
        name="New York online",
        mode="online",
        latitude=None,
        longitude=None,
        timezone="America/New_York",
        weekday=0,
        start_time=time(14, 30),
    )
    tomorrow = make_meeting(name="Tuesday", weekday=1, start_time=time(7, 0))
    results = search(SearchQuery(upcoming=True, now=now, limit=10)).results
    assert [r.meeting.pk for r in results] == [
        just_started.pk,
        new_york.pk,
        tomorrow.pk,
        too_late.pk,
    ]
    assert results[1].next_start.isoformat() == "2026-11-30T14:30:00-05:00"
    assert results[1].next_start_in("Europe/London").isoformat() == "2026-11-30T19:30:00+00:00"


@pytest.mark.django_db
def test_online_meetings_have_no_distance_and_join_near_searches():

    online = make_meeting(name="Online", mode="online", latitude=None, longitude=None)
    far = make_meeting(name="Edinburgh", latitude=55.95, longitude=-3.19)
    near = make_meeting(name="Westminster", latitude=51.4995, longitude=-0.1248)
    results = search(SearchQuery(near=(51.5074, -0.1278), radius_km=10)).results
    assert [r.meeting.pk for r in results] == [near.pk, online.pk]
    assert results[0].distance_km == pytest.approx(0.91, abs=0.02)
    assert results[1].distance_km is None
    in_person_only = search(
        SearchQuery(near=(51.5074, -0.1278), radius_km=10, modes=("in_person",))
    )
    assert [r.meeting.pk for r in in_person_only.results] == [near.pk]
    assert far.pk not in {
        r.meeting.pk for r in search(SearchQuery(near=(51.5, -0.13), radius_km=100)).results
    }


@pytest.mark.django_db
def test_restricted_meetings_only_for_their_organisation():

    prison = Organisation.objects.create(name="HMP Example", slug="hmp")
    other = Organisation.objects.create(name="Other service", slug="other")
    inside = make_meeting(name="Inside", visibility="restricted", organisation=prison)
    assert search(SearchQuery()).count == 0
    assert search(SearchQuery(organisation_ids=(other.pk,))).count == 0
    assert [r.meeting.pk for r in search(SearchQuery(organisation_ids=(prison.pk,))).results] == [
        inside.pk
    ]


@pytest.mark.django_db
def test_result_dict_shape():

    make_meeting(
        name="Women's step", types=["women", "step_study"], source_ref="abc-1", postcode="SW1A 1AA"
    )
    data = search(
        SearchQuery(near=(51.5074, -0.1278), now=datetime(2026, 11, 28, tzinfo=UTC))
    ).as_dict()
    assert data["count"] == 1
    row = data["results"][0]
    assert {
        "id",
        "source_id",
        "slug",
        "name",
        "fellowship",
        "weekday",
        "start_time",
        "end_time",
        "timezone",
        "next_start",
        "mode",
        "types",
        "location",
        "address",
        "city",
        "postcode",
        "lat",
        "lng",
        "distance_km",
    } <= set(row)
    assert row["weekday"] == "Monday"
    assert row["types"] == ["ST", "W", "EN"]
    assert row["next_start"] == "2026-11-30T19:00:00+00:00"
    assert row["source_id"] == "abc-1"
    assert row["end_time"] == "20:00"


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"near": (91, 0)}, "latitude"),
        ({"near": (51, 0), "radius_km": 0}, "radius"),
        ({"near": (51, 0), "radius_km": 50000}, "radius"),
        ({"weekdays": (7,)}, "weekday"),
        ({"types": ("nonsense",)}, "unknown meeting type"),
        ({"modes": ("teleport",)}, "attendance mode"),
        ({"sort": "distance"}, "place or a point"),
        ({"limit": 0}, "limit"),
        ({"now": datetime(2026, 1, 1)}, "UTC offset"),
    ],
)
def test_bad_queries_are_refused_with_a_reason(kwargs, message):
    with pytest.raises(SearchError, match=message):
        SearchQuery(**kwargs)


def test_schedule_minute_of_week_matches_model_convention():
    assert schedule.minute_of_week(6, time(23, 59)) == schedule.MINUTES_PER_WEEK - 1


@pytest.mark.django_db
def test_freshness_in_results(settings):
    settings.STALE_AFTER_MONTHS = 6
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    make_meeting(name="Checked", last_verified_at=now - timedelta(days=30))
    make_meeting(name="Fed", feed_updated_at=now - timedelta(days=400), last_verified_at=None)
    make_meeting(name="Never")
    rows = {r["name"]: r for r in search(SearchQuery(now=now)).as_dict()["results"]}
    assert rows["Checked"]["stale"] is False
    assert rows["Checked"]["last_verified"] == "2026-10-29T12:00:00+00:00"
    assert rows["Fed"]["stale"] is True and rows["Fed"]["updated"].startswith("2025-10-24")
    assert rows["Never"]["stale"] is True
