"""Apply parsed feed records to the directory: validate, then write in one transaction.

A source owns its meetings, matched across imports by Meeting.source_ref. An import
creates the new ones, updates changed ones in place (same pk, same slug), leaves the
unchanged ones unwritten, and marks those that left the feed as removed (they come back
to life, same pk, if the feed lists them again).
"""

from __future__ import annotations

import contextlib
import enum
import functools
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.text import slugify

from mutualaid.directory import cache as directory_cache
from mutualaid.directory.duplicates import mark_duplicates
from mutualaid.directory.feeds import (
    FeedWarning,
    KnownRows,
    MeetingRecord,
    Rejection,
    UnchangedRow,
)
from mutualaid.directory.models import (
    Fellowship,
    ImportRun,
    ImportStatus,
    Meeting,
    Source,
    SourceFormat,
    Status,
    _pack,
)
from mutualaid.lib import schedule

# The Meeting fields a feed owns; everything else (visibility, organisation, frequency,
# last_verified_at...) is ours and an import never touches it.
RECORD_FIELDS = (
    "name",
    "group_name",
    "weekday",
    "start_time",
    "duration_minutes",
    "timezone",
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
    "notes",
    "feed_updated_at",
)
COMPARED_FIELDS = (*RECORD_FIELDS, "type_codes", "language_codes", "fellowship_id", "status")
UPDATED_FIELDS = (*COMPARED_FIELDS, "start_minute", "week_minute", "updated_at")
# Fellowship for a source that names none, by feed format.
DEFAULT_FELLOWSHIP_CODE = {
    SourceFormat.MEETING_GUIDE: "AA",
    SourceFormat.TSML_CSV: "AA",  # TSML's default program
    SourceFormat.BMLT: "NA",
}
BATCH_SIZE = 500


class ImportRefused(Exception):
    """The feed would empty or gut the source: nothing was changed. str() is one line."""

    def __init__(self, message: str, *, rejected=(), warnings=()):
        super().__init__(message)
        self.rejected = list(rejected)
        self.warnings = list(warnings)


def warning_dict(warning: FeedWarning) -> dict:
    return {
        "row": warning.row,
        "id": warning.id,
        "field": warning.field,
        "message": warning.message,
    }


@dataclass
class ImportSummary:
    source: Source
    run: ImportRun
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    removed: int = 0
    rejected: list[Rejection] = field(default_factory=list)
    warnings: list[FeedWarning] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "source": self.source.name,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "removed": self.removed,
            "rejected": [r.as_dict() for r in self.rejected],
        }


def resolve_fellowship(code: str | None, source: Source | None = None) -> Fellowship:
    """The fellowship named by code, else the source's own, else the format's default."""
    if not code:
        if source is not None and source.fellowship_id:
            return source.fellowship
        code = DEFAULT_FELLOWSHIP_CODE.get(source.format if source else "", "OTHER")
    found = Fellowship.objects.filter(code__iexact=code.strip()).first()
    if found is None:
        known = ", ".join(Fellowship.objects.values_list("code", flat=True))
        raise ValueError(f"unknown fellowship {code!r} (known: {known})")
    return found


def apply_records(
    *,
    source: Source,
    records: Sequence[MeetingRecord],
    rejected: Iterable[Rejection] = (),
    fellowship: Fellowship | None = None,
    started_at: datetime | None = None,
    warnings: Iterable[FeedWarning] = (),
    allow_mass_removal: bool = False,
    max_removal_fraction: float | None = None,
    unchanged_rows: Iterable[UnchangedRow] = (),
) -> ImportSummary:
    """Bring the source's meetings in line with records, all or nothing.

    unchanged_rows: ParseResult.unchanged_rows of a parse given known_rows(source, ...):
    feed rows skipped as seen before (checked here, and parsed here if they changed).

    Raises ImportRefused, changing nothing, when no record is usable or when more than
    max_removal_fraction (default settings.FEED_MAX_REMOVAL_FRACTION) of the source's
    listed meetings would be removed, unless allow_mass_removal.
    """
    started_at = started_at or timezone.now()
    fellowship = fellowship or resolve_fellowship(None, source)
    rejected = list(rejected)
    warnings = list(warnings)
    fellowships = _fellowship_lookup()
    valid: list[MeetingRecord] = []
    for record in records:
        problem = _validate(record)
        if problem:
            rejected.append(Rejection(record.row, record.source_ref, *problem))
        else:
            valid.append(record)

    with transaction.atomic():
        # One import of a source at a time: a second waits here instead of creating the
        # same meetings twice (PostgreSQL; SQLite's IMMEDIATE transactions already queue).
        Source.objects.select_for_update().filter(pk=source.pk).first()
        now = timezone.now()
        # The source's meetings, first as (pk, status, content_hash) by source_ref.
        light: dict[str, tuple[int, str, str]] = {}
        for ref, pk, status, stored in _plain_rows(
            ("source_ref", "id", "status", "content_hash"), source=source
        ):
            light.setdefault(ref, (pk, status, stored))
        summary = ImportSummary(source=source, run=None, rejected=rejected, warnings=warnings)
        # Rows the parser skipped (KnownRows): unchanged when their meetings still hold
        # the row's digest, listed; otherwise parsed now and compared like the others.
        context = _apply_context(fellowship, fellowships)
        kept: set[str] = set()
        active = Status.ACTIVE.value
        for skipped in unchanged_rows:
            refs = skipped.refs
            stored = f"{skipped.digest}{skipped.context}-{len(refs)}"
            if skipped.context == context:
                if len(refs) == 1:  # most rows: one meeting
                    m = light.get(refs[0])
                    held = m is not None and m[1] == active and m[2] == stored
                else:
                    held = all(
                        (m := light.get(ref)) is not None and m[1] == active and m[2] == stored
                        for ref in refs
                    )
                if held:
                    kept.update(refs)
                    continue
            for record in skipped.parse():
                object.__setattr__(record, "digest", stored)  # frozen; made just above
                problem = _validate(record)
                if problem:
                    rejected.append(Rejection(record.row, record.source_ref, *problem))
                else:
                    valid.append(record)
        summary.unchanged += len(kept)

        # Then, for the records to compare, (source_ref, pk, *COMPARED_FIELDS): comparing
        # tuples instead of model instances is what makes a re-import cheap.
        existing = _compared_rows(source, light, valid)
        to_create: list[tuple[MeetingRecord, tuple]] = []
        to_update: list[tuple[int, tuple, str]] = []
        to_stamp: list[tuple[str, int]] = []  # unchanged, but its digest is not stored yet
        for record in valid:
            hinted = _hinted_fellowship(record, fellowships, summary.warnings)
            wanted = _wanted_values(record, (hinted or fellowship).pk)
            digest = record.digest
            if (record.fellowship and hinted is None) or not digest.startswith(context, 24):
                # A warning made here must come again next time; a digest made for other
                # fellowship choices would not describe this meeting: store none.
                digest = ""
            current = existing.get(record.source_ref)
            if current is None:
                to_create.append((record, wanted, digest))
            elif current[2:] != wanted:
                to_update.append((current[1], wanted, digest))
            else:
                summary.unchanged += 1
                if light[record.source_ref][2] != digest:
                    to_stamp.append((digest, current[1]))

        in_feed = {r.source_ref for r in valid} | kept
        rejected_ids = {r.id for r in rejected if r.id}
        listed = [(ref, m[0]) for ref, m in light.items() if m[1] == Status.ACTIVE]
        to_remove = [
            pk
            for ref, pk in listed
            if ref not in in_feed and not _is_rejected_row(ref, rejected_ids)
        ]
        if not allow_mass_removal:
            _refuse_mass_removal(
                len(valid) + len(kept),
                to_remove,
                len(listed),
                rejected,
                summary.warnings,
                max_removal_fraction,
            )

        slugs = _assign_unique_slugs([record.slug for record, _, _ in to_create], source)
        _insert_meetings(to_create, slugs, source=source, now=now)
        # One UPDATE per changed meeting: bulk_update's CASE WHEN per field and row took
        # 6.9 s for 1,000 meetings of 100k on SQLite, these 0.6 s (bench/feeds.py).
        for pk, wanted, digest in to_update:
            Meeting.objects.filter(pk=pk).update(
                **dict(zip(COMPARED_FIELDS, wanted, strict=True)),
                **_derived(wanted),
                content_hash=digest,
                updated_at=now,
                version=F("version") + 1,  # an editor's form open on it now conflicts
            )
        if to_stamp:  # only the digest: the meeting itself is as the feed says
            connection = transaction.get_connection()
            table = connection.ops.quote_name(Meeting._meta.db_table)
            with connection.cursor() as cursor:
                cursor.executemany(f"UPDATE {table} SET content_hash = %s WHERE id = %s", to_stamp)
        removed_pks = to_remove
        for start in range(0, len(removed_pks), BATCH_SIZE):
            Meeting.objects.filter(pk__in=removed_pks[start : start + BATCH_SIZE]).update(
                status=Status.REMOVED, updated_at=now, version=F("version") + 1
            )
        summary.created, summary.updated, summary.removed = (
            len(to_create),
            len(to_update),
            len(to_remove),
        )
        summary.rejected.sort(key=lambda r: r.row)
        if to_create or to_update or to_remove:
            directory_cache.directory_changed()  # on commit: cached searches, feeds (cache.py)
            # The same meeting may now be listed by another source (or no longer be).
            mark_duplicates()

        finished_at = timezone.now()
        summary.run = ImportRun.objects.create(
            source=source,
            started_at=started_at,
            finished_at=finished_at,
            created=summary.created,
            updated=summary.updated,
            unchanged=summary.unchanged,
            removed=summary.removed,
            rejected=[r.as_dict() for r in summary.rejected],
            warnings=[warning_dict(w) for w in summary.warnings],
            status=ImportStatus.APPLIED,
        )
        source.last_imported_at = finished_at
        source.save(update_fields=["last_imported_at"])
    return summary


def known_rows(source: Source | None, fellowship: Fellowship | None = None) -> KnownRows:
    """What the source's last imports stored, for parse_meeting_guide(known=...).

    Feed rows whose digest is here are not parsed again (apply_records checks that their
    meetings still hold it, inside its transaction). fellowship: as given to
    apply_records. One light query: source_ref and content_hash of listed meetings.
    """
    fellowship = fellowship or (resolve_fellowship(None, source) if source else None)
    context = _apply_context(fellowship, _fellowship_lookup()) if fellowship else ""
    if source is None or source.pk is None or fellowship is None:
        return KnownRows(context=context, refs={})
    groups: dict[str, list[str]] = {}
    for ref, stored, status in _plain_rows(("source_ref", "content_hash", "status"), source=source):
        if stored and status == Status.ACTIVE:
            groups.setdefault(stored, []).append(ref)
    refs = {}
    for stored, group in groups.items():
        digest, _, count = stored.rpartition("-")
        # Made with today's fellowship choices, and every meeting of the row is there.
        if digest[24:] == context and count.isdigit() and int(count) == len(group):
            refs[digest[:24]] = tuple(sorted(group))
    return KnownRows(context=context, refs=refs)


def _plain_rows(columns: tuple[str, ...], *, source: Source) -> list[tuple]:
    """Text and integer columns of the source's meetings by pk, without the ORM's
    per-row work (a third of the time for 100,000 rows); no conversion is needed."""
    connection = transaction.get_connection()
    quote = connection.ops.quote_name
    sql = "SELECT {} FROM {} WHERE {} = %s ORDER BY {}".format(
        ", ".join(quote(c) for c in columns),
        quote(Meeting._meta.db_table),
        quote(Meeting._meta.get_field("source").column),
        quote("id"),
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [source.pk])
        return cursor.fetchall()


def _apply_context(fellowship: Fellowship, fellowships: dict[str, Fellowship]) -> str:
    """A digest of what apply_records decides besides the row: the fellowships it picks."""
    text = repr((fellowship.pk, sorted((name, f.pk) for name, f in fellowships.items())))
    return hashlib.blake2b(text.encode(), digest_size=4).hexdigest()


def _compared_rows(
    source: Source, light: dict[str, tuple[int, str, str]], records: list[MeetingRecord]
) -> dict[str, tuple]:
    """(source_ref, pk, *COMPARED_FIELDS) by source_ref, of the meetings records name
    (all of the source's when that is most of them: one query instead of many)."""
    pks = [light[r.source_ref][0] for r in records if r.source_ref in light]
    if not pks:
        return {}
    rows = Meeting.objects.filter(source=source).order_by("pk")
    if len(pks) * 4 < len(light):
        found = {}
        for start in range(0, len(pks), BATCH_SIZE):
            chunk = pks[start : start + BATCH_SIZE]
            for row in rows.filter(pk__in=chunk).values_list("source_ref", "pk", *COMPARED_FIELDS):
                found[row[0]] = row
        return found
    found = {}
    for row in rows.values_list("source_ref", "pk", *COMPARED_FIELDS):
        found.setdefault(row[0], row)
    return found


def _refuse_mass_removal(valid, to_remove, listed, rejected, warnings, fraction) -> None:
    """valid: how many meetings the feed gives; listed: how many the source lists now."""
    fraction = settings.FEED_MAX_REMOVAL_FRACTION if fraction is None else fraction
    if not valid:
        because = f" ({len(rejected)} rows rejected)" if rejected else ""
        raise ImportRefused(
            f"the feed has no usable meetings{because}: nothing changed "
            "(--allow-mass-removal imports it anyway)",
            rejected=rejected,
            warnings=warnings,
        )
    if listed and len(to_remove) > fraction * listed:
        raise ImportRefused(
            f"the feed would remove {len(to_remove)} of the {listed} meetings listed from "
            f"this source, more than FEED_MAX_REMOVAL_FRACTION ({fraction:g}): nothing "
            "changed (--allow-mass-removal imports it anyway)",
            rejected=rejected,
            warnings=warnings,
        )


def _validate(record: MeetingRecord) -> tuple[str, str] | None:
    """(field, reason) when a record cannot be stored; PostgreSQL enforces lengths."""
    for name, limit in _max_lengths():
        value = getattr(record, name)
        if isinstance(value, str) and len(value) > limit:
            return name, f"{name} is longer than {limit} characters"
    return None


@functools.cache
def _max_lengths() -> tuple[tuple[str, int], ...]:
    """(field, max_length) of the record's text fields, in RECORD_FIELDS order."""
    fields = (Meeting._meta.get_field(name) for name in (*RECORD_FIELDS, "source_ref"))
    return tuple((f.name, f.max_length) for f in fields if f.max_length)


def _is_rejected_row(ref: str, rejected_ids: set[str]) -> bool:
    """Whether ref belongs to a row the feed still has but we rejected this time.

    That meeting stays as it was: a typo in the feed should not unlist it. A row of
    several days has refs "<id>-<day>" (see feeds.meeting_guide).
    """
    base, _, day = ref.rpartition("-")
    return ref in rejected_ids or (day.isdigit() and base in rejected_ids)


def _fellowship_lookup() -> dict[str, Fellowship]:
    lookup = {}
    for fellowship in Fellowship.objects.all():
        lookup[fellowship.code.lower()] = fellowship
        lookup[fellowship.name.lower()] = fellowship
    return lookup


def _hinted_fellowship(record, fellowships, warnings) -> Fellowship | None:
    if not record.fellowship:
        return None
    found = fellowships.get(record.fellowship.lower())
    if found is None:
        warnings.append(
            FeedWarning(
                record.row,
                record.source_ref,
                "fellowship",
                f"unknown fellowship {record.fellowship!r}: used the source's",
            )
        )
    return found


def _wanted_values(record: MeetingRecord, fellowship_id: int) -> tuple:
    """The record as Meeting values in COMPARED_FIELDS order (what a listing should hold)."""
    return (
        *[getattr(record, name) for name in RECORD_FIELDS],
        _pack(record.types),
        _pack(record.languages),
        fellowship_id,
        Status.ACTIVE.value,
    )


_WEEKDAY_AT = COMPARED_FIELDS.index("weekday")
_START_AT = COMPARED_FIELDS.index("start_time")


def _derived(wanted: tuple) -> dict:
    """start_minute and week_minute, as Meeting.refresh_derived() sets them on save()."""
    weekday, start = wanted[_WEEKDAY_AT], wanted[_START_AT]
    if weekday is None or start is None:
        return {"start_minute": None, "week_minute": None}
    return {
        "start_minute": start.hour * 60 + start.minute,
        "week_minute": schedule.minute_of_week(weekday, start),
    }


def _insert_meetings(
    rows: list[tuple[MeetingRecord, tuple, str]],
    slugs: list[str],
    *,
    source: Source,
    now: datetime,
) -> None:
    """INSERT the new meetings with one executemany of plain tuples.

    Meeting.objects.bulk_create did the same job 5x slower: Django 5.2 assumes SQLite's
    old 999-variable limit (100,000 meetings became 4,349 INSERTs of 23 rows) and prepares
    every value through the field API (bench/feeds.py). Columns the record does not give
    get the field's default, auto_now(_add) columns `now`, so a column added to Meeting
    later is filled as bulk_create would fill it; values that need the database's own form
    (dates, times, datetimes, JSON) go through get_db_prep_save as bulk_create does.
    """
    if not rows:
        return
    connection = transaction.get_connection()
    fields = [f for f in Meeting._meta.concrete_fields if not f.primary_key]
    given = {name: i for i, name in enumerate(COMPARED_FIELDS)}
    derived_names = ("start_minute", "week_minute")
    plan = []  # per column: ("wanted", index, convert) | ("derived", name, convert) | const
    for f in fields:
        convert = None
        if isinstance(f, _PREPARED_FIELDS):
            convert = functools.partial(_prep, f, connection, memo={})
        if f.attname in given:
            plan.append(("wanted", given[f.attname], convert))
        elif f.attname in derived_names:
            plan.append(("derived", f.attname, convert))
        elif f.attname in ("source_id", "source_ref", "slug", "content_hash"):
            plan.append((f.attname, None, convert))
        else:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            if isinstance(value, enum.Enum):  # TextChoices: psycopg would send the name
                value = value.value
            plan.append(("const", f.get_db_prep_save(value, connection), None))
    values = []
    for (record, wanted, digest), slug in zip(rows, slugs, strict=True):
        derived = _derived(wanted)
        own = {
            "source_id": source.pk,
            "source_ref": record.source_ref,
            "slug": slug,
            "content_hash": digest,
        }
        row = []
        for kind, key, convert in plan:
            if kind == "const":
                row.append(key)
                continue
            if kind == "wanted":
                value = wanted[key]
            elif kind == "derived":
                value = derived[key]
            else:
                value = own[kind]
            row.append(convert(value) if convert is not None and value is not None else value)
        values.append(row)
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(Meeting._meta.db_table),
        ", ".join(quote(f.column) for f in fields),
        ", ".join(["%s"] * len(fields)),
    )
    with connection.cursor() as cursor, _large_sqlite_cache(connection, cursor):
        for start in range(0, len(values), INSERT_BATCH):
            cursor.executemany(sql, values[start : start + INSERT_BATCH])


@contextlib.contextmanager
def _large_sqlite_cache(connection, cursor, kib: int = 256 * 1024):
    """SQLite's page cache raised for a big insert, then put back.

    With the default 2 MB, inserting 100,000 meetings into the table and its indexes
    (one per search, slug, source and place) spills dirty pages to the WAL over and over.
    """
    if connection.vendor != "sqlite":
        yield
        return
    cursor.execute("PRAGMA cache_size")
    (before,) = cursor.fetchone()
    cursor.execute(f"PRAGMA cache_size = {-int(kib)}")
    try:
        yield
    finally:
        cursor.execute(f"PRAGMA cache_size = {int(before)}")


# Fields whose Python values need get_db_prep_save before a raw INSERT (the others,
# text, numbers, booleans and foreign keys, go to both databases as they are).
_PREPARED_FIELDS = (
    models.DateField,  # DateTimeField too
    models.TimeField,
    models.DecimalField,
    models.DurationField,
    models.JSONField,
    models.UUIDField,
)
INSERT_BATCH = 5_000


def _prep(field, connection, value, memo):
    """field.get_db_prep_save, remembered: a feed repeats a few start times and stamps."""
    try:
        return memo[value]
    except KeyError:
        memo[value] = prepared = field.get_db_prep_save(value, connection)
        return prepared


def _assign_unique_slugs(slugs: list[str], source: Source) -> list[str]:
    """Keep the feed's slug when free, else prefix it with the source's; -2, -3... after.

    Slugs must be unique across the whole table (every source, removed meetings too).
    Purely numeric feed slugs ("6" from Edmonton) always get the prefix: a bare number
    in a URL reads like a database id. Returns the slug for each of slugs, in order.
    """
    if not slugs:
        return []
    prefix = slugify(source.name)[:60] or f"source-{source.pk}"
    wanted = []
    for plain in slugs:
        prefixed = f"{prefix}-{plain}"[:200].rstrip("-")
        wanted.append(([] if plain.isdigit() else [plain]) + [prefixed])
    candidates = sorted({slug for options in wanted for slug in options})
    taken: set[str] = set()
    for start in range(0, len(candidates), BATCH_SIZE):
        chunk = candidates[start : start + BATCH_SIZE]
        taken.update(Meeting.objects.filter(slug__in=chunk).values_list("slug", flat=True))
    assigned = []
    for options in wanted:
        free = next((slug for slug in options if slug not in taken), None)
        if free is None:
            # Both taken: Meeting.unique_slug numbers it against the table; the loop
            # steps past slugs this batch has already handed out.
            base, n = options[-1], 1
            free = Meeting.unique_slug(base)
            while free in taken:
                n += 1
                free = Meeting.unique_slug(f"{base}-{n}")
        taken.add(free)
        assigned.append(free)
    return assigned
