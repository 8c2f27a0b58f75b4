"""JSON API (django-ninja): the same search as the CLI and the web page, with OpenAPI.

Every malformed parameter answers 422 in ninja's own validation-error shape,
{"detail": [{"type": ..., "loc": ["query", "<param>"], "msg": ...}]}, whether ninja's
type checks caught it or the search did. Docs: /api/v1/docs (Swagger UI from the files
pip installed with django-ninja, no CDN) and the schema at /api/v1/openapi.json.
"""

import gzip
import hashlib
from datetime import datetime

from django.http import Http404, HttpResponse, HttpResponseNotModified
from django.utils import timezone as dj_timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from ninja import NinjaAPI, Query, Schema

from mutualaid.lib import schedule, vocabulary
from mutualaid.serving import accepts_gzip

from . import cache as directory_cache
from .calendar import meetings_calendar
from .models import Fellowship, Mode
from .query_params import build_query
from .search import MAX_LIMIT, SORTS, SearchError, search
from .views import ACCESS_EXPLAINED, _visible_meeting

api = NinjaAPI(
    title="mutualaid directory API",
    version="1",
    description="Mutual-aid meetings across fellowships. Weekdays are English names; times are "
    "local wall-clock times in each meeting's IANA zone; next_start is ISO 8601 with offset. "
    "Malformed parameters answer 422 naming the parameter in detail[].loc.",
    urls_namespace="api-v1",
)

# How far a client may page, and how many values one list parameter may carry: beyond
# these a query is not a real one, and databases overflow or refuse it.
MAX_OFFSET = 1_000_000
# Public searches may be kept this long by browsers and proxies (the ETag revalidates).
SEARCH_MAX_AGE = 60
MAX_VALUES = 50
NOW_YEARS = range(1900, 3000)


# --- errors -------------------------------------------------------------------------


class ParamError(Exception):
    """A query parameter a client got wrong: 422 naming it, like ninja's own checks."""

    def __init__(self, param: str, msg: str):
        super().__init__(f"{param}: {msg}")
        self.param, self.msg = param, msg


@api.exception_handler(ParamError)
def _param_error_response(request, exc: ParamError):
    item = {"type": "value_error", "loc": ["query", exc.param], "msg": exc.msg}
    return api.create_response(request, {"detail": [item]}, status=422)


class ErrorItemOut(Schema):
    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorOut(Schema):
    detail: list[ErrorItemOut]


class NotFoundOut(Schema):
    detail: str


# query_params names some parameters as the CLI spells them.
_CLI_TO_API = {"radius": "radius_km", "start-after": "start_after", "start-before": "start_before"}
# SearchQuery's own checks do not prefix the parameter: words in the message tell it.
_WORD_TO_PARAM = [
    ("sort", "sort"),
    ("limit", "limit"),
    ("offset", "offset"),
    ("time zone", "timezone"),
    ("utc offset", "now"),
    ("radius", "radius_km"),
    ("latitude", "near"),
    ("longitude", "near"),
    ("coordinates", "near"),
    ("weekday", "day"),
    ("meeting type", "type"),
    ("language", "language"),
    ("approach", "approach"),
    ("mode", "mode"),
]


def param_error(exc: SearchError, known: set[str]) -> ParamError:
    """The API parameter a SearchError is about ("<param>: <reason>", or by its words)."""
    text = str(exc)
    head, sep, rest = text.partition(": ")
    param = _CLI_TO_API.get(head, head)
    if sep and param in known:
        return ParamError(param, rest)
    lowered = text.lower()
    for word, param in _WORD_TO_PARAM:
        if word in lowered:
            return ParamError(param, text)
    return ParamError("query", text)


def _check_raw_query(request) -> None:
    """What no parameter may carry: NUL characters (PostgreSQL refuses them in text)."""
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            raise ParamError(key.replace("\x00", ""), "must not contain NUL characters")


def _viewer_zone(name: str | None, param: str = "timezone") -> str | None:
    if not name:
        return None
    try:
        schedule.zone(name)
    except ValueError as exc:
        raise ParamError(param, str(exc)) from None
    return name


# --- search -------------------------------------------------------------------------


class MeetingOut(Schema):
    id: int
    source_id: str | None
    slug: str
    name: str
    fellowship: str
    weekday: str | None
    schedule: str
    start_time: str | None
    end_time: str | None
    timezone: str
    next_start: str | None
    next_start_viewer: str | None = None
    mode: str
    types: list[str]
    location: str | None
    address: str | None
    city: str | None
    postcode: str | None
    lat: float | None
    lng: float | None
    approximate: bool
    distance_km: float | None
    conference_url: str | None
    conference_phone: str | None
    updated: str | None
    last_verified: str | None
    stale: bool


class SearchOut(Schema):
    count: int
    results: list[MeetingOut]


class SearchParams(Schema):
    near: str | None = None
    place: str | None = None
    radius_km: float | None = None
    day: list[str] = []
    start_after: str | None = None
    start_before: str | None = None
    type: list[str] = []
    fellowship: list[str] = []
    approach: list[str] = []
    mode: list[str] = []
    language: list[str] = []
    text: str = ""
    upcoming: bool = False
    now: str | None = None
    timezone: str | None = None
    sort: str | None = None
    limit: int = 50
    offset: int = 0


class CalendarParams(SearchParams):
    limit: int = MAX_LIMIT


def _search(request, params: SearchParams):
    """Run the search for API parameters; every bad parameter raises ParamError."""
    query = _search_query(request, params)
    return query, search(query)


def _search_query(request, params: SearchParams):
    """The normalised SearchQuery for API parameters; every bad one raises ParamError."""
    _check_raw_query(request)
    known = set(type(params).model_fields)
    for name in ("day", "type", "fellowship", "approach", "mode", "language"):
        if len(getattr(params, name)) > MAX_VALUES:
            raise ParamError(name, f"at most {MAX_VALUES} values")
    if not 1 <= params.limit <= MAX_LIMIT:
        raise ParamError("limit", f"must be 1..{MAX_LIMIT}, got {params.limit}")
    if not 0 <= params.offset <= MAX_OFFSET:
        raise ParamError("offset", f"must be 0..{MAX_OFFSET}, got {params.offset}")
    if params.sort is not None and params.sort not in SORTS:
        raise ParamError("sort", f"unknown sort {params.sort!r} (use {', '.join(SORTS)})")
    _viewer_zone(params.timezone)
    try:
        query, _ = build_query(
            near=params.near,
            place=params.place,
            radius_km=params.radius_km,
            days=params.day,
            start_after=params.start_after,
            start_before=params.start_before,
            types=list(dict.fromkeys(params.type)),
            fellowships=params.fellowship,
            approaches=params.approach,
            modes=params.mode,
            languages=params.language,
            text=params.text,
            upcoming=params.upcoming,
            now=params.now,
            viewer_timezone=params.timezone,
            sort=params.sort,
            limit=params.limit,
            offset=params.offset,
            organisation_ids=getattr(request, "organisation_ids", ()),
        )
    except SearchError as exc:
        raise param_error(exc, known) from None
    if query.now is not None and query.now.year not in NOW_YEARS:
        raise ParamError("now", f"year must be {NOW_YEARS.start}..{NOW_YEARS.stop - 1}")
    return query


@api.get(
    "/meetings",
    response={200: SearchOut, 422: ValidationErrorOut},
    summary="Search meetings",
)
def search_meetings(request, params: Query[SearchParams]):
    # Hot searches come from the cache (mutualaid/directory/cache.py) as the JSON bytes
    # ninja would render and their gzip, made once, keyed on the normalised query; ETag
    # answers 304. A query string seen before is answered by CachedSearchMiddleware.
    query = _search_query(request, params)
    if query.organisation_ids:  # never shared with the anonymous fast path
        key = directory_cache.search_key(query, scope=directory_cache.SEARCH_SCOPE)
    else:
        key = directory_cache.remember_raw_query(request, query)
    value = directory_cache.cached(key, lambda: _render_search(request, query))
    return search_response(request, value, public=not query.organisation_ids)


def search_response(request, value, *, public: bool) -> HttpResponse:
    """The response for a cached search (body, ETag, gzip): 304, gzip or plain."""
    body, etag, zipped = value
    use_gzip = zipped is not None and accepts_gzip(request.headers.get("Accept-Encoding", ""))
    gzip_etag = f'{etag[:-1]}-gzip"'
    wanted = {t.removeprefix("W/") for t in parse_etags(request.headers.get("If-None-Match", ""))}
    if wanted & {etag, gzip_etag, "*"}:
        response = HttpResponseNotModified()
    elif use_gzip:
        response = HttpResponse(zipped, content_type=api.get_content_type())
        response["Content-Encoding"] = "gzip"
    else:
        response = HttpResponse(body, content_type=api.get_content_type())
    response["ETag"] = gzip_etag if use_gzip else etag
    patch_vary_headers(response, ("Accept-Encoding",))
    if public:
        response["Cache-Control"] = f"public, max-age={SEARCH_MAX_AGE}"
    return response


def _render_search(request, query) -> tuple[bytes, str, bytes | None]:
    """The /meetings body for this query, as ninja renders SearchOut, its ETag and, when
    worth it, its gzip (no secrets in it, so no BREACH padding needed)."""
    data = SearchOut.model_validate(search(query).as_dict()).model_dump()
    body = api.renderer.render(request, data, response_status=200)
    body = body.encode() if isinstance(body, str) else body
    zipped = gzip.compress(body, compresslevel=6, mtime=0) if len(body) > 500 else None
    return body, f'"{hashlib.sha256(body).hexdigest()[:32]}"', zipped


def _calendar_response(request, meetings, *, name: str, now: datetime, filename: str):
    body = meetings_calendar(
        meetings, name=name, now=now, base_url=request.build_absolute_uri("/")[:-1]
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


_ICS_RESPONSE = {
    "responses": {
        200: {
            "description": "iCalendar (RFC 5545): one recurring event per meeting, in its zone",
            "content": {"text/calendar": {"schema": {"type": "string"}}},
        }
    }
}


@api.get(
    "/meetings.ics",
    response={422: ValidationErrorOut},
    summary="Search meetings, as a calendar",
    description=f"The same parameters as /meetings; limit defaults to {MAX_LIMIT} (the most). "
    "Meetings by appointment have no time and are left out.",
    openapi_extra=_ICS_RESPONSE,
)
def search_calendar(request, params: Query[CalendarParams]):
    query, results = _search(request, params)
    return _calendar_response(
        request,
        [r.meeting for r in results.results],
        name="mutualaid: meetings",
        now=query.now or dj_timezone.now(),
        filename="meetings.ics",
    )


# --- one meeting --------------------------------------------------------------------


class FellowshipOut(Schema):
    code: str
    name: str
    approach: str
    approach_label: str
    audience: str
    covers: list[str]
    description: str | None
    website: str | None


class LanguageOut(Schema):
    code: str
    name: str


class OnlineOut(Schema):
    conference_url: str | None
    conference_url_notes: str | None
    conference_phone: str | None
    conference_phone_notes: str | None


class SourceOut(Schema):
    name: str
    format: str


class MeetingDetailOut(Schema):
    id: int
    slug: str
    name: str
    group_name: str | None
    url: str
    calendar_url: str | None
    report_url: str
    duplicate_of: str | None
    fellowship: FellowshipOut
    weekday: str | None
    schedule: str
    start_time: str | None
    end_time: str | None
    duration_minutes: int
    timezone: str
    frequency: str
    next_start: str | None
    next_start_viewer: str | None
    mode: str
    mode_label: str
    types: list[str]
    type_keys: list[str]
    type_labels: list[str]
    access: list[str]
    languages: list[LanguageOut]
    location: str | None
    address: str | None
    street_address: str | None
    city: str | None
    region: str | None
    postcode: str | None
    country: str | None
    lat: float | None
    lng: float | None
    approximate: bool
    location_notes: str | None
    online: OnlineOut | None
    notes: str | None
    source_id: str | None
    sources: list[SourceOut]
    updated: str | None
    last_verified: str | None
    last_checked: str | None
    stale: bool


class DetailParams(Schema):
    timezone: str | None = None


def fellowship_dict(f: Fellowship) -> dict:
    return {
        "code": f.code,
        "name": f.name,
        "approach": f.approach,
        "approach_label": f.get_approach_display(),
        "audience": f.audience,
        "covers": f.covers_list,
        "description": f.description or None,
        "website": f.website or None,
    }


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def meeting_detail_dict(request, meeting, *, now: datetime, viewer_tz: str | None) -> dict:
    """Everything the meeting page shows, as data."""
    m = meeting
    next_start = m.next_start(now)
    viewer = next_start.astimezone(schedule.zone(viewer_tz)) if next_start and viewer_tz else None
    covers = ", ".join(c.replace("_", " ") for c in m.fellowship.covers_list) or "this"
    known_languages = vocabulary.languages()
    sources = [m.source, *[d.source for d in m.duplicates.select_related("source")]]
    online = None
    if m.conference_url or m.conference_phone:
        online = {
            "conference_url": m.conference_url or None,
            "conference_url_notes": m.conference_url_notes or None,
            "conference_phone": m.conference_phone or None,
            "conference_phone_notes": m.conference_phone_notes or None,
        }
    absolute = request.build_absolute_uri
    return {
        "id": m.pk,
        "slug": m.slug,
        "name": m.name,
        "group_name": m.group_name or None,
        "url": absolute(m.get_absolute_url()),
        "calendar_url": absolute(f"/api/v1/meetings/{m.slug}.ics")
        if m.weekday is not None
        else None,
        "report_url": absolute(f"{m.get_absolute_url()}report/"),
        "duplicate_of": m.duplicate_of.slug if m.duplicate_of_id else None,
        "fellowship": fellowship_dict(m.fellowship),
        "weekday": m.weekday_name or None,
        "schedule": m.schedule_text,
        "start_time": m.start_time.strftime("%H:%M") if m.start_time else None,
        "end_time": m.end_time.strftime("%H:%M") if m.end_time else None,
        "duration_minutes": m.duration_minutes,
        "timezone": m.timezone,
        "frequency": m.frequency,
        "next_start": _iso(next_start),
        "next_start_viewer": _iso(viewer),
        "mode": m.mode,
        "mode_label": Mode(m.mode).label,
        "types": m.meeting_guide_types,
        "type_keys": m.types,
        "type_labels": m.type_labels,
        "access": [t.format(covers=covers) for k, t in ACCESS_EXPLAINED.items() if k in m.types],
        "languages": [
            {"code": c, "name": known_languages[c].name if c in known_languages else c}
            for c in m.languages
        ],
        "location": m.location_name or None,
        "address": m.address or None,
        "street_address": m.street_address or None,
        "city": m.city or None,
        "region": m.region or None,
        "postcode": m.postcode or None,
        "country": m.country or None,
        "lat": m.latitude,
        "lng": m.longitude,
        "approximate": m.approximate,
        "location_notes": m.location_notes or None,
        "online": online,
        "notes": m.notes or None,
        "source_id": m.source_ref or None,
        "sources": [{"name": s.name, "format": s.format} for s in sources if s],
        "updated": _iso(m.feed_updated_at),
        "last_verified": _iso(m.last_verified_at),
        "last_checked": _iso(m.last_checked_at),
        "stale": m.is_stale(now),
    }


@api.get(
    "/meetings/{slug:slug}.ics",
    response={404: NotFoundOut, 422: ValidationErrorOut},
    summary="One meeting, as a calendar",
    description="404 for a meeting by appointment (no fixed time).",
    openapi_extra=_ICS_RESPONSE,
)
def meeting_calendar(request, slug: str):
    _check_raw_query(request)
    meeting = _visible_meeting(request, slug)
    if meeting.weekday is None:
        raise Http404("This meeting is by appointment and has no fixed time.")
    return _calendar_response(
        request, [meeting], name=meeting.name, now=dj_timezone.now(), filename=f"{slug}.ics"
    )


@api.get(
    "/meetings/{slug:slug}",
    response={200: MeetingDetailOut, 404: NotFoundOut, 422: ValidationErrorOut},
    summary="One meeting, with everything its page shows",
    description="Restricted and removed meetings are 404. A listing that duplicates another "
    "feed's names it in duplicate_of. timezone= adds next_start_viewer on that clock.",
)
def meeting_detail(request, slug: str, params: Query[DetailParams]):
    _check_raw_query(request)
    viewer_tz = _viewer_zone(params.timezone)
    meeting = _visible_meeting(request, slug)
    return meeting_detail_dict(request, meeting, now=dj_timezone.now(), viewer_tz=viewer_tz)


# --- vocabularies -------------------------------------------------------------------


class TypeOut(Schema):
    key: str
    label: str
    category: str
    meeting_guide: str | None
    bmlt_world_id: str | None


@api.get("/fellowships", response=list[FellowshipOut], summary="Fellowships")
def fellowships(request):
    return [fellowship_dict(f) for f in Fellowship.objects.order_by("name")]


@api.get("/types", response=list[TypeOut], summary="Meeting types")
def meeting_types(request):
    return [
        {
            "key": t.key,
            "label": t.label,
            "category": t.category,
            "meeting_guide": t.meeting_guide,
            "bmlt_world_id": t.bmlt_world_id,
        }
        for t in vocabulary.meeting_types().values()
    ]


api.add_router("/casework/", "mutualaid.casework.api.router")
