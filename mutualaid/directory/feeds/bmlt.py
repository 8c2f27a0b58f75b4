"""BMLT semantic JSON (GetSearchResults, with GetFormats) into MeetingRecords. Pure: no DB.

A BMLT root server answers GetSearchResults with a JSON array of meetings, or with
{"meetings": [...], "formats": [...]} when asked get_used_formats=1; GetFormats gives the
format table (a list, or {"formats": [...]} as some tools save it). Every value is a string.
What we make of a meeting:

- id_bigint -> source_ref (required, unique in the feed); slug "<name>-<id_bigint>".
- weekday_tinyint 1 = Sunday ... 7 = Saturday -> Python weekday; start_time "HH:MM[:SS]";
  duration_time "HH:MM[:SS]" (empty, 00:00 or over 24 h: 60 minutes, with a warning).
- published "0" -> rejected (a BMLT server hides those from anonymous clients anyway).
- Formats, resolved through the GetFormats table: by world_id to the canonical type; a
  format without a usable world_id by its name (our own served names round-trip), then
  by its key string (the stock BMLT keys: O, C, B/BEG, W, M, WC, ...). LANG formats (world_id
  or format_type_enum LANG) are languages. Unresolved formats are left out and reported as
  warnings (and counted in unknown_types).
- Languages: the LANG formats when there are any (a Berlin server sends lang_enum "de" for a
  meeting held in English, with the LANG format "en"); otherwise lang_enum.
- Mode: venue_type 1 in person, 2 online, 3 hybrid. Without a venue_type (servers before
  2.16), VM/HY formats or a link or phone say online/hybrid. TC (temporarily closed) makes
  an in-person meeting inactive; a virtual one stays online (its venue is closed, it meets
  online), as the Meeting Guide parser decides.
- virtual_meeting_link -> conference_url (http(s) only), phone_meeting_number ->
  conference_phone, virtual_meeting_additional_info -> the notes of whichever is present.
- Location: location_text, location_street, location_municipality (or city subsection /
  neighbourhood), location_province, location_postal_code_1, location_nation,
  location_info -> location_notes. Coordinates "0,0" and BMLT's stock map centre
  (34.235918, -118.563659: what a BMLT server stores for a meeting nobody placed) are
  dropped with a warning. approximate: no street address.
- time_zone: the meeting's own; else the default zone given for the feed; else the zone at
  its coordinates (lib/tzlookup); else the row is rejected.
- comments -> notes. service_body_bigint, worldid_mixed and contacts are not kept.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from datetime import time

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import slugify

from mutualaid.directory.feeds import (
    HYBRID,
    IN_PERSON,
    INACTIVE,
    ONLINE,
    FeedError,
    FeedWarning,
    MeetingRecord,
    ParseResult,
    Rejection,
    resolve_timezone,
)
from mutualaid.lib import schedule, vocabulary

DEFAULT_DURATION_MINUTES = 60
STOCK_MAP_CENTRE = (34.235918, -118.563659)
VENUE_MODES = {"1": IN_PERSON, "2": ONLINE, "3": HYBRID}
# Types that are attendance modes here, not types: they decide Meeting.mode.
MODE_TYPES = {"online", "hybrid"}
TEMPORARILY_CLOSED = "temporarily_closed"
# Key strings of BMLT's stock format table (and common local variants) for formats that
# come without a usable world_id. Matched exactly, then upper-cased.
STOCK_KEYS = {
    "O": "open",
    "C": "closed",
    "B": "newcomer",
    "BEG": "newcomer",
    "NEW": "newcomer",
    "W": "women",
    "M": "men",
    "GL": "lgbtq",
    "YP": "young_people",
    "WC": "wheelchair",
    "WCHR": "wheelchair",
    "SL": "sign_language",
    "ASL": "sign_language",
    "CW": "child_friendly",
    "NC": "no_children",
    "SM": "smoking",
    "NS": "non_smoking",
    "AG": "secular",
    "TC": TEMPORARILY_CLOSED,
    "D": "discussion",
    "SD": "speaker",
    "SO": "speaker",
    "SP": "speaker",
    "SPK": "speaker",
    "ST": "step_study",
    "TR": "tradition_study",
    "TW": "tradition_study",
    "BK": "literature",
    "LIT": "literature",
    "BT": "basic_text",
    "JT": "just_for_today",
    "JFT": "just_for_today",
    "IW": "it_works",
    "LC": "living_clean",
    "SG": "step_working_guide",
    "SWG": "step_working_guide",
    "SPAD": "spiritual_principle_a_day",
    "CP": "concepts",
    "CPT": "concepts",
    "QA": "question_and_answer",
    "AB": "question_and_answer",
    "TO": "topic",
    "RF": "rotating_format",
    "IP": "informational_pamphlet",
    "RA": "restricted_attendance",
    "ME": "meditation",
    "MED": "meditation",
    "CL": "candlelight",
    "CAN": "candlelight",
    "VM": "online",
    "HY": "hybrid",
    "HYBR": "hybrid",
}
# Language format keys seen on NA servers that are not language codes.
LANGUAGE_KEYS = {"ES": "es", "ESP": "es", "SPA": "es", "ENG": "en", "FIN": "fi", "PER": "fa"}
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_validate_url = URLValidator(schemes=["http", "https"])


class _Reject(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_bmlt(
    data: bytes | str | list | dict,
    formats: bytes | str | list | dict | None = None,
    *,
    default_timezone: str | None = None,
) -> ParseResult:
    """Parse GetSearchResults (array or {meetings, formats}) with an optional GetFormats.

    Raises FeedError only when the whole feed is unusable.
    """
    loaded = _load(data, "GetSearchResults")
    table: list = []
    if loaded == {}:
        loaded = []  # BMLT answers an empty search with {}
    if isinstance(loaded, dict):
        if not isinstance(loaded.get("meetings"), list | dict):
            raise FeedError("expected a JSON array of meetings or {meetings, formats}")
        table += _format_list(loaded.get("formats", []), "formats")
        rows = loaded["meetings"] or []  # BMLT answers an empty search with {}
        if isinstance(rows, dict):
            rows = []
    elif isinstance(loaded, list):
        rows = loaded
    else:
        raise FeedError(f"expected a JSON array of meetings, got {_json_kind(loaded)}")
    if formats is not None:
        table += _format_list(_load(formats, "GetFormats"), "GetFormats")
    if default_timezone:
        try:
            schedule.zone(default_timezone)
        except ValueError as exc:
            raise FeedError(str(exc)) from None
    resolver = FormatResolver(table)

    result = ParseResult(rows=len(rows))
    first_row: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        ident = _text(row.get("id_bigint")) if isinstance(row, dict) else ""
        warnings: list[FeedWarning] = []
        unknown: Counter = Counter()
        try:
            record = _parse_row(number, ident, row, resolver, default_timezone, warnings, unknown)
            if ident in first_row:
                raise _Reject(
                    "id_bigint", f"duplicate id_bigint {ident} (first in row {first_row[ident]})"
                )
        except _Reject as exc:
            result.rejected.append(Rejection(number, ident, exc.field, exc.reason))
            continue
        first_row[ident] = number
        result.records.append(record)
        result.warnings.extend(warnings)
        result.unknown_types.update(unknown)
    return result


def _load(data, what: str):
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedError(f"{what}: not UTF-8 text (byte {exc.start})") from None
    if isinstance(data, str):
        try:
            return json.loads(data)
        except json.JSONDecodeError as exc:
            raise FeedError(
                f"{what}: not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    return data


def _format_list(value, what: str) -> list:
    if isinstance(value, dict):
        value = value.get("formats", []) if "formats" in value else []
    if not isinstance(value, list):
        raise FeedError(f"{what}: expected a list of formats, got {_json_kind(value)}")
    return [f for f in value if isinstance(f, dict)]


def _json_kind(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


# --- formats ------------------------------------------------------------------------


class FormatResolver:
    """Format keys (and shared ids) of one server -> canonical types and languages."""

    def __init__(self, table: list[dict]):
        self.by_key: dict[str, dict] = {}
        self.by_id: dict[str, dict] = {}
        for fmt in table:
            key = _text(fmt.get("key_string"))
            if key:
                self.by_key.setdefault(key, fmt)
            ident = _text(fmt.get("id"))
            if ident:
                self.by_id.setdefault(ident, fmt)
        types = vocabulary.meeting_types()
        self._labels = {}
        for t in types.values():
            self._labels.setdefault(t.label.lower(), t.key)
            self._labels.setdefault(t.label.split(":")[0].strip().lower(), t.key)
        self._our_keys = {t.bmlt_key: t.key for t in types.values() if t.bmlt_key}
        self._languages = {}
        for lang in vocabulary.languages().values():
            self._languages[lang.code] = lang.code
            if lang.bmlt_key:
                self._languages[lang.bmlt_key.lower()] = lang.code
        self._language_names = {
            lang.name.lower(): lang.code for lang in vocabulary.languages().values()
        }

    def resolve(self, key: str) -> tuple[str, str] | None:
        """("type", key) or ("language", code) for a meeting's format key, or None."""
        fmt = self.by_key.get(key)
        if fmt is None:
            return self._from_key(key)
        return self.resolve_format(fmt)

    def resolve_format(self, fmt: dict) -> tuple[str, str] | None:
        key = _text(fmt.get("key_string"))
        world = _text(fmt.get("world_id")).upper()
        name = _text(fmt.get("name_string"))
        if world == "LANG" or _text(fmt.get("format_type_enum")).upper() == "LANG":
            code = self._language(key, name)
            return ("language", code) if code else None
        if world:
            found = vocabulary.type_from_bmlt_world_id(world)
            if found:
                return ("type", found.key)
        if name.lower() in self._labels:
            return ("type", self._labels[name.lower()])
        return self._from_key(key)

    def _from_key(self, key: str) -> tuple[str, str] | None:
        if key in self._our_keys:
            return ("type", self._our_keys[key])
        found = STOCK_KEYS.get(key) or STOCK_KEYS.get(key.upper())
        return ("type", found) if found else None

    def _language(self, key: str, name: str) -> str | None:
        code = self._languages.get(key.lower()) or LANGUAGE_KEYS.get(key.upper())
        if code:
            return code
        words = name.lower().split()
        return self._language_names.get(words[0]) if words else None

    def language_code(self, text: str) -> str | None:
        return self._languages.get(text.lower())

    def describe(self, key: str) -> str:
        fmt = self.by_key.get(key)
        name = _text(fmt.get("name_string")) if fmt else ""
        return f"{key} ({name})" if name else key


# --- rows ---------------------------------------------------------------------------


def _parse_row(number, ident, row, resolver, default_timezone, warnings, unknown) -> MeetingRecord:
    def warn(field: str, message: str) -> None:
        warnings.append(FeedWarning(number, ident, field, message))

    if not isinstance(row, dict):
        raise _Reject("row", f"expected a meeting object, got {_json_kind(row)}")
    if not ident:
        raise _Reject("id_bigint", "missing id_bigint")
    name = _text(row.get("meeting_name"))
    if not name:
        raise _Reject("meeting_name", "missing meeting_name")
    if _text(row.get("published")) == "0":
        raise _Reject("published", "not published")
    weekday = _weekday(row.get("weekday_tinyint"))
    start = _start(row.get("start_time"))
    duration = _duration(row.get("duration_time"), warn)

    types: list[str] = []
    languages: list[str] = []
    for key in _format_keys(row):
        found = resolver.resolve(key)
        if found is None:
            unknown[key] += 1
            warn("formats", f"unknown format {resolver.describe(key)}: left out")
        elif found[0] == "language":
            languages.append(found[1])
        else:
            types.append(found[1])
    if not languages:
        spoken = _text(row.get("lang_enum")).lower()
        code = resolver.language_code(spoken)
        if code:
            languages.append(code)
        elif spoken:
            warn("lang_enum", f"unknown language {spoken!r}: left out")

    latitude, longitude = _coordinates(row, warn)
    zone = _timezone(row.get("time_zone"), default_timezone, latitude, longitude)

    link = _text(row.get("virtual_meeting_link"))
    if link and not _is_web_url(link):
        warn("virtual_meeting_link", f"dropped {link!r}: not an http(s) URL")
        link = ""
    phone = _text(row.get("phone_meeting_number"))
    if phone and not any(c.isdigit() for c in phone):
        warn("phone_meeting_number", f"dropped {phone!r}: no digits")
        phone = ""
    extra = _text(row.get("virtual_meeting_additional_info"))
    mode = _mode(_text(row.get("venue_type")), set(types), bool(link or phone), warn)

    street = _text(row.get("location_street"))
    city = (
        _text(row.get("location_municipality"))
        or _text(row.get("location_city_subsection"))
        or _text(row.get("location_neighborhood"))
    )
    region = _text(row.get("location_province"))
    postcode = _text(row.get("location_postal_code_1"))
    country = _text(row.get("location_nation"))
    region_postcode = " ".join(p for p in (region, postcode) if p)
    formatted = ", ".join(p for p in (street, city, region_postcode, country) if p)

    return MeetingRecord(
        row=number,
        source_ref=ident,
        slug=(slugify(f"{name} {ident}")[:200] or f"meeting-{ident}"),
        name=name,
        timezone=zone,
        weekday=weekday,
        start_time=start,
        duration_minutes=duration,
        mode=mode,
        location_name=_text(row.get("location_text")),
        street_address=street,
        city=city,
        region=region,
        postcode=postcode,
        country=country,
        formatted_address=formatted if street else "",
        latitude=latitude,
        longitude=longitude,
        approximate=not street,
        location_notes=_text(row.get("location_info")),
        conference_url=link,
        conference_url_notes=extra if link else "",
        conference_phone=phone,
        conference_phone_notes=extra if phone and not link else "",
        types=tuple(dict.fromkeys(t for t in types if t not in MODE_TYPES)),
        languages=tuple(dict.fromkeys(languages)),
        notes=_text(row.get("comments")),
    )


def _text(value) -> str:
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return str(value).strip()


def _format_keys(row: dict) -> list[str]:
    keys = [k.strip() for k in _text(row.get("formats")).split(",")]
    return list(dict.fromkeys(k for k in keys if k))


def _weekday(value) -> int:
    text = _text(value)
    if not text.isdigit() or not 1 <= int(text) <= 7:
        raise _Reject("weekday_tinyint", f"weekday_tinyint {text!r} is not 1-7 (1 = Sunday)")
    return schedule.from_bmlt_weekday(int(text))


def _clock_minutes(text: str) -> int | None:
    match = _CLOCK.fullmatch(text)
    if not match:
        return None
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if minute > 59 or second > 59:
        return None
    return hour * 60 + minute


def _start(value) -> time:
    text = _text(value)
    minutes = _clock_minutes(text)
    if minutes is None or minutes > 24 * 60:
        raise _Reject("start_time", f"start_time {text!r} is not HH:MM:SS")
    if minutes == 24 * 60:
        return time(23, 59)  # "24:00:00": the end of the day, as schedule.parse_hhmm reads it
    return time(minutes // 60, minutes % 60)


def _duration(value, warn) -> int:
    text = _text(value)
    if not text:
        return DEFAULT_DURATION_MINUTES
    minutes = _clock_minutes(text)
    if minutes is None or not 0 < minutes <= 24 * 60:
        warn("duration_time", f"duration_time {text!r} unusable: {DEFAULT_DURATION_MINUTES} min")
        return DEFAULT_DURATION_MINUTES
    return minutes


def _coordinates(row: dict, warn) -> tuple[float | None, float | None]:
    lat_text, lng_text = _text(row.get("latitude")), _text(row.get("longitude"))
    if not lat_text and not lng_text:
        return None, None
    try:
        latitude, longitude = float(lat_text), float(lng_text)
    except ValueError:
        raise _Reject(
            "latitude", f"coordinates {lat_text!r}, {lng_text!r} are not numbers"
        ) from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise _Reject("latitude", f"coordinates {lat_text!r}, {lng_text!r} are not numbers")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _Reject("latitude", f"coordinates {latitude}, {longitude} are out of range")
    if latitude == 0 and longitude == 0:
        warn("latitude", "dropped coordinates 0,0 (a placeholder, not a place)")
        return None, None
    if (latitude, longitude) == STOCK_MAP_CENTRE:
        warn("latitude", "dropped BMLT's stock map centre (a placeholder, not a place)")
        return None, None
    return latitude, longitude


def _timezone(value, default_timezone, latitude, longitude) -> str:
    try:
        return resolve_timezone(_text(value), default_timezone, latitude, longitude)
    except ValueError as exc:
        message = str(exc)
        if message.endswith("default time zone"):
            message += ""
        raise _Reject("time_zone", message) from None


def _is_web_url(text: str) -> bool:
    try:
        _validate_url(text)
    except ValidationError:
        return False
    return True


def _mode(venue: str, types: set[str], has_online: bool, warn) -> str:
    closed = TEMPORARILY_CLOSED in types
    mode = VENUE_MODES.get(venue)
    if venue and mode is None:
        warn("venue_type", f"unknown venue_type {venue!r}: inferred instead")
    if mode is None:
        if "hybrid" in types:
            mode = HYBRID
        elif "online" in types or has_online:
            mode = ONLINE
        else:
            mode = IN_PERSON
    if closed:
        return ONLINE if mode in (ONLINE, HYBRID) else INACTIVE
    return mode
