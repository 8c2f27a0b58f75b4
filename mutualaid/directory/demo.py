"""A demo directory: synthetic UK meetings in one source, "Demo data".

`make run` calls `mutualaid demo --if-empty` on every start, so a fresh checkout shows a
believable directory (search "near Brighton" and find meetings) and an existing one is
left alone.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import islice

from django.db import transaction
from django.utils import timezone

from mutualaid.lib import synthetic

from .models import Fellowship, ImportRun, Meeting, Source, SourceFormat

DEMO_SOURCE_NAME = "Demo data"
DEFAULT_COUNT = 1500
DEFAULT_SEED = 2026
BATCH_SIZE = 500
# ~40 towns across the four nations, so most people find something near them; meetings
# are shared out by population, as in real directories.
DEMO_TOWNS = [
    "London", "Birmingham", "Manchester", "Leeds", "Glasgow", "Sheffield", "Liverpool",
    "Bristol", "Edinburgh", "Cardiff", "Leicester", "Belfast", "Coventry", "Nottingham",
    "Newcastle upon Tyne", "Kingston upon Hull", "Brighton", "Hove", "Southampton",
    "Portsmouth", "Plymouth", "Reading", "Derby", "Stoke-on-Trent", "Norwich", "Oxford",
    "Cambridge", "York", "Exeter", "Bath", "Swansea", "Aberdeen", "Dundee", "Milton Keynes",
    "Preston", "Bournemouth", "Worthing", "Hastings", "Canterbury", "Blackpool", "Lincoln",
    "Inverness",
]  # fmt: skip


class DemoError(ValueError):
    """The demo cannot be loaded as asked; the message says why."""


@dataclass(frozen=True)
class DemoResult:
    created: int
    removed: int
    skipped: bool
    seconds: float


def meeting_objects(
    rows: Iterable[Mapping], fellowships_by_code: Mapping[str, Fellowship], *, source=None
) -> Iterator[Meeting]:
    """Unsaved Meetings from `synthetic` dicts, ready for bulk_create.

    bulk_create skips save(), so the derived schedule columns are filled in here.
    """
    for row in rows:
        fields = dict(row)
        code = fields.pop("fellowship_code")
        types = fields.pop("types", ())
        languages = fields.pop("languages", ())
        fields.setdefault("source_ref", fields["slug"])
        meeting = Meeting(fellowship=fellowships_by_code[code], source=source, **fields)
        meeting.types = types
        meeting.languages = languages
        meeting.refresh_derived()
        yield meeting


def fellowships_by_code() -> dict[str, Fellowship]:
    found = {f.code: f for f in Fellowship.objects.all()}
    missing = sorted(set(synthetic.FELLOWSHIP_WEIGHTS) - set(found))
    if missing:
        raise DemoError(
            f"fellowships missing from the database: {', '.join(missing)} (run migrate first)"
        )
    return found


def load_demo(
    count: int = DEFAULT_COUNT,
    *,
    seed: int = DEFAULT_SEED,
    if_empty: bool = False,
    replace: bool = False,
    towns=DEMO_TOWNS,
) -> DemoResult:
    """Load `count` synthetic meetings into the demo source, in one transaction.

    if_empty: do nothing when the directory has any meetings at all.
    replace: delete the demo source's meetings first (other sources are never touched).
    """
    if count < 0:
        raise DemoError(f"count must be 0 or more, got {count}")
    started = time.perf_counter()
    if if_empty and Meeting.objects.exists():
        return DemoResult(0, 0, True, time.perf_counter() - started)
    by_code = fellowships_by_code()
    with transaction.atomic():
        source, _ = Source.objects.get_or_create(
            name=DEMO_SOURCE_NAME,
            defaults={
                "format": SourceFormat.DEMO,
                "location": "mutualaid.lib.synthetic",
                "default_timezone": synthetic.TIMEZONE,
            },
        )
        existing = source.meetings.count()
        if existing and not replace:
            raise DemoError(
                f"the demo is already loaded ({existing} meetings); use --replace to load it again"
            )
        if existing:
            source.meetings.all().delete()
        removed = existing
        now = timezone.now()
        rows = synthetic.generate_meetings(count, seed=seed, towns=towns)
        meetings = meeting_objects(rows, by_code, source=source)
        created = 0
        while True:
            batch = list(islice(meetings, BATCH_SIZE))
            if not batch:
                break
            Meeting.objects.bulk_create(batch)
            created += len(batch)
        source.last_imported_at = timezone.now()
        source.save(update_fields=["last_imported_at"])
        ImportRun.objects.create(
            source=source,
            started_at=now,
            finished_at=source.last_imported_at,
            created=created,
            removed=removed,
        )
    return DemoResult(created, removed, False, time.perf_counter() - started)
