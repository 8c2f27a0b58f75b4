"""The directory generation and the search cache: every change is seen at once, by edits
(signals), imports and bulk updates, and only after the change commits."""

import json
from datetime import time

import pytest
from django.db import transaction

from mutualaid.directory import cache as directory_cache
from mutualaid.directory.change_requests import mark_verified
from mutualaid.directory.feeds import MeetingRecord
from mutualaid.directory.importing import apply_records
from mutualaid.directory.models import Meeting, Source, SourceFormat, Status
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db
SEARCH = "/api/v1/meetings?near=51.5074,-0.1278&radius_km=10&sort=distance"


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [m["name"] for m in json.loads(response.content)["results"]]


@pytest.fixture
def searches(monkeypatch):
    """Counts the searches that reach the database (cache misses)."""
    from mutualaid.directory import api

    calls = []

    original = api.search

    def counting(query):
        calls.append(query)
        return original(query)

    monkeypatch.setattr(api, "search", counting)
    return calls


def test_generation_moves_on_save_and_delete():
    start = directory_cache.generation()
    meeting = make_meeting()
    after_create = directory_cache.generation()
    assert after_create > start
    meeting.notes = "Tea from 7pm"
    meeting.save()
    assert directory_cache.generation() > after_create
    before = directory_cache.generation()
    meeting.delete()
    assert directory_cache.generation() > before


def test_a_hot_search_is_served_from_the_cache_and_an_edit_invalidates_it(client, searches):
    meeting = make_meeting(name="Before")
    assert names(client.get(SEARCH)) == ["Before"]
    assert names(client.get(SEARCH)) == ["Before"]
    assert len(searches) == 1  # the second came from the cache
    # The same search spelled differently is the same entry (normalised parameters).
    assert names(client.get(SEARCH.replace("radius_km=10", "radius_km=10.0"))) == ["Before"]
    assert len(searches) == 1
    meeting.name = "After"
    meeting.save()
    assert names(client.get(SEARCH)) == ["After"]
    assert len(searches) == 2


def test_cached_and_uncached_bodies_are_identical(client, settings):
    make_meeting(name="One")
    make_meeting(name="Two", latitude=51.51)
    cached = client.get(SEARCH).content
    assert client.get(SEARCH).content == cached
    settings.SEARCH_CACHE_SECONDS = 0
    assert client.get(SEARCH).content == cached
    body = json.loads(cached)
    assert body["count"] == 2 and {"slug", "next_start", "distance_km"} <= set(body["results"][0])


def test_an_import_invalidates_cached_searches(client, searches):
    source = Source.objects.create(
        name="feed", format=SourceFormat.MEETING_GUIDE, default_timezone="Europe/London"
    )
    record = MeetingRecord(
        row=1,
        source_ref="a",
        slug="imported",
        name="Imported",
        timezone="Europe/London",
        weekday=0,
        start_time=time(19, 0),
        latitude=51.5074,
        longitude=-0.1278,
    )
    assert names(client.get(SEARCH)) == []
    apply_records(source=source, records=[record])
    assert names(client.get(SEARCH)) == ["Imported"]
    # Re-importing the same feed changes nothing, and keeps the cached search.
    misses = len(searches)
    apply_records(source=source, records=[record])
    assert names(client.get(SEARCH)) == ["Imported"]
    assert len(searches) == misses
    # Removal by the import is a bulk update (no signals): still seen.
    apply_records(source=source, records=[], allow_mass_removal=True)
    assert Meeting.objects.get(slug="imported").status == Status.REMOVED
    assert names(client.get(SEARCH)) == []


def test_bulk_updates_that_change_the_listing_move_the_generation(django_user_model):
    meeting = make_meeting()
    editor = django_user_model.objects.create_user("editor", password="x" * 16)
    from django.contrib.auth.models import Permission

    editor.user_permissions.add(Permission.objects.get(codename="change_meeting"))
    editor = django_user_model.objects.get(pk=editor.pk)
    before = directory_cache.generation()
    mark_verified(meeting=meeting, user=editor)  # an update(): no signal
    assert directory_cache.generation() > before


# serialized_rollback: the flush after this test then leaves the database empty for the
# next serialized test instead of re-creating content types under new ids.
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_inside_a_transaction_the_generation_moves_once_and_only_on_commit():
    start = directory_cache.generation()
    with transaction.atomic():
        make_meeting(name="One")
        make_meeting(name="Two")
        assert directory_cache.generation() == start  # readers keep the old generation
    assert directory_cache.generation() == start + 1  # one bump for the transaction
    with pytest.raises(RuntimeError), transaction.atomic():
        make_meeting(name="Rolled back")
        raise RuntimeError
    assert directory_cache.generation() == start + 1  # nothing committed, nothing moved


def test_search_keys_normalise_and_separate():
    from mutualaid.directory.query_params import build_query

    a, _ = build_query(
        near="51.5,-0.12", days=["monday"], types=["women"], now="2026-12-07T19:00:00+00:00"
    )
    b, _ = build_query(
        near="51.50,-0.120", days=["Mon"], types=["Women"], now="2026-12-07T19:00:00+00:00"
    )
    c, _ = build_query(
        near="51.5,-0.12", days=["tuesday"], types=["women"], now="2026-12-07T19:00:00+00:00"
    )
    assert directory_cache.search_key(a, scope="s") == directory_cache.search_key(b, scope="s")
    assert directory_cache.search_key(a, scope="s") != directory_cache.search_key(c, scope="s")


def test_the_remembered_generation_is_forgotten_on_a_change_in_this_process(settings):
    settings.GENERATION_MEMO_SECONDS = 60  # production remembers it (1 s by default)
    before = directory_cache.generation_token()
    assert directory_cache.generation_token() == before
    make_meeting()
    assert directory_cache.generation_token() != before


def test_a_repeated_query_string_is_answered_before_the_view(client, monkeypatch):
    from mutualaid.directory import api

    parsed = []
    real = api._search_query
    monkeypatch.setattr(api, "_search_query", lambda *a: parsed.append(1) or real(*a))
    meeting = make_meeting(name="Before")
    first = client.get(SEARCH, HTTP_ACCEPT_ENCODING="gzip")
    second = client.get(SEARCH, HTTP_ACCEPT_ENCODING="gzip")
    assert len(parsed) == 1  # the second never reached the view
    assert second.content == first.content
    for header in ("ETag", "Content-Encoding", "Content-Type", "Cache-Control", "Vary"):
        assert second[header] == first[header], header
    assert client.get(SEARCH, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    # A change is seen by the fast path too.
    meeting.name = "After"
    meeting.save()
    assert names(client.get(SEARCH)) == ["After"]
    # An error is never remembered: the view answers it every time.
    bad = "/api/v1/meetings?near=nowhere"
    assert client.get(bad).status_code == 422
    assert client.get(bad).status_code == 422
