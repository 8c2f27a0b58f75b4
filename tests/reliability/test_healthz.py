"""/healthz for load balancers and monitoring (docs/reliability.md, "Health")."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.directory.models import ImportRun, ImportStatus, Source
from mutualaid.ops import views
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import make_client

pytestmark = pytest.mark.django_db


def test_healthy_json_with_the_age_of_each_source(client):
    now = timezone.now()
    fresh = Source.objects.create(
        name="Fresh feed", format="bmlt", location="https://example.org/bmlt",
        last_imported_at=now - timedelta(hours=2),
    )  # fmt: skip
    Source.objects.create(
        name="Old feed", format="meeting-guide", location="https://example.org/mg.json",
        last_imported_at=now - timedelta(days=5),
    )  # fmt: skip
    ImportRun.objects.create(source=fresh, started_at=now, status=ImportStatus.APPLIED)
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "no-cache" in response["Cache-Control"] or "no-store" in response["Cache-Control"]
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"]
    sources = {s["name"]: s for s in body["sources"]}
    assert 7000 < sources["Fresh feed"]["age_seconds"] < 7400
    assert sources["Fresh feed"]["last_status"] == "applied"
    assert sources["Fresh feed"]["stale"] is False
    assert sources["Old feed"]["stale"] is True  # older than HEALTH_SOURCE_STALE_HOURS


def test_no_personal_data_and_few_queries(client):
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    make_client(keyworker, preferred_name="Zebedee Healthcheck", case_reference="HC-1")
    for n in range(20):
        Source.objects.create(name=f"Feed {n}", format="bmlt", location="file.json")
    client.get("/healthz")  # the migration check is remembered after the first
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/healthz")
    text = response.content.decode()
    assert "Zebedee" not in text and "HC-1" not in text and keyworker.username not in text
    assert len(queries) <= 3, [q["sql"] for q in queries]


def test_503_when_the_database_fails_or_migrations_are_pending(client, monkeypatch):
    def broken(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(views, "_migrations_applied", False)
    monkeypatch.setattr(views, "_pending_migrations", lambda: ["directory.9999_future"])
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["migrations"]["pending"] == ["directory.9999_future"]
    assert client.head("/healthz").status_code == 503  # a monitor sending HEAD sees it too

    monkeypatch.setattr(views, "_pending_migrations", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.json()["status"] == "unavailable"
    assert "connection refused" not in response.content.decode()  # type only, no detail


def test_real_pending_migration_check_sees_an_unapplied_migration(monkeypatch):
    from django.db.migrations.recorder import MigrationRecorder

    monkeypatch.setattr(views, "_migrations_applied", False)
    assert views._pending_migrations() == []
    MigrationRecorder(connection).record_unapplied("directory", "0010_meeting_version")
    monkeypatch.setattr(views, "_migrations_applied", False)
    assert "directory.0010_meeting_version" in views._pending_migrations()


def test_monitors_may_ask_with_head(client):
    response = client.head("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert client.post("/healthz").status_code == 405
