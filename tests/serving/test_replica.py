"""The read-replica router with two REAL PostgreSQL databases (CI: .ci/run's replica phase).

The "replica" here is a second database, not a streaming copy, so that where a read went
is visible: a row written only to the primary is invisible to reads routed to the
replica, and a row written directly into the replica is found by them.

Run with DATABASE_URL and DATABASE_REPLICA_URL naming two PostgreSQL databases and
REPLICA_TEST_SEPARATE=1 (without it the replica alias mirrors the test database). CI also
sets REQUIRE_REPLICA_TESTS=1, which turns the skip into a failure.
"""

import os

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connections, router, transaction
from django.test import override_settings

from mutualaid import db_routers
from mutualaid.directory import cache as directory_cache
from mutualaid.directory.models import Fellowship, Meeting
from tests.factories import make_meeting


def _why_not() -> str | None:
    replica = settings.DATABASES.get("replica")
    if replica is None:
        return "DATABASE_REPLICA_URL is not set"
    if not settings.DATABASES["default"]["ENGINE"].endswith("postgresql"):
        return "the replica router is tested on PostgreSQL only (SQLite has no replicas)"
    if (replica.get("TEST") or {}).get("MIRROR"):
        return "REPLICA_TEST_SEPARATE=1 is not set: the replica mirrors the test database"
    return None


REASON = _why_not()
if REASON and os.environ.get("REQUIRE_REPLICA_TESTS") == "1":
    raise RuntimeError(f"REQUIRE_REPLICA_TESTS=1 but {REASON}")
pytestmark = [
    pytest.mark.skipif(REASON is not None, reason=str(REASON)),
    # serialized_rollback: the flush after each test keeps the seeded fellowships.
    pytest.mark.django_db(
        transaction=True, serialized_rollback=True, databases=["default", "replica"]
    ),
]


@pytest.fixture(scope="module", autouse=True)
def replica_schema(django_db_setup, django_db_blocker):
    """The replica's test database gets the schema a streaming replica would copy."""
    with django_db_blocker.unblock(), override_settings(DATABASE_ROUTERS=[]):
        # Creating the test database ran `migrate` there under the router, which applied
        # nothing (migrations are for the primary) but recorded every migration: forget that.
        with connections["replica"].cursor() as cursor:
            cursor.execute("DELETE FROM django_migrations")
        call_command("migrate", database="replica", verbosity=0, interactive=False)
    yield


@pytest.fixture(autouse=True)
def fresh_request():
    # The fellowships a streaming replica would hold (migrations seed the primary).
    for f in Fellowship.objects.using("default").all():
        f.save(using="replica")
    db_routers.pin(False)
    yield
    db_routers.pin(False)
    with connections["replica"].cursor() as cursor:  # flush does not reach the replica
        cursor.execute(f"DELETE FROM {Meeting._meta.db_table}")


def only_on_primary(name="Primary only") -> Meeting:
    meeting = make_meeting(name=name)
    db_routers.pin(False)  # as a new request would start
    return meeting


def copy_to_replica(meeting: Meeting) -> None:
    """What replication would do: the same row, same primary key, in the replica."""
    copy = Meeting.objects.using("default").get(pk=meeting.pk)
    copy.fellowship = Fellowship.objects.using("replica").get(code=meeting.fellowship.code)
    copy.save(using="replica", force_insert=True)
    db_routers.pin(False)


def test_reads_go_to_the_replica_and_writes_to_the_primary():
    assert router.db_for_read(Meeting) == "replica"
    assert router.db_for_write(Meeting) == "default"
    meeting = only_on_primary()
    assert Meeting.objects.using("default").filter(slug=meeting.slug).exists()
    assert not Meeting.objects.filter(slug=meeting.slug).exists()  # routed: the replica
    copy_to_replica(meeting)
    assert Meeting.objects.filter(slug=meeting.slug).exists()


def test_migrations_run_only_on_the_primary():
    assert router.allow_migrate("default", "directory")
    assert not router.allow_migrate("replica", "directory")


def test_a_request_that_wrote_reads_from_the_primary():
    meeting = only_on_primary()
    Meeting.objects.filter(pk=meeting.pk).update(notes="x")  # routed: a write
    assert db_routers.pinned()
    assert Meeting.objects.filter(slug=meeting.slug).exists()


def test_reads_inside_a_transaction_stay_on_the_primary():
    meeting = only_on_primary()
    with transaction.atomic():
        assert router.db_for_read(Meeting) == "default"
        assert Meeting.objects.filter(slug=meeting.slug).exists()


def test_a_browser_that_just_wrote_reads_from_the_primary(client):
    meeting = only_on_primary("Tuesday Hope")
    copy_to_replica(meeting)
    Meeting.objects.filter(pk=meeting.pk).update(name="Renamed on the primary")
    db_routers.pin(False)
    page = f"/meetings/{meeting.slug}/"
    assert b"Tuesday Hope" in client.get(page).content  # the replica lags
    # Reporting a problem writes (a change request), so the response pins the browser.
    response = client.post(f"{page}report/", {"kind": "other", "details": "Moved upstairs"})
    assert response.status_code in (200, 302), response.content[:300]
    assert db_routers.PIN_COOKIE in response.cookies
    assert b"Renamed on the primary" in client.get(page).content
    client.cookies.pop(db_routers.PIN_COOKIE)
    assert b"Tuesday Hope" in client.get(page).content


def test_cached_searches_follow_the_replicas_generation(client):
    meeting = only_on_primary()
    assert directory_cache.generation() == directory_cache.generation(using="replica")
    assert directory_cache.generation(using="default") >= 1
    copy_to_replica(meeting)
    url = "/api/v1/meetings?near=51.5074,-0.1278&radius_km=10"
    assert [m["slug"] for m in client.get(url).json()["results"]] == [meeting.slug]
