"""The JSON API beyond search: one meeting, vocabularies, calendars, docs, and garbage."""

from datetime import UTC, datetime, time

import pytest
from django.contrib.staticfiles import finders
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from icalendar import Calendar

from mutualaid.accounts.models import Organisation
from mutualaid.directory.models import Source
from mutualaid.lib import vocabulary
from tests.factories import make_meeting

NOW = "2026-11-28T12:00:00+00:00"


@pytest.mark.django_db
def test_meeting_detail_has_everything_on_the_page(client):
    source = Source.objects.create(name="AA feed", format="meeting-guide")
    m = make_meeting(
        name="Hope Group",
        group_name="Hope",
        types=["closed", "wheelchair", "women"],
        languages=["en", "es"],
        location_name="St Mary's Hall",
        street_address="1 High St",
        postcode="SW1A 1AA",
        location_notes="Side door",
        mode="hybrid",
        conference_url="https://zoom.us/j/1",
        conference_url_notes="Password 1234",
        approximate=True,
        source=source,
        source_ref="42",
        last_verified_at=datetime(2026, 11, 1, tzinfo=UTC),
    )
    make_meeting(name="Hope Group", source=Source.objects.create(name="Other", format="bmlt"))
    m.duplicates.add(make_meeting(name="Hope copy", source=Source.objects.get(name="Other")))
    response = client.get(f"/api/v1/meetings/{m.slug}", {"timezone": "America/New_York"})
    assert response.status_code == 200
    data = response.json()
    assert data["name"] == "Hope Group" and data["group_name"] == "Hope"
    assert data["fellowship"]["code"] == "AA"
    assert data["fellowship"]["name"] == "Alcoholics Anonymous"
    assert "alcohol" in data["fellowship"]["covers"]
    assert data["type_keys"] == ["closed", "wheelchair", "women"]
    assert "Wheelchair access" in data["type_labels"] and "W" in data["types"]
    assert data["access"] and data["access"][0].startswith("Closed meeting")
    assert {"code": "es", "name": "Spanish"} in data["languages"]
    assert data["online"]["conference_url"] == "https://zoom.us/j/1"
    assert data["online"]["conference_url_notes"] == "Password 1234"
    assert data["location"] == "St Mary's Hall" and data["location_notes"] == "Side door"
    assert data["approximate"] is True and data["lat"] == pytest.approx(51.5074)
    assert data["weekday"] == "Monday" and data["start_time"] == "19:00"
    assert data["end_time"] == "20:00" and data["timezone"] == "Europe/London"
    start = datetime.fromisoformat(data["next_start"])
    assert start.hour == 19 and start.weekday() == 0
    assert datetime.fromisoformat(data["next_start_viewer"]) == start
    assert data["next_start_viewer"] != data["next_start"]  # same instant, New York's clock
    assert data["stale"] is False and data["last_verified"].startswith("2026-11-01")
    assert [s["name"] for s in data["sources"]] == ["AA feed", "Other"]
    assert data["source_id"] == "42"
    assert data["url"].endswith(m.get_absolute_url())
    assert data["report_url"].endswith(f"/meetings/{m.slug}/report/")
    assert data["calendar_url"].endswith(f"/api/v1/meetings/{m.slug}.ics")
    assert data["duplicate_of"] is None


@pytest.mark.django_db
def test_duplicate_listing_names_its_primary(client):
    first = make_meeting(name="Hope")
    second = make_meeting(name="Hope", duplicate_of=first)
    data = client.get(f"/api/v1/meetings/{second.slug}").json()
    assert data["duplicate_of"] == first.slug


@pytest.mark.django_db
def test_restricted_removed_and_unknown_meetings_are_404(client):
    prison = Organisation.objects.create(name="HMP", slug="hmp")
    restricted = make_meeting(name="Inside", visibility="restricted", organisation=prison)
    removed = make_meeting(name="Gone", status="removed")
    for slug in (restricted.slug, removed.slug, "no-such-meeting"):
        for url in (f"/api/v1/meetings/{slug}", f"/api/v1/meetings/{slug}.ics"):
            response = client.get(url)
            assert response.status_code == 404, url
            assert response.json()["detail"]


@pytest.mark.django_db
def test_detail_bad_timezone_is_422_naming_it(client):
    m = make_meeting()
    response = client.get(f"/api/v1/meetings/{m.slug}", {"timezone": "Nowhere/Else"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "timezone"]


@pytest.mark.django_db
def test_fellowships_lists_every_fellowship(client):
    data = client.get("/api/v1/fellowships").json()
    codes = {f["code"] for f in data}
    assert {"AA", "NA", "SMART", "ALANON"} <= codes
    smart = next(f for f in data if f["code"] == "SMART")
    assert smart["approach"] == "secular" and smart["approach_label"].startswith("Secular")


def test_types_list_the_vocabulary_with_its_codes(client):
    data = client.get("/api/v1/types").json()
    assert len(data) == len(vocabulary.meeting_types())
    women = next(t for t in data if t["key"] == "women")
    assert women["label"] == "Women only"
    assert women["meeting_guide"] == "W" and women["bmlt_world_id"] == "W"
    assert women["category"]


@pytest.mark.django_db
def test_search_calendar_has_one_event_per_timed_result(client):
    make_meeting(name="Westminster", latitude=51.4995, longitude=-0.1248)
    make_meeting(
        name="Soho", weekday=2, start_time=time(7, 30), latitude=51.5136, longitude=-0.1365
    )
    make_meeting(name="By appointment", weekday=None, start_time=None)
    make_meeting(name="Edinburgh", latitude=55.95, longitude=-3.19)
    response = client.get(
        "/api/v1/meetings.ics", {"near": "51.5074,-0.1278", "radius_km": 10, "now": NOW}
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = Calendar.from_ical(response.content)
    names = sorted(str(e["SUMMARY"]) for e in cal.walk("VEVENT"))
    assert names == ["Soho (AA)", "Westminster (AA)"]


@pytest.mark.django_db
def test_search_calendar_limit_is_at_most_500(client):
    response = client.get("/api/v1/meetings.ics", {"limit": 501})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", "limit"]


@pytest.mark.django_db
def test_one_meeting_calendar(client):
    m = make_meeting(name="Last Monday", frequency="monthly", month_week=-1)
    response = client.get(f"/api/v1/meetings/{m.slug}.ics")
    assert response.status_code == 200
    event = next(iter(Calendar.from_ical(response.content).walk("VEVENT")))
    assert event["RRULE"].to_ical() == b"FREQ=MONTHLY;BYDAY=-1MO"
    by_appointment = make_meeting(name="Call us", weekday=None, start_time=None)
    assert client.get(f"/api/v1/meetings/{by_appointment.slug}.ics").status_code == 404


def test_openapi_lists_every_endpoint(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path in (
        "/api/v1/meetings",
        "/api/v1/meetings.ics",
        "/api/v1/meetings/{slug}",
        "/api/v1/meetings/{slug}.ics",
        "/api/v1/fellowships",
        "/api/v1/types",
    ):
        assert path in paths, path


def test_docs_page_uses_installed_assets_not_a_cdn(client):
    body = client.get("/api/v1/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in body
    assert "cdn" not in body.lower() and "//" not in body.replace("://", "")
    assert finders.find("ninja/swagger-ui-bundle.js")
    assert finders.find("ninja/swagger-ui.css")


# --- nothing may 500 ------------------------------------------------------------------

GARBAGE = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "nan",
    "inf",
    "-inf",
    "1e309",
    "-1",
    "0",
    "99999999999999999999999999",
    "nan,nan",
    "91,181",
    "51.5,-0.1,3",
    "'; DROP TABLE directory_meeting; --",
    "%",
    "_",
    "%%%",
    "<script>alert(1)</script>",
    "😀" * 50,
    "x" * 5000,
    "0001-01-01T00:00:00+00:00",
    "9999-12-31T23:59:59+00:00",
    "2026-13-45T99:99:99+99:00",
    "25:61",
    "Europe/../../etc/passwd",
    "true",
    "[]",
    "{}",
]
SEARCH_PARAMS = [
    "near",
    "place",
    "radius_km",
    "day",
    "start_after",
    "start_before",
    "type",
    "fellowship",
    "approach",
    "mode",
    "language",
    "text",
    "upcoming",
    "now",
    "timezone",
    "sort",
    "limit",
    "offset",
    "unknown_param",
]


def _assert_not_500(response, what):
    assert response.status_code < 500, what
    if response["Content-Type"].startswith("application/json"):
        body = response.json()
        if response.status_code == 422:
            for item in body["detail"]:
                assert item["loc"][0] == "query" and item["msg"], what


@pytest.fixture
def some_meetings(db):
    make_meeting(name="Westminster")
    make_meeting(name="Online", mode="online", latitude=None, longitude=None)
    return make_meeting(name="By appointment", weekday=None, start_time=None)


@pytest.mark.parametrize("endpoint", ["/api/v1/meetings", "/api/v1/meetings.ics"])
def test_search_endpoints_never_500_on_garbage(client, some_meetings, endpoint):
    for param in SEARCH_PARAMS:
        for value in GARBAGE:
            response = client.get(endpoint, {param: value})
            _assert_not_500(response, f"{endpoint} {param}={value[:40]!r}")
            if response.status_code == 422:
                locs = [item["loc"] for item in response.json()["detail"]]
                assert ["query", param] in locs, (param, value[:40], locs)
    many = client.get(endpoint, {"type": ["women"] * 10_000, "day": ["Monday"] * 1000})
    _assert_not_500(many, "thousands of values")


def test_other_endpoints_never_500_on_garbage(client, some_meetings):
    slugs = [some_meetings.slug, "x", "-", "_" * 300, "a" * 5000]
    for slug in slugs:
        for value in GARBAGE:
            for url in (f"/api/v1/meetings/{slug}", f"/api/v1/meetings/{slug}.ics"):
                response = client.get(url, {"timezone": value, "x": value})
                _assert_not_500(response, f"{url} {value[:40]!r}")
    for url in ("/api/v1/fellowships", "/api/v1/types", "/api/v1/docs", "/api/v1/openapi.json"):
        for value in GARBAGE:
            _assert_not_500(client.get(url, {"x": value}), url)
    for raw in ("/api/v1/meetings/%00", "/api/v1/meetings/..%2F..", "/api/v1/meetings/a.b.ics"):
        _assert_not_500(client.get(raw), raw)
    _assert_not_500(client.post("/api/v1/meetings", {"near": "x"}), "POST")


@pytest.mark.django_db
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(params=st.dictionaries(st.sampled_from(SEARCH_PARAMS), st.text(max_size=30), max_size=5))
def test_search_never_500_on_random_parameters(client, params):
    _assert_not_500(client.get("/api/v1/meetings", params), repr(params))


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"text": "a\x00"}, {"place": "Bri\x00ghton"}])
def test_nul_characters_are_a_clear_400_on_the_results_page_too(client, params):
    """PostgreSQL refuses NUL in text: the search says so instead of failing (500)."""
    make_meeting(name="Any")
    response = client.get("/", params)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()
