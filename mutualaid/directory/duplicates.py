"""The same meeting arriving from two feeds is shown once, with both sources kept.

Two listings from different sources are one meeting when they share fellowship and
weekday, start within 5 minutes of each other, have similar names, and either meet
within 150 m of each other or (online) share a conference link. The listing with the
lowest id stays the primary; the others point at it with `duplicate_of`.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db import transaction

from mutualaid.lib.geo import haversine_km
from mutualaid.lib.similarity import normalise_url, similar_names

from .models import Meeting, Status

MAX_START_DIFFERENCE_MINUTES = 5
MAX_VENUE_DISTANCE_KM = 0.150
CELL_DEGREES = 0.01  # ~1.1 km: neighbours are found in the 3 x 3 cells around a meeting


@dataclass
class Candidate:
    pk: int
    source_id: int | None
    fellowship_id: int
    weekday: int
    start_minute: int
    name: str
    lat: float | None
    lng: float | None
    url: str
    duplicate_of_id: int | None


def _candidates() -> list[Candidate]:
    rows = (
        Meeting.objects.filter(status=Status.ACTIVE, weekday__isnull=False)
        .order_by("pk")
        .values_list(
            "pk",
            "source_id",
            "fellowship_id",
            "weekday",
            "start_minute",
            "name",
            "latitude",
            "longitude",
            "conference_url",
            "duplicate_of_id",
        )
    )
    return [
        Candidate(pk, src, fel, wd, sm, name, lat, lng, normalise_url(url or ""), dup)
        for pk, src, fel, wd, sm, name, lat, lng, url, dup in rows
    ]


def _same_meeting(a: Candidate, b: Candidate) -> bool:
    if (
        a.source_id == b.source_id
        or abs(a.start_minute - b.start_minute) > MAX_START_DIFFERENCE_MINUTES
    ):
        return False
    if a.lat is not None and b.lat is not None:
        place_matches = haversine_km(a.lat, a.lng, b.lat, b.lng) <= MAX_VENUE_DISTANCE_KM
    else:
        place_matches = bool(a.url) and a.url == b.url
    return place_matches and similar_names(a.name, b.name)


def find_duplicates() -> dict[int, int]:
    """{duplicate pk: primary pk} over every listed meeting."""
    meetings = _candidates()
    buckets: dict[tuple, list[Candidate]] = defaultdict(list)
    for m in meetings:
        if m.lat is not None and m.lng is not None:
            key = (
                "geo",
                m.fellowship_id,
                m.weekday,
                int(m.lat // CELL_DEGREES),
                int(m.lng // CELL_DEGREES),
            )
        elif m.url:
            key = ("url", m.fellowship_id, m.weekday, m.url)
        else:
            continue
        buckets[key].append(m)
    primary_of: dict[int, int] = {}
    for m in meetings:  # ascending pk: the earliest listing becomes the primary
        if m.pk in primary_of:
            continue
        if m.lat is not None and m.lng is not None:
            ci, cj = int(m.lat // CELL_DEGREES), int(m.lng // CELL_DEGREES)
            nearby = [
                other
                for di in (-1, 0, 1)
                for dj in (-1, 0, 1)
                for other in buckets.get(("geo", m.fellowship_id, m.weekday, ci + di, cj + dj), ())
            ]
        elif m.url:
            nearby = buckets.get(("url", m.fellowship_id, m.weekday, m.url), [])
        else:
            continue
        for other in nearby:
            if other.pk > m.pk and other.pk not in primary_of and _same_meeting(m, other):
                primary_of[other.pk] = m.pk
    return primary_of


@transaction.atomic
def mark_duplicates() -> int:
    """Recompute duplicate links; writes only the rows whose link changed. Returns that count."""
    primary_of = find_duplicates()
    current = dict(
        Meeting.objects.filter(duplicate_of__isnull=False).values_list("pk", "duplicate_of_id")
    )
    changed = {pk for pk in set(current) | set(primary_of) if current.get(pk) != primary_of.get(pk)}
    to_clear = [pk for pk in changed if pk not in primary_of]
    if to_clear:
        Meeting.objects.filter(pk__in=to_clear).update(duplicate_of=None)
    by_primary: dict[int, list[int]] = defaultdict(list)
    for pk in changed - set(to_clear):
        by_primary[primary_of[pk]].append(pk)
    for primary, pks in by_primary.items():
        Meeting.objects.filter(pk__in=pks).update(duplicate_of=primary)
    if changed:  # update() sends no signals: tell the caches (after commit)
        from .cache import directory_changed

        directory_changed()
    return len(changed)
