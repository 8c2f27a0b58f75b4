import json
import time
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from mutualaid.directory.feeds import FeedError, read_feed
from mutualaid.directory.feeds.bmlt import parse_bmlt
from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide
from mutualaid.directory.feeds.tsml_csv import parse_tsml_csv
from mutualaid.directory.feeds_views import render_feeds_after_change
from mutualaid.directory.fetching import FetchError, fetch, is_url
from mutualaid.directory.importing import (
    ImportRefused,
    apply_records,
    known_rows,
    resolve_fellowship,
    warning_dict,
)
from mutualaid.directory.models import ImportRun, ImportStatus, Source, SourceFormat
from mutualaid.lib import schedule

PARSERS = {
    SourceFormat.MEETING_GUIDE.value: parse_meeting_guide,
    SourceFormat.BMLT.value: parse_bmlt,
    SourceFormat.TSML_CSV.value: parse_tsml_csv,
}
# Without --format: tsml-csv for .csv / .tsv files, else meeting-guide.
FORMAT_BY_SUFFIX = {".csv": SourceFormat.TSML_CSV.value, ".tsv": SourceFormat.TSML_CSV.value}
VALIDATOR_LIMITS = {"etag": 300, "last_modified": 100}  # Source field lengths
REFUSED_EXIT_CODE = 1  # the feed was read but would gut the source
BAD_INPUT_EXIT_CODE = 2  # bad options, or a feed that cannot be fetched or read


class Command(BaseCommand):
    help = (
        "Import a feed of meetings into the directory. Meetings that left the feed are marked "
        "removed; a re-import of an unchanged feed writes nothing. URLs are fetched with a "
        "conditional GET: a feed unchanged since the last import (HTTP 304) is not parsed."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a feed file, or an http(s) URL")
        parser.add_argument(
            "--format",
            help=f"feed format: {', '.join(PARSERS)} (default: tsml-csv for .csv and .tsv "
            "files, else meeting-guide)",
        )
        parser.add_argument("--source", help="the source's name (default: the file's name)")
        parser.add_argument(
            "--timezone",
            metavar="TZ",
            help="IANA zone for meetings the feed gives none (remembered for the source); "
            "otherwise each meeting's zone comes from its coordinates",
        )
        parser.add_argument(
            "--fellowship",
            metavar="CODE",
            help="fellowship code such as AA, NA, ALANON (remembered for the source; "
            "default: the source's, else AA for Meeting Guide and TSML feeds, NA for BMLT)",
        )
        parser.add_argument(
            "--allow-mass-removal",
            action="store_true",
            help="import even a feed with no meetings, or one that removes more than "
            "FEED_MAX_REMOVAL_FRACTION of the source's listed meetings",
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="fetch a URL in full even when it says it has not changed since the last import",
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")
        parser.add_argument(
            "--no-render-feeds",
            action="store_true",
            help="after a change, leave the Meeting Guide feed files to the first reader "
            "(default: render them now, `mutualaid render-feeds`)",
        )

    def handle(self, *args, **opts):
        clock = time.perf_counter()
        location = opts["path"]
        name = opts["source"] or default_source_name(location)
        source = Source.objects.filter(name=name).first()
        feed_format = opts["format"] or default_format(location)
        if feed_format not in PARSERS:
            raise CommandError(
                f"unknown format {feed_format!r} (supported: {', '.join(PARSERS)})",
                returncode=BAD_INPUT_EXIT_CODE,
            )
        zone = opts["timezone"]
        if zone:
            try:
                schedule.zone(zone)
            except ValueError as exc:
                raise CommandError(str(exc), returncode=BAD_INPUT_EXIT_CODE) from None
        if source and source.format != feed_format:
            raise CommandError(
                f"source {name!r} holds {source.format} feeds, not {feed_format}",
                returncode=BAD_INPUT_EXIT_CODE,
            )
        try:
            fellowship = resolve_fellowship(
                opts["fellowship"], source or Source(name=name, format=feed_format)
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=BAD_INPUT_EXIT_CODE) from None

        started_at = timezone.now()
        validators = {"etag": "", "last_modified": ""}
        if is_url(location):
            conditional = (
                source is not None
                and source.location == location
                and not opts["force"]
                and (not zone or zone == source.default_timezone)
                and (not opts["fellowship"] or fellowship.pk == source.fellowship_id)
            )
            try:
                response = fetch(
                    location,
                    etag=source.etag if conditional else "",
                    last_modified=source.last_modified if conditional else "",
                )
            except FetchError as exc:
                self.fail(source, started_at, str(exc))
            if response.not_modified:
                self.not_modified(source, started_at, opts, clock)
                return
            data = response.body
            validators = {"etag": response.etag, "last_modified": response.last_modified}
        else:
            try:
                data = read_feed(location, max_bytes=settings.FEED_MAX_BYTES)
            except FeedError as exc:
                self.fail(source, started_at, str(exc))

        default_zone = zone or (source.default_timezone if source else "") or None
        # Meeting Guide: rows this source's last import stored unchanged are not parsed
        # again (importing.known_rows; apply_records checks them).
        known = {}
        if feed_format == SourceFormat.MEETING_GUIDE.value:
            known = {"known": known_rows(source, fellowship)}
        try:
            result = PARSERS[feed_format](data, default_timezone=default_zone, **known)
        except FeedError as exc:
            message = str(exc)
            if location not in message:
                message = f"{location}: {message}"
            self.fail(source, started_at, message)

        try:
            with transaction.atomic():
                saved = save_source(
                    source,
                    name=name,
                    feed_format=feed_format,
                    location=location,
                    default_timezone=zone,
                    fellowship=fellowship if opts["fellowship"] else None,
                )
                summary = apply_records(
                    source=saved,
                    records=result.records,
                    rejected=result.rejected,
                    fellowship=fellowship,
                    started_at=started_at,
                    warnings=result.warnings,
                    allow_mass_removal=opts["allow_mass_removal"],
                    unchanged_rows=result.unchanged_rows,
                )
                # Only now: a refused or failed import must not make the next fetch a 304.
                validators = {k: v[: VALIDATOR_LIMITS[k]] for k, v in validators.items()}
                changed = [k for k, v in validators.items() if getattr(saved, k) != v]
                for key in changed:
                    setattr(saved, key, validators[key])
                if changed:
                    saved.save(update_fields=changed)
        except ImportRefused as exc:
            message = f"{name}: {exc}"
            if exc.rejected:
                first = exc.rejected[0]
                message += f"; first rejected: row {first.row}: {first.field}: {first.reason}"
            record_run(
                source,
                status=ImportStatus.REFUSED,
                started_at=started_at,
                error=str(exc),
                rejected=[r.as_dict() for r in exc.rejected],
                warnings=[warning_dict(w) for w in exc.warnings],
            )
            raise CommandError(message, returncode=REFUSED_EXIT_CODE) from None
        source = saved
        if (summary.created or summary.updated or summary.removed) and not opts["no_render_feeds"]:
            render_feeds_after_change(self.stderr)

        if opts["json"]:
            output = {
                **summary.as_dict(),
                "status": ImportStatus.APPLIED.value,
                "warnings": [warning_dict(w) for w in summary.warnings],
            }
            self.stdout.write(json.dumps(output, ensure_ascii=False))
            return
        self.stdout.write(
            f"{source.name}: {summary.created} created, {summary.updated} updated, "
            f"{summary.unchanged} unchanged, {summary.removed} removed, "
            f"{len(summary.rejected)} rejected "
            f"({fellowship.code}, {time.perf_counter() - clock:.1f} s)"
        )
        if result.unknown_types:
            codes = ", ".join(f"{code} ({n})" for code, n in result.unknown_types.most_common())
            self.stdout.write(f"unknown type codes, left out: {codes}")
        if summary.warnings:
            if opts["verbosity"] >= 2:
                for warning in summary.warnings:
                    self.stdout.write(
                        f"warning: row {warning.row} {warning.id}: "
                        f"{warning.field}: {warning.message}"
                    )
            else:
                self.stdout.write(f"{len(summary.warnings)} warning(s); -v 2 lists them")
        for rejection in summary.rejected:
            self.stdout.write(
                f"rejected: row {rejection.row} {rejection.id}: "
                f"{rejection.field}: {rejection.reason}"
            )

    def fail(self, source, started_at, message: str) -> NoReturn:
        """Record the failure on a source that exists, and stop with one line."""
        record_run(source, status=ImportStatus.FAILED, started_at=started_at, error=message)
        raise CommandError(message, returncode=BAD_INPUT_EXIT_CODE)

    def not_modified(self, source, started_at, opts, clock) -> None:
        record_run(source, status=ImportStatus.NOT_MODIFIED, started_at=started_at)
        if opts["json"]:
            output = {
                "source": source.name,
                "created": 0,
                "updated": 0,
                "unchanged": 0,
                "removed": 0,
                "rejected": [],
                "status": ImportStatus.NOT_MODIFIED.value,
                "warnings": [],
            }
            self.stdout.write(json.dumps(output, ensure_ascii=False))
            return
        self.stdout.write(
            f"{source.name}: not modified since the last import (HTTP 304), nothing changed "
            f"({time.perf_counter() - clock:.1f} s)"
        )


def record_run(source, *, status, started_at, error="", rejected=(), warnings=()) -> None:
    """An ImportRun that changed no meeting; only for a source that already exists."""
    if source is None or source.pk is None:
        return
    ImportRun.objects.create(
        source=source,
        started_at=started_at,
        finished_at=timezone.now(),
        status=status,
        error=error,
        rejected=list(rejected),
        warnings=list(warnings),
    )


def save_source(source, *, name, feed_format, location, default_timezone, fellowship) -> Source:
    """Create the source, or remember what was given explicitly this time."""
    if source is None:
        source = Source(name=name, format=feed_format)
    wanted = {"location": str(location)[:500]}
    if default_timezone:
        wanted["default_timezone"] = default_timezone
    if fellowship:
        wanted["fellowship_id"] = fellowship.pk
    changed = [key for key, value in wanted.items() if getattr(source, key) != value]
    for key in changed:
        setattr(source, key, wanted[key])
    if source.pk is None or changed:
        source.save()
    return source


def default_source_name(location: str) -> str:
    """The file's name without its extension, or a URL's host."""
    parts = urlsplit(str(location))
    if parts.scheme in ("http", "https") and parts.netloc:
        return parts.netloc
    return Path(location).stem or str(location)


def default_format(location: str) -> str:
    suffix = Path(urlsplit(str(location)).path if is_url(location) else str(location)).suffix
    return FORMAT_BY_SUFFIX.get(suffix.lower(), SourceFormat.MEETING_GUIDE.value)
