"""Every importer on arbitrary input: no crash (only FeedError, the project's own
whole-feed error, or per-row rejections naming row, field and reason), and an import
that is refused changes nothing (docs/reliability.md, "Malformed feeds").

Hypothesis writes the feeds: arbitrary JSON, rows with the formats' own keys and
arbitrary values, and CSV with the TSML headers and arbitrary cells. What parses is then
applied to a directory that already has meetings from the same source.
"""

from __future__ import annotations

import csv
import io
import json

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualaid.directory.feeds import FeedError, ParseResult
from mutualaid.directory.feeds.bmlt import parse_bmlt
from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide
from mutualaid.directory.feeds.tsml_csv import RENDER_COLUMNS, parse_tsml_csv
from mutualaid.directory.importing import ImportRefused, apply_records
from mutualaid.directory.models import ImportRun, Meeting, Source

from .helpers import meeting_guide_feed

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

scalars = (
    st.none() | st.booleans() | st.integers(-(10**12), 10**12)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=40)
)  # fmt: skip
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=12,
)
# Values that look nearly right: the parsers' hardest cases.
plausible = (
    scalars
    | st.sampled_from(["", "0", "6", "7", "-1", "19:30", "25:00", "7:5", "12:00 PM", "Monday",
                       "Europe/London", "Mars/Olympus", "51.5", "-0.12", "91", "1e309", "NaN",
                       "O,D", "C", "TC", "ONL", "2026-01-05 12:00:00", "2026-13-45", "\x00",
                       "https://zoom.us/j/1", "javascript:alert(1)", "x" * 700])
    | st.lists(st.sampled_from(["O", "C", "D", "ONL", "TC", "??", ""]), max_size=4)
)  # fmt: skip
MG_KEYS = ["slug", "id", "name", "day", "time", "end_time", "timezone", "types", "latitude",
           "longitude", "address", "city", "state", "postal_code", "country",
           "formatted_address", "location", "location_notes", "conference_url",
           "conference_url_notes", "conference_phone", "conference_phone_notes", "notes",
           "updated", "group", "fellowship", "attendance_option", "approximate"]  # fmt: skip
BMLT_KEYS = ["id_bigint", "meeting_name", "published", "weekday_tinyint", "start_time",
             "duration_time", "lang_enum", "time_zone", "virtual_meeting_link",
             "phone_meeting_number", "virtual_meeting_additional_info", "venue_type",
             "location_street", "location_municipality", "location_city_subsection",
             "location_neighborhood", "location_province", "location_postal_code_1",
             "location_nation", "location_text", "location_info", "comments", "formats",
             "latitude", "longitude"]  # fmt: skip


def rows_of(keys):
    return st.lists(
        st.dictionaries(st.sampled_from(keys), plausible, max_size=len(keys)), max_size=6
    )


def _snapshot():
    return (
        sorted(Meeting.objects.values_list("pk", "name", "notes", "status", "version")),
        ImportRun.objects.count(),
    )


@pytest.fixture
def source(db):
    """A source with 20 meetings already imported (so removals and updates can happen)."""
    source = Source.objects.create(name="fuzz", format="meeting-guide")
    apply_records(
        source=source, records=parse_meeting_guide(meeting_guide_feed(20, tag="A")).records
    )
    return source


def check(parse, data, source):
    """Parse, then apply inside a savepoint rolled back afterwards."""
    try:
        result = parse(data)
    except FeedError as exc:
        assert str(exc).strip(), "a FeedError needs a message"
        return
    assert isinstance(result, ParseResult)
    for rejection in result.rejected:
        assert rejection.row >= 1 and rejection.field and rejection.reason
    before = _snapshot()
    with transaction.atomic():
        try:
            summary = apply_records(
                source=source, records=result.records, rejected=result.rejected,
                warnings=result.warnings,
            )  # fmt: skip
        except ImportRefused as exc:
            assert str(exc)
            assert _snapshot() == before, "a refused import changed the directory"
        else:
            assert summary.created + summary.updated + summary.unchanged == len(result.records)
        transaction.set_rollback(True)


@FUZZ
@given(data=json_values)
def test_meeting_guide_arbitrary_json(source, data):
    check(parse_meeting_guide, json.dumps(data, allow_nan=True).encode(), source)


@FUZZ
@given(rows=rows_of(MG_KEYS))
def test_meeting_guide_rows_with_arbitrary_values(source, rows):
    check(parse_meeting_guide, json.dumps(rows, allow_nan=True), source)


@FUZZ
@given(raw=st.binary(max_size=200) | st.text(max_size=200))
def test_meeting_guide_and_bmlt_arbitrary_bytes(source, raw):
    check(parse_meeting_guide, raw, source)
    check(parse_bmlt, raw, source)


@FUZZ
@given(data=json_values)
def test_bmlt_arbitrary_json(source, data):
    check(parse_bmlt, json.dumps(data, allow_nan=True), source)


@FUZZ
@given(rows=rows_of(BMLT_KEYS), wrapped=st.booleans())
def test_bmlt_rows_with_arbitrary_values(source, rows, wrapped):
    data = {"meetings": rows, "formats": []} if wrapped else rows
    check(parse_bmlt, json.dumps(data, allow_nan=True), source)


cells = st.text(max_size=30) | st.sampled_from(
    ["", "7:30 PM", "19:30", "Monday", "Sunday", "8", "O, D", "51.5", "abc", "x" * 300, "\x00"]
)


@FUZZ
@given(
    columns=st.lists(
        st.sampled_from([*RENDER_COLUMNS, "Slug", "ID", "Timezone", "Junk"]), max_size=12
    ),
    rows=st.lists(st.lists(cells, max_size=14), max_size=6),
    delimiter=st.sampled_from([",", "\t", ";"]),
)
def test_tsml_csv_arbitrary_cells(source, columns, rows, delimiter):
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(columns)
    writer.writerows(rows)
    check(parse_tsml_csv, buffer.getvalue().encode(), source)


@FUZZ
@given(raw=st.binary(max_size=300) | st.text(max_size=300))
def test_tsml_csv_arbitrary_bytes(source, raw):
    check(parse_tsml_csv, raw, source)
