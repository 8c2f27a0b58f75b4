"""What the public directory serves, cached, and told when it changes.

The directory generation
    One row (DirectoryGeneration) whose counter moves whenever anything the public
    directory shows changes: Meeting, Fellowship and Source save/delete signals, and
    explicit calls from code that writes without signals (QuerySet.update, bulk_create:
    the importer, duplicate marking, verification, the demo). Everything cached below is
    keyed on it, so a change made by any process (a web worker, `mutualaid import` run by
    cron) is seen by every worker on every machine at its next request: reading it is one
    primary-key SELECT (tens of microseconds), far cheaper than fingerprinting the meeting
    table. Inside a transaction the bump waits for the commit (transaction.on_commit,
    once per transaction), so no reader can cache the old rows under the new generation
    and no lock is held on the row while an import runs.

The search cache
    Hot searches (the API's /meetings) are kept as rendered JSON in Django's cache
    (settings.CACHES["default"]: memory of one process by default, a shared cache with
    CACHE_URL) for SEARCH_CACHE_SECONDS, keyed on the normalised SearchQuery (so
    "?day=monday&type=women" and "?type=Women&day=Mon" are one entry), the language, the
    generation and, when the query has no fixed `now`, the current minute (next starts and
    "upcoming" order move with the clock).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache as default_cache
from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from django.utils.translation import get_language

from .models import DirectoryGeneration, Fellowship, Meeting, Source

KEY_PREFIX = "directory"


# --- the generation -------------------------------------------------------------------


def _read(using: str | None) -> tuple[int, object] | None:
    alias = using or router.db_for_read(DirectoryGeneration)
    table = connections[alias].ops.quote_name(DirectoryGeneration._meta.db_table)
    with connections[alias].cursor() as cursor:
        cursor.execute(f"SELECT value, changed_at FROM {table} WHERE id = %s", [1])
        return cursor.fetchone()


def generation(using: str | None = None) -> int:
    """The directory's current generation (0 before the first change)."""
    row = _read(using)
    return row[0] if row else 0


# The last token read, per database alias: (monotonic time, token).
_memo: dict[str, tuple[float, str]] = {}


def generation_token(using: str | None = None, *, fresh: bool = False) -> str:
    """What cache keys carry: the counter and when it moved. The time keeps keys unique
    when the counter goes back (a database restored from a backup, a test rolled back),
    so a value cached for another state of the directory is never served.

    Remembered for GENERATION_MEMO_SECONDS (production default 1 s, 0 with DEBUG on): a
    change made by another process is then seen within that time, one made by this
    process at once (its bump forgets the memo). fresh=True reads the row whatever the
    memo holds (a feed file is labelled with the latest generation: feed_files.py)."""
    alias = using or router.db_for_read(DirectoryGeneration)
    ttl = float(getattr(settings, "GENERATION_MEMO_SECONDS", 0))
    if ttl > 0 and not fresh:
        remembered = _memo.get(alias)
        if remembered and time.monotonic() - remembered[0] < ttl:
            return remembered[1]
    row = _read(alias)
    token = f"{row[0]}.{row[1]}".replace(" ", "T") if row else "0"
    if ttl > 0:
        _memo[alias] = (time.monotonic(), token)
    return token


def _bump(alias: str) -> None:
    _memo.clear()
    rows = DirectoryGeneration.objects.using(alias).filter(pk=1)
    now = timezone.now()
    if not rows.update(value=F("value") + 1, changed_at=now):
        _, created = DirectoryGeneration.objects.using(alias).get_or_create(
            pk=1, defaults={"value": 1, "changed_at": now}
        )
        if not created:
            rows.update(value=F("value") + 1, changed_at=now)


class _BumpOnCommit:
    """The on_commit callback; one per transaction (found again in run_on_commit)."""

    directory_bump = True

    def __init__(self, alias: str):
        self.alias = alias

    def __call__(self) -> None:
        _bump(self.alias)


def _in_own_transaction(conn) -> bool:
    """True inside a transaction that will commit later. Django's TestCase wraps each test
    in atomic blocks that never commit (their on_commit callbacks never run): a change
    made under those alone counts as committed when made, as it would in autocommit."""
    if not conn.in_atomic_block:
        return False
    blocks = getattr(conn, "atomic_blocks", [])
    return not (blocks and getattr(blocks[0], "_from_testcase", False))


def directory_changed(using: str | None = None) -> None:
    """Call after changing what the public directory shows without Meeting/Fellowship/
    Source signals (QuerySet.update, bulk_create, raw SQL): moves the generation now, or
    when the current transaction commits."""
    alias = using or router.db_for_write(DirectoryGeneration)
    conn = connections[alias]
    if _in_own_transaction(conn):
        pending = getattr(conn, "run_on_commit", [])
        if any(getattr(entry[1], "directory_bump", False) for entry in pending):
            return
        transaction.on_commit(_BumpOnCommit(alias), using=alias)
    else:
        _bump(alias)


# Source fields an import sets every run that the public directory never shows.
SOURCE_BOOKKEEPING = {"last_imported_at", "etag", "last_modified"}


def _on_change(sender, using=None, update_fields=None, **kwargs) -> None:
    if sender is Source and update_fields and set(update_fields) <= SOURCE_BOOKKEEPING:
        return  # an unchanged re-import keeps every cached search and feed
    directory_changed(using)


for _model in (Meeting, Fellowship, Source):
    post_save.connect(_on_change, sender=_model, dispatch_uid=f"directory-cache-save-{_model}")
    post_delete.connect(_on_change, sender=_model, dispatch_uid=f"directory-cache-del-{_model}")


# --- cached values --------------------------------------------------------------------


def search_cache_seconds() -> int:
    return int(getattr(settings, "SEARCH_CACHE_SECONDS", 60))


def query_digest(query, extra: tuple = ()) -> str:
    """A normalised query (a frozen dataclass, whose repr lists every field in order) and
    the language, hashed."""
    return hashlib.sha256(repr((query, get_language(), extra)).encode()).hexdigest()


def search_key(query, *, scope: str, extra: tuple = ()) -> str:
    """The cache key of a search: its digest and, without a fixed `now`, the minute."""
    return _key(scope, query_digest(query, extra), getattr(query, "now", None) is not None)


def _key(scope: str, digest: str, fixed_now: bool) -> str:
    minute = "" if fixed_now else str(int(time.time() // 60))
    return f"{scope}:{digest}:{minute}"


def cached(key: str, make: Callable[[], object], *, timeout: int | None = None, cache=None):
    """make()'s value for this key in the current generation, from the cache when there."""
    store = cache or default_cache
    timeout = search_cache_seconds() if timeout is None else timeout
    if timeout <= 0:
        return make()
    full = f"{KEY_PREFIX}:{generation_token()}:{key}"
    value = store.get(full)
    if value is None:
        value = make()
        store.set(full, value, timeout)
    return value


# --- the fast path for repeated API searches -----------------------------------------

SEARCH_PATH = "/api/v1/meetings"
SEARCH_SCOPE = "api-search-v2"
RAW_MEMO_SIZE = 10_000
# (query string, language) -> (digest, fixed now), filled by the API view after it
# parsed and normalised that query string; read by CachedSearchMiddleware.
_raw_memo: dict[tuple[str, str], tuple[str, bool]] = {}


def remember_raw_query(request, query) -> str:
    """Record what this exact query string normalises to; returns the cache key."""
    digest = query_digest(query)
    fixed_now = query.now is not None
    if len(_raw_memo) >= RAW_MEMO_SIZE:
        _raw_memo.clear()
    _raw_memo[(request.META.get("QUERY_STRING", ""), get_language())] = (digest, fixed_now)
    return _key(SEARCH_SCOPE, digest, fixed_now)


class CachedSearchMiddleware:
    """Answers a public GET /api/v1/meetings whose exact query string was seen before and
    whose result is in the cache, without URL resolving, parameter parsing or the view:
    the same response the view gives (mutualaid/directory/api.py, search_response), in
    less time. Anything else (a new query string, a miss, an error) goes to the view."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if (
            request.method == "GET"
            and request.path_info == SEARCH_PATH
            and not getattr(request, "organisation_ids", ())
            and search_cache_seconds() > 0
        ):
            known = _raw_memo.get((request.META.get("QUERY_STRING", ""), get_language()))
            if known is not None:
                key = f"{KEY_PREFIX}:{generation_token()}:{_key(SEARCH_SCOPE, *known)}"
                value = default_cache.get(key)
                if value is not None:
                    from .api import search_response

                    return search_response(request, value, public=True)
        return self.get_response(request)
