"""Feed parsing: pure functions from bytes to plain records, no database.

Each format module turns a feed into a ParseResult: MeetingRecords (plain values named
like Meeting's fields) plus the rows it rejected and the warnings it raised. The
importer (directory/importing.py) validates those records against the database and
applies them; nothing here touches the ORM.
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
from typing import NamedTuple

# Meeting.mode values; repeated here so parsers need no Django models.
IN_PERSON, ONLINE, HYBRID, INACTIVE = "in_person", "online", "hybrid", "inactive"
MODES = (IN_PERSON, ONLINE, HYBRID, INACTIVE)

MAX_FEED_BYTES = 50 * 1024 * 1024
FETCH_TIMEOUT_SECONDS = 30
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


class FeedError(Exception):
    """The whole feed is unusable (unreadable, not JSON, not a list): one line for people."""


@dataclass(frozen=True)
class Rejection:
    """A feed row that was not imported. row is 1-based in the feed; id its slug or id."""

    row: int
    id: str
    field: str
    reason: str

    def as_dict(self) -> dict:
        return {"row": self.row, "id": self.id, "field": self.field, "reason": self.reason}


@dataclass(frozen=True)
class FeedWarning:
    """Something dropped or guessed in a row that was still imported."""

    row: int
    id: str
    field: str
    message: str


@dataclass(frozen=True)
class MeetingRecord:
    """One meeting as a feed describes it, in Meeting's own field names and units.

    weekday is Python's (0 = Monday); weekday and start_time are both None for a
    meeting "by appointment". source_ref identifies the meeting within its source
    across imports; slug is the preferred Meeting.slug (the importer keeps it unique).
    """

    row: int
    source_ref: str
    slug: str
    name: str
    timezone: str
    group_name: str = ""
    weekday: int | None = None
    start_time: time | None = None
    duration_minutes: int = 60
    mode: str = IN_PERSON
    location_name: str = ""
    street_address: str = ""
    city: str = ""
    region: str = ""
    postcode: str = ""
    country: str = ""
    formatted_address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    approximate: bool = False
    location_notes: str = ""
    conference_url: str = ""
    conference_url_notes: str = ""
    conference_phone: str = ""
    conference_phone_notes: str = ""
    types: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()
    notes: str = ""
    feed_updated_at: datetime | None = None
    fellowship: str = ""  # a fellowship code or name the row names itself, if any
    # The digest of the feed row and of what parsed it (see KnownRows), when the parser
    # was given KnownRows and the row parsed without a warning; stored as
    # Meeting.content_hash. Not part of the record's value.
    digest: str = field(default="", compare=False, repr=False)


@dataclass(frozen=True)
class KnownRows:
    """What a source's last import stored, so a re-import can skip rows it has seen.

    context: a digest of everything besides the row that decides what the row becomes
    (the importer's fellowship choices); refs: row digest -> the source_refs of the
    listed meetings made from that row. Made by importing.known_rows().
    """

    context: str
    refs: dict[str, tuple[str, ...]]


class UnchangedRow(NamedTuple):
    """A feed row whose digest matched KnownRows: not parsed. The importer checks that
    its meetings still hold that digest, else calls parse() for its records. (A named
    tuple: a re-import makes one per row, and a frozen dataclass costs 10x more.)"""

    row: int
    digest: str
    refs: tuple[str, ...]
    context: str
    parse: Callable[[], list[MeetingRecord]]


@dataclass
class ParseResult:
    records: list[MeetingRecord] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[FeedWarning] = field(default_factory=list)
    # Type codes outside the vocabulary, with how many rows used each: kept out, reported.
    unknown_types: Counter = field(default_factory=Counter)
    rows: int = 0  # entries in the feed before array days were split
    # Rows skipped because KnownRows had them: pass to apply_records(unchanged_rows=...).
    unchanged_rows: list[UnchangedRow] = field(default_factory=list)


def read_feed(
    location: str | Path,
    *,
    timeout: float = FETCH_TIMEOUT_SECONDS,
    max_bytes: int = MAX_FEED_BYTES,
) -> bytes:
    """The raw bytes of a feed: a file path, or an http(s) URL fetched with a time limit."""
    text = str(location)
    scheme = _URL_SCHEME.match(text)
    if scheme:
        if scheme[1].lower() not in ("http", "https"):
            raise FeedError(f"cannot fetch {text}: only http and https URLs are supported")
        return _fetch(text, timeout=timeout, max_bytes=max_bytes)
    try:
        with open(location, "rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as exc:
        raise FeedError(f"cannot read {text}: {exc.strerror or exc}") from None
    if len(data) > max_bytes:
        raise FeedError(f"{text} is larger than {max_bytes // (1024 * 1024)} MB")
    return data


def _fetch(url: str, *, timeout: float, max_bytes: int) -> bytes:
    request = urllib.request.Request(
        url, headers={"User-Agent": "mutualaid-import", "Accept": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            data = response.read(max_bytes + 1)
    except urllib.error.HTTPError as exc:
        raise FeedError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FeedError(f"cannot fetch {url}: {reason}") from None
    if len(data) > max_bytes:
        raise FeedError(f"{url} is larger than {max_bytes // (1024 * 1024)} MB")
    return data


def resolve_timezone(value: str, default_timezone, latitude, longitude) -> str:
    """A row's IANA zone: its own, else the feed's default, else derived from coordinates.

    Raises ValueError with the reason; each parser reports it under its own field name.
    """
    from mutualaid.lib import schedule, tzlookup

    if value:
        schedule.zone(value)  # raises ValueError naming the unknown zone
        return value
    if default_timezone:
        return default_timezone
    if latitude is not None and longitude is not None:
        found = tzlookup.timezone_at(latitude, longitude)
        if found:
            try:
                schedule.zone(found)
            except ValueError:
                pass
            else:
                return found
        raise ValueError(f"no time zone, and none is known at {latitude},{longitude}")
    raise ValueError("no time zone, no coordinates and no default time zone")
