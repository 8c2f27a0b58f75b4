"""apply_records: create, update in place, leave alone, remove, re-activate; all or nothing."""

from dataclasses import replace
from datetime import UTC, datetime, time

import pytest
from django.db import IntegrityError, connection
from django.test.utils import CaptureQueriesContext

from mutualaid.directory.feeds import MeetingRecord, Rejection
from mutualaid.directory.importing import apply_records, resolve_fellowship
from mutualaid.directory.models import Fellowship, ImportRun, Meeting, Source, Status
from tests.factories import make_meeting


def record(ref: str, row: int = 1, **fields) -> MeetingRecord:
    values = {
        "row": row,
        "source_ref": ref,
        "slug": ref,
        "name": f"Meeting {ref}",
        "timezone": "America/New_York",
        "weekday": 0,
        "start_time": time(19, 30),
        "duration_minutes": 90,
        "mode": "hybrid",
        "street_address": "1 Main St",
        "city": "Philadelphia",
        "latitude": 39.9525839,
        "longitude": -75.1652215,
        "conference_url": "https://zoom.us/j/1",
        "types": ("open", "women"),
        "languages": ("en",),
        "feed_updated_at": datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC),
    }
    values.update(fields)
    return MeetingRecord(**values)


@pytest.fixture
def source(db) -> Source:
    return Source.objects.create(name="SEPIA Intergroup", format="meeting-guide")


def meeting_writes(queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if "directory_meeting" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE"))
    ]


def test_creates_meetings_with_derived_fields(source):
    summary = apply_records(source=source, records=[record("a"), record("b", row=2, weekday=6)])
    assert summary.as_dict() == {
        "source": "SEPIA Intergroup",
        "created": 2,
        "updated": 0,
        "unchanged": 0,
        "removed": 0,
        "rejected": [],
    }
    a = Meeting.objects.get(source=source, source_ref="a")
    assert (a.slug, a.name, a.weekday, a.start_time, a.duration_minutes) == (
        "a",
        "Meeting a",
        0,
        time(19, 30),
        90,
    )
    assert (a.start_minute, a.week_minute) == (19 * 60 + 30, 19 * 60 + 30)
    assert Meeting.objects.get(source_ref="b").week_minute == 6 * 1440 + 19 * 60 + 30
    assert (a.types, a.languages, a.fellowship.code, a.status) == (
        ["open", "women"],
        ["en"],
        "AA",
        "active",
    )
    assert a.feed_updated_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    run = ImportRun.objects.get()
    assert (run.source, run.created, run.finished_at is not None) == (source, 2, True)
    source.refresh_from_db()
    assert source.last_imported_at == run.finished_at


def test_reimport_of_the_same_records_writes_no_meeting(source):
    records = [record(str(i), row=i) for i in range(1, 30)] + [
        record("appt", weekday=None, start_time=None)
    ]
    apply_records(source=source, records=records)
    with CaptureQueriesContext(connection) as queries:
        summary = apply_records(source=source, records=records)
    assert (summary.created, summary.updated, summary.unchanged, summary.removed) == (0, 0, 30, 0)
    assert meeting_writes(queries.captured_queries) == []


def test_changed_meeting_is_updated_in_place(source):
    apply_records(source=source, records=[record("a"), record("b")])
    before = {m.source_ref: m for m in Meeting.objects.all()}
    changed = record("a", name="Renamed", weekday=2, start_time=time(7, 0), types=("closed",))
    with CaptureQueriesContext(connection) as queries:
        summary = apply_records(source=source, records=[changed, record("b")])
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1)
    a = Meeting.objects.get(source_ref="a")
    assert (a.pk, a.slug) == (before["a"].pk, "a")
    assert (a.name, a.weekday, a.start_time, a.types) == ("Renamed", 2, time(7, 0), ["closed"])
    assert a.week_minute == 2 * 1440 + 7 * 60
    assert a.updated_at > before["a"].updated_at
    assert Meeting.objects.get(source_ref="b").updated_at == before["b"].updated_at
    assert len(meeting_writes(queries.captured_queries)) == 1


def test_meeting_that_left_the_feed_is_removed_then_reactivated(source):
    apply_records(source=source, records=[record("a"), record("b")])
    pk = Meeting.objects.get(source_ref="b").pk

    summary = apply_records(source=source, records=[record("a")])
    assert (summary.removed, summary.unchanged) == (1, 1)
    assert Meeting.objects.get(pk=pk).status == Status.REMOVED
    assert list(Meeting.objects.listed().values_list("source_ref", flat=True)) == ["a"]

    again = apply_records(source=source, records=[record("a")])
    assert (again.removed, again.unchanged) == (0, 1)  # already removed: not counted twice

    back = apply_records(source=source, records=[record("a"), record("b")])
    assert (back.created, back.updated, back.unchanged) == (0, 1, 1)
    assert Meeting.objects.get(pk=pk).status == Status.ACTIVE


def test_rejected_row_keeps_its_meeting_listed(source):
    apply_records(source=source, records=[record("a"), record("b-1"), record("b-3")])
    typo = [Rejection(row=2, id="b", field="time", reason="time '7pm' is not HH:MM")]
    summary = apply_records(source=source, records=[record("a")], rejected=typo)
    assert summary.removed == 0
    assert Meeting.objects.listed().count() == 3
    assert ImportRun.objects.first().rejected == [
        {"row": 2, "id": "b", "field": "time", "reason": "time '7pm' is not HH:MM"}
    ]


def test_other_sources_meetings_are_untouched(source):
    other = Source.objects.create(name="Other", format="meeting-guide")
    apply_records(source=other, records=[record("a")])
    apply_records(source=source, records=[record("b")])
    assert Meeting.objects.get(source=other).status == Status.ACTIVE


def test_slugs_stay_unique_across_the_table(source):
    make_meeting(name="Hope")  # slug "hope", entered by hand
    make_meeting(name="Taken twice", slug="sepia-intergroup-twice")
    make_meeting(name="Twice", slug="twice")
    records = [
        record("free"),
        record("hope"),
        record("twice"),
        record("6"),
        record("x-1", slug="clash"),
        record("x-2", slug="clash"),
    ]
    apply_records(source=source, records=records)
    slugs = dict(Meeting.objects.filter(source=source).values_list("source_ref", "slug"))
    assert slugs == {
        "free": "free",
        "hope": "sepia-intergroup-hope",
        "twice": "sepia-intergroup-twice-2",
        "6": "sepia-intergroup-6",  # a bare number reads like a database id
        "x-1": "clash",
        "x-2": "sepia-intergroup-clash",
    }


def test_fellowship_choice(source):
    apply_records(source=source, records=[record("a")])
    assert Meeting.objects.get(source_ref="a").fellowship.code == "AA"

    source.fellowship = Fellowship.objects.get(code="NA")
    source.save()
    apply_records(source=source, records=[record("a"), record("b", fellowship="Al-Anon")])
    by_ref = dict(Meeting.objects.values_list("source_ref", "fellowship__code"))
    assert by_ref == {"a": "NA", "b": "ALANON"}

    summary = apply_records(
        source=source,
        records=[record("a"), record("b", fellowship="Nobody Anonymous")],
        fellowship=Fellowship.objects.get(code="CA"),
    )
    assert dict(Meeting.objects.values_list("source_ref", "fellowship__code")) == {
        "a": "CA",
        "b": "CA",
    }
    assert [w.field for w in summary.warnings] == ["fellowship"]


def test_resolve_fellowship(source):
    assert resolve_fellowship("alanon").code == "ALANON"
    assert resolve_fellowship(None, source).code == "AA"
    with pytest.raises(ValueError, match="unknown fellowship 'XX'"):
        resolve_fellowship("XX")


def test_values_too_long_to_store_are_rejected(source):
    summary = apply_records(
        source=source,
        records=[
            record("ok"),
            record("long", row=2, name="x" * 201),
            record("y" * 201, row=3, name="ok"),
        ],
        rejected=[Rejection(row=1, id="", field="name", reason="missing name")],
    )
    assert summary.created == 1
    assert [(r.row, r.field) for r in summary.rejected] == [
        (1, "name"),
        (2, "name"),
        (3, "source_ref"),
    ]
    assert "longer than 200 characters" in summary.rejected[1].reason


def test_failure_mid_import_changes_nothing(source):
    apply_records(source=source, records=[record("a"), record("b")])
    before = list(Meeting.objects.order_by("pk").values())
    runs = ImportRun.objects.count()
    source.refresh_from_db()
    imported_at = source.last_imported_at
    # The new meeting is inserted first; the update then breaks the weekday CHECK constraint.
    broken = [record("new"), record("a", name="Changed"), record("b", weekday=9)]
    with pytest.raises(IntegrityError):
        apply_records(source=source, records=broken)
    assert list(Meeting.objects.order_by("pk").values()) == before
    assert ImportRun.objects.count() == runs
    source.refresh_from_db()
    assert source.last_imported_at == imported_at


def test_records_are_plain_values():
    with pytest.raises(AttributeError):
        record("a").name = "changed"  # frozen: parsers hand over values, not live objects
    assert replace(record("a"), name="other").name == "other"
