"""JSON API (django-ninja): the same search as the CLI and the web page, with OpenAPI."""

from ninja import NinjaAPI, Query, Schema
from ninja.errors import HttpError

from .query_params import build_query
from .search import SearchError, search

api = NinjaAPI(
    title="mutualaid directory API",
    version="1",
    description="Mutual-aid meetings across fellowships. Weekdays are English names; times are "
    "local wall-clock times in each meeting's IANA zone; next_start is ISO 8601 with offset.",
    urls_namespace="api-v1",
)


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


class ErrorOut(Schema):
    detail: str


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


@api.get("/meetings", response={200: SearchOut, 400: ErrorOut}, summary="Search meetings")
def search_meetings(request, params: Query[SearchParams]):
    try:
        query, _ = build_query(
            near=params.near,
            place=params.place,
            radius_km=params.radius_km,
            days=params.day,
            start_after=params.start_after,
            start_before=params.start_before,
            types=params.type,
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
        )
    except SearchError as exc:
        raise HttpError(400, str(exc)) from None
    return search(query).as_dict()
