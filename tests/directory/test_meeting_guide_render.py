"""render_meeting_guide: our meetings as Meeting Guide feed objects, and back through the parser."""

import json
from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from mutualaid.directory import feeds_views
from mutualaid.directory.feeds.meeting_guide import (
    FEED_SLUG_MAX,
    feed_phone,
    feed_slug,
    parse_meeting_guide,
    render_meeting_guide,
)
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def render(**fields) -> dict:
    """The one feed object of a meeting made with these fields."""
    meeting = make_meeting(**fields)
    items = json.loads(feeds_views.render_feed(base_url=None))
    [item] = [i for i in items if i["slug"] == meeting.slug]
    return item


# --- days and times -----------------------------------------------------------------


@pytest.mark.parametrize(
    "weekday,day", [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (6, 0)]
)  # Python 0 = Monday; Meeting Guide 0 = Sunday
def test_day_zero_is_sunday(weekday, day):
    assert render(weekday=weekday)["day"] == day


@pytest.mark.parametrize(
    "start,duration,end",
    [
        (time(0, 0), 60, "01:00"),
        (time(23, 59), 1, "00:00"),
        (time(23, 30), 90, "01:00"),  # past midnight
        (time(7, 5), 55, "08:00"),
        (time(19, 30, 45), 60, "20:30"),  # seconds are not part of the format
    ],
)
def test_times_are_hh_mm_24_hour(start, duration, end):
    item = render(start_time=start, duration_minutes=duration)
    assert item["time"] == start.strftime("%H:%M")
    assert item["end_time"] == end


def test_a_meeting_of_a_whole_day_has_no_end_time():
    item = render(start_time=time(9, 0), duration_minutes=1440)
    assert item["time"] == "09:00"
    assert "end_time" not in item


def test_by_appointment_has_no_day_or_time():
    item = render(weekday=None, start_time=None)
    assert not {"day", "time", "end_time", "rrule"} & set(item)
    assert item["timezone"] == "Europe/London"


# --- types, mode and location -------------------------------------------------------


def test_types_are_meeting_guide_codes_then_languages():
    item = render(types=["women", "wheelchair", "open"], languages=["en", "pl"])
    assert item["types"] == ["O", "X", "W", "EN", "POL"]


def test_types_without_a_meeting_guide_code_are_left_out_and_no_onl():
    item = render(
        types=["basic_text", "online"],
        languages=["cy"],
        mode="online",
        conference_url="https://zoom.us/j/1",
    )
    assert "types" not in item  # no code for any of them, and ONL is not a spec code
    assert item["attendance_option"] == "online"


def test_temporarily_closed_meetings_carry_tc():
    assert render(mode="inactive", types=["open"])["types"] == ["O", "TC", "EN"]
    assert render(mode="inactive", types=["temporarily_closed"])["types"] == ["TC", "EN"]


def test_online_only_meetings_are_approximate_whatever_the_stored_flag():
    online = render(mode="online", approximate=False, conference_phone="+44 20 7946 0000", slug="a")
    assert online["approximate"] == "yes"
    assert render(mode="in_person", approximate=False, slug="b")["approximate"] == "no"
    assert render(mode="hybrid", approximate=True, slug="c")["approximate"] == "yes"


def test_location_fields_use_the_spec_names_and_empty_ones_are_left_out():
    item = render(
        location_name="St Mary's Hall",
        street_address="1 High Street",
        city="Lewes",
        region="England",
        postcode="BN7 1AA",
        country="GB",
        formatted_address="",
        location_notes="Side door",
        group_name="",
        latitude=50.87,
        longitude=0.01,
    )
    assert item["location"] == "St Mary's Hall"
    assert item["address"] == "1 High Street"
    assert (item["city"], item["state"], item["postal_code"], item["country"]) == (
        "Lewes",
        "England",
        "BN7 1AA",
        "GB",
    )
    assert item["location_notes"] == "Side door"
    assert (item["latitude"], item["longitude"]) == (50.87, 0.01)
    assert "formatted_address" not in item and "group" not in item and "notes" not in item
    assert all(value not in ("", None, []) for value in item.values())


def test_conference_fields_and_their_notes():
    item = render(
        mode="hybrid",
        conference_url="https://zoom.us/j/123?pwd=x",
        conference_url_notes="Passcode 1",
        conference_phone="+1 (646) 558-8656",
        conference_phone_notes="ID 123",
    )
    assert item["conference_url"] == "https://zoom.us/j/123?pwd=x"
    assert item["conference_url_notes"] == "Passcode 1"
    assert item["conference_phone"] == "+16465588656"
    assert item["conference_phone_notes"] == "ID 123"


@pytest.mark.parametrize(
    "stored,sent",
    [
        ("+44 20 7946 0123", "+442079460123"),
        ("+1 (646) 558-8656", "+16465588656"),
        ("+16465588656,,123456#", "+16465588656,,123456#"),
        ("020.7946.0123", "02079460123"),
        ("0800 123 ext 5", "0800 123 ext 5"),  # not dialable as digits: sent as stored
    ],
)
def test_conference_phone_is_made_dialable_when_it_can_be(stored, sent):
    assert feed_phone(stored) == sent


# --- schedules, stamps, identity ----------------------------------------------------


def test_fortnightly_meetings_say_so_in_notes_and_rrule():
    item = render(
        weekday=2,
        frequency="fortnightly",
        series_anchor=date(2026, 1, 14),
        notes="Bring a mug.",
    )
    assert item["day"] == 3
    assert item["notes"] == (
        "Fortnightly: every other Wednesday (one of them is 2026-01-14), not every week.\n"
        "Bring a mug."
    )
    assert item["rrule"] == "FREQ=WEEKLY;INTERVAL=2;BYDAY=WE"
    assert item["dtstart"] == "2026-01-14"


def test_monthly_meetings_say_so_in_notes_and_rrule():
    item = render(weekday=4, frequency="monthly", month_week=-1)
    assert item["notes"] == "Monthly: the last Friday of the month, not every week."
    assert item["rrule"] == "FREQ=MONTHLY;BYDAY=-1FR"
    assert "dtstart" not in item


def test_weekly_meetings_have_no_rrule():
    item = render()
    assert "rrule" not in item and "dtstart" not in item


def test_updated_is_the_feed_stamp_in_utc_else_our_last_change():
    stamp = datetime(2026, 3, 29, 1, 30, 15, 999, tzinfo=timezone(timedelta(hours=2)))
    assert render(feed_updated_at=stamp, slug="a")["updated"] == "2026-03-28 23:30:15"
    meeting = make_meeting(feed_updated_at=None, slug="b")
    items = {i["slug"]: i for i in json.loads(feeds_views.render_feed(base_url=None))}
    assert items["b"]["updated"] == meeting.updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def test_fellowship_code_and_absolute_meeting_url():
    meeting = make_meeting(fellowship_code="NA")
    [item] = json.loads(feeds_views.render_feed(base_url="https://meetings.example.org/"))
    assert item["fellowship"] == "NA"
    assert item["url"] == f"https://meetings.example.org/meetings/{meeting.slug}/"


def test_long_slugs_are_shortened_stably_and_uniquely():
    base = "a-very-long-meeting-name-" * 5
    slugs = [f"{base}{n}" for n in range(3)]
    short = [feed_slug(s) for s in slugs]
    assert all(len(s) <= FEED_SLUG_MAX for s in short)
    assert len(set(short)) == 3
    assert short == [feed_slug(s) for s in slugs]
    assert feed_slug("short-one") == "short-one"


def test_unicode_is_sent_as_utf8():
    render(name="Grupo Esperanza — Señoras 日本")
    body = feeds_views.render_feed(base_url=None)
    assert "Grupo Esperanza — Señoras 日本".encode() in body


def test_rows_may_be_plain_dicts():
    row = {
        "slug": "x",
        "name": "X",
        "group_name": "",
        "weekday": 6,
        "start_minute": 0,
        "duration_minutes": 60,
        "timezone": "UTC",
        "frequency": "weekly",
        "month_week": None,
        "series_anchor": None,
        "mode": "in_person",
        "location_name": "",
        "street_address": "",
        "city": "",
        "region": "",
        "postcode": "",
        "country": "",
        "formatted_address": "",
        "latitude": None,
        "longitude": None,
        "approximate": True,
        "location_notes": "",
        "conference_url": "",
        "conference_url_notes": "",
        "conference_phone": "",
        "conference_phone_notes": "",
        "type_codes": "",
        "language_codes": "",
        "notes": "",
        "updated": datetime(2026, 1, 1, tzinfo=UTC),
        "fellowship__code": "AA",
    }
    assert json.loads(render_meeting_guide([row, {**row, "slug": "y"}])) == [
        {
            "name": "X",
            "slug": slug,
            "day": 0,
            "time": "00:00",
            "end_time": "01:00",
            "timezone": "UTC",
            "approximate": "yes",
            "attendance_option": "in_person",
            "updated": "2026-01-01 00:00:00",
            "fellowship": "AA",
        }
        for slug in ("x", "y")
    ]
    assert render_meeting_guide([]) == b"[]"


def test_our_feed_parses_back_without_rejections_or_warnings():
    make_meeting(name="Plain")
    make_meeting(name="Appointment", weekday=None, start_time=None)
    make_meeting(name="Closed", mode="inactive", types=["open"])
    make_meeting(
        name="Online",
        mode="online",
        latitude=None,
        longitude=None,
        conference_url="https://zoom.us/j/9",
        conference_phone="+44 20 7946 0000",
    )
    make_meeting(name="Monthly", frequency="monthly", month_week=2, start_time=time(23, 59))
    result = parse_meeting_guide(feeds_views.render_feed(base_url="https://x.example"))
    assert not result.rejected and not result.warnings and not result.unknown_types
    assert [r.name for r in result.records] == [
        "Plain",
        "Appointment",
        "Closed",
        "Online",
        "Monthly",
    ]
    modes = {r.name: r.mode for r in result.records}
    assert modes == {
        "Plain": "in_person",
        "Appointment": "in_person",
        "Closed": "inactive",
        "Online": "online",
        "Monthly": "in_person",
    }
