"""Meeting Guide JSON (Code for Recovery spec v1.1.9, as TSML and tsml-ui emit it).

A feed is a JSON array of meeting objects. What real feeds send, and what we make of it:

- day: 0 = Sunday ... 6 = Saturday, as an int, a string ("1") or an array ([1], Edmonton).
  A missing day or time means "by appointment" (weekday and start_time None). An array
  of several days becomes one record per day; each of them gets "-<Meeting Guide day>"
  appended to its slug ("x-1", "x-3"), as tsml-ui does, so a record keeps its identity
  when the days are reordered or one is added. A one-day array is the same as a plain
  day and keeps the plain slug.
- time / end_time: "19:30", "7:30", "19:30:00" or "7:30 PM". Duration is end minus start,
  past midnight if need be; 60 minutes when there is no (usable) end.
- timezone: the row's own; else the default given for the feed (TSML publishes times in
  the site's zone, and online meetings often carry the group's far-away coordinates, so
  the feed's zone beats coordinates); else the zone at the coordinates; else the row is
  rejected.
- mode: TSML's attendance_option when present. Otherwise inferred as tsml-ui does: online
  when there is a conference URL or phone (or the ONL code); in person unless the
  location is temporarily closed (TC) or only approximate; both -> hybrid; neither ->
  inactive. A meeting with only a dial-in phone number is online, never dropped.
- approximate: "yes"/"no"/true/false; when absent, a row with a street address is exact
  and a formatted_address of fewer than four comma-separated parts ("Philadelphia, PA,
  USA") is approximate, as in tsml-ui.
"""

from __future__ import annotations

import functools
import hashlib
import json
import marshal
import math
import re
from collections import Counter
from datetime import UTC, datetime, time
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.utils.text import slugify

from mutualaid.directory.feeds import (
    HYBRID,
    IN_PERSON,
    INACTIVE,
    MODES,
    ONLINE,
    FeedError,
    FeedWarning,
    KnownRows,
    MeetingRecord,
    ParseResult,
    Rejection,
    UnchangedRow,
    resolve_timezone,
)
from mutualaid.lib import schedule, vocabulary

DEFAULT_DURATION_MINUTES = 60
ONLINE_CODE = "ONL"
TEMPORARILY_CLOSED_CODE = "TC"
_TIME = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*(?:([AaPp])\.?\s*[Mm]\.?)?")
# "street, city, ST 12345, country": the North American shape Google geocoding gives.
_REGION_POSTCODE = re.compile(r"([A-Z]{2})\s+(\d{5}(?:-\d{4})?|[A-Z]\d[A-Z]\s?\d[A-Z]\d)")
_UPDATED_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")
# Edmonton sends "8/25/2022 11:17:07 AM", San Jose "8/28/2021".
_US_UPDATED_FORMATS = ("%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y")
# The zero-padded forms of _UPDATED_FORMATS, which datetime.fromisoformat reads the same
# as strptime does, 40x faster (strptime also takes "2024-1-5 9:00:00": it still does).
_ISO_UPDATED = re.compile(r"\d{4}-\d{2}-\d{2}(?: \d{2}:\d{2}(?::\d{2})?|T\d{2}:\d{2}:\d{2})?")
# A slug that slugify() returns as it is: lower-case ASCII letters and digits in runs
# joined by single hyphens or underscores.
_PLAIN_SLUG = re.compile(r"[a-z0-9]+(?:[-_][a-z0-9]+)*")
_validate_url = URLValidator(schemes=["http", "https"])


class _Reject(Exception):
    def __init__(self, field: str, reason: str):
        super().__init__(reason)
        self.field = field
        self.reason = reason


def parse_meeting_guide(
    data: bytes | str | list,
    *,
    default_timezone: str | None = None,
    known: KnownRows | None = None,
) -> ParseResult:
    """Parse a Meeting Guide feed. Raises FeedError only when the whole feed is unusable.

    With known (importing.known_rows(source, ...)), each row gets a digest; a row whose
    digest the source's meetings already hold is not parsed but listed in
    result.unchanged_rows (the importer checks those meetings, and parses the row after
    all if they changed); other rows that parse without a warning carry the digest in
    their records, for the importer to store.
    """
    rows = _load_rows(data)
    if default_timezone:
        try:
            schedule.zone(default_timezone)
        except ValueError as exc:
            raise FeedError(str(exc)) from None
    result = ParseResult(rows=len(rows))
    first_row_of_ref: dict[str, int] = {}
    if known is not None and not known.context:  # no fellowship choices known: no digests
        known = None
    salt = _digest_salt(known.context, default_timezone) if known is not None else b""
    for number, row in enumerate(rows, start=1):
        ident = _row_id(row)
        digest = ""
        if known is not None:
            # marshal format 2 (no back-references): the same bytes for the same JSON
            # values in the same order, and different bytes for different ones.
            digest = hashlib.blake2b(salt + marshal.dumps(row, 2), digest_size=12).hexdigest()
            refs = known.refs.get(digest)
            if refs and not any(ref in first_row_of_ref for ref in refs):
                for ref in refs:
                    first_row_of_ref[ref] = number
                parse = functools.partial(_parse_again, number, ident, row, default_timezone)
                result.unchanged_rows.append(
                    UnchangedRow(number, digest, refs, known.context, parse)
                )
                continue
        warnings: list[FeedWarning] = []
        unknown: Counter = Counter()
        try:
            records = _parse_row(number, ident, row, default_timezone, warnings, unknown)
            for record in records:
                if record.source_ref in first_row_of_ref:
                    first = first_row_of_ref[record.source_ref]
                    raise _Reject(
                        "slug", f"duplicate slug {record.source_ref!r} (first in row {first})"
                    )
        except _Reject as exc:
            result.rejected.append(Rejection(number, ident, exc.field, exc.reason))
            continue
        for record in records:
            first_row_of_ref[record.source_ref] = number
        if digest and not warnings and not unknown:
            # Meeting.content_hash: row digest (24 hex), context (8 hex), meetings made
            stored = f"{digest}{known.context}-{len(records)}"
            for record in records:
                object.__setattr__(record, "digest", stored)  # frozen; made just above
        result.records.extend(records)
        result.warnings.extend(warnings)
        result.unknown_types.update(unknown)
    return result


@functools.cache
def _code_digest() -> bytes:
    """Changes when the code or data that turn a row into records change: this parser,
    the shared feed helpers, the type and language vocabulary, the time zone data."""
    import mutualaid.directory.feeds as feeds_package
    from mutualaid.lib import tzlookup

    digest = hashlib.blake2b(digest_size=16)
    files = [Path(__file__), Path(feeds_package.__file__), Path(vocabulary.__file__)]
    files += [Path(schedule.__file__), Path(tzlookup.__file__)]
    files += sorted((Path(vocabulary.__file__).parent / "data").glob("*.json"))
    for path in files:
        digest.update(path.read_bytes())
    return digest.digest()


def _digest_salt(context: str, default_timezone: str | None) -> bytes:
    return b"\0".join([_code_digest(), context.encode(), (default_timezone or "").encode(), b""])


def _parse_again(number, ident, row, default_timezone) -> list[MeetingRecord]:
    """A skipped row's records after all (it parsed without warnings before)."""
    return _parse_row(number, ident, row, default_timezone, [], Counter())


def _load_rows(data: bytes | str | list) -> list:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise FeedError(f"not UTF-8 text (byte {exc.start})") from None
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError as exc:
            raise FeedError(
                f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
            ) from None
    if not isinstance(data, list):
        raise FeedError(f"expected a JSON array of meetings, got {_json_kind(data)}")
    return data


def _json_kind(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return f"a {type(value).__name__}"


def _row_id(row) -> str:
    if not isinstance(row, dict):
        return ""
    return _text(row.get("slug")) or _text(row.get("id"))


def _parse_row(number, ident, row, default_timezone, warnings, unknown) -> list[MeetingRecord]:
    def warn(field: str, message: str) -> None:
        warnings.append(FeedWarning(number, ident, field, message))

    if not isinstance(row, dict):
        raise _Reject("row", f"expected a meeting object, got {_json_kind(row)}")
    name = _text(row.get("name"))
    if not name:
        raise _Reject("name", "missing name")
    if not ident:
        raise _Reject("slug", "missing slug (and no id)")

    days = _days(row.get("day"))
    start_minutes = _minutes(row.get("time"), "time")
    if start_minutes == 1440:
        raise _Reject("time", f"time {_text(row.get('time'))!r} is not a time of day")
    start = None
    duration = DEFAULT_DURATION_MINUTES
    if days and start_minutes is not None:
        start = time(start_minutes // 60, start_minutes % 60)
        duration = _duration(start_minutes, row.get("end_time"), warn)
    elif days:
        warn("time", "a day but no time: listed as by appointment")
        days = []
    elif start_minutes is not None:
        warn("time", "a time but no day: listed as by appointment")

    latitude, longitude = _coordinates(row.get("latitude"), row.get("longitude"), warn)
    zone = _timezone(row.get("timezone"), default_timezone, latitude, longitude)

    conference_url = _text(row.get("conference_url"))
    if conference_url and not _is_web_url(conference_url):
        warn("conference_url", f"dropped {conference_url!r}: not an http(s) URL")
        conference_url = ""
    conference_phone = _text(row.get("conference_phone"))
    if conference_phone and not any(c.isdigit() for c in conference_phone):
        warn("conference_phone", f"dropped {conference_phone!r}: no digits")
        conference_phone = ""

    codes = _codes(row.get("types"))
    types, languages = [], []
    for code in codes:
        if code == ONLINE_CODE:
            continue
        if found := vocabulary.type_from_meeting_guide(code):
            types.append(found.key)
        elif language := vocabulary.language_from_meeting_guide(code):
            languages.append(language.code)
        else:
            unknown[code] += 1

    address = _address(row)
    approximate = _approximate(row.get("approximate"), address, warn)
    mode = _mode(row.get("attendance_option"), warn) or _infer_mode(
        online=bool(conference_url or conference_phone or ONLINE_CODE in codes),
        temporarily_closed=TEMPORARILY_CLOSED_CODE in codes,
        approximate=approximate,
    )

    fields = dict(
        name=name,
        timezone=zone,
        group_name=_text(row.get("group")),
        start_time=start,
        duration_minutes=duration,
        mode=mode,
        location_name=_text(row.get("location")),
        latitude=latitude,
        longitude=longitude,
        approximate=approximate,
        location_notes=_text(row.get("location_notes")),
        conference_url=conference_url,
        conference_url_notes=_text(row.get("conference_url_notes")) if conference_url else "",
        conference_phone=conference_phone,
        conference_phone_notes=_text(row.get("conference_phone_notes")) if conference_phone else "",
        types=tuple(dict.fromkeys(types)),
        languages=tuple(dict.fromkeys(languages)),
        notes=_text(row.get("notes")),
        feed_updated_at=_updated(row.get("updated"), warn),
        fellowship=_text(row.get("fellowship")),
        **address,
    )
    if len(days) <= 1:
        weekday = schedule.from_meeting_guide_day(days[0]) if days else None
        return [
            MeetingRecord(
                row=number, source_ref=ident, slug=_slug(ident), weekday=weekday, **fields
            )
        ]
    return [
        MeetingRecord(
            row=number,
            source_ref=f"{ident}-{day}",
            slug=_slug(f"{ident}-{day}"),
            weekday=schedule.from_meeting_guide_day(day),
            **fields,
        )
        for day in days
    ]


# --- values -------------------------------------------------------------------------


def _text(value) -> str:
    """A feed value as stripped text: None -> "", numbers -> their digits."""
    if type(value) is str:  # nearly every value: the quick way first
        return value.strip()
    if value is None or isinstance(value, bool | list | dict):
        return ""
    return str(value).strip()


def _slug(ref: str) -> str:
    if _PLAIN_SLUG.fullmatch(ref):  # what slugify would return unchanged, without its work
        return ref[:200]
    return slugify(ref)[:200] or "meeting"


def _days(value) -> list[int]:
    """Meeting Guide days (0 = Sunday), without repeats; [] means by appointment."""
    values = value if isinstance(value, list) else [value]
    days = []
    for item in values:
        if item is None or (isinstance(item, str) and not item.strip()):
            continue
        day = _day_number(item)
        if day not in days:
            days.append(day)
    return days


def _day_number(item) -> int:
    if isinstance(item, bool):
        raise _Reject("day", f"day {item!r} is not 0-6 (0 = Sunday)")
    if isinstance(item, float) and item.is_integer():
        item = int(item)
    if isinstance(item, str) and item.strip().isdigit():
        item = int(item.strip())
    if isinstance(item, int) and 0 <= item <= 6:
        return item
    raise _Reject("day", f"day {item!r} is not 0-6 (0 = Sunday)")


def _minutes(value, field: str) -> int | None:
    """Minutes after midnight for "19:30", "7:30", "19:30:00" or "7:30 PM"; 24:00 -> 1440."""
    text = _text(value)
    if not text:
        return None
    match = _TIME.fullmatch(text)
    if not match:
        raise _Reject(field, f"{field} {text!r} is not HH:MM")
    hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
    if match[4]:
        if not 1 <= hour <= 12:
            raise _Reject(field, f"{field} {text!r} is not a valid 12-hour time")
        hour = hour % 12 + (12 if match[4].lower() == "p" else 0)
    if (hour, minute, second) == (24, 0, 0):
        return 1440
    if hour > 23 or minute > 59 or second > 59:
        raise _Reject(field, f"{field} {text!r} is not a valid time of day")
    return hour * 60 + minute


def _duration(start_minutes: int, end_value, warn) -> int:
    try:
        end_minutes = _minutes(end_value, "end_time")
    except _Reject as exc:
        warn("end_time", f"{exc.reason}: using {DEFAULT_DURATION_MINUTES} minutes")
        return DEFAULT_DURATION_MINUTES
    if end_minutes is None:
        return DEFAULT_DURATION_MINUTES
    duration = (end_minutes - start_minutes) % 1440  # an end before the start is past midnight
    if duration == 0:
        warn("end_time", f"ends when it starts: using {DEFAULT_DURATION_MINUTES} minutes")
        return DEFAULT_DURATION_MINUTES
    return duration


def _coordinates(lat_value, lng_value, warn) -> tuple[float | None, float | None]:
    latitude = _number(lat_value, "latitude")
    longitude = _number(lng_value, "longitude")
    if latitude is None and longitude is None:
        return None, None
    if latitude is None or longitude is None:
        # Seen in a real feed (SF/Marin): a meeting with an address but half a point.
        warn("latitude", "dropped a latitude or longitude given without the other")
        return None, None
    if not -90 <= latitude <= 90:
        raise _Reject("latitude", f"latitude {latitude} is out of range (-90..90)")
    if not -180 <= longitude <= 180:
        raise _Reject("latitude", f"longitude {longitude} is out of range (-180..180)")
    if latitude == 0 and longitude == 0:
        warn("latitude", "dropped coordinates 0,0 (a placeholder, not a place)")
        return None, None
    return latitude, longitude


def _number(value, field: str) -> float | None:
    if value is None or isinstance(value, str) and not value.strip():
        return None
    if isinstance(value, bool):
        raise _Reject("latitude", f"{field} {value!r} is not a number")
    try:
        number = float(value.strip() if isinstance(value, str) else value)
    except (TypeError, ValueError):
        raise _Reject("latitude", f"{field} {value!r} is not a number") from None
    if not math.isfinite(number):
        raise _Reject("latitude", f"{field} {value!r} is not a number")
    return number


def _timezone(value, default_timezone, latitude, longitude) -> str:
    try:
        return resolve_timezone(_text(value), default_timezone, latitude, longitude)
    except ValueError as exc:
        message = str(exc)
        if message.endswith("default time zone"):
            message += " for the feed"
        raise _Reject("timezone", message) from None


def _is_web_url(text: str) -> bool:
    try:
        _validate_url(text)
    except ValidationError:
        return False
    return True


def _codes(value) -> list[str]:
    if isinstance(value, str):
        value = value.split(",")
    if not isinstance(value, list):
        return []
    codes = []
    for item in value:
        code = _text(item).upper()
        if code and code not in codes:
            codes.append(code)
    return codes


def _address(row: dict) -> dict:
    """Location fields; a North American formatted_address fills the parts the row lacks."""
    street = _text(row.get("address"))
    formatted = _text(row.get("formatted_address"))
    parts = {
        "street_address": street,
        "city": _text(row.get("city")),
        "region": _text(row.get("state")),
        "postcode": _text(row.get("postal_code")),
        "country": _text(row.get("country")),
    }
    pieces = [p.strip() for p in formatted.split(",")]
    if not formatted and street.count(",") >= 2:
        # Edmonton puts the whole one-line address in "address": "8318 104 St, Edmonton,
        # Alberta, T6E 4E8, Canada", or just "Edmonton, Alberta, Canada" for online groups.
        formatted = street
        pieces = [p.strip() for p in formatted.split(",")]
        parts["street_address"] = pieces[0] if len(pieces) >= 4 else ""
    if len(pieces) >= 4 and (match := _REGION_POSTCODE.fullmatch(pieces[-2])):
        found = {
            "street_address": ", ".join(pieces[:-3]),
            "city": pieces[-3],
            "region": match[1],
            "postcode": match[2],
            "country": pieces[-1],
        }
        parts = {key: parts[key] or found[key] for key in parts}
    return {**parts, "formatted_address": formatted}


def _approximate(value, address: dict, warn) -> bool:
    if isinstance(value, bool):
        return value
    text = _text(value).lower()
    if text in ("yes", "true", "1"):
        return True
    if text in ("no", "false", "0"):
        return False
    if text:
        warn("approximate", f"{value!r} is not yes or no: judged from the address")
    if address["street_address"]:
        return False
    if address["formatted_address"]:
        return len(address["formatted_address"].split(",")) < 4
    return True


def _mode(value, warn) -> str | None:
    text = _text(value).lower()
    if text in MODES:
        return text
    if text:
        warn("attendance_option", f"unknown attendance_option {text!r}: inferred instead")
    return None


def _infer_mode(*, online: bool, temporarily_closed: bool, approximate: bool) -> str:
    in_person = not temporarily_closed and not approximate
    if online and in_person:
        return HYBRID
    if online:
        return ONLINE
    return IN_PERSON if in_person else INACTIVE


def _updated(value, warn) -> datetime | None:
    """The row's "updated", which the spec gives in UTC as "YYYY-MM-DD HH:MM:SS"."""
    text = _text(value)
    if not text:
        return None
    if _ISO_UPDATED.fullmatch(text):
        try:
            return datetime.fromisoformat(text).replace(tzinfo=UTC)
        except ValueError:  # e.g. month 13: strptime below rejects it too, and says so
            pass
    for layout in (*_UPDATED_FORMATS, *_US_UPDATED_FORMATS):
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    warn("updated", f"ignored updated {text!r}: not YYYY-MM-DD HH:MM:SS")
    return None


# --- rendering ----------------------------------------------------------------------
#
# The directory's own Meeting Guide feed (served at /feeds/meeting-guide.json, written by
# `mutualaid export`). What it says, and why:
#
# - One object per listed meeting, keyed by our slug. Slugs longer than the spec's 64
#   characters are shortened to 55 characters plus 8 hex digits of a hash of the full
#   slug: stable across renders, and unique in practice.
# - day 0 = Sunday; time and end_time "HH:MM" in the meeting's own timezone. A meeting
#   "by appointment" has neither day nor time. end_time is left out when the meeting lasts
#   a whole number of days (the format only has a clock time for the end).
# - types: the vocabulary's Meeting Guide codes, then the language codes. No "ONL": it is
#   not a spec code; consumers infer online from conference_url / conference_phone, and
#   TSML's attendance_option says it outright. A temporarily closed meeting (mode
#   inactive) always carries TC, which is how tsml-ui and the Meeting Guide app know.
# - Address: street_address, city, region, postcode, country go out as address, city,
#   state, postal_code, country (our region is a state, province or nation; the spec's
#   `region` is a neighbourhood for tsml-ui's filter, which falls back to city without it),
#   and formatted_address only when we hold one (consumers compose it from the parts).
# - approximate: "yes" for an online-only meeting whatever its stored address says,
#   because consumers read a non-approximate address as "held in person here".
# - attendance_option (TSML's extension): in_person | online | hybrid | inactive.
# - Fortnightly and monthly meetings are listed on their weekday (the spec knows weekly
#   meetings only) with the schedule in words opening `notes`, plus two non-standard
#   fields: `rrule` (RFC 5545 RRULE, e.g. FREQ=MONTHLY;BYDAY=1MO) and, for fortnightly
#   meetings, `dtstart` (YYYY-MM-DD, a date it is held on).
# - conference_phone: spaces, dots, dashes, slashes and brackets removed when what is left
#   is dialable (+, digits, ",", "*", "#"), as the spec asks; otherwise sent as stored.
# - updated: the source feed's own stamp when it gave one, else when the listing last
#   changed here; UTC "YYYY-MM-DD HH:MM:SS".
# - fellowship: the fellowship code (non-standard; this parser reads it back).
# - Empty values are left out, never sent as "" or null.

FEED_SLUG_MAX = 64
# The values render_meeting_guide reads from each row: Meeting field names, as
# Meeting.objects.values(*RENDER_FIELDS) gives them (fellowship__code through the FK),
# except `updated`: the listing's stamp (feed_updated_at, else updated_at), either a
# datetime or already the spec's UTC text (feeds_views has the database make the text,
# which saves parsing 100k datetimes). start_minute is Meeting's derived minute of the day.
RENDER_FIELDS = (
    "slug",
    "name",
    "group_name",
    "weekday",
    "start_minute",
    "duration_minutes",
    "timezone",
    "frequency",
    "month_week",
    "series_anchor",
    "mode",
    "location_name",
    "street_address",
    "city",
    "region",
    "postcode",
    "country",
    "formatted_address",
    "latitude",
    "longitude",
    "approximate",
    "location_notes",
    "conference_url",
    "conference_url_notes",
    "conference_phone",
    "conference_phone_notes",
    "type_codes",
    "language_codes",
    "notes",
    "updated",
    "fellowship__code",
)
_TEXT_FIELDS = (  # (feed key, Meeting field), sent when not empty
    ("location", "location_name"),
    ("location_notes", "location_notes"),
    ("formatted_address", "formatted_address"),
    ("address", "street_address"),
    ("city", "city"),
    ("state", "region"),
    ("postal_code", "postcode"),
    ("country", "country"),
    ("group", "group_name"),
)
_CLOCK = tuple(f"{m // 60:02d}:{m % 60:02d}" for m in range(1440))
_PHONE_VISUAL = re.compile(r"[\s.()/\-]+")
_PHONE_DIALABLE = re.compile(r"\+?[0-9][0-9,*#]*")
_CHUNK = 1000


def feed_slug(slug: str) -> str:
    """The slug a meeting has in the feed: its own, or a stable 64-character form of it."""
    if len(slug) <= FEED_SLUG_MAX:
        return slug
    digest = hashlib.sha1(slug.encode()).hexdigest()[:8]
    return f"{slug[: FEED_SLUG_MAX - 9].rstrip('-')}-{digest}"


def feed_phone(phone: str) -> str:
    """A conference phone as the spec asks (digits, +, and , * # for one-tap links)."""
    compact = _PHONE_VISUAL.sub("", phone)
    return compact if _PHONE_DIALABLE.fullmatch(compact) else phone


@functools.lru_cache(maxsize=4096)
def _feed_types(type_codes: str, language_codes: str, inactive: bool) -> tuple[str, ...]:
    keys = [k for k in type_codes.split(",") if k]
    if inactive and "temporarily_closed" not in keys:
        keys.append("temporarily_closed")
    languages = [c for c in language_codes.split(",") if c]
    return tuple(dict.fromkeys(vocabulary.to_meeting_guide_codes(keys, languages)))


def schedule_note(recurrence: schedule.Recurrence, weekday: int) -> str:
    """A fortnightly or monthly schedule in words, for the start of `notes`."""
    said = recurrence.describe(weekday)
    if recurrence.frequency == schedule.FORTNIGHTLY:
        return f"Fortnightly: {said} (one of them is {recurrence.anchor:%Y-%m-%d}), not every week."
    return f"Monthly: the {said}, not every week."


def meeting_guide_item(row, meeting_url=None) -> dict:
    """One feed object from a row of RENDER_FIELDS (see the notes above)."""
    mode = row["mode"]
    item = {"name": row["name"], "slug": feed_slug(row["slug"])}
    weekday, minutes = row["weekday"], row["start_minute"]
    notes = row["notes"]
    recurrence = None
    if weekday is not None and minutes is not None:
        item["day"] = schedule.to_meeting_guide_day(weekday)
        item["time"] = _CLOCK[minutes]
        duration = row["duration_minutes"]
        if duration % 1440:
            item["end_time"] = _CLOCK[(minutes + duration) % 1440]
        if row["frequency"] != schedule.WEEKLY:
            recurrence = schedule.Recurrence(
                row["frequency"], nth=row["month_week"], anchor=row["series_anchor"]
            )
            said = schedule_note(recurrence, weekday)
            notes = f"{said}\n{notes}" if notes else said
    item["timezone"] = row["timezone"]
    types = _feed_types(row["type_codes"], row["language_codes"], mode == INACTIVE)
    if types:
        item["types"] = types
    if notes:
        item["notes"] = notes
    for key, name in _TEXT_FIELDS:
        value = row[name]
        if value:
            item[key] = value
    latitude, longitude = row["latitude"], row["longitude"]
    if latitude is not None and longitude is not None:
        item["latitude"] = latitude
        item["longitude"] = longitude
    item["approximate"] = "yes" if row["approximate"] or mode == ONLINE else "no"
    if row["conference_url"]:
        item["conference_url"] = row["conference_url"]
        if row["conference_url_notes"]:
            item["conference_url_notes"] = row["conference_url_notes"]
    if row["conference_phone"]:
        item["conference_phone"] = feed_phone(row["conference_phone"])
        if row["conference_phone_notes"]:
            item["conference_phone_notes"] = row["conference_phone_notes"]
    item["attendance_option"] = mode
    if recurrence is not None:
        item["rrule"] = recurrence.to_rrule(weekday)
        if recurrence.anchor is not None:
            item["dtstart"] = recurrence.anchor.isoformat()
    stamp = row["updated"]
    if stamp:
        item["updated"] = (
            stamp if isinstance(stamp, str) else stamp.astimezone(UTC).strftime(_UPDATED_FORMATS[0])
        )
    if row["fellowship__code"]:
        item["fellowship"] = row["fellowship__code"]
    if meeting_url is not None:
        item["url"] = meeting_url(row["slug"])
    return item


def render_meeting_guide(rows, *, meeting_url=None) -> bytes:
    """A Meeting Guide feed (UTF-8 JSON array) from rows of RENDER_FIELDS, in their order.

    meeting_url(slug) gives each meeting's page for `url` (left out when None). Rows may
    be any iterable, such as a values() iterator: they are encoded a chunk at a time.
    """
    return b"".join(iter_meeting_guide(rows, meeting_url=meeting_url))


def iter_meeting_guide(rows, *, meeting_url=None):
    """render_meeting_guide's bytes in pieces of about _CHUNK meetings (their join is the
    same bytes), so a whole directory can be written to a file in bounded memory."""
    encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    yield b"["
    chunk = []
    first = True
    for row in rows:
        chunk.append(meeting_guide_item(row, meeting_url))
        if len(chunk) >= _CHUNK:
            yield (b"" if first else b",") + encode(chunk)[1:-1].encode()
            first = False
            chunk = []
    if chunk:
        yield (b"" if first else b",") + encode(chunk)[1:-1].encode()
    yield b"]"
