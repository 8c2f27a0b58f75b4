"""The Meeting Guide parser on small inline feeds: every variant real feeds send."""

import json
from datetime import UTC, datetime, time

import pytest

from mutualaid.directory.feeds import FeedError
from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide

NEW_YORK = "America/New_York"


def meeting(**fields) -> dict:
    row = {"slug": "hope", "name": "Hope Group", "day": 1, "time": "19:30"}
    row.update(fields)
    return {key: value for key, value in row.items() if value is not ...}


def parse(*rows, tz=NEW_YORK):
    return parse_meeting_guide(json.dumps(list(rows)), default_timezone=tz)


def only(*rows, tz=NEW_YORK):
    result = parse(*rows, tz=tz)
    assert not result.rejected, result.rejected
    [record] = result.records
    return record


def rejection(row, tz=NEW_YORK):
    result = parse(row, tz=tz)
    assert not result.records
    [rejected] = result.rejected
    return rejected


# --- days and times -----------------------------------------------------------------


@pytest.mark.parametrize(
    "day,weekday",
    [(0, 6), (1, 0), (6, 5), ("0", 6), ("3", 2), (" 5 ", 4), ([2], 1), (4.0, 3)],
)
def test_meeting_guide_day_zero_is_sunday(day, weekday):
    record = only(meeting(day=day))
    assert record.weekday == weekday
    assert record.slug == record.source_ref == "hope"


def test_array_of_days_becomes_one_record_per_day_with_day_suffixes():
    result = parse(meeting(day=[3, 1, 3]), meeting(slug="other", day=2))
    assert [(r.source_ref, r.slug, r.weekday) for r in result.records] == [
        ("hope-3", "hope-3", 2),
        ("hope-1", "hope-1", 0),
        ("other", "other", 1),
    ]
    assert {r.row for r in result.records[:2]} == {1}
    assert result.rows == 2


@pytest.mark.parametrize("day", [7, -1, "Monday", True, 1.5, [1, 9]])
def test_bad_day_is_rejected(day):
    rejected = rejection(meeting(day=day))
    assert (rejected.row, rejected.id, rejected.field) == (1, "hope", "day")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("19:30", time(19, 30)),
        ("7:05", time(7, 5)),
        ("19:30:00", time(19, 30)),
        ("07:30 PM", time(19, 30)),
        ("7:30 am", time(7, 30)),
        ("12:00 AM", time(0, 0)),
        ("12:15 p.m.", time(12, 15)),
        ("00:00", time(0, 0)),
    ],
)
def test_time_formats(text, expected):
    assert only(meeting(time=text)).start_time == expected


@pytest.mark.parametrize("text", ["25:00", "19:60", "7pm", "13:00 PM", "24:00", "noon"])
def test_bad_start_time_is_rejected(text):
    assert rejection(meeting(time=text)).field == "time"


@pytest.mark.parametrize(
    "start,end,minutes",
    [
        ("19:30", "20:45", 75),
        ("23:30", "00:30", 60),  # past midnight
        ("23:00", "01:15", 135),
        ("23:00", "24:00", 60),
        ("19:00", "9:00 PM", 120),
        ("19:00", ..., 60),
        ("19:00", "", 60),
    ],
)
def test_duration_from_end_time(start, end, minutes):
    assert only(meeting(time=start, end_time=end)).duration_minutes == minutes


@pytest.mark.parametrize("end", ["late", "19:00"])
def test_unusable_end_time_warns_and_defaults_to_an_hour(end):
    result = parse(meeting(time="19:00", end_time=end))
    assert result.records[0].duration_minutes == 60
    assert [w.field for w in result.warnings] == ["end_time"]


def test_missing_day_or_time_is_by_appointment():
    result = parse(
        meeting(slug="none", day=..., time=...),
        meeting(slug="null", day=None, time=None),
        meeting(slug="no-time", time=...),
        meeting(slug="no-day", day=...),
        meeting(slug="empty-array", day=[]),
        meeting(slug="empty-text", day="", time=""),
    )
    assert not result.rejected
    assert [(r.weekday, r.start_time) for r in result.records] == [(None, None)] * 6
    assert [w.id for w in result.warnings] == ["no-time", "no-day", "empty-array"]


# --- time zones ---------------------------------------------------------------------


def test_row_zone_beats_default_and_default_beats_coordinates():
    london = {"latitude": 51.5074, "longitude": -0.1278}
    result = parse(
        meeting(slug="own", timezone="America/Los_Angeles", **london),
        meeting(slug="default", **london),
    )
    assert [r.timezone for r in result.records] == ["America/Los_Angeles", NEW_YORK]


def test_zone_from_coordinates_when_no_default():
    record = only(meeting(latitude="39.9525839", longitude="-75.1652215"), tz=None)
    assert record.timezone == NEW_YORK
    assert only(meeting(latitude=53.5461, longitude=-113.4938), tz=None).timezone == (
        "America/Edmonton"
    )


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"latitude": 30.0, "longitude": -40.0},  # mid-Atlantic: no zone on land
        {"timezone": "Mars/Olympus_Mons", "latitude": 51.5, "longitude": -0.12},
    ],
)
def test_no_usable_zone_is_rejected(fields):
    assert rejection(meeting(**fields), tz=None).field == "timezone"


def test_unknown_default_zone_is_a_feed_error():
    with pytest.raises(FeedError, match="unknown time zone 'Nowhere/Town'"):
        parse_meeting_guide("[]", default_timezone="Nowhere/Town")


# --- coordinates --------------------------------------------------------------------


@pytest.mark.parametrize(
    "lat,lng,expected",
    [
        ("39.87", "-75.35", (39.87, -75.35)),
        (39.87, -75.35, (39.87, -75.35)),
        (" 39.87 ", -75, (39.87, -75.0)),
        ("", "", (None, None)),
        (None, None, (None, None)),
        (0, 0, (None, None)),
    ],
)
def test_coordinates(lat, lng, expected):
    record = only(meeting(latitude=lat, longitude=lng))
    assert (record.latitude, record.longitude) == expected


@pytest.mark.parametrize(
    "lat,lng,message",
    [
        (91, 0, "latitude 91.0 is out of range"),
        ("-90.5", "10", "latitude -90.5 is out of range"),
        (10, 180.5, "longitude 180.5 is out of range"),
        ("north", 10, "latitude 'north' is not a number"),
        (10, "NaN", "longitude 'NaN' is not a number"),
        (True, 10, "is not a number"),
    ],
)
def test_bad_coordinates_are_rejected(lat, lng, message):
    rejected = rejection(meeting(latitude=lat, longitude=lng))
    assert rejected.field == "latitude"
    assert message in rejected.reason


def test_half_a_point_is_dropped_with_a_warning():
    result = parse(meeting(latitude=None, longitude="-122.59", address="100 Tarry Rd"))
    assert (result.records[0].latitude, result.records[0].longitude) == (None, None)
    assert [w.field for w in result.warnings] == ["latitude"]


# --- mode, conference details, address ----------------------------------------------


@pytest.mark.parametrize(
    "fields,mode",
    [
        ({"attendance_option": "hybrid"}, "hybrid"),
        ({"attendance_option": "inactive", "conference_url": "https://zoom.us/j/1"}, "inactive"),
        ({"address": "1 Main St"}, "in_person"),
        ({"address": "1 Main St", "conference_url": "https://zoom.us/j/1"}, "hybrid"),
        ({"formatted_address": "1 Main St, Town, PA 19000, USA"}, "in_person"),
        (
            {"formatted_address": "Philadelphia, PA, USA", "conference_url": "https://zoom.us/j/1"},
            "online",
        ),
        (
            {"address": "1 Main St", "approximate": "yes", "conference_phone": "+1 646 558 8656"},
            "online",
        ),
        ({"conference_phone": "+1 646 558 8656"}, "online"),  # phone only: still online
        ({"address": "1 Main St", "types": ["ONL"]}, "hybrid"),
        ({"address": "1 Main St", "types": ["TC"]}, "inactive"),
        (
            {"address": "1 Main St", "types": ["TC"], "conference_url": "https://meet.jit.si/x"},
            "online",
        ),
        ({"formatted_address": "Philadelphia, PA, USA"}, "inactive"),  # nowhere to go
        ({"address": "1 Main St", "attendance_option": "teleport"}, "in_person"),
    ],
)
def test_mode(fields, mode):
    assert parse(meeting(**fields)).records[0].mode == mode


def test_phone_only_meeting_keeps_its_phone():
    record = only(meeting(conference_phone=" 646-558-8656 ", conference_phone_notes="PIN 1"))
    assert (record.conference_phone, record.conference_phone_notes) == ("646-558-8656", "PIN 1")


@pytest.mark.parametrize(
    "url", ["zoom.us/j/123", "ftp://example.org/x", "https://", "javascript:alert(1)"]
)
def test_invalid_conference_url_is_dropped_with_a_warning(url):
    result = parse(meeting(address="1 Main St", conference_url=url, conference_url_notes="pw 1"))
    record = result.records[0]
    assert (record.conference_url, record.conference_url_notes, record.mode) == (
        "",
        "",
        "in_person",
    )
    assert [w.field for w in result.warnings] == ["conference_url"]
    assert not result.rejected


@pytest.mark.parametrize(
    "value,expected",
    [("yes", True), ("no", False), ("YES", True), (True, True), (False, False)],
)
def test_approximate_flag(value, expected):
    assert only(meeting(address="1 Main St", approximate=value)).approximate is expected


def test_approximate_inferred_from_the_address():
    result = parse(
        meeting(slug="street", address="1 Main St"),
        meeting(slug="full", formatted_address="1 Main St, Town, PA 19000, USA"),
        meeting(slug="city-only", formatted_address="Philadelphia, PA, USA"),
        meeting(slug="nothing"),
    )
    assert [r.approximate for r in result.records] == [False, False, True, True]


def test_north_american_formatted_address_fills_the_parts():
    record = only(meeting(formatted_address="3186 Pullman St, Costa Mesa, CA 92626, USA"))
    assert (record.street_address, record.city, record.region, record.postcode, record.country) == (
        "3186 Pullman St",
        "Costa Mesa",
        "CA",
        "92626",
        "USA",
    )
    assert record.formatted_address == "3186 Pullman St, Costa Mesa, CA 92626, USA"


def test_split_address_fields_win_over_the_formatted_one():
    record = only(
        meeting(
            location="St Mary's",
            address="55 Victoria St N",
            city="Tweed",
            state="ON",
            postal_code="K0K 3J0",
            country="CA",
            location_notes="Side door",
        )
    )
    assert (record.location_name, record.street_address, record.city, record.region) == (
        "St Mary's",
        "55 Victoria St N",
        "Tweed",
        "ON",
    )
    assert (record.postcode, record.country, record.location_notes) == (
        "K0K 3J0",
        "CA",
        "Side door",
    )


def test_one_line_address_in_the_address_field():
    street = only(meeting(address="8318 104 St, Edmonton, Alberta, T6E 4E8, Canada"))
    assert street.street_address == "8318 104 St"
    assert street.formatted_address == "8318 104 St, Edmonton, Alberta, T6E 4E8, Canada"
    assert street.approximate is False
    city = only(meeting(address="Edmonton, Alberta, Canada", conference_url="https://zoom.us/j/1"))
    assert (city.street_address, city.approximate, city.mode) == ("", True, "online")


# --- types, languages, other fields -------------------------------------------------


def test_types_languages_and_unknown_codes():
    result = parse(
        meeting(types=["O", "w", "X", "EN", "S", "ONL", "ZZZ", "", 11]),
        meeting(slug="two", types="C, ZZZ"),
    )
    first, second = result.records
    assert first.types == ("open", "women", "wheelchair", "eleventh_step_meditation")
    assert first.languages == ("en", "es")
    assert second.types == ("closed",)
    assert result.unknown_types == {"ZZZ": 2}
    assert not result.rejected


def test_plain_fields_and_updated_timestamp():
    record = only(
        meeting(
            group=" Hope Group of AA ",
            notes="Ring the bell",
            updated="2023-08-29 15:56:59",
            fellowship="NA",
            location=None,
        )
    )
    assert (record.group_name, record.notes, record.fellowship, record.location_name) == (
        "Hope Group of AA",
        "Ring the bell",
        "NA",
        "",
    )
    assert record.feed_updated_at == datetime(2023, 8, 29, 15, 56, 59, tzinfo=UTC)


@pytest.mark.parametrize(
    "value,expected",
    [
        ("8/25/2022 11:17:07 AM", datetime(2022, 8, 25, 11, 17, 7, tzinfo=UTC)),
        ("8/28/2021", datetime(2021, 8, 28, tzinfo=UTC)),
        ("yesterday", None),
    ],
)
def test_other_updated_layouts(value, expected):
    assert parse(meeting(updated=value)).records[0].feed_updated_at == expected


# --- identity and rejections --------------------------------------------------------


def test_slug_or_id_identifies_the_row():
    result = parse(
        meeting(slug=8),
        meeting(slug=..., id=64769),
        meeting(slug="Café Meeting!"),
        meeting(slug=..., name="No id"),
    )
    assert [(r.source_ref, r.slug) for r in result.records] == [
        ("8", "8"),
        ("64769", "64769"),
        ("Café Meeting!", "cafe-meeting"),
    ]
    assert [(r.row, r.field) for r in result.rejected] == [(4, "slug")]


@pytest.mark.parametrize("name", [..., None, "", "   "])
def test_missing_name_is_rejected(name):
    assert rejection(meeting(name=name)).field == "name"


def test_duplicate_slug_rejects_the_later_row():
    result = parse(
        meeting(name="First"),
        meeting(name="Second"),
        meeting(slug="x", day=[1, 2]),
        meeting(slug="x-2", name="Clashes with a split day"),
    )
    assert [r.name for r in result.records[:1]] == ["First"]
    assert [(r.row, r.id, r.field) for r in result.rejected] == [
        (2, "hope", "slug"),
        (4, "x-2", "slug"),
    ]
    assert "first in row 1" in result.rejected[0].reason


def test_non_object_row_is_rejected():
    result = parse(meeting(), "hello", None)
    assert [(r.row, r.field) for r in result.rejected] == [(2, "row"), (3, "row")]


def test_every_row_is_either_a_record_or_a_rejection():
    rows = [meeting(slug=f"m{i}", day=i % 8 if i % 8 < 7 else "x") for i in range(40)]
    result = parse(*rows)
    assert len(result.records) + len(result.rejected) == result.rows == 40


def test_warnings_of_a_rejected_row_are_not_kept():
    result = parse(meeting(end_time="late", latitude=200, longitude=0))
    assert result.rejected and not result.warnings


# --- whole-file problems ------------------------------------------------------------


@pytest.mark.parametrize(
    "data,message",
    [
        (b"<html>oops</html>", "not valid JSON: Expecting value at line 1 column 1"),
        (b'{"meetings": []}', "expected a JSON array of meetings, got an object"),
        (b'"text"', "expected a JSON array of meetings, got a string"),
        (b"null", "expected a JSON array of meetings, got null"),
        (b"\xff\xfe[]", "not UTF-8"),
        ("", "not valid JSON"),
    ],
)
def test_whole_feed_problems_raise_feed_error(data, message):
    with pytest.raises(FeedError, match=message):
        parse_meeting_guide(data, default_timezone=NEW_YORK)


def test_accepts_bytes_with_bom_text_and_parsed_lists():
    payload = json.dumps([meeting()])
    for data in (b"\xef\xbb\xbf" + payload.encode(), payload, json.loads(payload)):
        assert len(parse_meeting_guide(data, default_timezone=NEW_YORK).records) == 1
