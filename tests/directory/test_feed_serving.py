"""GET /feeds/meeting-guide.json: conformance, caching headers, and what it lists."""

import gzip
import json
import re
from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

import pytest

from mutualaid.accounts.models import Organisation
from mutualaid.directory import cache as directory_cache
from mutualaid.directory import feed_files
from mutualaid.directory.duplicates import mark_duplicates
from mutualaid.directory.feeds import MeetingRecord
from mutualaid.directory.importing import apply_records
from mutualaid.directory.models import Fellowship, Meeting, Source, SourceFormat
from tests.factories import make_meeting
from tests.realfeeds import realfeed

pytestmark = pytest.mark.django_db
URL = "/feeds/meeting-guide.json"

# The draft schema's rules for the fields we send (spec-meeting.schema.draft.json), without
# its US-only address patterns (state ^[A-Z]{2}$, postal_code ^[0-9]{5}$, ASCII-only city,
# address and formatted_address). The realfeeds test below checks against the file itself.
SCHEMA = {
    "required": ["name", "slug"],
    "properties": {
        "name": {"type": "string", "maxLength": 255},
        "slug": {"type": "string", "maxLength": 64},
        "day": {
            "type": ["integer", "array"],
            "items": {"type": "integer", "minimum": 0, "maximum": 6},
        },
        "time": {"type": "string", "pattern": r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"},
        "end_time": {"type": "string", "pattern": r"^([01]?[0-9]|2[0-3]):[0-5][0-9]$"},
        "timezone": {"type": "string"},
        "formatted_address": {"type": "string"},
        "address": {"type": "string"},
        "city": {"type": "string"},
        "state": {"type": "string"},
        "postal_code": {"type": "string"},
        "country": {"type": "string"},
        "conference_url": {"type": "string", "format": "uri"},
        "conference_url_notes": {"type": "string"},
        "conference_phone": {"type": "string", "pattern": r"^[+]?\d{1,15}(?:[,*#]\d+)*$"},
        "conference_phone_notes": {"type": "string"},
        "types": {"type": "array"},
        "notes": {"type": "string"},
        "location": {"type": "string"},
        "location_notes": {"type": "string"},
        "latitude": {"type": "number"},
        "longitude": {"type": "number"},
        "approximate": {"type": "string", "enum": ["yes", "no"]},
        "updated": {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$"},
        "group": {"type": "string"},
        "url": {"type": "string", "format": "uri"},
    },
}
US_ONLY = {"formatted_address", "address", "city", "state", "postal_code"}
# Ours, outside the spec: TSML's attendance_option, our schedule and fellowship extensions.
EXTENSIONS = {"attendance_option", "rrule", "dtstart", "fellowship"}
TYPES = {"string": str, "integer": int, "number": (int, float), "array": list}


def problems(item: dict, schema: dict) -> list[str]:
    """What in item breaks schema (the draft-07 keywords the meeting schema uses)."""
    found = [f"missing {key}" for key in schema["required"] if key not in item]
    properties = schema["properties"]
    for key, value in item.items():
        if key in EXTENSIONS:
            continue
        if key not in properties:
            found.append(f"{key}: not in the spec")
            continue
        rule = properties[key]
        kinds = rule["type"] if isinstance(rule["type"], list) else [rule["type"]]
        if isinstance(value, bool) or not any(isinstance(value, TYPES[k]) for k in kinds):
            found.append(f"{key}: {value!r} is not {kinds}")
            continue
        if isinstance(value, int) and "items" in rule and "integer" in kinds:
            value_rule = rule["items"]
            if not value_rule["minimum"] <= value <= value_rule["maximum"]:
                found.append(f"{key}: {value} out of range")
        if isinstance(value, str):
            if "maxLength" in rule and len(value) > rule["maxLength"]:
                found.append(f"{key}: longer than {rule['maxLength']}")
            if "pattern" in rule and key not in US_ONLY and not re.search(rule["pattern"], value):
                found.append(f"{key}: {value!r} does not match {rule['pattern']}")
            if "enum" in rule and value not in rule["enum"]:
                found.append(f"{key}: {value!r} not in {rule['enum']}")
            if rule.get("format") == "uri":
                parts = urlsplit(value)
                if parts.scheme not in ("http", "https") or not parts.netloc:
                    found.append(f"{key}: {value!r} is not an absolute URL")
        if isinstance(value, list):
            if not value or not all(isinstance(v, str) and v for v in value):
                found.append(f"{key}: {value!r} is not a list of codes")
    return found


def body(response) -> bytes:
    """A response's body, streamed (the feed is a file) or not (errors)."""
    return response.getvalue() if response.streaming else response.content


def feed(client, **query) -> list[dict]:
    response = client.get(URL, query)
    assert response.status_code == 200, body(response)
    return json.loads(body(response))


def varied_meetings() -> list[Meeting]:
    return [
        make_meeting(name="Plain", types=["open", "wheelchair"], languages=["en", "es"]),
        make_meeting(name="Midnight", weekday=6, start_time=time(0, 0), duration_minutes=30),
        make_meeting(name="Late", weekday=5, start_time=time(23, 59), duration_minutes=90),
        make_meeting(name="Appointment", weekday=None, start_time=None),
        make_meeting(
            name="Online",
            mode="online",
            latitude=None,
            longitude=None,
            city="",
            conference_url="https://zoom.us/j/123456789",
            conference_url_notes="Passcode 1234",
            conference_phone="+44 20 7946 0123",
            conference_phone_notes="ID 123 456 789",
        ),
        make_meeting(name="Hybrid", mode="hybrid", conference_url="https://meet.example.org/x"),
        make_meeting(name="Closed", mode="inactive", notes="Closed for repairs"),
        make_meeting(name="Monthly", frequency="monthly", month_week=2, weekday=3),
        make_meeting(
            name="Fortnightly",
            frequency="fortnightly",
            weekday=0,
            series_anchor=date(2026, 1, 5),
        ),
        make_meeting(name="The Thursday Night Big Book Study and Step Group of St Mary " * 3),
        make_meeting(
            name="Долгое название собрания для тех, кто хочет бросить " * 3,
            timezone="Asia/Kolkata",
            feed_updated_at=datetime(2026, 2, 1, 9, 30, tzinfo=UTC),
            formatted_address="Flat 2, 10 Rue de Rivoli, 75004 Paris, France",
            location_notes="Sonnez à l'interphone",
            group_name="Groupe Espoir",
        ),
    ]


# --- conformance --------------------------------------------------------------------


def test_every_served_item_conforms_to_the_spec(client):
    meetings = varied_meetings()
    items = feed(client)
    assert len(items) == len(meetings)
    for item in items:
        assert problems(item, SCHEMA) == [], item
    assert len({item["slug"] for item in items}) == len(items)


@pytest.mark.realfeeds
def test_every_served_item_conforms_to_the_draft_schema_file(client):
    schema = json.loads(realfeed("spec-meeting.schema.draft.json").read_text())
    spec_types = set(json.loads(realfeed("spec-types-i18n.json").read_text()))
    varied_meetings()
    make_meeting(name="All the types", types=["open", "women", "lgbtq", "secular", "speaker"])
    for item in feed(client):
        assert problems(item, schema) == [], item
        assert set(item.get("types", ())) <= spec_types, item["types"]


def test_day_numbering_and_times_in_the_served_feed(client):
    for weekday in range(7):
        make_meeting(name=f"Day {weekday}", weekday=weekday, start_time=time(6, weekday))
    days = {item["name"]: (item["day"], item["time"]) for item in feed(client)}
    assert days == {f"Day {w}": ((w + 1) % 7, f"06:{w:02d}") for w in range(7)}


def test_slugs_are_stable_and_urls_absolute(client):
    meeting = make_meeting(name="Hope Group")
    [before] = feed(client)
    meeting.name = "Hope Group (renamed)"
    meeting.save()
    [after] = feed(client)
    assert before["slug"] == after["slug"] == meeting.slug == "hope-group"
    assert after["name"] == "Hope Group (renamed)"
    assert after["url"] == "http://testserver/meetings/hope-group/"
    assert client.get(urlsplit(after["url"]).path).status_code == 200


# --- what is listed -----------------------------------------------------------------


def test_only_listed_public_meetings_are_served(client):
    make_meeting(name="Listed")
    make_meeting(name="Removed", status="removed")
    clinic = Organisation.objects.create(name="Clinic", slug="clinic")
    make_meeting(name="Restricted", visibility="restricted", organisation=clinic)
    primary = make_meeting(name="Primary", city="Leeds")
    make_meeting(name="Duplicate", duplicate_of=primary)
    make_meeting(name="Temporarily closed", mode="inactive")
    assert sorted(item["name"] for item in feed(client)) == [
        "Listed",
        "Primary",
        "Temporarily closed",
    ]


def test_fellowship_filter(client):
    make_meeting(name="AA one", fellowship_code="AA")
    make_meeting(name="NA one", fellowship_code="NA")
    make_meeting(name="NA two", fellowship_code="NA")
    assert sorted(i["name"] for i in feed(client, fellowship="na")) == ["NA one", "NA two"]
    assert [i["name"] for i in feed(client, fellowship="AA")] == ["AA one"]
    assert {i["fellowship"] for i in feed(client, fellowship="NA")} == {"NA"}
    assert len(feed(client)) == 3
    assert feed(client, fellowship="GA") == []


def test_unknown_fellowship_is_a_400_with_a_reason(client):
    response = client.get(URL, {"fellowship": "NOPE"})
    assert response.status_code == 400
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "unknown fellowship 'NOPE'" in response.json()["error"]


# --- HTTP: headers, ETag, gzip, methods ---------------------------------------------


def test_headers_for_apps_reading_cross_origin(client):
    make_meeting()
    response = client.get(URL)
    assert response["Content-Type"] == "application/json; charset=utf-8"
    assert response["Cache-Control"] == "public, max-age=300"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert "Accept-Encoding" in response["Vary"]
    assert response["Content-Length"] == str(len(body(response)))
    assert "Content-Disposition" not in response


def test_etag_is_the_generation_and_if_none_match_gives_304(client):
    make_meeting()
    response = client.get(URL)
    etag = response["ETag"]
    gen = feed_files.generation_id(directory_cache.generation_token())
    assert re.fullmatch(rf'"[0-9a-f]{{12}}-{gen}"', etag)
    assert response["Last-Modified"]
    for header in (etag, f'"other", {etag}', f"W/{etag}", "*"):
        again = client.get(URL, HTTP_IF_NONE_MATCH=header)
        assert again.status_code == 304, header
        assert again.content == b""
        assert again["ETag"] == etag
        assert again["Access-Control-Allow-Origin"] == "*"
        assert again["Cache-Control"] == "public, max-age=300"
    assert client.get(URL, HTTP_IF_NONE_MATCH='"stale"').status_code == 200
    make_meeting(name="Another")  # a new generation: the old tag is stale
    assert client.get(URL, HTTP_IF_NONE_MATCH=etag).status_code == 200


def test_gzip_when_the_client_accepts_it(client):
    for n in range(30):
        make_meeting(name=f"Meeting {n}", notes="Tea and coffee from 7pm. " * 3)
    plain = client.get(URL)
    zipped = client.get(URL, HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain
    assert zipped["Content-Encoding"] == "gzip"
    plain_body, zipped_body = body(plain), body(zipped)
    assert gzip.decompress(zipped_body) == plain_body
    assert len(zipped_body) < len(plain_body) / 3
    assert zipped["ETag"] != plain["ETag"] and zipped["ETag"].startswith(plain["ETag"][:-1])
    assert zipped["Content-Length"] == str(len(zipped_body))
    assert (
        client.get(URL, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"]).status_code
        == 304
    )
    for refused in ("gzip;q=0, br", "gzip; q=0.0", "br, *;q=0.5, gzip;q=0", "identity"):
        response = client.get(URL, HTTP_ACCEPT_ENCODING=refused)
        assert "Content-Encoding" not in response, refused
        assert body(response) == plain_body, refused
    assert client.get(URL, HTTP_ACCEPT_ENCODING="br, *;q=0.5")["Content-Encoding"] == "gzip"


def test_head_and_other_methods(client):
    make_meeting()
    served = body(client.get(URL))
    head = client.head(URL)
    assert head.status_code == 200 and head.getvalue() == b""
    assert head["Content-Length"] == str(len(served))
    assert client.post(URL).status_code == 405


# --- caching and invalidation -------------------------------------------------------


def test_an_unchanged_directory_is_rendered_once(client, renders):
    make_meeting()
    first = client.get(URL)
    second = client.get(URL)
    third = client.get(URL, HTTP_ACCEPT_ENCODING="gzip")
    assert body(first) == body(second)
    assert third.status_code == 200
    assert len(renders) == 1
    client.get(URL, {"fellowship": "AA"})
    assert len(renders) == 2  # each filter is its own feed


def test_an_edit_through_meeting_save_invalidates(client, renders):
    meeting = make_meeting(name="Before")
    etag = client.get(URL)["ETag"]
    meeting.name = "After"
    meeting.save()
    response = client.get(URL, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200
    assert [i["name"] for i in json.loads(body(response))] == ["After"]
    assert len(renders) == 2


def test_an_import_invalidates(client, renders):
    make_meeting(name="Already here")
    assert len(feed(client)) == 1
    source = Source.objects.create(
        name="feed", format=SourceFormat.MEETING_GUIDE, default_timezone="Europe/London"
    )
    record = MeetingRecord(
        row=1, source_ref="new", slug="new", name="Imported", timezone="Europe/London"
    )
    apply_records(source=source, records=[record])
    assert sorted(i["name"] for i in feed(client)) == ["Already here", "Imported"]
    # The same feed again writes nothing, and the cached feed is still good.
    apply_records(source=source, records=[record])
    feed(client)
    assert len(renders) == 2
    # The meeting leaves its feed: removed by the import (a bulk update, no signals).
    apply_records(source=source, records=[], allow_mass_removal=True)
    assert [i["name"] for i in feed(client)] == ["Already here"]


def test_deletes_duplicates_and_fellowship_codes_invalidate(client):
    keep = make_meeting(name="Keep", city="York")
    gone = make_meeting(name="Gone")
    assert len(feed(client)) == 2
    gone.delete()
    assert [i["name"] for i in feed(client)] == ["Keep"]

    other_source = Source.objects.create(name="other", format=SourceFormat.MANUAL)
    Meeting.objects.filter(pk=keep.pk).update(source=Source.objects.create(name="one"))
    make_meeting(name="Keep", city="York", source=other_source)
    assert len(feed(client)) == 2
    assert mark_duplicates() == 1  # queryset updates: no save(), no signals
    assert len(feed(client)) == 1

    aa = Fellowship.objects.get(code="AA")
    aa.code = "AAX"
    aa.save()
    assert {i["fellowship"] for i in feed(client)} == {"AAX"}
