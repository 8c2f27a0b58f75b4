"""`mutualaid export`: the directory in an interchange format, to stdout or a file.

    mutualaid export --format meeting-guide --base-url https://meetings.example.org
    mutualaid export --format csv --fellowship NA --out na.csv

Every format holds the same meetings as the served Meeting Guide feed: listed (active,
not a duplicate of another listing) public ones, optionally of one fellowship.

- meeting-guide: the bytes /feeds/meeting-guide.json serves to a client of base-url.
- bmlt: what the BMLT-compatible API's GetSearchResults answers (bmlt_api.client_interface);
  BMLT cannot say "by appointment", so those meetings are not in it.
- csv: TSML CSV (feeds/tsml_csv.py render_tsml_csv), which TSML and `mutualaid import
  --format tsml-csv` read. The records say what the Meeting Guide feed says (the
  schedule of fortnightly / monthly meetings opening the notes, TC on temporarily closed
  meetings, online-only meetings approximate); the CSV has no fellowship column.
- ics: one iCalendar of every meeting with a day and a time (calendar.meetings_calendar).

Without --base-url, meeting links are left out (meeting-guide `url`, ics URL) and BMLT's
root_server_uri is the path alone.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.http import HttpRequest, QueryDict
from django.utils import timezone

from mutualaid.directory.calendar import meetings_calendar
from mutualaid.directory.feeds import INACTIVE, ONLINE, MeetingRecord
from mutualaid.directory.feeds.meeting_guide import RENDER_FIELDS, feed_phone, schedule_note
from mutualaid.directory.feeds_views import feed_meetings, iter_feed, render_feed
from mutualaid.directory.models import Fellowship
from mutualaid.lib import schedule

FORMATS = ("meeting-guide", "bmlt", "csv", "ics")
# What record_from_row reads: the feed's values, with the schedule and stamps as they are.
RECORD_VALUES = (
    *(f for f in RENDER_FIELDS if f not in ("start_minute", "updated")),
    "start_time",
    "feed_updated_at",
    "updated_at",
)
_BASE_URL = re.compile(r"https?://[^/\s?#]+(/[^\s?#]*)?", re.IGNORECASE)


class Command(BaseCommand):
    help = (
        "Export the directory's listed public meetings as a Meeting Guide feed, BMLT "
        "GetSearchResults JSON, TSML CSV or one iCalendar, to stdout or --out FILE."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--format",
            default="meeting-guide",
            help=f"one of {', '.join(FORMATS)} (default meeting-guide)",
        )
        parser.add_argument(
            "--out", metavar="FILE", help="write here (replaced whole) instead of stdout"
        )
        parser.add_argument(
            "--fellowship", metavar="CODE", help="only this fellowship's meetings (e.g. NA)"
        )
        parser.add_argument(
            "--base-url",
            metavar="URL",
            help="the site's address, e.g. https://meetings.example.org, for links to "
            "meeting pages (left out without it)",
        )

    def handle(self, *args, **opts):
        feed_format = opts["format"]
        if feed_format not in FORMATS:
            raise CommandError(
                f"unknown format {feed_format!r} (use {', '.join(FORMATS)})", returncode=2
            )
        base_url = opts["base_url"]
        if base_url is not None:
            if not _BASE_URL.fullmatch(base_url):
                raise CommandError(
                    f"--base-url {base_url!r} is not an http(s) URL such as "
                    "https://meetings.example.org",
                    returncode=2,
                )
            base_url = base_url.rstrip("/")
        fellowship = None
        if opts["fellowship"]:
            code = opts["fellowship"].strip()
            fellowship = Fellowship.objects.filter(code__iexact=code).first()
            if fellowship is None:
                known = ", ".join(
                    Fellowship.objects.order_by("code").values_list("code", flat=True)
                )
                raise CommandError(f"unknown fellowship {code!r} (known: {known})", returncode=2)

        pieces = export_pieces(feed_format, fellowship, base_url)

        if opts["out"]:
            size = write_atomically(Path(opts["out"]), pieces)
            self.stdout.write(f"wrote {feed_format} ({size:,} bytes) to {opts['out']}")
            return
        buffer = getattr(self.stdout, "buffer", None)
        if buffer is not None:
            self.stdout.flush()
            for piece in pieces:
                buffer.write(piece)
            buffer.flush()
        else:  # a text stream, as call_command(stdout=StringIO()) gives
            self.stdout.write(b"".join(pieces).decode("utf-8"), ending="")


def export_pieces(
    feed_format: str, fellowship: Fellowship | None, base_url: str | None
) -> Iterable[bytes]:
    """The export's bytes in order. The Meeting Guide feed comes a thousand meetings at a
    time, so a whole directory (~580 MB of JSON at 1M meetings) is never in memory; the
    other formats are rendered whole."""
    if feed_format == "meeting-guide":
        return iter_feed(base_url=base_url, fellowship=fellowship)
    return [EXPORTERS[feed_format](fellowship, base_url)]


def write_atomically(path: Path, body: bytes | Iterable[bytes]) -> int:
    """Readers of the file (a web server publishing it) see the old or the new one, whole.
    Returns the number of bytes written."""
    directory = path.parent if str(path.parent) else Path(".")
    pieces = [body] if isinstance(body, bytes) else body
    written = 0
    try:
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.")
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}", returncode=2) from None
    try:
        with os.fdopen(handle, "wb") as out:
            for piece in pieces:
                written += out.write(piece)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise CommandError(f"cannot write {path}: {exc.strerror or exc}", returncode=2) from None
    except BaseException:  # a failed render (or ^C) leaves the old file, and no temporary
        Path(temporary).unlink(missing_ok=True)
        raise
    return written


# --- the formats --------------------------------------------------------------------


def export_meeting_guide(fellowship: Fellowship | None, base_url: str | None) -> bytes:
    return render_feed(base_url=base_url, fellowship=fellowship)


class _ExportRequest(HttpRequest):
    """A GET of the BMLT API as a client of base_url would make it, without a server."""

    def __init__(self, params: QueryDict, base_url: str | None):
        super().__init__()
        self.method = "GET"
        self.GET = params
        self._base_url = base_url or ""

    def build_absolute_uri(self, location=None):
        return f"{self._base_url}{location or self.path}"


def export_bmlt(fellowship: Fellowship | None, base_url: str | None) -> bytes:
    from mutualaid.directory import bmlt_api

    params = QueryDict(mutable=True)
    params["switcher"] = "GetSearchResults"
    if fellowship is not None:
        params["services"] = str(fellowship.pk)  # the API's service bodies are fellowships
    response = bmlt_api.client_interface(_ExportRequest(params, base_url), "json")
    if response.status_code != 200:
        raise CommandError(f"the BMLT API answered {response.status_code}: {response.content!r}")
    return response.content


def meeting_records(fellowship: Fellowship | None = None) -> Iterator[MeetingRecord]:
    """The feed's meetings as MeetingRecords saying what the Meeting Guide feed says."""
    rows = feed_meetings(fellowship).order_by("pk").values(*RECORD_VALUES).iterator(chunk_size=2000)
    for number, row in enumerate(rows, start=1):
        yield record_from_row(number, row)


def record_from_row(number: int, row: dict) -> MeetingRecord:
    mode = row["mode"]
    types = [t for t in row["type_codes"].split(",") if t]
    if mode == INACTIVE and "temporarily_closed" not in types:
        types.append("temporarily_closed")
    notes = row["notes"]
    weekday = row["weekday"]
    if row["frequency"] != schedule.WEEKLY and weekday is not None:
        recurrence = schedule.Recurrence(
            row["frequency"], nth=row["month_week"], anchor=row["series_anchor"]
        )
        said = schedule_note(recurrence, weekday)
        notes = f"{said}\n{notes}" if notes else said
    phone = row["conference_phone"]
    return MeetingRecord(
        row=number,
        source_ref=row["slug"],
        slug=row["slug"],
        name=row["name"],
        timezone=row["timezone"],
        group_name=row["group_name"],
        weekday=weekday,
        start_time=row["start_time"] if weekday is not None else None,
        duration_minutes=row["duration_minutes"],
        mode=mode,
        location_name=row["location_name"],
        street_address=row["street_address"],
        city=row["city"],
        region=row["region"],
        postcode=row["postcode"],
        country=row["country"],
        formatted_address=row["formatted_address"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        approximate=bool(row["approximate"] or mode == ONLINE),
        location_notes=row["location_notes"],
        conference_url=row["conference_url"],
        conference_url_notes=row["conference_url_notes"],
        conference_phone=feed_phone(phone) if phone else "",
        conference_phone_notes=row["conference_phone_notes"],
        types=tuple(types),
        languages=tuple(c for c in row["language_codes"].split(",") if c),
        notes=notes,
        feed_updated_at=row["feed_updated_at"] or row["updated_at"],
        fellowship=row["fellowship__code"] or "",
    )


def export_csv(fellowship: Fellowship | None, base_url: str | None) -> bytes:
    from mutualaid.directory.feeds.tsml_csv import render_tsml_csv

    return render_tsml_csv(meeting_records(fellowship)).encode("utf-8")


def export_ics(fellowship: Fellowship | None, base_url: str | None) -> bytes:
    meetings = feed_meetings(fellowship).select_related("fellowship").order_by("pk")
    name = f"{settings.SITE_NAME} meetings" + (f" ({fellowship.code})" if fellowship else "")
    return meetings_calendar(
        meetings.iterator(chunk_size=2000), name=name, now=timezone.now(), base_url=base_url or ""
    )


EXPORTERS = {
    "meeting-guide": export_meeting_guide,
    "bmlt": export_bmlt,
    "csv": export_csv,
    "ics": export_ics,
}
