"""`mutualaid demo` loads the synthetic directory once; `mutualaid stats` counts it."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from mutualaid.directory.demo import DEMO_SOURCE_NAME, fellowships_by_code, meeting_objects
from mutualaid.directory.models import Meeting, Source
from mutualaid.directory.places import resolve_place
from mutualaid.directory.search import SearchQuery, search
from mutualaid.lib import synthetic
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def run(*args, **options) -> str:
    out = StringIO()
    call_command(*args, stdout=out, **options)
    return out.getvalue()


def test_demo_loads_once_and_if_empty_leaves_it_alone():
    output = run("demo", count=150, seed=5)
    assert "Loaded 150 demo meetings" in output
    source = Source.objects.get(name=DEMO_SOURCE_NAME)
    assert source.format == "demo" and source.last_imported_at is not None
    assert source.runs.get().created == 150
    meetings = Meeting.objects.filter(source=source)
    assert meetings.count() == 150
    assert not meetings.filter(source_ref="").exists()
    # bulk_create skips save(): the derived schedule columns must still be there.
    assert not meetings.filter(week_minute__isnull=True).exists()
    slugs = set(meetings.values_list("slug", flat=True))

    assert "already has meetings" in run("demo", "--if-empty", count=150, seed=5)
    assert Meeting.objects.count() == 150
    with pytest.raises(CommandError, match="--replace"):
        run("demo", count=10)

    assert "(replacing 150)" in run("demo", "--replace", count=150, seed=5)
    assert set(Meeting.objects.values_list("slug", flat=True)) == slugs  # same seed, same data
    run("demo", "--replace", count=40, seed=6)
    assert Meeting.objects.count() == 40


def test_if_empty_respects_meetings_from_other_sources():
    make_meeting(name="Hand-entered")
    run("demo", "--if-empty", count=50)
    assert list(Meeting.objects.values_list("name", flat=True)) == ["Hand-entered"]


def test_replace_leaves_other_sources_alone():
    make_meeting(name="Hand-entered")
    run("demo", count=30)
    run("demo", "--replace", count=20)
    assert Meeting.objects.filter(source__isnull=True).count() == 1
    assert Meeting.objects.count() == 21


def test_demo_meetings_are_valid_and_someone_near_brighton_finds_some():
    run("demo", count=800, seed=2026)
    for meeting in Meeting.objects.all()[:200]:
        meeting.full_clean()
    place = resolve_place("Brighton")
    assert place.kind == "town"
    found = search(SearchQuery(near=(place.lat, place.lng), radius_km=10, modes=("in_person",)))
    assert found.count >= 3
    assert len(set(Meeting.objects.exclude(city="").values_list("city", flat=True))) >= 25


def test_meeting_objects_builds_unsaved_meetings_with_derived_fields():
    rows = synthetic.generate_meetings(5, seed=3, towns=["York"])
    built = list(meeting_objects(rows, fellowships_by_code()))
    assert all(m.pk is None and m.week_minute is not None for m in built)
    assert all(m.source_ref == m.slug and m.languages for m in built)


def test_stats_counts_listed_meetings():
    run("demo", count=60, seed=1)
    make_meeting(name="Gone", status="removed")
    make_meeting(name="By appointment", weekday=None, start_time=None)
    data = json.loads(run("stats", "--json"))
    assert data["listed"] == 61 and data["removed"] == 1 and data["total"] == 62
    assert data["by_source"] == {DEMO_SOURCE_NAME: 60, "(no source)": 1}
    assert sum(data["by_fellowship"].values()) == 61
    assert sum(data["by_mode"].values()) == 61
    assert sum(data["by_weekday"].values()) == 61 and data["by_weekday"]["By appointment"] == 1
    assert set(data["by_weekday"]) <= {
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
        "By appointment",
    }  # fmt: skip

    table = run("stats")
    assert "Listed meetings: 61" in table and "Removed from their feeds: 1" in table
    for heading in ("By fellowship", "By mode", "By source", "By weekday"):
        assert heading in table
    assert f"  {DEMO_SOURCE_NAME}" in table and "In person" in table


def test_stats_on_an_empty_directory():
    assert "Listed meetings: 0" in run("stats")
    assert json.loads(run("stats", "--json"))["by_fellowship"] == {}
