"""Reads from a PostgreSQL read replica, writes to the primary (settings: DATABASE_REPLICA_URL).

A replica lags its primary by a fraction of a second to seconds. So that nobody misses
their own change:

- inside a transaction on the primary every read stays on the primary (a read that leads
  to a write must see the primary's rows; select_for_update must run there);
- once a request has written, its later reads go to the primary;
- PinPrimaryMiddleware then gives that browser a short cookie, so its next requests for
  REPLICA_PIN_SECONDS (the redirect after a form, say) read from the primary too.

Writes to the session table alone (every signed-in request saves its session) do not
pin. Migrations run only on the primary: the replica copies them.
"""

from __future__ import annotations

import threading

from django.conf import settings
from django.db import connections

PRIMARY = "default"
REPLICA = "replica"
PIN_COOKIE = "mutualaid_primary"
NOT_PINNING = {"sessions"}  # app labels whose writes do not pin a request to the primary

_state = threading.local()


def pinned() -> bool:
    return getattr(_state, "pinned", False)


def pin(value: bool = True) -> None:
    _state.pinned = value


class PrimaryReplicaRouter:
    def db_for_read(self, model, **hints):
        if REPLICA not in connections.settings or pinned():
            return PRIMARY
        if connections[PRIMARY].in_atomic_block:
            return PRIMARY
        instance = hints.get("instance")
        if instance is not None and instance._state.db:
            return instance._state.db  # related rows from where the object came from
        return REPLICA

    def db_for_write(self, model, **hints):
        if model._meta.app_label not in NOT_PINNING:
            pin()
        return PRIMARY

    def allow_relation(self, obj1, obj2, **hints):
        return True  # the same data on both

    def allow_migrate(self, db, app_label, model_name=None, **hints):
        return db == PRIMARY


class PinPrimaryMiddleware:
    """Starts each request unpinned (or pinned by a recent write's cookie); after a write,
    sets that cookie for REPLICA_PIN_SECONDS."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        pin(PIN_COOKIE in request.COOKIES)
        try:
            response = self.get_response(request)
            if pinned() and PIN_COOKIE not in request.COOKIES:
                seconds = int(getattr(settings, "REPLICA_PIN_SECONDS", 5))
                if seconds > 0:
                    response.set_cookie(
                        PIN_COOKIE,
                        "1",
                        max_age=seconds,
                        secure=not settings.DEBUG,
                        httponly=True,
                        samesite="Lax",
                    )
            return response
        finally:
            pin(False)
