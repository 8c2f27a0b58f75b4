"""Re-imports skip Meeting Guide rows whose digest the source's meetings hold
(Meeting.content_hash, importing.known_rows), and end exactly where a full parse and
compare would: the same meetings, counts, rejections and warnings."""

import json
from datetime import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide
from mutualaid.directory.importing import COMPARED_FIELDS, apply_records, known_rows
from mutualaid.directory.models import Fellowship, Meeting, Source, Status

TZ = "America/New_York"


def row(slug, **fields):
    base = {
        "slug": slug,
        "name": f"Group {slug}",
        "day": 1,
        "time": "19:30",
        "end_time": "20:30",
        "address": "1 Main St",
        "city": "Philadelphia",
        "latitude": 39.95,
        "longitude": -75.16,
        "types": ["O", "W"],
        "updated": "2024-01-02 03:04:05",
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not ...}


def run(source, rows, *, fast=True, fellowship=None):
    data = json.dumps(rows)
    known = known_rows(source, fellowship) if fast else None
    parsed = parse_meeting_guide(data, default_timezone=TZ, known=known)
    summary = apply_records(
        source=source,
        records=parsed.records,
        rejected=parsed.rejected,
        warnings=parsed.warnings,
        fellowship=fellowship,
        unchanged_rows=parsed.unchanged_rows,
        allow_mass_removal=True,
    )
    return parsed, summary


def state(source):
    return {
        m["source_ref"]: m
        for m in Meeting.objects.filter(source=source).values(
            "source_ref", "status", "start_minute", "week_minute", *COMPARED_FIELDS
        )
    }


def report(summary):
    out = summary.as_dict()
    out.pop("source")
    out["warnings"] = [(w.row, w.id, w.field, w.message) for w in summary.warnings]
    return out


def meeting_writes(queries):
    return [
        q["sql"]
        for q in queries
        if "directory_meeting" in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.fixture
def source(db):
    return Source.objects.create(name="Known rows", format="meeting-guide")


FEED = [
    row("a"),
    row("b", day=[1, 3]),  # two meetings from one row
    row("c", conference_url="not a url"),  # a warning: never skipped
    row("d", types=["O", "ZZZ"]),  # an unknown type: never skipped
    row("e", fellowship="Nope Anonymous"),  # an importer warning: never skipped
    row("a"),  # duplicate slug: rejected every time
]


def test_unchanged_reimport_parses_nothing_it_has_seen_and_writes_nothing(source):
    first_parse, first = run(source, FEED)
    assert first.created == 6 and len(first.rejected) == 1
    parsed = known_rows(source)
    assert len(parsed.refs) == 2  # a, and b with its two meetings
    with CaptureQueriesContext(connection) as queries:
        again_parse, again = run(source, FEED)
    assert meeting_writes(queries) == []
    assert [u.refs for u in again_parse.unchanged_rows] == [("a",), ("b-1", "b-3")]
    assert {r.source_ref for r in again_parse.records} == {"c", "d", "e"}
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 6, 0)
    assert report(again) == report(run(source, FEED, fast=False)[1])
    assert [r.as_dict() for r in again.rejected] == [r.as_dict() for r in first.rejected]


def test_a_hand_edit_is_compared_in_full_and_undone(source):
    run(source, FEED)
    m = Meeting.objects.get(source=source, source_ref="a")
    m.name = "Edited by hand"
    m.save()
    assert Meeting.objects.get(pk=m.pk).content_hash == ""
    parsed, summary = run(source, FEED)
    assert "a" in {r.source_ref for r in parsed.records}
    assert summary.updated == 1
    assert Meeting.objects.get(pk=m.pk).name == "Group a"
    # and the digest is back, so the next one skips it again
    assert ("a",) in [u.refs for u in run(source, FEED)[0].unchanged_rows]


def test_save_with_update_fields_clears_the_digest(source):
    run(source, FEED)
    m = Meeting.objects.get(source=source, source_ref="a")
    m.notes = "changed"
    m.save(update_fields=["notes"])
    assert Meeting.objects.get(pk=m.pk).content_hash == ""


def test_changed_and_removed_rows(source):
    run(source, FEED)
    changed = [row("a", notes="new notes"), *FEED[1:3]]
    parsed, summary = run(source, changed)
    assert [u.refs for u in parsed.unchanged_rows] == [("b-1", "b-3")]
    assert (summary.updated, summary.unchanged, summary.removed) == (1, 3, 2)
    assert Meeting.objects.get(source=source, source_ref="a").notes == "new notes"


def test_a_removed_meeting_of_a_row_means_the_row_is_parsed(source):
    run(source, FEED)
    Meeting.objects.filter(source=source, source_ref="b-3").update(status=Status.REMOVED)
    parsed, summary = run(source, FEED)
    assert ("b-1", "b-3") not in [u.refs for u in parsed.unchanged_rows]
    assert summary.updated == 1
    assert Meeting.objects.get(source=source, source_ref="b-3").status == Status.ACTIVE


def test_other_fellowship_choices_mean_no_skipping(source):
    run(source, FEED)
    other = Fellowship.objects.get(code="CA")
    parsed, summary = run(source, FEED, fellowship=other)
    assert parsed.unchanged_rows == []
    assert summary.updated == 6
    assert set(Meeting.objects.filter(source=source).values_list("fellowship", flat=True)) == {
        other.pk
    }


def test_a_stored_digest_that_no_longer_matches_is_parsed_after_all(source):
    """A skipped row whose meetings changed between known_rows() and the import."""
    run(source, FEED)
    known = known_rows(source)
    parsed = parse_meeting_guide(json.dumps(FEED), default_timezone=TZ, known=known)
    Meeting.objects.filter(source=source, source_ref="a").update(
        content_hash="", start_time=time(6, 0)
    )
    summary = apply_records(
        source=source,
        records=parsed.records,
        rejected=parsed.rejected,
        unchanged_rows=parsed.unchanged_rows,
    )
    assert summary.updated == 1
    assert Meeting.objects.get(source=source, source_ref="a").start_time == time(19, 30)


EDITS = st.lists(
    st.tuples(
        st.sampled_from(["notes", "drop", "add", "day", "hand", "time", "type"]),
        st.integers(0, 7),
    ),
    max_size=6,
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rounds=st.lists(EDITS, min_size=1, max_size=3))
def test_skipping_ends_where_a_full_import_does(db, rounds):
    """Two sources get the same feeds, one with known rows, one without: same result."""
    fast = Source.objects.create(name="fast", format="meeting-guide")
    slow = Source.objects.create(name="slow", format="meeting-guide")
    feed = [row(f"m{i}", day=[i % 7, (i + 2) % 7] if i % 3 == 0 else i % 7) for i in range(8)]
    feed.append(row("m0"))  # a duplicate slug
    run(fast, feed)
    run(slow, feed, fast=False)
    for edits in rounds:
        for kind, i in edits:
            if kind == "notes" and i < len(feed):
                feed[i] = {**feed[i], "notes": feed[i].get("notes", "") + "x"}
            elif kind == "drop" and i < len(feed):
                feed.pop(i)
            elif kind == "add":
                feed.insert(min(i, len(feed)), row(f"new{len(feed)}{i}"))
            elif kind == "day" and i < len(feed):
                feed[i] = {**feed[i], "day": [1, 2, 5][: i % 3 + 1]}
            elif kind == "time" and i < len(feed):
                feed[i] = {**feed[i], "time": "7:15 PM"}
            elif kind == "type" and i < len(feed):
                feed[i] = {**feed[i], "types": ["C", "X"]}
            elif kind == "hand":
                for src in (fast, slow):
                    m = Meeting.objects.filter(source=src).order_by("source_ref")[i : i + 1].first()
                    if m:
                        m.notes = "by hand"
                        m.save()
        _, fast_summary = run(fast, feed)
        _, slow_summary = run(slow, feed, fast=False)
        assert report(fast_summary) == report(slow_summary)
        assert state(fast) == state(slow)
    Meeting.objects.all().delete()
    Source.objects.filter(pk__in=[fast.pk, slow.pk]).delete()
