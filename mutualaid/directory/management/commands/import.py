import json
import time
from pathlib import Path
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from mutualaid.directory.feeds import FeedError, read_feed
from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide
from mutualaid.directory.importing import apply_records, resolve_fellowship
from mutualaid.directory.models import Source, SourceFormat
from mutualaid.lib import schedule

PARSERS = {SourceFormat.MEETING_GUIDE.value: parse_meeting_guide}


class Command(BaseCommand):
    help = (
        "Import a feed of meetings into the directory. Meetings that left the feed are marked "
        "removed; a re-import of an unchanged feed writes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a feed file, or an http(s) URL")
        parser.add_argument(
            "--format",
            default=SourceFormat.MEETING_GUIDE.value,
            help=f"feed format: {', '.join(PARSERS)} (default meeting-guide)",
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
            "default: the source's, else AA for Meeting Guide feeds)",
        )
        parser.add_argument("--json", action="store_true", help="print the summary as JSON")

    def handle(self, *args, **opts):
        clock = time.perf_counter()
        location, feed_format = opts["path"], opts["format"]
        if feed_format not in PARSERS:
            raise CommandError(
                f"unknown format {feed_format!r} (supported: {', '.join(PARSERS)})", returncode=2
            )
        zone = opts["timezone"]
        if zone:
            try:
                schedule.zone(zone)
            except ValueError as exc:
                raise CommandError(str(exc), returncode=2) from None
        name = opts["source"] or default_source_name(location)
        source = Source.objects.filter(name=name).first()
        if source and source.format != feed_format:
            raise CommandError(
                f"source {name!r} holds {source.format} feeds, not {feed_format}", returncode=2
            )
        try:
            fellowship = resolve_fellowship(
                opts["fellowship"], source or Source(name=name, format=feed_format)
            )
        except ValueError as exc:
            raise CommandError(str(exc), returncode=2) from None

        started_at = timezone.now()
        default_zone = zone or (source.default_timezone if source else "") or None
        try:
            result = PARSERS[feed_format](read_feed(location), default_timezone=default_zone)
        except FeedError as exc:
            message = str(exc)
            if location not in message:
                message = f"{location}: {message}"
            raise CommandError(message, returncode=2) from None

        with transaction.atomic():
            source = save_source(
                source,
                name=name,
                feed_format=feed_format,
                location=location,
                default_timezone=zone,
                fellowship=fellowship if opts["fellowship"] else None,
            )
            summary = apply_records(
                source=source,
                records=result.records,
                rejected=result.rejected,
                fellowship=fellowship,
                started_at=started_at,
                warnings=result.warnings,
            )

        if opts["json"]:
            self.stdout.write(json.dumps(summary.as_dict(), ensure_ascii=False))
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
