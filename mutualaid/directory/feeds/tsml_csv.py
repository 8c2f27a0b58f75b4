"""TSML CSV/TSV: the spreadsheet the 12 Step Meeting List plugin imports and exports.

Pure functions: parse_tsml_csv(bytes) -> ParseResult, and render_tsml_csv(records) -> str
so that an export imports back unchanged. What real files send, and what we make of it:

- Text: UTF-8 (a BOM is fine); anything else is read as Windows-1252, with a warning.
  Line endings CRLF, LF or CR alone (old Mac exports such as the NYC Intergroup file);
  NUL bytes are dropped.
  The delimiter is found on the header line: tab, semicolon, else comma.
- Header: column names in any case and spacing ("End Time", "end_time", "Postal Code",
  "Zip"); unknown columns are ignored. A Name column is required.
- Cells: trimmed; "<br>" becomes a line break; a cell that says NULL is empty.
- Day: a day name in any case ("Sunday ", "monday", "Thu") or TSML's 0-6 (0 = Sunday).
  No day, or no time, means "by appointment" (TSML's rule); a time without a day, or a day
  without a time, is listed that way with a warning. A day that is not a day rejects the row.
- Time / End Time: "6:00 PM", "6pm", "18:00", "18:00:00", "noon", "midnight". Duration is
  end minus start, past midnight if need be; 60 minutes when there is no (usable) end.
- Types: full names ("Big Book", "Wheelchair Access"), Meeting Guide codes ("B", "X"), our
  own labels, language names ("Spanish", "Polish Speaking"), and "CODE = Description"
  strings, read by their description only (the NYC file's codes are its own: B =
  Beginners, S = Step). Separated by commas or line breaks. Unknown names are counted in
  unknown_types and left out. "Online Meeting" / ONL is not a type: it says "online".
  A meeting both open and closed is closed (TSML's rule).
- Address: with City / State / Postal Code / Country / Formatted Address columns, each is
  taken as given. Without them, Address is TSML's one-line formatted address and is split
  as the Meeting Guide parser splits one ("2634 Union Ave, San Jose, CA 95124, USA").
  Region (TSML's own area) fills an empty city when it is a name rather than a code.
- Timezone column, else the default zone given for the feed, else the zone at the
  Latitude / Longitude columns when present; else the row is rejected.
- Mode: an Attendance Option column when present, else inferred as for Meeting Guide feeds.
- Slug: the row's own (duplicates rejected). Without one, a stable slug is derived from
  name, day, time and location; rows that differ only in other columns (the NYC file lists
  one meeting per type) get "-2", "-3"...; a row identical to an earlier one is rejected.
- Updated: "YYYY-MM-DD HH:MM:SS" in UTC (also the template's "2020-04-0416:50:58").
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime, time
from functools import cache

from django.utils.text import slugify

from mutualaid.directory.feeds import (
    HYBRID,
    ONLINE,
    FeedError,
    FeedWarning,
    MeetingRecord,
    ParseResult,
    Rejection,
)
from mutualaid.directory.feeds.meeting_guide import (
    _address,
    _approximate,
    _coordinates,
    _infer_mode,
    _is_web_url,
    _mode,
    _Reject,
    _timezone,
    _updated,
)
from mutualaid.lib import schedule, vocabulary

DEFAULT_DURATION_MINUTES = 60
DAY_NAMES = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
TEMPORARILY_CLOSED = "temporarily_closed"

# Header spellings -> our column keys (after lowercasing and turning spaces into "_").
COLUMN_ALIASES = {
    "zip": "postal_code",
    "zip_code": "postal_code",
    "postcode": "postal_code",
    "meeting": "name",
    "location_name": "location",
    "start_time": "time",
    "end": "end_time",
    "province": "state",
    "lat": "latitude",
    "lng": "longitude",
    "lon": "longitude",
}
ADDRESS_PART_COLUMNS = ("city", "state", "postal_code", "country", "formatted_address")

# What render_tsml_csv writes: TSML's export columns that carry a Meeting field, plus the
# address parts, coordinates, approximate and attendance option, which TSML's own importer
# reads too (it maps every header to snake_case keys).
RENDER_COLUMNS = (
    "Time",
    "End Time",
    "Day",
    "Name",
    "Location",
    "Address",
    "City",
    "State",
    "Postal Code",
    "Country",
    "Formatted Address",
    "Latitude",
    "Longitude",
    "Approximate",
    "Types",
    "Notes",
    "Location Notes",
    "Timezone",
    "Group",
    "Conference URL",
    "Conference URL Notes",
    "Conference Phone",
    "Conference Phone Notes",
    "Attendance Option",
    "Slug",
    "Updated",
)

# Meeting Guide's English type names (spec v1.1.9, types.json), by code.
MEETING_GUIDE_NAMES = {
    "11": "11th Step Meditation",
    "12x12": "12 Steps & 12 Traditions",
    "A": "Secular",
    "ABSI": "As Bill Sees It",
    "AL": "Concurrent with Alateen",
    "AL-AN": "Concurrent with Al-Anon",
    "ASL": "American Sign Language",
    "B": "Big Book",
    "BA": "Babysitting Available",
    "BE": "Newcomer",
    "BI": "Bisexual",
    "BRK": "Breakfast",
    "C": "Closed",
    "CAN": "Candlelight",
    "CF": "Child-Friendly",
    "D": "Discussion",
    "DB": "Digital Basket",
    "DD": "Dual Diagnosis",
    "DR": "Daily Reflections",
    "FF": "Fragrance Free",
    "G": "Gay",
    "GR": "Grapevine",
    "H": "Birthday",
    "L": "Lesbian",
    "LGBTQ": "LGBTQ",
    "LIT": "Literature",
    "LS": "Living Sober",
    "M": "Men",
    "MED": "Meditation",
    "N": "Native American",
    "NB": "Non-Binary",
    "NDG": "Indigenous",
    "O": "Open",
    "OUT": "Outdoor",
    "P": "Professionals",
    "POA": "Proof of Attendance",
    "POC": "People of Color",
    "SEN": "Seniors",
    "SM": "Smoking Permitted",
    "SP": "Speaker",
    "ST": "Step Study",
    "T": "Transgender",
    "TC": "Location Temporarily Closed",
    "TR": "Tradition Study",
    "W": "Women",
    "X": "Wheelchair Access",
    "XB": "Wheelchair-Accessible Bathroom",
    "XT": "Cross Talk Permitted",
    "Y": "Young People",
}

# Names TSML (and real files) use that are neither a Meeting Guide name nor our label.
# Values are canonical type keys, or "online" / "hybrid" for attendance hints.
TYPE_ALIASES = {
    "beginner": ("newcomer",),
    "beginners": ("newcomer",),
    "newcomers": ("newcomer",),
    "step": ("step_study",),
    "steps": ("step_study",),
    "step meeting": ("step_study",),
    "twelve steps": ("step_study",),
    "tradition": ("tradition_study",),
    "traditions": ("tradition_study",),
    "twelve traditions": ("tradition_study",),
    "closed discussion": ("closed", "discussion"),
    "open discussion": ("open", "discussion"),
    "sign language": ("sign_language",),
    "interpreted for the deaf": ("sign_language",),
    "outdoor meeting": ("outdoor",),
    "wheelchair accessible": ("wheelchair",),
    "temporary closure": (TEMPORARILY_CLOSED,),
    "atheist / agnostic": ("secular",),
    "atheist/agnostic": ("secular",),
    "agnostic": ("secular",),
    "gay, lesbian and bisexual": ("gay", "lesbian", "bisexual"),
    "gay/lesbian": ("gay", "lesbian"),
    "gay men": ("gay", "men"),
    "lgbtqia+": ("lgbtq",),
    "lgbtqia": ("lgbtq",),
    "young adults": ("young_people",),
    "eleventh step": ("eleventh_step_meditation",),
    "eleventh step meditation": ("eleventh_step_meditation",),
    "meditation at meeting": ("meditation",),
    "aa grapevine": ("grapevine",),
    "aa grapevine literature": ("grapevine",),
    "aa literature": ("literature",),
    "online meeting": (ONLINE,),
    "online": (ONLINE,),
    "online (only)": (ONLINE,),
    "onl": (ONLINE,),
    "hybrid": (HYBRID,),
}
# Words a type name may carry that add nothing ("Big Book meeting", "Beginners Workshop").
_FILLER_SUFFIX = re.compile(r"\s+(?:meeting|group|study|workshop|topic)$")
_CODE_AND_NAME = re.compile(r"([A-Za-z0-9]{1,5})\s*=\s*(.+)")
_LANGUAGE_SPEAKING = re.compile(r"(.+?)\s+speaking(?:\s+(?:meeting|group))?")
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TIME_24 = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2}))?")
_TIME_12 = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?(?::(\d{2}))?\s*([ap])\.?\s*m\.?", re.IGNORECASE)
_CODE_LIKE = re.compile(r"[A-Z0-9 ]+")
_UPDATED_FORMATS = ("%Y-%m-%d%H:%M:%S",)  # the official template's, a space lost


class _Row:
    """One data row: its cells by column key, and where it came from."""

    def __init__(self, number: int, cells: dict[str, str], raw: tuple[str, ...]):
        self.number = number
        self.cells = cells
        self.raw = raw

    def get(self, key: str) -> str:
        return self.cells.get(key, "")


# --- parsing --------------------------------------------------------------------------


def parse_tsml_csv(data: bytes | str, *, default_timezone: str | None = None) -> ParseResult:
    """Parse a TSML CSV/TSV file. Raises FeedError only when the whole file is unusable."""
    if default_timezone:
        try:
            schedule.zone(default_timezone)
        except ValueError as exc:
            raise FeedError(str(exc)) from None
    text, file_warnings = _decode(data)
    header, rows, row_warnings = _read_rows(text)
    result = ParseResult(rows=len(rows), warnings=file_warnings + row_warnings)
    literal_address = any(key in header for key in ADDRESS_PART_COLUMNS)

    first_row_of_ref: dict[str, int] = {}
    first_row_of_content: dict[tuple, int] = {}
    for row in rows:
        explicit = row.get("slug")
        ident = explicit or _derived_ref(row)
        warnings: list[FeedWarning] = []
        unknown: Counter = Counter()
        try:
            if explicit and explicit in first_row_of_ref:
                first = first_row_of_ref[explicit]
                raise _Reject("slug", f"duplicate slug {explicit!r} (first in row {first})")
            if not explicit:
                if row.raw in first_row_of_content:
                    first = first_row_of_content[row.raw]
                    raise _Reject("row", f"same as row {first} in every column")
                first_row_of_content[row.raw] = row.number
                base, n = ident, 1
                while ident in first_row_of_ref:
                    n += 1
                    ident = f"{base}-{n}"
            first_row_of_ref[ident] = row.number
            record = _parse_row(row, ident, default_timezone, literal_address, warnings, unknown)
        except _Reject as exc:
            result.rejected.append(Rejection(row.number, ident, exc.field, exc.reason))
            continue
        result.records.append(record)
        result.warnings.extend(warnings)
        result.unknown_types.update(unknown)
    return result


def _decode(data: bytes | str) -> tuple[str, list[FeedWarning]]:
    if isinstance(data, str):
        return data, []
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        position = exc.start
    try:
        text = data.decode("cp1252")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    warning = FeedWarning(0, "", "encoding", f"not UTF-8 (byte {position}): read as Windows-1252")
    return text, [warning]


def _read_rows(text: str) -> tuple[list[str], list[_Row], list[FeedWarning]]:
    # CR alone (classic Mac) and CRLF both become LF; quoted line breaks survive. NUL bytes
    # (seen in spreadsheet exports) would stop the csv module: dropped.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    first_line = text.split("\n", 1)[0]
    if "\t" in first_line:
        delimiter = "\t"
    elif first_line.count(";") > first_line.count(","):
        delimiter = ";"
    else:
        delimiter = ","
    try:
        table = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FeedError(f"not readable as CSV: {exc}") from None
    if not table or not any(cell.strip() for cell in table[0]):
        raise FeedError("empty file: expected a header row (Time, Day, Name, ...)")
    header = [_column_key(cell) for cell in table[0]]
    if "name" not in header:
        shown = ", ".join(cell.strip() for cell in table[0][:6] if cell.strip())
        raise FeedError(f"no Name column in the header ({shown[:80]}...): not a TSML CSV/TSV file")
    rows: list[_Row] = []
    warnings: list[FeedWarning] = []
    for number, cells in enumerate(table[1:], start=1):
        if not any(cell.strip() for cell in cells):
            continue  # a blank line
        values = {}
        for key, cell in zip(header, cells, strict=False):
            if key and key not in values:
                values[key] = _clean(cell)
        extra = [cell for cell in cells[len(header) :] if cell.strip()]
        if extra:
            warnings.append(
                FeedWarning(
                    number,
                    values.get("slug", ""),
                    "row",
                    f"{len(cells)} cells, the header has {len(header)}: ignored the extra "
                    f"{', '.join(repr(c.strip()[:20]) for c in extra[:3])}",
                )
            )
        rows.append(_Row(number, values, tuple(cells)))
    return header, rows, warnings


def _column_key(cell: str) -> str:
    key = re.sub(r"[\s_\-]+", "_", cell.strip().lstrip("\ufeff").lower()).strip("_")
    return COLUMN_ALIASES.get(key, key)


def _clean(cell: str) -> str:
    value = _BR.sub("\n", cell).strip()
    return "" if value.upper() == "NULL" else value


def _derived_ref(row: _Row) -> str:
    """A stable id from name, day, time and location, for rows without a Slug."""
    try:
        day = _weekday(row.get("day"))
        when = DAY_NAMES[(day + 1) % 7] if day is not None else ""
    except _Reject:
        when = row.get("day")
    try:
        minutes = _minutes(row.get("time"), "time")
        clock = f"{minutes // 60:02d}{minutes % 60:02d}" if minutes is not None else ""
    except _Reject:
        clock = row.get("time")
    if not when or not clock:
        when, clock = "appointment", ""
    place = row.get("location") or row.get("address") or row.get("formatted_address")
    parts = [slugify(row.get("name"))[:80], slugify(when), clock, slugify(place)[:60]]
    return "-".join(p for p in parts if p)[:200].strip("-") or "meeting"


def _parse_row(row, ident, default_timezone, literal_address, warnings, unknown) -> MeetingRecord:
    def warn(field: str, message: str) -> None:
        warnings.append(FeedWarning(row.number, ident, field, message))

    name = row.get("name")
    if not name:
        raise _Reject("name", "missing name")

    weekday = _weekday(row.get("day"))
    start_minutes = _minutes(row.get("time"), "time")
    if start_minutes == 1440:
        raise _Reject("time", f"time {row.get('time')!r} is not a time of day")
    start = None
    duration = DEFAULT_DURATION_MINUTES
    if weekday is not None and start_minutes is not None:
        start = time(start_minutes // 60, start_minutes % 60)
        duration = _duration(start_minutes, row.get("end_time"), warn)
    elif weekday is not None:
        warn("time", "a day but no time: listed as by appointment")
        weekday = None
    elif start_minutes is not None:
        warn("day", "a time but no day: listed as by appointment")

    latitude, longitude = _coordinates(row.get("latitude"), row.get("longitude"), warn)
    zone = _timezone(row.get("timezone"), default_timezone, latitude, longitude)

    conference_url = row.get("conference_url")
    if conference_url and not _is_web_url(conference_url):
        warn("conference_url", f"dropped {conference_url!r}: not an http(s) URL")
        conference_url = ""
    conference_phone = row.get("conference_phone")
    if conference_phone and not any(c.isdigit() for c in conference_phone):
        warn("conference_phone", f"dropped {conference_phone!r}: no digits")
        conference_phone = ""

    types, languages, hints = _types(row.get("types"), unknown)
    if "open" in types and "closed" in types:
        warn("types", "both open and closed: listed as closed")
        types.remove("open")

    address = _address_fields(row, literal_address)
    approximate = _approximate(row.get("approximate"), address, warn)
    mode = _mode(row.get("attendance_option"), warn) or _infer_mode(
        online=bool(conference_url or conference_phone or hints),
        temporarily_closed=TEMPORARILY_CLOSED in types,
        approximate=approximate,
    )

    return MeetingRecord(
        row=row.number,
        source_ref=ident,
        slug=slugify(ident)[:200] or "meeting",
        name=name,
        timezone=zone,
        group_name=row.get("group"),
        weekday=weekday,
        start_time=start,
        duration_minutes=duration,
        mode=mode,
        location_name=row.get("location"),
        latitude=latitude,
        longitude=longitude,
        approximate=approximate,
        location_notes=row.get("location_notes"),
        conference_url=conference_url,
        conference_url_notes=row.get("conference_url_notes") if conference_url else "",
        conference_phone=conference_phone,
        conference_phone_notes=row.get("conference_phone_notes") if conference_phone else "",
        types=tuple(types),
        languages=tuple(languages),
        notes=row.get("notes"),
        feed_updated_at=_updated_at(row.get("updated"), warn),
        **address,
    )


def _weekday(text: str) -> int | None:
    """Python weekday (0 = Monday) for a day name or TSML's 0-6 (0 = Sunday); None if empty."""
    cleaned = text.strip().rstrip(".").lower()
    if not cleaned:
        return None
    if cleaned.isdigit() and int(cleaned) <= 6:
        return schedule.from_meeting_guide_day(int(cleaned))
    if len(cleaned) >= 3:
        for number, day in enumerate(DAY_NAMES):
            if day.lower().startswith(cleaned):
                return schedule.from_meeting_guide_day(number)
    raise _Reject("day", f"day {text!r} is not a day of the week")


def _minutes(text: str, field: str) -> int | None:
    """Minutes after midnight; 24:00 -> 1440 (an end time only). None when empty."""
    cleaned = text.strip().lower()
    if not cleaned:
        return None
    if cleaned in ("noon", "12 noon", "midday"):
        return 12 * 60
    if cleaned in ("midnight", "12 midnight"):
        return 0
    if match := _TIME_12.fullmatch(cleaned):
        hour, minute, second = int(match[1]), int(match[2] or 0), int(match[3] or 0)
        if not 1 <= hour <= 12 or minute > 59 or second > 59:
            raise _Reject(field, f"{field} {text!r} is not a valid 12-hour time")
        return (hour % 12 + (12 if match[4] == "p" else 0)) * 60 + minute
    if match := _TIME_24.fullmatch(cleaned):
        hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
        if (hour, minute, second) == (24, 0, 0):
            return 1440
        if hour > 23 or minute > 59 or second > 59:
            raise _Reject(field, f"{field} {text!r} is not a valid time of day")
        return hour * 60 + minute
    raise _Reject(field, f"{field} {text!r} is not a time such as 6:00 PM or 18:00")


def _duration(start_minutes: int, end_text: str, warn) -> int:
    try:
        end_minutes = _minutes(end_text, "end_time")
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


def _address_fields(row: _Row, literal: bool) -> dict:
    if literal:
        city = row.get("city")
    else:
        # TSML's own export: "Address" is the formatted address; split it like Meeting Guide.
        parts = _address({"address": row.get("address")})
        city = parts["city"]
    if not city and (region := row.get("region")) and not _CODE_LIKE.fullmatch(region):
        city = region  # TSML treats Region and city alike ("San Jose"); "BX" is a code
    if not literal:
        return {**parts, "city": city}
    return {
        "street_address": row.get("address"),
        "city": city,
        "region": row.get("state"),
        "postcode": row.get("postal_code"),
        "country": row.get("country"),
        "formatted_address": row.get("formatted_address"),
    }


def _updated_at(text: str, warn) -> datetime | None:
    for layout in _UPDATED_FORMATS:
        try:
            return datetime.strptime(text, layout).replace(tzinfo=UTC)
        except ValueError:
            continue
    return _updated(text, warn)


# --- types ----------------------------------------------------------------------------


def _types(text: str, unknown: Counter) -> tuple[list[str], list[str], list[str]]:
    """(type keys, language codes, attendance hints) from a Types cell."""
    types: list[str] = []
    languages: list[str] = []
    hints: list[str] = []
    for piece in text.split("\n"):
        piece = piece.strip()
        if not piece:
            continue
        found = _lookup_type(piece)
        names = [piece] if found else [p.strip() for p in re.split(r"[,;]", piece) if p.strip()]
        for name in names:
            matches = found if found else _lookup_type(name)
            if not matches:
                unknown[name] += 1
                continue
            for kind, value in matches:
                target = {"type": types, "language": languages, "hint": hints}[kind]
                if value not in target:
                    target.append(value)
    return types, languages, hints


def _lookup_type(name: str) -> tuple[tuple[str, str], ...]:
    if match := _CODE_AND_NAME.fullmatch(name):
        # "B = Beginners meeting": the code is the file's own; trust the description.
        return _by_name(match[2])
    return _by_name(name) or _by_code(name)


def _by_name(name: str) -> tuple[tuple[str, str], ...]:
    names = _type_names()
    key = _name_key(name)
    if key in names:
        return names[key]
    if match := _LANGUAGE_SPEAKING.fullmatch(key):
        found = names.get(match[1])
        if found and all(kind == "language" for kind, _ in found):
            return found
    shorter = _FILLER_SUFFIX.sub("", key)
    return names.get(shorter, ()) if shorter != key else ()


def _by_code(code: str) -> tuple[tuple[str, str], ...]:
    cleaned = code.strip().upper()
    if cleaned == "ONL":
        return (("hint", ONLINE),)
    if found := vocabulary.type_from_meeting_guide(cleaned):
        return (("type", found.key),)
    if language := vocabulary.language_from_meeting_guide(cleaned):
        return (("language", language.code),)
    return ()


def _name_key(name: str) -> str:
    return " ".join(name.casefold().split()).rstrip(".")


@cache
def _type_names() -> dict[str, tuple[tuple[str, str], ...]]:
    """Every name a type or language goes by, lowercased -> ((kind, value), ...)."""
    names: dict[str, tuple[tuple[str, str], ...]] = {}
    for language in vocabulary.languages().values():
        names[_name_key(language.name)] = (("language", language.code),)
    for meeting_type in vocabulary.meeting_types().values():
        kind = "hint" if meeting_type.key in (ONLINE, HYBRID) else "type"
        value = (kind, meeting_type.key)
        names[_name_key(meeting_type.label)] = (value,)
        names[_name_key(meeting_type.key.replace("_", " "))] = (value,)
    for code, name in MEETING_GUIDE_NAMES.items():
        found = vocabulary.type_from_meeting_guide(code)
        if found:
            names[_name_key(name)] = (("type", found.key),)
    for alias, keys in TYPE_ALIASES.items():
        names[alias] = tuple(
            ("hint", key) if key in (ONLINE, HYBRID) else ("type", key) for key in keys
        )
    return names


# --- rendering ------------------------------------------------------------------------


def render_tsml_csv(records: Iterable[MeetingRecord]) -> str:
    """Records as a TSML CSV (comma-separated, CRLF, UTF-8 text) that parses back to them."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(RENDER_COLUMNS)
    for record in records:
        writer.writerow(_render_row(record))
    return out.getvalue()


def _render_row(record: MeetingRecord) -> list[str]:
    scheduled = record.weekday is not None and record.start_time is not None
    if scheduled:
        start = record.start_time.hour * 60 + record.start_time.minute
        end = (start + record.duration_minutes) % 1440
        day = DAY_NAMES[(record.weekday + 1) % 7]
        clock, end_clock = _clock(start), _clock(end)
    else:
        day = clock = end_clock = ""
    values = {
        "Time": clock,
        "End Time": end_clock,
        "Day": day,
        "Name": record.name,
        "Location": record.location_name,
        "Address": record.street_address,
        "City": record.city,
        "State": record.region,
        "Postal Code": record.postcode,
        "Country": record.country,
        "Formatted Address": record.formatted_address,
        "Latitude": "" if record.latitude is None else repr(record.latitude),
        "Longitude": "" if record.longitude is None else repr(record.longitude),
        "Approximate": "yes" if record.approximate else "no",
        "Types": ", ".join(type_names(record.types, record.languages)),
        "Notes": record.notes,
        "Location Notes": record.location_notes,
        "Timezone": record.timezone,
        "Group": record.group_name,
        "Conference URL": record.conference_url,
        "Conference URL Notes": record.conference_url_notes,
        "Conference Phone": record.conference_phone,
        "Conference Phone Notes": record.conference_phone_notes,
        "Attendance Option": record.mode,
        "Slug": record.source_ref,
        "Updated": (
            record.feed_updated_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
            if record.feed_updated_at
            else ""
        ),
    }
    return [values[column] for column in RENDER_COLUMNS]


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def type_names(type_keys: Iterable[str], language_codes: Iterable[str] = ()) -> list[str]:
    """Names for a Types cell: Meeting Guide's English name, else our label; languages by name."""
    known = vocabulary.meeting_types()
    all_languages = vocabulary.languages()
    names = []
    for key in type_keys:
        meeting_type = known.get(key)
        if meeting_type is None or key in (ONLINE, HYBRID):
            continue  # online / hybrid are the mode, written as Attendance Option
        code = meeting_type.meeting_guide
        names.append(
            MEETING_GUIDE_NAMES.get(code, meeting_type.label) if code else meeting_type.label
        )
    names += [all_languages[c].name for c in language_codes if c in all_languages]
    return names
