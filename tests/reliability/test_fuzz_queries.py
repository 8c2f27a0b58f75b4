"""What people and programs type into the search: arbitrary parameters reach the query
parser (query_params.build_query), the JSON API, the BMLT endpoint and the public pages
and forms. Only the project's own clear errors come back: SearchError from the parser,
4xx with a message over HTTP, never a 500 (docs/reliability.md, "Garbage parameters")."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mutualaid.directory.query_params import build_query
from mutualaid.directory.search import SearchError, search
from tests.factories import make_meeting

FUZZ = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
garbage = st.text(max_size=30) | st.sampled_from(
    ["", " ", "0", "-1", "1e309", "nan", "inf", "51.5,-0.1", "91,181", "51.5;0", "Brighton",
     "BN1", "Monday", "8", "25:61", "19:30", "2026-01-05T10:00:00+00:00", "2026-02-30",
     "Europe/London", "Mars/Base", "in_person", "AA", "open", "en", "%00", "\x00", "' OR 1=1 --",
     "<script>", "x" * 500, "[]", "{}", "-0", "+44"]
)  # fmt: skip
few = st.lists(garbage, max_size=3)


@pytest.fixture
def directory(db):
    cache.clear()
    make_meeting(name="Hope Group", city="Brighton", latitude=50.82, longitude=-0.14)
    make_meeting(name="Unity Group", weekday=None, start_time=None)
    yield
    cache.clear()


@FUZZ
@given(
    near=st.none() | garbage, place=st.none() | garbage, radius_km=st.none() | garbage,
    days=few, start_after=st.none() | garbage, start_before=st.none() | garbage, types=few,
    fellowships=few, approaches=few, modes=few, languages=few, text=garbage,
    upcoming=st.booleans(), now=st.none() | garbage, viewer_timezone=st.none() | garbage,
    sort=st.none() | garbage, limit=garbage | st.integers(), offset=garbage | st.integers(),
)  # fmt: skip
def test_query_parser_and_search_raise_only_search_error(directory, **params):
    try:
        query, _ = build_query(**params)
        search(query)
    except SearchError as exc:
        assert str(exc).strip()


API_PARAMS = ["near", "place", "radius_km", "day", "start_after", "start_before", "type",
              "fellowship", "approach", "mode", "language", "text", "upcoming", "now",
              "timezone", "sort", "limit", "offset", "junk"]  # fmt: skip
BMLT_PARAMS = ["EndsBefore", "MaxDuration", "MinDuration", "SearchString", "StartsAfter",
               "StartsBefore", "all_formats", "callback", "data_field_key", "format_ids",
               "formats", "formats_comparison_operator", "geo_width", "geo_width_km",
               "key_strings", "lang_enum", "lat_val", "long_val", "meeting_ids", "meeting_key",
               "page_num", "page_size", "services", "sort_key", "sort_keys",
               "sort_results_by_distance", "specific_formats", "venue_types", "weekdays",
               "weekdays[]", "StartsAfterH", "StartsAfterM"]  # fmt: skip
PAGE_PARAMS = ["approach", "day", "fellowship", "format", "language", "mode", "near", "place",
               "radius", "text", "type", "tz", "when", "who", "about", "drug", "pref",
               "page"]  # fmt: skip


def params_of(names):
    return st.lists(st.tuples(st.sampled_from(names), garbage), max_size=6)


def assert_clear(response):
    assert response.status_code < 500, response.content[:300]
    if 400 <= response.status_code < 500:
        assert response.content.strip(), "a 4xx needs a message"


@FUZZ
@given(params=params_of(API_PARAMS))
def test_api_search_garbage_is_4xx_with_a_message(client, directory, params):
    for path in ("/api/v1/meetings", "/api/v1/meetings.ics"):
        assert_clear(client.get(path, params))


@FUZZ
@given(
    switcher=st.sampled_from(["GetSearchResults", "GetFormats", "GetServiceBodies",
                              "GetFieldKeys", "GetFieldValues", "GetServerInfo",
                              "GetCoverageArea", "GetChanges", "", "Nonsense"]),
    params=params_of(BMLT_PARAMS), fmt=st.sampled_from(["json", "jsonp"]),
)  # fmt: skip
def test_bmlt_endpoint_garbage_is_never_a_500(client, directory, switcher, params, fmt):
    response = client.get(
        f"/main_server/client_interface/{fmt}/", [("switcher", switcher), *params]
    )
    assert_clear(response)


@FUZZ
@given(params=params_of(PAGE_PARAMS), page=st.sampled_from(["/", "/guide/"]))
def test_public_pages_with_garbage_parameters_are_never_a_500(client, directory, params, page):
    assert_clear(client.get(page, params))


@FUZZ
@given(
    data=st.dictionaries(
        st.sampled_from(["kind", "details", "contact_email", "website", "x"]), garbage
    )
)
def test_report_a_problem_form_with_garbage_is_never_a_500(client, directory, data):
    cache.clear()  # the rate limit is not what is tested here
    response = client.post("/meetings/hope-group/report/", data)
    assert_clear(response)
