"""A BMLT-compatible semantic API: /main_server/client_interface/{json,jsonp}/?switcher=...

Clients written for a BMLT root server (crouton, bread, yap, tomato, the WordPress
plugins) read this directory unchanged. The shapes are those a real BMLT server returns
(docs: meeting-data-standards.md sections 2 and 6): every meeting value is a JSON string,
missing values are "", an empty answer is {}, weekdays are 1 = Sunday ... 7 = Saturday
both ways, `formats` is the comma-joined key strings (open/closed first, as BMLT does)
and `format_shared_id_list` the sorted numeric ids.

Where our directory differs from a BMLT database, this is what we chose:

- id_bigint is our Meeting.pk (a meeting imported from a BMLT server keeps its own
  id_bigint as Meeting.source_ref, which this API does not show).
- Service bodies are fellowships: service_body_bigint is the Fellowship pk, GetServiceBodies
  lists the fellowships as a flat set of "WS" bodies (parent_id 0), and `services=` filters
  by fellowship. Sources were the alternative, but a source is an import detail (a file or
  URL) and may mix fellowships, while "only NA" is the filter a BMLT client needs here.
- Formats are the canonical type vocabulary plus one LANG format per language, with
  numeric ids fixed in lib/data/bmlt_formats.json (BMLT's stock ids where BMLT has the same
  format: OPEN 17, CLOSED 4, BEG 1, WCHR 33...). The attendance mode adds VM (online),
  HY (hybrid) or TC (temporarily closed); venue_type is 1 in person (also for temporarily
  closed meetings, which carry TC), 2 online, 3 hybrid.
- Languages: every language of a meeting is shown as a LANG format (the directory spans
  countries, so no language goes without saying); lang_enum is "en" when English is one of
  them or none is known, else the meeting's first language.
- Only what the public search shows is served: listed (active, not a hidden duplicate)
  public meetings with a weekday and a start time; "by appointment" meetings cannot be
  said in BMLT's shape and are left out. Fortnightly and monthly meetings are served on
  their weekday with the schedule in words at the start of `comments`.
- Distances are haversine on the mean Earth radius (the one distance the directory uses).
  BMLT 2.16 used Vincenty on the ellipsoid and BMLT 3/4 uses 69 miles or 111.111 km per
  degree of arc, so a meeting within ~0.1% of the radius edge may fall the other way.
  A negative geo_width/geo_width_km picks the radius as BMLT 3/4 does: the smallest step
  of its fixed ladder (0.0625 ... 200, in the request's unit) holding at least N meetings
  that pass the other filters, else the largest step.
- Better than BMLT where BMLT is poor, keeping the shape: an unknown switcher or a malformed
  parameter is HTTP 400 with {"error": "..."} naming the parameter (BMLT answers 200 with a
  sentence, or an empty 500); a centre without a width gives every match with its distance
  (BMLT answers nothing); `meeting_ids` overrides every other filter, as in BMLT 2.x;
  GetFormats in a language we have no names for answers in English rather than with nothing.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import time
from functools import cache

from django.db.models import Case, F, IntegerField, Max, Min, Q, QuerySet, Value, When
from django.db.models.functions import Mod
from django.http import HttpRequest, HttpResponse, QueryDict
from django.urls import re_path

from mutualaid.lib import geo, schedule, vocabulary

from .models import Fellowship, Meeting, Mode
from .search import SearchQuery, distance_expression, filtered_meetings

SERVER_VERSION = "4.0.0"  # the BMLT semantic level served, for clients' feature checks
SERVER_LANGUAGE = "en"
MILE_KM = 1.609344
# BMLT 3/4's auto-radius ladder (MeetingRepository::calculateSearchRadius), in the
# request's unit: miles for geo_width, km for geo_width_km.
AUTO_RADII = (
    0.0625, 0.125, 0.1875, 0.25, 0.4375, 0.5, 0.5625, 0.75, 0.8125, 1.0, 1.25, 1.5, 1.75,
    2.0, 2.25, 2.5, 2.75, 3.0, 3.25, 3.5, 3.75, 4.0, 4.25, 4.5, 4.75, 5.0, 5.5, 6.0, 6.5,
    7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 11.0, 12.0, 13.0, 14.0, 15.0, 17.5, 20.0, 22.5,
    25.0, 27.5, 30.0, 35.0, 40.0, 45.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0, 150.0, 200.0,
)  # fmt: skip
SWITCHERS = (
    "GetSearchResults",
    "GetFormats",
    "GetServiceBodies",
    "GetFieldKeys",
    "GetFieldValues",
    "GetServerInfo",
    "GetCoverageArea",
)
UNSUPPORTED_SWITCHERS = ("GetChanges", "GetNAWSDump")
DATA_FORMATS = ("json", "jsonp")
ALL_MODES = tuple(Mode.values)
VENUE_TYPES = {
    1: (Mode.IN_PERSON, Mode.INACTIVE),
    2: (Mode.ONLINE,),
    3: (Mode.HYBRID,),
}
VENUE_OF_MODE = {Mode.IN_PERSON: 1, Mode.INACTIVE: 1, Mode.ONLINE: 2, Mode.HYBRID: 3}
# The type a meeting's attendance mode implies, shown as a format (VM, HY, TC).
MODE_TYPE = {Mode.ONLINE: "online", Mode.HYBRID: "hybrid", Mode.INACTIVE: "temporarily_closed"}
OPEN_CLOSED = ("open", "closed")  # BMLT lists these keys first

# Meeting fields in the order BMLT sends them, with what GetFieldKeys says of each.
FIELDS = {
    "id_bigint": "ID",
    "worldid_mixed": "World ID",
    "shared_group_id_bigint": "Shared group ID",
    "service_body_bigint": "Service body (fellowship) ID",
    "service_body_name": "Service body (fellowship) name",
    "weekday_tinyint": "Weekday (1 = Sunday ... 7 = Saturday)",
    "venue_type": "Venue type (1 in person, 2 virtual, 3 hybrid)",
    "start_time": "Start time",
    "duration_time": "Duration",
    "time_zone": "Time zone",
    "formats": "Formats",
    "lang_enum": "Language",
    "longitude": "Longitude",
    "latitude": "Latitude",
    "distance_in_km": "Distance in km",
    "distance_in_miles": "Distance in miles",
    "email_contact": "Email contact",
    "published": "Published",
    "root_server_uri": "Root server URI",
    "format_shared_id_list": "Format ids",
    "meeting_name": "Meeting name",
    "location_text": "Location name",
    "location_info": "Additional location information",
    "location_street": "Street address",
    "location_city_subsection": "Borough",
    "location_neighborhood": "Neighbourhood",
    "location_municipality": "Town",
    "location_sub_province": "County",
    "location_province": "State or region",
    "location_postal_code_1": "Postcode",
    "location_nation": "Nation",
    "comments": "Comments",
    "virtual_meeting_link": "Virtual meeting link",
    "phone_meeting_number": "Phone meeting dial-in number",
    "virtual_meeting_additional_info": "Virtual meeting additional information",
}
# Output fields that sort on a column (text columns sort empty values last, as BMLT does).
SORT_COLUMNS = {
    "id_bigint": "pk",
    "service_body_bigint": "fellowship_id",
    "start_time": "start_time",
    "duration_time": "duration_minutes",
    "time_zone": "timezone",
    "longitude": "longitude",
    "latitude": "latitude",
    "meeting_name": "name",
    "location_text": "location_name",
    "location_info": "location_notes",
    "location_street": "street_address",
    "location_municipality": "city",
    "location_province": "region",
    "location_postal_code_1": "postcode",
    "location_nation": "country",
    "comments": "notes",
    "virtual_meeting_link": "conference_url",
    "phone_meeting_number": "conference_phone",
}
TEXT_SORT_COLUMNS = {
    "timezone", "name", "location_name", "location_notes", "street_address", "city",
    "region", "postcode", "country", "notes", "conference_url", "conference_phone",
}  # fmt: skip
# BMLT's sort_key aliases.
SORT_ALIASES = {
    "weekday": ["weekday_tinyint", "location_municipality", "location_city_subsection",
                "start_time", "location_neighborhood"],
    "time": ["weekday_tinyint", "start_time", "location_municipality",
             "location_city_subsection", "location_neighborhood"],
    "town": ["location_municipality", "location_city_subsection", "location_neighborhood",
             "weekday_tinyint", "start_time"],
    "state": ["location_province", "location_municipality", "location_city_subsection",
              "weekday_tinyint", "start_time"],
    "weekday_state": ["weekday_tinyint", "location_province", "location_municipality",
                      "start_time", "location_city_subsection"],
}  # fmt: skip
DEFAULT_SORT = ["weekday_tinyint", "start_time", "duration_time"]

_INT = re.compile(r"[+-]?\d{1,9}")
_NUMBER = re.compile(r"[+-]?(\d{1,12}(\.\d{0,12})?|\.\d{1,12})([eE][+-]?\d{1,3})?")
_CALLBACK = re.compile(r"[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,7}")
_LANG = re.compile(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})?")
MAX_TEXT = 500


class ParamError(ValueError):
    """A request parameter we cannot use; the message names it."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


# --- formats ------------------------------------------------------------------------


@dataclass(frozen=True)
class ServedFormat:
    id: int
    key_string: str
    name_string: str
    description_string: str
    world_id: str
    format_type_enum: str
    type_key: str | None = None
    language: str | None = None

    def as_dict(self, root_uri: str) -> dict:
        return {
            "key_string": self.key_string,
            "name_string": self.name_string,
            "description_string": self.description_string,
            "lang": SERVER_LANGUAGE,
            "id": str(self.id),
            "world_id": self.world_id,
            "root_server_uri": root_uri,
            "format_type_enum": self.format_type_enum,
        }


def _format_type(t: vocabulary.MeetingType) -> str:
    """BMLT's format classes: O open/closed, FC1 format, FC2 place, FC3 needs/restrictions."""
    if t.key in OPEN_CLOSED:
        return "O"
    if t.category in ("format",):
        return "FC1"
    if t.category in ("access_needs", "mode", "status"):
        return "FC2"
    return "FC3"


@cache
def served_formats() -> dict[int, ServedFormat]:
    """Every format this server serves, by numeric id (ids from data/bmlt_formats.json)."""
    rows = json.loads((vocabulary.DATA_DIR / "bmlt_formats.json").read_text())["formats"]
    types, languages = vocabulary.meeting_types(), vocabulary.languages()
    served: dict[int, ServedFormat] = {}
    for row in rows:
        if "type" in row:
            t = types[row["type"]]
            served[row["id"]] = ServedFormat(
                id=row["id"],
                key_string=t.bmlt_key or t.meeting_guide or t.key,
                name_string=t.label.split(":")[0].strip(),
                description_string=t.label,
                world_id=t.bmlt_world_id or "",
                format_type_enum=_format_type(t),
                type_key=t.key,
            )
        else:
            lang = languages[row["language"]]
            served[row["id"]] = ServedFormat(
                id=row["id"],
                key_string=lang.bmlt_key or lang.code,
                name_string=lang.name,
                description_string=f"Meeting held in {lang.name}",
                world_id="LANG",
                format_type_enum="LANG",
                language=lang.code,
            )
    return served


@cache
def _format_of_type() -> dict[str, ServedFormat]:
    return {f.type_key: f for f in served_formats().values() if f.type_key}


@cache
def _format_of_language() -> dict[str, ServedFormat]:
    return {f.language: f for f in served_formats().values() if f.language}


def meeting_formats(meeting: Meeting) -> list[ServedFormat]:
    keys = set(meeting.types)
    if meeting.mode in MODE_TYPE:
        keys.add(MODE_TYPE[meeting.mode])
    by_type, by_language = _format_of_type(), _format_of_language()
    found = [by_type[k] for k in keys if k in by_type]
    found += [by_language[c] for c in meeting.languages if c in by_language]
    return sorted(found, key=lambda f: f.id)


def format_condition(fmt: ServedFormat) -> Q:
    """The meetings that show this format, as a filter (the same rule as meeting_formats)."""
    if fmt.language:
        return Q(language_codes__contains=f",{fmt.language},")
    condition = Q(type_codes__contains=f",{fmt.type_key},")
    for mode, key in MODE_TYPE.items():
        if key == fmt.type_key:
            condition |= Q(mode=mode)
    return condition


def lang_enum(meeting: Meeting) -> str:
    languages = meeting.languages
    if not languages or SERVER_LANGUAGE in languages:
        return SERVER_LANGUAGE
    return languages[0]


# --- parameters ---------------------------------------------------------------------


def _values(params: QueryDict, name: str) -> list[str]:
    """name and name[] given any number of times, each possibly comma-separated."""
    values = []
    for raw in params.getlist(name) + params.getlist(f"{name}[]"):
        values += [v.strip() for v in raw.split(",") if v.strip()]
    return values


def _given(params: QueryDict, name: str) -> bool:
    return name in params or f"{name}[]" in params


def _single(params: QueryDict, name: str) -> str | None:
    values = params.getlist(name)
    if not values:
        return None
    value = values[-1].strip()
    if len(value) > MAX_TEXT:
        raise ParamError(name, f"{name} is longer than {MAX_TEXT} characters")
    return value or None


def _int(text: str, name: str) -> int:
    if not _INT.fullmatch(text):
        raise ParamError(name, f"{name} must be a whole number, got {text[:40]!r}")
    return int(text)


def _ints(params: QueryDict, name: str) -> list[int]:
    return [_int(v, name) for v in _values(params, name)]


def _signed(values: list[int], name: str) -> tuple[list[int], list[int]]:
    """Split into (include, exclude): in BMLT's list filters a negative value excludes."""
    if 0 in values:
        raise ParamError(name, f"{name} values must not be 0 (a negative value excludes)")
    return [v for v in values if v > 0], [-v for v in values if v < 0]


def _float(params: QueryDict, name: str) -> float | None:
    text = _single(params, name)
    if text is None:
        return None
    if not _NUMBER.fullmatch(text):
        raise ParamError(name, f"{name} must be a number, got {text[:40]!r}")
    value = float(text)
    if not math.isfinite(value):
        raise ParamError(name, f"{name} must be a finite number, got {text[:40]!r}")
    return value


def _flag(params: QueryDict, name: str) -> bool:
    return _single(params, name) == "1"


def _clock(params: QueryDict, prefix: str, *, upto_24: bool) -> int | None:
    """Minutes after midnight from prefix+H and prefix+M (either may be left out)."""
    hour_text, minute_text = _single(params, f"{prefix}H"), _single(params, f"{prefix}M")
    if hour_text is None and minute_text is None:
        return None
    hour = _int(hour_text, f"{prefix}H") if hour_text is not None else 0
    minute = _int(minute_text, f"{prefix}M") if minute_text is not None else 0
    if not 0 <= minute <= 59:
        raise ParamError(f"{prefix}M", f"{prefix}M must be 0..59, got {minute}")
    top = 24 if upto_24 else 23
    if not 0 <= hour <= top or (hour == 24 and minute):
        raise ParamError(f"{prefix}H", f"{prefix}H must be 0..{top}, got {hour}")
    return hour * 60 + minute


@dataclass
class SearchSpec:
    """GetSearchResults parameters, parsed and checked."""

    meeting_ids: tuple[list[int], list[int]] = ([], [])
    weekdays: tuple[list[int], list[int]] = ([], [])  # Python weekdays
    venue_types: tuple[list[int], list[int]] = ([], [])
    services: tuple[list[int], list[int]] = ([], [])
    formats: tuple[list[int], list[int]] = ([], [])
    formats_or: bool = False
    starts_after: int | None = None  # minutes, strictly later
    starts_before: int | None = None  # minutes, strictly earlier
    ends_before: int | None = None  # minutes, at or before
    min_duration: int | None = None
    max_duration: int | None = None
    text: str = ""
    text_ids: list[int] = field(default_factory=list)
    centre: tuple[float, float] | None = None
    radius_km: float | None = None
    auto_count: int | None = None
    unit_km: float = MILE_KM
    sort_by_distance: bool = False
    sort_keys: list[str] = field(default_factory=lambda: list(DEFAULT_SORT))
    field_keys: list[str] | None = None
    page_size: int | None = None
    page_num: int = 1
    used_formats: bool = False
    formats_only: bool = False


def parse_search(params: QueryDict) -> SearchSpec:
    spec = SearchSpec()
    spec.meeting_ids = _signed(_ints(params, "meeting_ids"), "meeting_ids")
    days = _ints(params, "weekdays")
    for day in days:
        if not 1 <= abs(day) <= 7:
            raise ParamError("weekdays", f"weekdays must be 1 (Sunday) .. 7 (Saturday), got {day}")
    include, exclude = _signed(days, "weekdays")
    spec.weekdays = (
        [schedule.from_bmlt_weekday(d) for d in include],
        [schedule.from_bmlt_weekday(d) for d in exclude],
    )
    venues = _ints(params, "venue_types")
    for venue in venues:
        if abs(venue) not in VENUE_TYPES:
            raise ParamError(
                "venue_types",
                f"venue_types must be 1 (in person), 2 (virtual) or 3 (hybrid), got {venue}",
            )
    spec.venue_types = _signed(venues, "venue_types")
    spec.services = _signed(_ints(params, "services"), "services")
    spec.formats = _signed(_ints(params, "formats"), "formats")
    operator = (_single(params, "formats_comparison_operator") or "AND").upper()
    if operator not in ("AND", "OR"):
        raise ParamError(
            "formats_comparison_operator",
            f"formats_comparison_operator must be AND or OR, got {operator[:20]!r}",
        )
    spec.formats_or = operator == "OR"

    spec.starts_after = _clock(params, "StartsAfter", upto_24=False)
    spec.starts_before = _clock(params, "StartsBefore", upto_24=True)
    spec.ends_before = _clock(params, "EndsBefore", upto_24=True)
    spec.min_duration = _clock(params, "MinDuration", upto_24=True)
    spec.max_duration = _clock(params, "MaxDuration", upto_24=True)

    text = _single(params, "SearchString") or ""
    words = [w.strip() for w in text.split(",")]
    if text and all(_INT.fullmatch(w) for w in words):
        spec.text_ids = [int(w) for w in words]  # BMLT: a list of numbers is meeting ids
    elif len(text) > 2:
        spec.text = text  # BMLT ignores search strings of one or two characters

    _parse_place(params, spec)

    alias = _single(params, "sort_key")
    keys = _values(params, "sort_keys")
    if keys:
        for key in keys:
            if key not in FIELDS:
                raise ParamError("sort_keys", f"sort_keys: unknown field {key[:40]!r}")
        spec.sort_keys = keys
    elif alias:
        if alias not in SORT_ALIASES:
            raise ParamError(
                "sort_key", f"sort_key must be one of {', '.join(SORT_ALIASES)}, got {alias[:20]!r}"
            )
        spec.sort_keys = SORT_ALIASES[alias]

    wanted = _values(params, "data_field_key")
    if wanted:
        known = [k for k in wanted if k in FIELDS]
        if not known:
            raise ParamError("data_field_key", "data_field_key names no field this server has")
        spec.field_keys = known

    size = _single(params, "page_size")
    if size is not None:
        spec.page_size = _int(size, "page_size")
        if spec.page_size < 1:
            raise ParamError("page_size", "page_size must be 1 or more")
        number = _single(params, "page_num")
        spec.page_num = _int(number, "page_num") if number is not None else 1
        if spec.page_num < 1:
            raise ParamError("page_num", "page_num must be 1 or more")
    spec.used_formats = "get_used_formats" in params
    spec.formats_only = "get_formats_only" in params
    return spec


def _parse_place(params: QueryDict, spec: SearchSpec) -> None:
    lat, lng = _float(params, "lat_val"), _float(params, "long_val")
    miles, km = _float(params, "geo_width"), _float(params, "geo_width_km")
    spec.sort_by_distance = _flag(params, "sort_results_by_distance")
    if lat is None and lng is None:
        for name, value in (("geo_width", miles), ("geo_width_km", km)):
            if value is not None:
                raise ParamError(name, f"{name} needs lat_val and long_val")
        return
    if lat is None or lng is None:
        missing = "lat_val" if lat is None else "long_val"
        raise ParamError(missing, f"{missing} is needed with the other coordinate")
    try:
        spec.centre = geo.validate_point(lat, lng)
    except ValueError as exc:
        name = "lat_val" if "latitude" in str(exc) else "long_val"
        raise ParamError(name, f"{name}: {exc}") from None
    name, width = ("geo_width", miles) if miles is not None else ("geo_width_km", km)
    spec.unit_km = MILE_KM if name == "geo_width" else 1.0
    if width is None:
        return
    if width > 0:
        spec.radius_km = width * spec.unit_km
    elif width < 0:
        spec.auto_count = int(-width)
        if spec.auto_count < 1:
            raise ParamError(name, f"{name}: a negative width is a number of meetings, e.g. -10")
    else:
        raise ParamError(name, f"{name} must not be 0")


# --- GetSearchResults ---------------------------------------------------------------


def _public_meetings() -> QuerySet[Meeting]:
    """What the public search lists (the one selector), limited to what BMLT can say."""
    qs = filtered_meetings(SearchQuery(modes=ALL_MODES))
    return qs.filter(weekday__isnull=False, start_time__isnull=False)


def search_meetings(spec: SearchSpec) -> QuerySet[Meeting]:
    include_ids, exclude_ids = spec.meeting_ids
    if include_ids:  # meeting_ids overrides every other filter
        qs = _public_meetings().filter(pk__in=include_ids).exclude(pk__in=exclude_ids)
        if spec.centre:
            qs = qs.annotate(distance_km=distance_expression(*spec.centre))
        return _ordered(qs, spec)
    qs = filtered_meetings(SearchQuery(modes=ALL_MODES, text=spec.text))
    qs = qs.filter(weekday__isnull=False, start_time__isnull=False)
    if exclude_ids:
        qs = qs.exclude(pk__in=exclude_ids)
    if spec.text_ids:
        qs = qs.filter(pk__in=spec.text_ids)
    days_in, days_out = spec.weekdays
    if days_in:
        qs = qs.filter(weekday__in=days_in)
    if days_out:
        qs = qs.exclude(weekday__in=days_out)
    venues_in, venues_out = spec.venue_types
    if venues_in:
        qs = qs.filter(mode__in=[m for v in venues_in for m in VENUE_TYPES[v]])
    if venues_out:
        qs = qs.exclude(mode__in=[m for v in venues_out for m in VENUE_TYPES[v]])
    services_in, services_out = spec.services
    if services_in:
        qs = qs.filter(fellowship_id__in=services_in)
    if services_out:
        qs = qs.exclude(fellowship_id__in=services_out)
    qs = _format_filter(qs, spec)
    qs = _time_filters(qs, spec)
    if spec.centre:
        qs = _place_filter(qs, spec)
    return _ordered(qs, spec)


def _format_filter(qs: QuerySet[Meeting], spec: SearchSpec) -> QuerySet[Meeting]:
    served = served_formats()
    include, exclude = spec.formats
    if include:
        known = [served[i] for i in include if i in served]
        if spec.formats_or:
            if not known:
                return qs.none()
            any_of = Q()
            for fmt in known:
                any_of |= format_condition(fmt)
            qs = qs.filter(any_of)
        else:
            if len(known) < len(set(include)):
                return qs.none()  # no meeting has a format this server does not serve
            for fmt in known:
                qs = qs.filter(format_condition(fmt))
    for fmt_id in exclude:
        if fmt_id in served:
            qs = qs.exclude(format_condition(served[fmt_id]))
    return qs


def _time_filters(qs: QuerySet[Meeting], spec: SearchSpec) -> QuerySet[Meeting]:
    if spec.starts_after is not None:
        qs = qs.filter(start_time__gt=_as_time(spec.starts_after))
    if spec.starts_before is not None and spec.starts_before < 1440:
        qs = qs.filter(start_time__lt=_as_time(spec.starts_before))
    if spec.ends_before is not None:
        qs = qs.alias(end_minute=F("start_minute") + F("duration_minutes")).filter(
            end_minute__lte=spec.ends_before
        )
    if spec.min_duration is not None:
        qs = qs.filter(duration_minutes__gte=spec.min_duration)
    if spec.max_duration is not None:
        qs = qs.filter(duration_minutes__lte=spec.max_duration)
    return qs


def _as_time(minutes: int) -> time:
    return time(minutes // 60, minutes % 60)


def _in_boxes(qs: QuerySet[Meeting], lat: float, lng: float, radius_km: float):
    in_box = Q()
    for min_lat, max_lat, min_lng, max_lng in geo.bounding_boxes(lat, lng, radius_km):
        in_box |= Q(latitude__range=(min_lat, max_lat), longitude__range=(min_lng, max_lng))
    return qs.filter(in_box)


def _place_filter(qs: QuerySet[Meeting], spec: SearchSpec) -> QuerySet[Meeting]:
    lat, lng = spec.centre
    radius_km = spec.radius_km
    if spec.auto_count is not None:
        radius_km = auto_radius_km(qs, lat, lng, spec.auto_count, spec.unit_km)
    qs = qs.annotate(distance_km=distance_expression(lat, lng))
    if radius_km is None:
        return qs  # a centre without a width: every match, with its distance
    return _in_boxes(qs, lat, lng, radius_km).filter(distance_km__lte=radius_km)


def auto_radius_km(qs: QuerySet[Meeting], lat: float, lng: float, n: int, unit_km: float) -> float:
    """The smallest step of BMLT's ladder holding at least n of qs, else the largest step.

    One query instead of BMLT's binary search of counts: the n-th nearest distance decides.
    """
    largest_km = AUTO_RADII[-1] * unit_km
    nearest = (
        _in_boxes(qs, lat, lng, largest_km)
        .annotate(distance_km=distance_expression(lat, lng))
        .filter(distance_km__lte=largest_km)
        .order_by("distance_km")
        .values_list("distance_km", flat=True)
    )
    nth = list(nearest[n - 1 : n])
    if not nth:
        return largest_km
    return next(r * unit_km for r in AUTO_RADII if nth[0] <= r * unit_km)


def _bmlt_day():
    return Mod(F("weekday") + Value(1), Value(7))  # 0 = Sunday, as BMLT sorts


def _ordered(qs: QuerySet[Meeting], spec: SearchSpec) -> QuerySet[Meeting]:
    ordering = []
    if spec.sort_by_distance and spec.centre:
        ordering.append(F("distance_km").asc(nulls_last=True))
        keys = DEFAULT_SORT
    else:
        keys = spec.sort_keys
    for key in keys:
        if key == "weekday_tinyint":
            ordering.append(_bmlt_day().asc())
        elif key == "venue_type":
            ordering.append(
                Case(
                    *[When(mode=mode, then=Value(v)) for mode, v in VENUE_OF_MODE.items()],
                    output_field=IntegerField(),
                ).asc()
            )
        elif key in ("distance_in_km", "distance_in_miles"):
            if spec.centre:
                ordering.append(F("distance_km").asc(nulls_last=True))
        elif key in SORT_COLUMNS:
            column = SORT_COLUMNS[key]
            if column in TEXT_SORT_COLUMNS:  # empty values last, as BMLT sorts
                ordering.append(Case(When(**{column: ""}, then=Value(1)), default=Value(0)).asc())
            ordering.append(F(column).asc(nulls_last=True))
    ordering.append(F("pk").asc())
    return qs.order_by(*ordering)


def _clock_text(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def _distance_text(value: float | None) -> str:
    """Rounded to the metre (or thousandth of a mile), printed as PHP prints a float."""
    if value is None:
        return ""
    text = f"{round(value, 3):.3f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _number_text(value: float | None) -> str:
    return "" if value is None else repr(float(value))


def meeting_row(meeting: Meeting, root_uri: str, fellowship_names: dict[int, str]) -> dict:
    formats = meeting_formats(meeting)
    keys = [f.key_string for f in formats if f.type_key in OPEN_CLOSED]
    keys += [f.key_string for f in formats if f.type_key not in OPEN_CLOSED]
    distance = getattr(meeting, "distance_km", None)
    comments = meeting.notes
    if meeting.frequency != schedule.WEEKLY:
        said = meeting.recurrence.describe(meeting.weekday)
        comments = f"{said[0].upper()}{said[1:]}. {comments}".strip()
    extra = [meeting.conference_url_notes, meeting.conference_phone_notes]
    return {
        "id_bigint": str(meeting.pk),
        "worldid_mixed": "",
        "shared_group_id_bigint": "",
        "service_body_bigint": str(meeting.fellowship_id),
        "service_body_name": fellowship_names.get(meeting.fellowship_id, ""),
        "weekday_tinyint": str(schedule.to_bmlt_weekday(meeting.weekday)),
        "venue_type": str(VENUE_OF_MODE.get(meeting.mode, "")),
        "start_time": meeting.start_time.strftime("%H:%M:%S"),
        "duration_time": _clock_text(meeting.duration_minutes),
        "time_zone": meeting.timezone,
        "formats": ",".join(dict.fromkeys(keys)),
        "lang_enum": lang_enum(meeting),
        "longitude": _number_text(meeting.longitude),
        "latitude": _number_text(meeting.latitude),
        "distance_in_km": _distance_text(distance),
        "distance_in_miles": _distance_text(None if distance is None else distance / MILE_KM),
        "email_contact": "",
        "published": "1",
        "root_server_uri": root_uri,
        "format_shared_id_list": ",".join(str(f.id) for f in formats),
        "meeting_name": meeting.name,
        "location_text": meeting.location_name,
        "location_info": meeting.location_notes,
        "location_street": meeting.street_address,
        "location_city_subsection": "",
        "location_neighborhood": "",
        "location_municipality": meeting.city,
        "location_sub_province": "",
        "location_province": meeting.region,
        "location_postal_code_1": meeting.postcode,
        "location_nation": meeting.country,
        "comments": comments,
        "virtual_meeting_link": meeting.conference_url,
        "phone_meeting_number": meeting.conference_phone,
        "virtual_meeting_additional_info": "\n".join(t for t in extra if t),
    }


def _fellowship_names() -> dict[int, str]:
    return dict(Fellowship.objects.values_list("pk", "name"))


def get_search_results(request: HttpRequest, params: QueryDict):
    spec = parse_search(params)
    qs = search_meetings(spec)
    if spec.page_size is not None:
        start = (spec.page_num - 1) * spec.page_size
        qs = qs[start : start + spec.page_size]
    root_uri = _root_uri(request)
    meetings = list(qs)
    names = _fellowship_names()
    rows = [meeting_row(m, root_uri, names) for m in meetings]
    if spec.field_keys is not None:
        wanted = set(spec.field_keys)
        rows = [{k: v for k, v in row.items() if k in wanted} for row in rows]
    if spec.used_formats or spec.formats_only:
        used = {f.id: f for m in meetings for f in meeting_formats(m)}
        formats = [used[i].as_dict(root_uri) for i in sorted(used)]
        if spec.formats_only:
            return {"formats": formats}
        return {"meetings": rows, "formats": formats}
    return rows


# --- the other switchers ------------------------------------------------------------


def get_formats(request: HttpRequest, params: QueryDict):
    for language in _values(params, "lang_enum"):
        if not _LANG.fullmatch(language):
            raise ParamError(
                "lang_enum", f"lang_enum must be a language code, got {language[:20]!r}"
            )
    # Names exist in English only: other languages get the English names, not nothing.
    include, exclude = _signed(_ints(params, "format_ids"), "format_ids")
    key_strings = set(_values(params, "key_strings"))
    root_uri = _root_uri(request)
    found = []
    for fmt in sorted(served_formats().values(), key=lambda f: f.id):
        if include and fmt.id not in include:
            continue
        if fmt.id in exclude:
            continue
        if key_strings and fmt.key_string not in key_strings:
            continue
        found.append(fmt.as_dict(root_uri))
    return found


def get_service_bodies(request: HttpRequest, params: QueryDict):
    include, exclude = [], []
    for value in _ints(params, "services"):
        (include if value >= 0 else exclude).append(abs(value))
    qs = Fellowship.objects.order_by("pk")
    if include:
        qs = qs.filter(pk__in=include)
    if exclude:
        qs = qs.exclude(pk__in=exclude)
    return [
        {
            "id": str(f.pk),
            "parent_id": "0",
            "name": f.name,
            "description": f.description or f.audience,
            "type": "WS",
            "url": f.website,
            "helpline": "",
            "world_id": "",
        }
        for f in qs
    ]


def get_field_keys(request: HttpRequest, params: QueryDict):
    return [{"key": key, "description": text} for key, text in FIELDS.items()]


def get_field_values(request: HttpRequest, params: QueryDict):
    key = _single(params, "meeting_key")
    if not key:
        raise ParamError(
            "meeting_key", "meeting_key is required, e.g. meeting_key=location_province"
        )
    if key not in FIELDS:
        raise ParamError("meeting_key", f"meeting_key: unknown field {key[:40]!r}")
    specific = set(_ints(params, "specific_formats")) if key == "formats" else set()
    every_format = _flag(params, "all_formats")
    root_uri = _root_uri(request)
    names = _fellowship_names()
    groups: dict[str, list[int]] = {}
    for meeting in _public_meetings().order_by("pk"):
        row = meeting_row(meeting, root_uri, names)
        if key == "formats":
            ids = [int(i) for i in row["format_shared_id_list"].split(",") if i]
            if specific:
                common = sorted(set(ids) & specific)
                if not common or (every_format and len(common) < len(specific)):
                    continue
                ids = common
            value = ",".join(str(i) for i in ids)
        else:
            value = row[key]
        groups.setdefault(value or "NULL", []).append(meeting.pk)
    return [{key: value, "ids": ",".join(map(str, ids))} for value, ids in groups.items()]


def get_server_info(request: HttpRequest, params: QueryDict):
    public = _public_meetings()
    centre = public.filter(latitude__isnull=False).aggregate(
        lat_min=Min("latitude"), lat_max=Max("latitude"), lng_min=Min("longitude"),
        lng_max=Max("longitude"),
    )  # fmt: skip
    lat = _midpoint(centre["lat_min"], centre["lat_max"])
    lng = _midpoint(centre["lng_min"], centre["lng_max"])
    regions = sorted(set(public.exclude(region="").values_list("region", flat=True)))
    major, minor, patch = (int(p) for p in SERVER_VERSION.split("."))
    return [
        {
            "version": SERVER_VERSION,
            "versionInt": str(major * 1_000_000 + minor * 1000 + patch),
            "langs": SERVER_LANGUAGE,
            "nativeLang": SERVER_LANGUAGE,
            "centerLongitude": lng,
            "centerLatitude": lat,
            "centerZoom": "6",
            "defaultDuration": "01:00",
            "regionBias": "",
            "charSet": "UTF-8",
            "distanceUnits": "km",
            "semanticAdmin": "0",
            "emailEnabled": "0",
            "emailIncludesServiceBodies": "0",
            "changesPerMeeting": "0",
            "meeting_states_and_provinces": ",".join(regions[:200]),
            "meeting_counties_and_sub_provinces": "",
            "available_keys": ",".join(FIELDS),
            "google_api_key": "",
            "dbVersion": "",
            "dbPrefix": "",
            "meeting_time_zones_enabled": "1",
            "auto_geocoding_enabled": False,
            "county_auto_geocoding_enabled": False,
            "zip_auto_geocoding_enabled": False,
            "commit": "",
            "default_closed_status": True,
            "aggregator_mode_enabled": False,
        }
    ]


def _midpoint(low: float | None, high: float | None) -> str:
    return "0" if low is None else _number_text(round((low + high) / 2, 6))


def get_coverage_area(request: HttpRequest, params: QueryDict):
    box = (
        _public_meetings()
        .filter(latitude__isnull=False)
        .aggregate(n=Max("latitude"), s=Min("latitude"), w=Min("longitude"), e=Max("longitude"))
    )
    return [
        {
            "nw_corner_longitude": _number_text(box["w"]),
            "nw_corner_latitude": _number_text(box["n"]),
            "se_corner_longitude": _number_text(box["e"]),
            "se_corner_latitude": _number_text(box["s"]),
        }
    ]


HANDLERS = {
    "GetSearchResults": get_search_results,
    "GetFormats": get_formats,
    "GetServiceBodies": get_service_bodies,
    "GetFieldKeys": get_field_keys,
    "GetFieldValues": get_field_values,
    "GetServerInfo": get_server_info,
    "GetCoverageArea": get_coverage_area,
}


# --- the view -----------------------------------------------------------------------


def _root_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri("/main_server").rstrip("/")


def _error(message: str, status: int = 400) -> HttpResponse:
    response = HttpResponse(
        json.dumps({"error": message}, ensure_ascii=False),
        status=status,
        content_type="application/json; charset=utf-8",
    )
    response["Access-Control-Allow-Origin"] = "*"
    return response


def client_interface(request: HttpRequest, fmt: str) -> HttpResponse:
    """/main_server/client_interface/<json|jsonp>/?switcher=..."""
    if request.method not in ("GET", "HEAD"):
        response = _error(f"{request.method} is not allowed; use GET", status=405)
        response["Allow"] = "GET, HEAD"
        return response
    if fmt not in DATA_FORMATS:
        return _error(f"data format {fmt[:20]!r} is not served here; use json or jsonp")
    params = request.GET
    for name, values in params.lists():
        if any("\x00" in v for v in values) or "\x00" in name:
            return _error(f"{name[:40]!r} contains a NUL character")
    callback = None
    if fmt == "jsonp":
        callback = (params.get("callback") or "callback").strip()
        if not _CALLBACK.fullmatch(callback):
            return _error("callback must be a JavaScript name such as jQuery123_456 or cb.done")
    switcher = (params.get("switcher") or "").strip()
    if not switcher:
        return _error(f"switcher is required: one of {', '.join(SWITCHERS)}")
    if switcher in UNSUPPORTED_SWITCHERS:
        return _error(f"switcher {switcher} is not supported by this server")
    if switcher not in HANDLERS:
        return _error(
            f"switcher: unknown value {switcher[:40]!r} (use one of {', '.join(SWITCHERS)})"
        )
    try:
        data = HANDLERS[switcher](request, params)
    except ParamError as exc:
        return _error(str(exc))
    if data == []:
        data = {}  # BMLT answers an empty list as {}
    body = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    if callback:
        response = HttpResponse(
            f"{callback}({body});", content_type="application/javascript; charset=utf-8"
        )
    else:
        response = HttpResponse(body, content_type="application/json; charset=utf-8")
    response["Access-Control-Allow-Origin"] = "*"
    return response


# Mounted by mutualaid/urls.py under main_server/, where BMLT clients look for a root server.
urlpatterns = [
    re_path(r"^client_interface/(?P<fmt>[^/]+)/?$", client_interface, name="bmlt-client-interface"),
]
