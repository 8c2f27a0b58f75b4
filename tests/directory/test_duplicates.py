from datetime import time

import pytest

from mutualaid.directory.duplicates import find_duplicates, mark_duplicates
from mutualaid.directory.models import Meeting, Source
from mutualaid.directory.search import SearchQuery, search
from mutualaid.lib.similarity import similar_names
from tests.factories import make_meeting


@pytest.mark.parametrize(
    "a,b",
    [
        ("Hope Group", "HOPE GROUP"),
        ("Hope", "Hope Group (Tuesday)"),
        ("St. Mary's Step", "St Marys Step"),
    ],
)
def test_similar_names(a, b):
    assert similar_names(a, b)


@pytest.mark.parametrize("a,b", [("Hope Group", "Serenity Now"), ("Big Book", "Women's Step")])
def test_different_names(a, b):
    assert not similar_names(a, b)


@pytest.fixture
def sources(db):
    return Source.objects.create(name="AA feed", format="meeting-guide"), Source.objects.create(
        name="Intergroup CSV", format="tsml-csv"
    )


def test_same_meeting_from_two_feeds_is_listed_once(sources):
    aa, csv = sources
    first = make_meeting(name="Hope Group", source=aa, latitude=51.5, longitude=-0.12)
    second = make_meeting(
        name="HOPE GROUP", source=csv, latitude=51.5005, longitude=-0.1202, start_time=time(19, 3)
    )
    assert find_duplicates() == {second.pk: first.pk}
    assert mark_duplicates() == 1
    second.refresh_from_db()
    assert second.duplicate_of_id == first.pk
    results = search(SearchQuery(near=(51.5, -0.12), radius_km=5)).results
    assert [r.meeting.pk for r in results] == [first.pk]
    assert list(first.duplicates.all()) == [second]  # both sources kept and visible
    assert mark_duplicates() == 0  # a second run writes nothing


@pytest.mark.parametrize(
    "change",
    [
        {"start_time": time(19, 10)},  # more than 5 minutes apart
        {"latitude": 51.502},  # about 220 m away
        {"weekday": 1},
        {"name": "Serenity Now"},
        {"fellowship_code": "NA"},
    ],
)
def test_near_misses_are_not_duplicates(sources, change):
    aa, csv = sources
    make_meeting(name="Hope Group", source=aa, latitude=51.5, longitude=-0.12)
    make_meeting(
        **{"name": "Hope Group", "source": csv, "latitude": 51.5, "longitude": -0.12, **change}
    )
    assert find_duplicates() == {}


def test_same_source_twice_is_not_a_duplicate(sources):
    aa, _ = sources
    make_meeting(name="Hope Group", source=aa)
    make_meeting(name="Hope Group", source=aa)
    assert find_duplicates() == {}


def test_online_duplicates_share_a_link(sources):
    aa, csv = sources
    online = {"mode": "online", "latitude": None, "longitude": None}
    first = make_meeting(
        name="Zoom Hope", source=aa, conference_url="https://zoom.us/j/123", **online
    )
    second = make_meeting(name="Hope", source=csv, conference_url="http://zoom.us/j/123/", **online)
    make_meeting(name="Hope", source=csv, conference_url="https://zoom.us/j/999", **online)
    assert find_duplicates() == {second.pk: first.pk}


def test_primary_removed_promotes_the_duplicate(sources):
    aa, csv = sources
    first = make_meeting(name="Hope Group", source=aa)
    second = make_meeting(name="Hope Group", source=csv)
    mark_duplicates()
    Meeting.objects.filter(pk=first.pk).update(status="removed")
    mark_duplicates()
    second.refresh_from_db()
    assert second.duplicate_of_id is None
    assert [r.meeting.pk for r in search(SearchQuery()).results] == [second.pk]


def test_import_marks_the_same_meeting_from_another_feed(db):
    from mutualaid.directory.feeds import MeetingRecord
    from mutualaid.directory.importing import apply_records

    first = make_meeting(name="Hope Group", source=Source.objects.create(name="A", format="manual"))
    other = Source.objects.create(name="B", format="meeting-guide")
    template = {
        f: getattr(first, f)
        for f in ("name", "weekday", "start_time", "timezone", "latitude", "longitude")
    }
    record = MeetingRecord(row=1, source_ref="hope", slug="hope", **template)
    apply_records(source=other, records=[record])
    imported = Meeting.objects.get(source=other)
    assert imported.duplicate_of_id == first.pk
