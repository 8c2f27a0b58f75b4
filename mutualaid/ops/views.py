"""GET /healthz: for load balancers and monitoring (docs/reliability.md).

200 when the database answers and every migration is applied, else 503; JSON either way.
It says nothing about people: only source names, ages and statuses. Cheap: one trivial
query, one query over the sources, and a migration check that, once everything is
applied, is remembered for the life of the process (code and migrations ship together).
"""

from __future__ import annotations

import time

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.loader import MigrationLoader
from django.db.models import OuterRef, Subquery
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

_migrations_applied = False


def _pending_migrations() -> list[str]:
    global _migrations_applied
    if _migrations_applied:
        return []
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    applied = set(loader.applied_migrations)
    pending = sorted(
        f"{app}.{name}" for app, name in loader.graph.nodes if (app, name) not in applied
    )
    _migrations_applied = not pending
    return pending


def _sources(now) -> list[dict]:
    from mutualaid.directory.models import ImportRun, Source

    last_run = ImportRun.objects.filter(source=OuterRef("pk")).order_by("-started_at")
    rows = Source.objects.annotate(last_status=Subquery(last_run.values("status")[:1])).values(
        "name", "format", "location", "last_imported_at", "last_status"
    )
    stale_after = settings.HEALTH_SOURCE_STALE_HOURS * 3600
    sources = []
    for row in rows.order_by("name"):
        imported = row["last_imported_at"]
        age = round((now - imported).total_seconds()) if imported else None
        is_url = row["location"].startswith(("http://", "https://"))
        sources.append(
            {
                "name": row["name"],
                "format": row["format"],
                "last_imported_at": imported.isoformat() if imported else None,
                "age_seconds": age,
                "last_status": row["last_status"],
                "stale": bool(is_url and (age is None or age > stale_after)),
            }
        )
    return sources


@never_cache
@require_safe  # GET, and HEAD for monitors that only look at the status
def healthz(request):
    started = time.perf_counter()
    now = timezone.now()
    body: dict = {"status": "ok", "time": now.isoformat()}
    checks: dict = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = {"ok": True, "vendor": connection.vendor}
    except DatabaseError as exc:
        checks["database"] = {"ok": False, "error": type(exc).__name__}
    if checks["database"]["ok"]:
        try:
            pending = _pending_migrations()
            checks["migrations"] = {"ok": not pending, "pending": pending}
        except DatabaseError as exc:
            checks["migrations"] = {"ok": False, "error": type(exc).__name__}
        if checks["migrations"]["ok"]:
            try:
                body["sources"] = _sources(now)
            except DatabaseError as exc:
                checks["sources"] = {"ok": False, "error": type(exc).__name__}
    healthy = all(check["ok"] for check in checks.values())
    body["status"] = "ok" if healthy else "unavailable"
    body["checks"] = checks
    body["took_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return JsonResponse(body, status=200 if healthy else 503)


def not_found(request, exception=None):
    """404s under /api/ answer JSON as the API schema says ({"detail": ...}), also for
    URLs that match no route (a malformed id or slug); elsewhere Django's page."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Not Found"}, status=404)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)
