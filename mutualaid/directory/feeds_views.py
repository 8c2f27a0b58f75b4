"""The directory as a Meeting Guide feed: GET /feeds/meeting-guide.json[?fellowship=CODE].

Every listed public meeting (active, public, not a duplicate of another listing), in the
shape feeds/meeting_guide.py renders (its notes say what each field means here). Apps
poll this and read it cross-origin, so it is built to stay cheap at 100k meetings:

- It is rendered from one values() query straight into JSON, never through model
  instances, and kept in memory (bytes, plus their gzip made once) per host and
  fellowship filter, keyed by the directory's version.
- The version is the directory generation (mutualaid/directory/cache.py): one row whose
  counter moves on every change to the listing (Meeting/Fellowship/Source signals, and
  the importer, duplicate marking and verification, which write with update()), read by
  one primary-key query per request. It lives in the database, so an import run by
  `mutualaid import` in another process, or on another machine, invalidates the copy
  held by every server process. Code that changes meetings with QuerySet.update() or
  bulk_create() must call cache.directory_changed() (it waits for the commit). Before
  the generation this was a fingerprint of the meetings table, an aggregate of ~35 ms
  at 100k meetings on every request (docs/performance.md).
- ETag is a strong hash of the bytes (the gzip body has its own), If-None-Match answers
  304, Cache-Control is public with max-age=300, and Access-Control-Allow-Origin is *.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from django.db import connection
from django.db.models import CharField, Func
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils.http import parse_etags
from django.views.decorators.http import require_safe

from . import cache as directory_cache
from .feeds.meeting_guide import RENDER_FIELDS, render_meeting_guide
from .models import Fellowship, Meeting, Visibility

MAX_AGE_SECONDS = 300
CACHED_FEEDS = 8  # (host, fellowship) pairs kept in memory per process
GZIP_LEVEL = 6
JSON_TYPE = "application/json; charset=utf-8"
_SLUG_MARK = "slug-placeholder"


# --- what the feed holds ------------------------------------------------------------


def feed_meetings(fellowship: Fellowship | None = None):
    """Listed public meetings: active, public, not a duplicate of another listing."""
    qs = Meeting.objects.listed().filter(visibility=Visibility.PUBLIC)
    if fellowship is not None:
        qs = qs.filter(fellowship=fellowship)
    return qs


def meeting_url_maker(base_url: str | None) -> Callable[[str], str] | None:
    """slug -> absolute URL of the meeting's page under base_url ("https://host")."""
    if base_url is None:
        return None
    prefix, suffix = reverse("directory:meeting", kwargs={"slug": _SLUG_MARK}).split(_SLUG_MARK)
    prefix = base_url.rstrip("/") + prefix
    return lambda slug: f"{prefix}{slug}{suffix}"


class UTCText(Func):
    """A UTC datetime column as "YYYY-MM-DD HH:MM:SS" text, made by the database."""

    output_field = CharField()

    def as_sqlite(self, compiler, connection, **extra):
        # Django stores SQLite datetimes as naive UTC text: "2026-01-05 12:00:00[.ffffff]".
        return self.as_sql(compiler, connection, template="substr(%(expressions)s, 1, 19)")

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler,
            connection,
            template="to_char(%(expressions)s AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')",
        )


def feed_rows(fellowship: Fellowship | None = None):
    """values() rows of RENDER_FIELDS for render_meeting_guide, in pk order."""
    stamp = Coalesce("feed_updated_at", "updated_at")
    if connection.vendor in ("sqlite", "postgresql"):
        stamp = UTCText(stamp)
    return (
        feed_meetings(fellowship)
        .order_by("pk")
        .annotate(updated=stamp)
        .values(*RENDER_FIELDS)
        .iterator(chunk_size=2000)
    )


def render_feed(*, base_url: str | None, fellowship: Fellowship | None = None) -> bytes:
    """The feed's bytes, straight from the database (no caching here)."""
    return render_meeting_guide(feed_rows(fellowship), meeting_url=meeting_url_maker(base_url))


def directory_version() -> str:
    """Changes whenever anything the feed shows may have changed (see the module notes)."""
    return f"generation-{directory_cache.generation_token()}"


# --- the in-memory copy -------------------------------------------------------------


@dataclass
class RenderedFeed:
    version: str
    body: bytes
    etag: str
    _gzipped: bytes | None = None

    @property
    def gzip_etag(self) -> str:
        return f'{self.etag[:-1]}-gzip"'

    def gzipped(self) -> bytes:
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=GZIP_LEVEL, mtime=0)
        return self._gzipped


class FeedCache:
    """The latest rendering per key, replaced when the directory's version moves.

    One lock: a feed is rendered once however many requests arrive while it renders.
    """

    def __init__(self, size: int = CACHED_FEEDS):
        self.size = size
        self._entries: OrderedDict[tuple, RenderedFeed] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple, version: str, render: Callable[[], bytes]) -> RenderedFeed:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or entry.version != version:
                body = render()
                entry = RenderedFeed(version, body, f'"{hashlib.sha256(body).hexdigest()}"')
                self._entries[key] = entry
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
            return entry

    def gzipped(self, entry: RenderedFeed) -> bytes:
        with self._lock:
            return entry.gzipped()

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


FEEDS = FeedCache()


# --- the view -----------------------------------------------------------------------


def accepts_gzip(request: HttpRequest) -> bool:
    for part in request.headers.get("Accept-Encoding", "").split(","):
        coding, _, params = part.partition(";")
        if coding.strip().lower() not in ("gzip", "x-gzip"):
            continue
        q = params.strip().lower()
        if q.startswith("q="):
            try:
                return float(q[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def _error(message: str, status: int = 400) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"error": message}, ensure_ascii=False), status=status, content_type=JSON_TYPE
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def meeting_guide_feed(request: HttpRequest) -> HttpResponse:
    fellowship = None
    code = request.GET.get("fellowship", "").strip()
    if code:
        fellowship = Fellowship.objects.filter(code__iexact=code).first()
        if fellowship is None:
            known = ", ".join(Fellowship.objects.order_by("code").values_list("code", flat=True))
            return _error(f"unknown fellowship {code[:40]!r} (known: {known})")
    base_url = request.build_absolute_uri("/")[:-1]
    feed = FEEDS.get(
        (base_url, fellowship.pk if fellowship else None),
        directory_version(),
        lambda: render_feed(base_url=base_url, fellowship=fellowship),
    )
    use_gzip = accepts_gzip(request)
    etag = feed.gzip_etag if use_gzip else feed.etag
    headers = {
        "ETag": etag,
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    wanted = request.headers.get("If-None-Match")
    if wanted:
        # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
        tags = {tag.removeprefix("W/") for tag in parse_etags(wanted)}
        if "*" in tags or feed.etag in tags or feed.gzip_etag in tags:
            response = HttpResponseNotModified()
            for name, value in headers.items():
                response[name] = value
            return response
    body = FEEDS.gzipped(feed) if use_gzip else feed.body
    response = HttpResponse(b"" if request.method == "HEAD" else body, content_type=JSON_TYPE)
    for name, value in headers.items():
        response[name] = value
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(body))
    return response
