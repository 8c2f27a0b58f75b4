"""The importer's and parser's fast paths give exactly what the slow ones did.

apply_records inserts new meetings with one raw executemany and compares existing ones
as values() tuples (bench/feeds.py); the Meeting Guide parser reads "updated" with
datetime.fromisoformat and skips slugify for slugs it would leave alone. Each is checked
here against the general path it stands in for.
"""

from datetime import UTC, date, datetime, time

import pytest
from django.db.models import F
from django.utils.text import slugify
from hypothesis import given, settings
from hypothesis import strategies as st

from mutualaid.directory.feeds import meeting_guide
from mutualaid.directory.feeds.meeting_guide import _slug, _updated
from mutualaid.directory.importing import COMPARED_FIELDS, apply_records
from mutualaid.directory.models import Meeting, Source
from tests.directory.test_importing import record


@pytest.fixture
def source(db) -> Source:
    return Source.objects.create(name="Fast path intergroup", format="meeting-guide")


def test_inserted_meeting_equals_one_saved_through_the_orm(source):
    """Every column of a raw-inserted meeting is what Meeting.save() would have stored."""
    rec = record("a", weekday=3, start_time=time(7, 5), notes="Ünïcode — notes", approximate=True)
    apply_records(source=source, records=[rec])
    inserted = Meeting.objects.get(source=source, source_ref="a")

    by_orm = Meeting(
        source=source, source_ref="a-copy", slug="orm-copy", fellowship=inserted.fellowship
    )
    for name in COMPARED_FIELDS:
        if name != "fellowship_id":
            setattr(by_orm, name, getattr(inserted, name))
    by_orm.save()
    by_orm.refresh_from_db()
    skip = {"id", "slug", "source_ref", "created_at", "updated_at"}
    for f in Meeting._meta.concrete_fields:
        if f.attname not in skip:
            assert getattr(inserted, f.attname) == getattr(by_orm, f.attname), f.attname
    assert inserted.start_minute == 7 * 60 + 5
    assert inserted.version == 1 and inserted.frequency == "weekly"
    assert inserted.visibility == "public" and inserted.created_at and inserted.updated_at
    assert inserted.feed_updated_at == datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)


def test_by_appointment_meeting_has_no_derived_minutes(source):
    apply_records(source=source, records=[record("x", weekday=None, start_time=None)])
    m = Meeting.objects.get(source=source)
    assert (m.weekday, m.start_time, m.start_minute, m.week_minute) == (None, None, None, None)


def test_update_writes_derived_fields_and_bumps_version(source):
    apply_records(source=source, records=[record("a")])
    Meeting.objects.filter(source=source).update(version=F("version"))
    summary = apply_records(source=source, records=[record("a", weekday=5, start_time=time(8, 0))])
    assert summary.updated == 1
    m = Meeting.objects.get(source=source)
    expected = Meeting(weekday=5, start_time=time(8, 0))
    expected.refresh_derived()
    assert (m.start_minute, m.week_minute) == (expected.start_minute, expected.week_minute)
    assert m.version == 2


def test_a_change_only_in_one_compared_field_is_seen(source):
    """values() tuples compare every feed-owned field (here: the last and a float)."""
    apply_records(source=source, records=[record("a"), record("b", row=2)])
    again = apply_records(
        source=source,
        records=[record("a", latitude=39.9525840), record("b", row=2, languages=("en", "es"))],
    )
    assert (again.updated, again.unchanged) == (2, 0)
    assert apply_records(source=source, records=[record("a", latitude=39.9525840)]).removed == 1


# --- parser fast paths ---------------------------------------------------------------


def _updated_by_strptime(text):
    text = text.strip()
    for layout in (*meeting_guide._UPDATED_FORMATS, *meeting_guide._US_UPDATED_FORMATS):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return None


@settings(max_examples=300, deadline=None)
@given(
    st.datetimes(min_value=datetime(1000, 1, 1), max_value=datetime(9999, 12, 31)),
    st.sampled_from(
        [
            "%Y-%m-%d %H:%M:%S",
            "%Y-%m-%dT%H:%M:%S",
            "%Y-%m-%d %H:%M",
            "%Y-%m-%dT%H:%M",
            "%Y-%m-%d",
            "%m/%d/%Y %I:%M:%S %p",
            "%m/%d/%Y",
            "{y}-{m}-{d} {H}:{M}:{S}",  # not zero-padded: strptime reads it
            "%Y-%m-%d %H:%M:%S.%f",
            "%Y-%m-%dT%H:%M:%S+00:00",
        ]
    ),
)
def test_updated_reads_what_strptime_read(moment, layout):
    if "{" in layout:
        text = layout.format(
            y=moment.year, m=moment.month, d=moment.day, H=moment.hour, M=moment.minute, S=0
        )
    else:
        text = moment.strftime(layout)
    assert _updated(text, lambda *a: None) == _updated_by_strptime(text)


@pytest.mark.parametrize(
    "text", ["2024-13-01 00:00:00", "2024-02-30", "2024-01-01 24:00:00", "20240101", "x"]
)
def test_bad_updated_is_still_a_warning(text):
    warned = []
    assert _updated(text, lambda *a: warned.append(a)) is None
    assert _updated_by_strptime(text) is None and warned


@settings(max_examples=500, deadline=None)
@given(st.text(alphabet="abcxyz019-_ .AÉé/ß", min_size=0, max_size=30))
def test_slug_fast_path_equals_slugify(ref):
    assert _slug(ref) == (slugify(ref)[:200] or "meeting")


def test_long_plain_slug_is_cut_like_slugify():
    ref = "a" * 250
    assert _slug(ref) == slugify(ref)[:200]


def test_record_dates_survive_the_raw_insert(source):
    rec = record("d", feed_updated_at=datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC))
    apply_records(source=source, records=[rec])
    m = Meeting.objects.get(source=source)
    assert m.feed_updated_at == datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)
    assert m.series_anchor is None and isinstance(m.created_at.date(), date)
