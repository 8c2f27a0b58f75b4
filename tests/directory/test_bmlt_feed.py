"""BMLT GetSearchResults (+ GetFormats) into MeetingRecords, and through the importer."""

import json
from collections import Counter
from datetime import time
from pathlib import Path

import pytest

from mutualaid.directory.feeds import FeedError
from mutualaid.directory.feeds.bmlt import parse_bmlt
from mutualaid.directory.importing import apply_records
from mutualaid.directory.models import Fellowship, Meeting, Source
from tests.factories import make_meeting

REALFEEDS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realfeeds"
FORMATS = [
    {"key_string": "O", "name_string": "Open", "id": "17", "world_id": "OPEN",
     "format_type_enum": "O", "lang": "en"},
    {"key_string": "F", "name_string": "Frauen", "id": "11", "world_id": "W",
     "format_type_enum": "FC3", "lang": "de"},
    {"key_string": "Beh", "name_string": "barrierefrei", "id": "33", "world_id": "WCHR",
     "format_type_enum": "FC2", "lang": "de"},
    {"key_string": "B", "name_string": "Beginners", "id": "1", "world_id": "",
     "format_type_enum": "FC3", "lang": "en"},
    {"key_string": "ES", "name_string": "Espanol", "id": "9", "world_id": "LANG",
     "format_type_enum": "FC3", "lang": "en"},
    {"key_string": "fr", "name_string": "French", "id": "211", "world_id": "",
     "format_type_enum": "LANG", "lang": "en"},
    {"key_string": "TC", "name_string": "Temporarily Closed", "id": "55", "world_id": "TC",
     "format_type_enum": "FC2", "lang": "en"},
    {"key_string": "VM", "name_string": "Virtual", "id": "54", "world_id": "VM",
     "format_type_enum": "FC2", "lang": "en"},
    {"key_string": "Pi", "name_string": "Pitch", "id": "18", "world_id": "",
     "format_type_enum": "FC1", "lang": "en"},
]  # fmt: skip


def row(**fields) -> dict:
    base = {
        "id_bigint": "101",
        "meeting_name": "Just for Today",
        "weekday_tinyint": "2",
        "start_time": "19:30:00",
        "duration_time": "01:30:00",
        "time_zone": "America/New_York",
        "venue_type": "1",
        "formats": "O",
        "lang_enum": "en",
        "latitude": "42.86",
        "longitude": "-76.98",
        "published": "1",
        "location_text": "St Mary's",
        "location_street": "1 Main St",
        "location_municipality": "Geneva",
        "location_province": "NY",
        "location_postal_code_1": "14456",
        "location_nation": "USA",
        "location_info": "Basement",
        "comments": "Bring a friend",
        "virtual_meeting_link": "",
        "phone_meeting_number": "",
        "virtual_meeting_additional_info": "",
    }
    base.update(fields)
    return base


def parse_one(table=FORMATS, **fields):
    result = parse_bmlt([row(**fields)], table)
    return result, (result.records[0] if result.records else None)


def test_a_plain_row():
    result, record = parse_one()
    assert not result.rejected and not result.warnings
    assert record.source_ref == "101" and record.slug == "just-for-today-101"
    assert record.weekday == 0  # weekday_tinyint 2 = Monday
    assert record.start_time == time(19, 30) and record.duration_minutes == 90
    assert record.timezone == "America/New_York"
    assert record.mode == "in_person" and record.types == ("open",)
    assert record.languages == ("en",)
    assert (record.location_name, record.street_address, record.city) == (
        "St Mary's", "1 Main St", "Geneva"
    )  # fmt: skip
    assert (record.region, record.postcode, record.country) == ("NY", "14456", "USA")
    assert record.formatted_address == "1 Main St, Geneva, NY 14456, USA"
    assert record.location_notes == "Basement" and record.notes == "Bring a friend"
    assert record.latitude == 42.86 and not record.approximate


@pytest.mark.parametrize("day, weekday", [("1", 6), ("2", 0), ("7", 5)])
def test_weekday_tinyint_is_one_for_sunday(day, weekday):
    assert parse_one(weekday_tinyint=day)[1].weekday == weekday


def test_formats_resolve_by_world_id_then_name_then_key():
    result, record = parse_one(formats="O,F,Beh,B,Pi,XYZ")
    assert record.types == ("open", "women", "wheelchair", "newcomer")
    assert result.unknown_types == Counter({"Pi": 1, "XYZ": 1})
    assert [w.message for w in result.warnings] == [
        "unknown format Pi (Pitch): left out",
        "unknown format XYZ: left out",
    ]
    # Without a GetFormats table the stock key strings still resolve.
    assert parse_one(table=None)[1].types == ("open",)
    assert parse_bmlt([row(formats="C,WC,JT")]).records[0].types == (
        "closed", "wheelchair", "just_for_today"
    )  # fmt: skip


def test_languages_from_lang_formats_else_lang_enum():
    assert parse_one(formats="O,ES")[1].languages == ("es",)
    assert parse_one(formats="fr,ES")[1].languages == ("fr", "es")
    assert parse_one(formats="O", lang_enum="de")[1].languages == ("de",)
    result, record = parse_one(lang_enum="xx")
    assert record.languages == () and result.warnings[0].field == "lang_enum"


@pytest.mark.parametrize(
    "fields, mode",
    [
        ({"venue_type": "1"}, "in_person"),
        ({"venue_type": "2", "virtual_meeting_link": "https://zoom.us/j/1"}, "online"),
        ({"venue_type": "3", "virtual_meeting_link": "https://zoom.us/j/1"}, "hybrid"),
        ({"venue_type": "", "formats": "VM"}, "online"),
        ({"venue_type": "", "phone_meeting_number": "+1 646 558 8656"}, "online"),
        ({"venue_type": "1", "formats": "O,TC"}, "inactive"),
        ({"venue_type": "2", "formats": "TC,VM"}, "online"),  # the venue is closed, not it
    ],
)
def test_mode(fields, mode):
    result, record = parse_one(**fields)
    assert record.mode == mode
    if "TC" in fields.get("formats", ""):
        assert "temporarily_closed" in record.types
    assert "online" not in record.types


def test_conference_fields():
    _, record = parse_one(
        venue_type="3",
        virtual_meeting_link="https://zoom.us/j/123",
        phone_meeting_number="+1 312 626 6799",
        virtual_meeting_additional_info="Passcode 42",
    )
    assert record.conference_url == "https://zoom.us/j/123"
    assert record.conference_url_notes == "Passcode 42"
    assert record.conference_phone == "+1 312 626 6799"
    result, record = parse_one(virtual_meeting_link="zoom meeting 123", venue_type="2")
    assert record.conference_url == "" and result.warnings[0].field == "virtual_meeting_link"


def test_time_zone_fallbacks():
    assert parse_one(time_zone="")[1].timezone == "America/New_York"  # from coordinates
    no_zone = {"time_zone": "", "latitude": "", "longitude": ""}
    result, record = parse_one(**no_zone)
    assert record is None and result.rejected[0].field == "time_zone"
    assert parse_bmlt([row(**no_zone)], default_timezone="Europe/Berlin").records[0].timezone == (
        "Europe/Berlin"
    )
    # BMLT's stock map centre is a placeholder: dropped, and it says nothing of the zone.
    result, record = parse_one(time_zone="", latitude="34.235918", longitude="-118.563659")
    assert record is None and result.rejected[0].field == "time_zone"
    assert (
        "stock map centre"
        in parse_one(latitude="34.235918", longitude="-118.563659")[0].warnings[0].message
    )
    assert parse_one(latitude="0", longitude="0")[1].latitude is None


@pytest.mark.parametrize(
    "fields, field",
    [
        ({"id_bigint": ""}, "id_bigint"),
        ({"meeting_name": " "}, "meeting_name"),
        ({"weekday_tinyint": "0"}, "weekday_tinyint"),
        ({"weekday_tinyint": "8"}, "weekday_tinyint"),
        ({"start_time": "7pm"}, "start_time"),
        ({"start_time": "25:00:00"}, "start_time"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"published": "0"}, "published"),
        ({"latitude": "north"}, "latitude"),
        ({"latitude": "95", "longitude": "0"}, "latitude"),
    ],
)
def test_row_problems_are_rejections(fields, field):
    result = parse_bmlt([row(id_bigint="7"), row(**{"id_bigint": "8", **fields})], FORMATS)
    assert [r.source_ref for r in result.records] == ["7"]
    assert [(r.row, r.field) for r in result.rejected] == [(2, field)]


def test_duplicate_ids_and_odd_durations():
    result = parse_bmlt(
        [row(), row(duration_time="00:00:00"), row(id_bigint="5", duration_time="")]
    )
    assert [(r.row, r.field) for r in result.rejected] == [(2, "id_bigint")]
    assert result.records[1].duration_minutes == 60 and not result.warnings
    assert parse_one(duration_time="00:00:00")[0].warnings[0].field == "duration_time"
    assert parse_one(duration_time="24:00:00")[1].duration_minutes == 1440


def test_shapes_of_the_feed():
    wrapped = json.dumps({"meetings": [row()], "formats": FORMATS})
    assert parse_bmlt(wrapped).records[0].types == ("open",)
    assert parse_bmlt("{}").records == []  # BMLT's empty answer
    assert parse_bmlt([row(formats="F")], {"formats": FORMATS}).records[0].types == ("women",)
    for junk in (b"\xff\xfe", "not json", "3", '"x"', json.dumps({"meetings": 3})):
        with pytest.raises(FeedError):
            parse_bmlt(junk)
    with pytest.raises(FeedError):
        parse_bmlt([], "oops")
    with pytest.raises(FeedError):
        parse_bmlt([], default_timezone="Nowhere/Land")
    assert parse_bmlt([3]).rejected[0].field == "row"


# --- our own API output parses back to the same meetings ----------------------------


@pytest.mark.django_db
def test_our_own_bmlt_output_round_trips(client):
    made = [
        make_meeting(name="Open women", types=["open", "women", "big_book"], weekday=6,
                     start_time=time(8, 15), duration_minutes=75, street_address="2 Hill Rd",
                     postcode="BN1 1AA", region="East Sussex", country="UK", notes="Tea"),
        make_meeting(name="Online Spanish", mode="online", latitude=None, longitude=None,
                     conference_url="https://meet.example.org/x", conference_url_notes="pw",
                     languages=["es"], types=["closed"], timezone="America/Los_Angeles"),
        make_meeting(name="Hybrid", mode="hybrid", conference_url="https://zoom.us/j/5",
                     types=["secular", "seniors"], languages=["en", "pl"]),
        make_meeting(name="Closed venue", mode="inactive", types=["speaker"]),
    ]  # fmt: skip
    url = "/main_server/client_interface/json/"
    meetings = client.get(url, {"switcher": "GetSearchResults"}).content
    formats = client.get(url, {"switcher": "GetFormats"}).content
    result = parse_bmlt(meetings, formats)
    assert not result.rejected and not result.warnings
    by_ref = {r.source_ref: r for r in result.records}
    for meeting in made:
        record = by_ref[str(meeting.pk)]
        for name in ("name", "weekday", "start_time", "duration_minutes", "timezone", "mode",
                     "latitude", "longitude", "street_address", "city", "region", "postcode",
                     "country", "conference_url", "conference_url_notes", "notes"):  # fmt: skip
            assert getattr(record, name) == getattr(meeting, name), (meeting.name, name)
        implied = {"temporarily_closed"} if meeting.mode == "inactive" else set()
        assert set(record.types) == set(meeting.types) | implied
        assert set(record.languages) == set(meeting.languages)


# --- real feeds, parsed and imported -------------------------------------------------


def _realfeed(name: str) -> bytes:
    path = REALFEEDS / name
    if not path.exists():
        pytest.skip(f"{path} is absent")
    return path.read_bytes()


@pytest.mark.realfeeds
def test_real_gnyr_2018():
    result = parse_bmlt(
        _realfeed("bmlt-gnyr-2018.GetSearchResults.DERIVED.json"),
        _realfeed("bmlt-gnyr-2018.GetFormats.en.DERIVED.json"),
    )
    assert (result.rows, len(result.records), len(result.rejected)) == (1513, 1513, 0)
    assert Counter(r.mode for r in result.records) == {"in_person": 1513}
    assert Counter(r.timezone for r in result.records) == {"America/New_York": 1513}
    assert Counter(r.languages for r in result.records) == {("en",): 1487, ("es",): 26}
    assert Counter(r.weekday for r in result.records)[6] == 188  # weekday_tinyint 1, Sunday
    types = Counter(t for r in result.records for t in r.types)
    assert (types["open"], types["closed"], types["newcomer"], types["wheelchair"]) == (
        864, 329, 229, 306
    )  # fmt: skip
    # Local formats with no world id and no stock key: left out, reported.
    assert result.unknown_types == {"Ti": 46, "Rr": 39, "Pi": 37, "CH": 37, "CS": 16, "BL": 9,
                                    "SC": 8, "ID": 7, "OE": 3, "IL": 1, "FD": 1}  # fmt: skip
    assert len(result.warnings) == 204


@pytest.mark.realfeeds
def test_real_berlin():
    meetings = _realfeed("bmlt-berlin.GetSearchResults.json")
    formats = _realfeed("bmlt-berlin.GetFormats.de.json")
    bare = parse_bmlt(meetings, formats)
    # Nine online meetings sit on BMLT's stock map centre with no zone: no zone to be had.
    assert (len(bare.records), len(bare.rejected)) == (99, 9)
    assert {r.field for r in bare.rejected} == {"time_zone"}
    result = parse_bmlt(meetings, formats, default_timezone="Europe/Berlin")
    assert (len(result.records), len(result.rejected)) == (108, 0)
    assert Counter(r.mode for r in result.records) == {"in_person": 85, "online": 23}
    assert Counter(r.timezone for r in result.records) == {"Europe/Berlin": 108}
    languages = Counter(r.languages for r in result.records)
    assert (languages[("de",)], languages[("en",)], languages[("ru",)]) == (74, 14, 6)
    english = next(r for r in result.records if r.source_ref == "10896")
    assert english.languages == ("en",) and english.latitude is None  # stock centre dropped
    assert sum(1 for r in result.records if r.conference_url) == 23
    assert result.unknown_types["KT"] == 35  # "Tiereverbot": no dogs, not in our vocabulary


@pytest.mark.realfeeds
@pytest.mark.parametrize("day, count", [(2, 53), (3, 54), (4, 62)])
def test_real_geneva_yap_searches(day, count):
    raw = _realfeed(f"bmlt-geneva-ny-day{day}.GetSearchResults+formats.json")
    result = parse_bmlt(raw)
    assert (len(result.records), len(result.rejected)) == (count, 0)
    assert {r.weekday for r in result.records} == {day - 2}  # 2 = Monday
    assert {r.timezone for r in result.records} == {"America/New_York"}


@pytest.mark.realfeeds
@pytest.mark.django_db
def test_real_feeds_import_update_and_remove():
    source = Source.objects.create(
        name="gnyr", format="bmlt", fellowship=Fellowship.objects.get(code="NA")
    )
    meetings = json.loads(_realfeed("bmlt-gnyr-2018.GetSearchResults.DERIVED.json"))
    formats = _realfeed("bmlt-gnyr-2018.GetFormats.en.DERIVED.json")
    first = apply_records(source=source, records=parse_bmlt(meetings, formats).records)
    assert (first.created, first.updated, first.unchanged, first.removed) == (1513, 0, 0, 0)
    assert Meeting.objects.filter(fellowship__code="NA", status="active").count() == 1513
    again = apply_records(source=source, records=parse_bmlt(meetings, formats).records)
    assert (again.created, again.updated, again.unchanged, again.removed) == (0, 0, 1513, 0)
    meetings[0]["start_time"] = "06:45:00"
    gone = meetings.pop()
    third = apply_records(source=source, records=parse_bmlt(meetings, formats).records)
    assert (third.created, third.updated, third.unchanged, third.removed) == (0, 1, 1511, 1)
    assert Meeting.objects.get(source_ref=gone["id_bigint"]).status == "removed"
