"""The directory as a Meeting Guide feed: GET /feeds/meeting-guide.json[?fellowship=CODE].

Every listed public meeting (active, public, not a duplicate of another listing), in the
shape feeds/meeting_guide.py renders (its notes say what each field means here). Apps
poll this and read it cross-origin, so it is built to stay cheap at 100k meetings and
more:

- It is rendered from one values() query straight into JSON, never through model
  instances, once per directory generation and per (host, fellowship filter), into a
  file and its gzip under settings.FEED_CACHE_DIR (mutualaid/directory/feed_files.py:
  streamed in chunks, renamed into place when complete, one renderer at a time across
  processes). Requests are answered from that file with FileResponse (sendfile under
  gunicorn), so no worker holds a feed in memory. `mutualaid render-feeds` renders the
  whole-directory feed after an import, so the first reader does not wait for it.
- The generation (mutualaid/directory/cache.py) is one row whose counter moves on every
  change to the listing (Meeting/Fellowship/Source signals, and the importer, duplicate
  marking and verification, which write with update()), read by one primary-key query
  per request at most (remembered for GENERATION_MEMO_SECONDS). It lives in the
  database, so an import run by `mutualaid import` in another process, or on another
  machine, is seen by every server process. Code that changes meetings with
  QuerySet.update() or bulk_create() must call cache.directory_changed().
- ETag is the generation (the gzip body has its own), strong because a generation is
  rendered once into fixed bytes; If-None-Match answers 304 without touching the file.
  Last-Modified is when the generation moved; Cache-Control is public with max-age=300,
  Vary: Accept-Encoding, and Access-Control-Allow-Origin is *. gzip is sent when the
  client accepts it (q=0 refuses it; mutualaid.serving.accepts_gzip).
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.db import connection
from django.db.models import CharField, Func
from django.db.models.functions import Coalesce
from django.http import FileResponse, HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import reverse
from django.utils import translation
from django.utils.http import http_date, parse_etags, parse_http_date_safe
from django.views.decorators.http import require_safe

from mutualaid.serving import accepts_gzip

from . import cache as directory_cache
from . import feed_files
from .feeds.meeting_guide import RENDER_FIELDS, iter_meeting_guide, render_meeting_guide
from .models import Fellowship, Meeting, Visibility

MAX_AGE_SECONDS = 300
FILE_BLOCK_SIZE = 1 << 16  # when the server cannot sendfile (runserver, tests)
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


def iter_feed(*, base_url: str | None, fellowship: Fellowship | None = None):
    """render_feed's bytes in pieces (bounded memory), for writing to a file."""
    return iter_meeting_guide(feed_rows(fellowship), meeting_url=meeting_url_maker(base_url))


def directory_version() -> str:
    """Changes whenever anything the feed shows may have changed (see the module notes)."""
    return f"generation-{directory_cache.generation_token()}"


# --- the files --------------------------------------------------------------------


def feed_key(base_url: str, fellowship: Fellowship | None = None) -> str:
    """Which file: the host the URLs point to and the fellowship filter (by id: a code
    can be renamed)."""
    return feed_files.feed_key(base_url, f"fellowship={fellowship.pk if fellowship else ''}")


def open_feed(
    *, base_url: str, fellowship: Fellowship | None = None, gzipped: bool, token: str | None = None
) -> feed_files.FeedFile:
    """The rendered feed's file, open (rendered first if this generation has none yet)."""
    return feed_files.open_feed(
        feed_key(base_url, fellowship),
        token if token is not None else directory_cache.generation_token(),
        lambda: iter_feed(base_url=base_url, fellowship=fellowship),
        gzipped=gzipped,
        refresh=lambda: directory_cache.generation_token(fresh=True),
        background=settings.FEED_RENDER_IN_BACKGROUND,
    )


def render_files(*, base_url: str, fellowship: Fellowship | None = None) -> tuple[str, bool]:
    """Make sure the current generation's files exist (`mutualaid render-feeds`), waiting
    for a worker that is rendering them: returns (their ETag, whether rendered here)."""
    rendered = []

    def render():
        rendered.append(True)
        return iter_feed(base_url=base_url, fellowship=fellowship)

    key = feed_key(base_url, fellowship)
    gen = feed_files.ensure(
        key,
        directory_cache.generation_token(fresh=True),
        render,
        refresh=lambda: directory_cache.generation_token(fresh=True),
        wait=True,
    )
    return feed_files.etag(key, gen, gzipped=False), bool(rendered)


def render_feeds_after_change(stderr=None) -> None:
    """`mutualaid import` and `sync` after a change: the whole-directory feed for SITE_URL,
    rendered now rather than by the first reader. A failure here (a full disk) is reported
    and leaves the feed to be rendered on demand; the import itself has succeeded."""
    try:
        with translation.override(settings.LANGUAGE_CODE):
            render_files(base_url=settings.SITE_URL.rstrip("/"))
    except Exception as exc:  # the import committed; the feed renders on demand instead
        if stderr is not None:
            stderr.write(f"the feed files were not rendered now ({type(exc).__name__}: {exc})")


# --- the view -----------------------------------------------------------------------


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
    key = feed_key(base_url, fellowship)
    token = directory_cache.generation_token()
    use_gzip = accepts_gzip(request.headers.get("Accept-Encoding", ""))
    headers = {
        "Cache-Control": f"public, max-age={MAX_AGE_SECONDS}",
        "Vary": "Accept-Encoding",
        "Access-Control-Allow-Origin": "*",
    }
    tags = set()
    wanted = request.headers.get("If-None-Match")
    if wanted:
        # If-None-Match compares weakly (RFC 9110 13.1.2): W/"x" matches "x".
        tags = {tag.removeprefix("W/") for tag in parse_etags(wanted)}
        gen = feed_files.generation_id(token)
        current = {feed_files.etag(key, gen, gzipped=z) for z in (False, True)}
        if "*" in tags or current & tags:
            return _not_modified(feed_files.etag(key, gen, gzipped=use_gzip), headers)
    elif since := parse_http_date_safe(request.headers.get("If-Modified-Since", "")):
        moved = feed_files.token_time(token)
        if moved is not None and int(moved) <= since:  # answered before opening the file
            gen = feed_files.generation_id(token)
            return _not_modified(feed_files.etag(key, gen, gzipped=use_gzip), headers)
    feed = open_feed(base_url=base_url, fellowship=fellowship, gzipped=use_gzip, token=token)
    if tags & {feed.etag, feed_files.etag(key, feed.gen, gzipped=not use_gzip)}:
        feed.file.close()  # an older rendering (a newer one is being made) the client has
        return _not_modified(feed.etag, headers)
    response = FileResponse(feed.file, content_type=JSON_TYPE)
    response.block_size = FILE_BLOCK_SIZE
    del response["Content-Disposition"]  # FileResponse names the file; it is not a download
    response["Content-Length"] = str(feed.size)
    response["ETag"] = feed.etag
    response["Last-Modified"] = http_date(feed.mtime)
    for name, value in headers.items():
        response[name] = value
    if use_gzip:
        response["Content-Encoding"] = "gzip"
    return response


def _not_modified(etag: str, headers: dict) -> HttpResponse:
    response = HttpResponseNotModified()
    response["ETag"] = etag
    for name, value in headers.items():
        response[name] = value
    return response
