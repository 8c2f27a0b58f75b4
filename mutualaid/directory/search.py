"""The one meeting search: the CLI, the web pages and the API all call `search()`.

Plan of a query (measured in bench/search.py, see docs/performance.md):
1. plain filters (listed, visible to the viewer, fellowship, types, language, mode, text,
   weekday, start-minute window) and, near a point, a bounding box that the covering
   (weekday, latitude, longitude, start_minute, ...) index answers;
2. near a point, by distance or upcoming (_search_near): meetings with a place read a
   few columns of the rows in the box and get their exact great-circle distance in
   Python; online meetings (no place) are counted and paged apart; only the page's
   meetings are read in full. Otherwise the distance is SQL (filtered_meetings);
3. ordering by distance, by week order, or by next start ("upcoming"). Next start is
   ordered by minutes-until-start on the local wall clock of each meeting's zone, then
   made exact (DST, fortnightly and monthly schedules) in Python on a short prefix.
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connections, router
from django.db.models import Case, F, FloatField, IntegerField, Q, QuerySet, Value, When
from django.db.models.base import ModelState
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.db.models.signals import post_init, pre_init
from django.utils import timezone as dj_timezone

from mutualaid.lib import geo, schedule, vocabulary

from .models import Approach, Fellowship, Meeting, Mode

DEFAULT_RADIUS_KM = 25.0
MAX_LIMIT = 500
# What a person means by "in person" or "online": a hybrid meeting is both.
MODE_EXPANSION = {
    Mode.IN_PERSON: {Mode.IN_PERSON, Mode.HYBRID},
    Mode.ONLINE: {Mode.ONLINE, Mode.HYBRID},
    Mode.HYBRID: {Mode.HYBRID},
    Mode.INACTIVE: {Mode.INACTIVE},
}
DEFAULT_MODES = (Mode.IN_PERSON, Mode.ONLINE, Mode.HYBRID)
SORTS = ("distance", "start", "week")
GRACE_MINUTES = int(schedule.STARTED_GRACE.total_seconds() // 60)
# Wall-clock minutes and real minutes differ by at most a DST shift; this covers any zone.
DST_MARGIN = timedelta(minutes=120)


class SearchError(ValueError):
    """A search parameter a person got wrong; the message says which and why."""


@dataclass(frozen=True)
class SearchQuery:
    near: tuple[float, float] | None = None
    radius_km: float = DEFAULT_RADIUS_KM
    weekdays: tuple[int, ...] = ()
    start_after: time | None = None  # inclusive
    start_before: time | None = None  # exclusive; before < after wraps past midnight
    types: tuple[str, ...] = ()  # canonical keys, all required
    fellowships: tuple[str, ...] = ()  # fellowship codes, any
    approaches: tuple[str, ...] = ()
    modes: tuple[str, ...] = DEFAULT_MODES
    languages: tuple[str, ...] = ()  # ISO 639-1, any
    text: str = ""
    upcoming: bool = False
    now: datetime | None = None
    viewer_timezone: str | None = None
    sort: str | None = None
    limit: int = 50
    offset: int = 0
    organisation_ids: tuple[int, ...] = ()

    def __post_init__(self):
        if self.near is not None:
            try:
                geo.validate_point(*self.near)
                geo.validate_radius(self.radius_km)
            except (TypeError, ValueError) as exc:
                raise SearchError(str(exc)) from None
        for day in self.weekdays:
            if day not in range(7):
                raise SearchError(f"weekday must be 0 (Monday) .. 6 (Sunday), got {day!r}")
        known_types = vocabulary.meeting_types()
        for key in self.types:
            if key not in known_types:
                raise SearchError(f"unknown meeting type {key!r}")
        for approach in self.approaches:
            if approach not in Approach.values:
                raise SearchError(
                    f"unknown approach {approach!r} (use {', '.join(Approach.values)})"
                )
        for mode in self.modes:
            if mode not in Mode.values:
                raise SearchError(
                    f"unknown attendance mode {mode!r} (use {', '.join(Mode.values)})"
                )
        for code in self.languages:
            if code not in vocabulary.languages():
                raise SearchError(f"unknown language {code!r}")
        if self.now is not None and self.now.tzinfo is None:
            raise SearchError("now must include a UTC offset, e.g. 2026-03-29T18:00:00+01:00")
        if self.viewer_timezone:
            try:
                schedule.zone(self.viewer_timezone)
            except ValueError as exc:
                raise SearchError(str(exc)) from None
        if self.sort is not None and self.sort not in SORTS:
            raise SearchError(f"unknown sort {self.sort!r} (use {', '.join(SORTS)})")
        if self.sort == "distance" and self.near is None:
            raise SearchError("sorting by distance needs a place or a point to measure from")
        if not 1 <= self.limit <= MAX_LIMIT:
            raise SearchError(f"limit must be 1..{MAX_LIMIT}, got {self.limit}")
        if self.offset < 0:
            raise SearchError("offset must not be negative")

    @property
    def effective_sort(self) -> str:
        if self.sort:
            return self.sort
        if self.upcoming:
            return "start"
        return "distance" if self.near else "week"

    @property
    def allowed_modes(self) -> set[str]:
        allowed: set[str] = set()
        for mode in self.modes:
            allowed |= MODE_EXPANSION[Mode(mode)]
        return allowed


@dataclass
class SearchResult:
    meeting: Meeting
    distance_km: float | None
    next_start: datetime | None  # in the meeting's own zone
    now: datetime | None = None

    @property
    def is_stale(self) -> bool:
        return self.meeting.is_stale(self.now or dj_timezone.now())

    def next_start_in(self, zone_name: str | None) -> datetime | None:
        if self.next_start is None or not zone_name:
            return self.next_start
        return self.next_start.astimezone(ZoneInfo(zone_name))

    def as_dict(self, viewer_timezone: str | None = None) -> dict:
        m = self.meeting
        data = {
            "id": m.pk,
            "source_id": m.source_ref or None,
            "slug": m.slug,
            "name": m.name,
            "fellowship": m.fellowship.code,
            "weekday": m.weekday_name or None,
            "schedule": m.schedule_text,
            "start_time": m.start_time.strftime("%H:%M") if m.start_time else None,
            "end_time": m.end_time.strftime("%H:%M") if m.end_time else None,
            "timezone": m.timezone,
            "next_start": self.next_start.isoformat() if self.next_start else None,
            "mode": m.mode,
            "types": m.meeting_guide_types,
            "location": m.location_name or None,
            "address": m.address or None,
            "city": m.city or None,
            "postcode": m.postcode or None,
            "lat": m.latitude,
            "lng": m.longitude,
            "approximate": m.approximate,
            "distance_km": round(self.distance_km, 3) if self.distance_km is not None else None,
            "conference_url": m.conference_url or None,
            "conference_phone": m.conference_phone or None,
            "updated": m.feed_updated_at.isoformat() if m.feed_updated_at else None,
            "last_verified": m.last_verified_at.isoformat() if m.last_verified_at else None,
            "stale": self.is_stale,
        }
        if viewer_timezone:
            viewer = self.next_start_in(viewer_timezone)
            data["next_start_viewer"] = viewer.isoformat() if viewer else None
        return data


@dataclass
class SearchResults:
    query: SearchQuery
    count: int
    results: list[SearchResult] = field(default_factory=list)

    def as_dict(self) -> dict:
        tz = self.query.viewer_timezone
        return {"count": self.count, "results": [r.as_dict(tz) for r in self.results]}


def search(query: SearchQuery) -> SearchResults:
    now = query.now or dj_timezone.now()
    need = query.offset + query.limit
    sort = query.effective_sort
    if query.near is not None and (sort == "distance" or (sort == "start" and query.upcoming)):
        return _search_near(query, now=now, need=need, sort=sort)
    qs = filtered_meetings(query)
    count = qs.count()
    if sort == "start":
        page = _by_next_start(qs, now=now, need=need)[query.offset : need]
        return SearchResults(query, count, page)
    if sort == "distance":
        qs = qs.order_by(F("distance_km").asc(nulls_last=True), "week_minute", "pk")
    else:
        qs = qs.order_by(F("week_minute").asc(nulls_last=True), "name", "pk")
    page = [
        SearchResult(m, getattr(m, "distance_km", None), m.next_start(now), now)
        for m in qs.select_related("fellowship")[query.offset : need]
    ]
    return SearchResults(query, count, page)


def _search_near(query: SearchQuery, *, now: datetime, need: int, sort: str) -> SearchResults:
    """Near a point, by distance or by next start: meetings with a place and online ones apart.

    With a place: SQL reads only the bounding box (the day + box index answers it, and
    covers every column read here) and returns a few columns; the exact distance is
    computed here, once per row, rather than by per-row SQL functions (which SQLite runs
    as Python callbacks). Online meetings have no distance: by distance they come last,
    counted and paged in SQL; by next start their few columns join the others. Rows are
    streamed and counted, and only the best `need` (by distance) or the soonest few (by
    next start) are kept: "near London, 25 km" matches ~306,000 meetings at 1M, which held
    as Python tuples took a worker past 1 GB. Only the page's meetings are read in full.
    """
    from . import search_index  # NumPy: imported by the first near search

    index = search_index.for_query(query)
    if index is not None:  # the same results from arrays in memory (search_index.py)
        count, page, starts = index.search_near(query, now=now, need=need, sort=sort)
        return SearchResults(
            query, count, _results(page, now, fellowships=index.fellowship_objects, starts=starts)
        )
    if sort == "start":  # every row is counted; only the soonest few are kept
        rows = _Counted(_search_near_rows(query))
        page = _rows_by_next_start(
            rows, now=now, need=need, again=lambda: _search_near_rows(query)
        )[query.offset : need]
        return SearchResults(query, rows.count, _results(page, now))
    allowed = query.allowed_modes
    matching = _matching(query, with_time=False)
    placed = _Counted(_placed_within(matching, query, sorted(allowed - {Mode.ONLINE})))
    online = None
    if Mode.ONLINE in allowed:
        online = matching.filter(_time_filter(query), mode=Mode.ONLINE)
    # Same distance: week order, "by appointment" (no week minute) last, as in SQL below.
    nearest = heapq.nsmallest(need, placed, key=_distance_order)
    count = placed.count + (online.count() if online is not None else 0)
    page = [(pk, distance) for pk, distance, *_ in nearest[query.offset : need]]
    if online is not None and len(page) < query.limit and count > placed.count:
        skip = max(0, query.offset - placed.count)
        ordered = online.order_by(F("week_minute").asc(nulls_last=True), "pk").values_list(
            "pk", flat=True
        )
        page += [(pk, None) for pk in ordered[skip : skip + query.limit - len(page)]]
    return SearchResults(query, count, _results(page, now))


_CHUNK_ROWS = 2000  # rows fetched at a time by the SQL path (a server-side cursor on PG)
# Rows kept by wall-clock order for an "upcoming" search on the SQL path (then x8 if short).
KEEP_PER_NEED, KEEP_AT_LEAST = 16, 1000


def _distance_order(row):
    pk, distance, week_minute, _ = row
    return (distance, week_minute is None, week_minute or 0, pk)


class _Counted:
    """An iterable that counts what passes through it (.count once it is exhausted)."""

    def __init__(self, rows):
        self.rows, self.count = rows, 0

    def __iter__(self):
        for row in self.rows:
            self.count += 1
            yield row


def _search_near_rows(query: SearchQuery):
    """(pk, distance_km, week_minute, timezone) of every meeting a near search by next
    start finds: with a place within the radius, then online (distance None); streamed."""
    allowed = query.allowed_modes
    matching = _matching(query, with_time=False)
    yield from _placed_within(matching, query, sorted(allowed - {Mode.ONLINE}))
    if Mode.ONLINE in allowed:
        online = matching.filter(_time_filter(query), mode=Mode.ONLINE)
        for pk, week_minute, zone_name in (
            online.order_by()
            .values_list("pk", "week_minute", "timezone")
            .iterator(chunk_size=_CHUNK_ROWS)
        ):
            yield (pk, None, week_minute, zone_name)


def _placed_within(matching: QuerySet[Meeting], query: SearchQuery, modes: list[str]):
    """(pk, distance_km, week_minute, timezone) of meetings with a place within the radius,
    one at a time (read in chunks: never every match in memory at once).

    The distance is geo.haversine_km, inlined (same operations, so the same float).
    """
    if not modes:
        return
    lat, lng = query.near
    in_box = matching.filter(_in_box(lat, lng, query.radius_km), mode__in=modes).order_by()
    if _includes_unscheduled(query):  # every day, or none: apart, each is an index range
        parts = [in_box.filter(weekday__in=list(range(7))), in_box.filter(weekday__isnull=True)]
    else:
        parts = [in_box.filter(_time_filter(query))]
    rows = itertools.chain.from_iterable(
        part.values_list("pk", "latitude", "longitude", "week_minute", "timezone").iterator(
            chunk_size=_CHUNK_ROWS
        )
        for part in parts
    )
    sin, cos, asin, sqrt = math.sin, math.cos, math.asin, math.sqrt
    to_rad = math.radians
    phi1 = to_rad(lat)
    cos_phi1 = cos(phi1)
    diameter, radius = 2 * geo.EARTH_RADIUS_KM, query.radius_km
    for pk, m_lat, m_lng, week_minute, zone_name in rows:
        phi2 = to_rad(m_lat)
        a = sin((phi2 - phi1) / 2) ** 2 + cos_phi1 * cos(phi2) * sin(to_rad(m_lng - lng) / 2) ** 2
        distance = diameter * asin(min(1.0, sqrt(a)))
        if distance <= radius:
            yield (pk, distance, week_minute, zone_name)


def _results(
    page: list[tuple[int, float | None]],
    now: datetime,
    *,
    fellowships: dict | None = None,
    starts: dict[int, datetime] | None = None,
) -> list[SearchResult]:
    """SearchResults for (pk, distance_km) in this order, reading the meetings in one query
    (starts: next starts already made exact, by pk)."""
    meetings = meetings_by_pk([pk for pk, _ in page], fellowships)
    starts = starts or {}
    return [
        SearchResult(
            meetings[pk],
            distance,
            starts[pk] if pk in starts else meetings[pk].next_start(now),
            now,
        )
        for pk, distance in page
    ]


def meetings_by_pk(pks: list[int], fellowships: dict | None = None) -> dict[int, Meeting]:
    """Meeting.objects.select_related("fellowship").in_bulk(pks), built without the
    queryset machinery: the SQL and the column converters are made once per database,
    and each instance gets its column values as Model.from_db would set them (when no
    pre_init/post_init receiver is listening, which would need Model.__init__). The
    fellowships (a few dozen rows) are read by primary key unless given (pk -> object).
    About 2.7 -> 1 ms for a page of 50 on SQLite (docs/performance.md)."""
    if not pks:
        return {}
    connection = connections[router.db_for_read(Meeting)]
    select, converters, attnames = _page_plan(connection)
    with connection.cursor() as cursor:
        cursor.execute(select + ", ".join(["%s"] * len(pks)) + ")", list(pks))
        rows = cursor.fetchall()
    db = connection.alias
    plain = not (pre_init.has_listeners(Meeting) or post_init.has_listeners(Meeting))
    meetings = {}
    for row in rows:
        values = list(row)
        for i, column, field_converters in converters:
            value = values[i]
            for convert in field_converters:
                value = convert(value, column, connection)
            values[i] = value
        if plain:
            meeting = Meeting.__new__(Meeting)
            meeting.__dict__.update(zip(attnames, values, strict=True))
            meeting._state = ModelState()
            meeting._state.adding = False
            meeting._state.db = db
        else:
            meeting = Meeting.from_db(db, None, values)
        meetings[meeting.pk] = meeting
    wanted = {m.fellowship_id for m in meetings.values()}
    if fellowships is None or not wanted <= fellowships.keys():
        fellowships = Fellowship.objects.using(db).in_bulk(wanted)
    cache_fellowship = Meeting._meta.get_field("fellowship").set_cached_value
    for meeting in meetings.values():
        cache_fellowship(meeting, fellowships[meeting.fellowship_id])
    return meetings


def _page_plan(connection) -> tuple[str, list]:
    """SELECT every Meeting column ... WHERE id IN (, and the ORM's converters per column."""
    plan = _PAGE_PLANS.get(connection.alias)
    if plan is None or plan[0] is not connection.ops:
        table = Meeting._meta.db_table
        fields = Meeting._meta.concrete_fields
        quote = connection.ops.quote_name
        select = "SELECT {} FROM {} WHERE {} IN (".format(
            ", ".join(f"{quote(table)}.{quote(f.column)}" for f in fields),
            quote(table),
            quote(Meeting._meta.pk.column),
        )
        converters = []
        for i, f in enumerate(fields):
            column = f.get_col(table)
            found = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
            if found:
                converters.append((i, column, found))
        attnames = [f.attname for f in fields]
        plan = _PAGE_PLANS[connection.alias] = (connection.ops, select, converters, attnames)
    return plan[1], plan[2], plan[3]


_PAGE_PLANS: dict[str, tuple] = {}


def _rows_by_next_start(rows, *, now: datetime, need: int, again) -> list[tuple[int, float | None]]:
    """_by_next_start for (pk, distance_km, week_minute, timezone) rows read once: order by
    minutes until the wall-clock start, then make the next start exact on a prefix long
    enough to be sure of the first `need`. Returns (pk, distance_km) in next-start order.

    Only the soonest rows by the wall-clock key are kept (a bounded heap, not every row);
    in the rare case that they are not enough to be sure (many fortnightly or monthly
    meetings, whose exact start can be weeks after their weekday's), `again()` gives the
    rows once more and eight times as many are kept."""
    keep = max(KEEP_PER_NEED * need, KEEP_AT_LEAST)
    while True:
        now_minutes: dict[str, int] = {}
        # (soon, pk) are unique: the distance is never compared.
        keyed = heapq.nsmallest(keep + 1, _wall_clock_keyed(rows, now, now_minutes))
        complete = len(keyed) <= keep
        usable = len(keyed) if complete else keep
        margin = _wall_clock_margin(now, now_minutes)
        found: list[tuple[datetime, int, float | None]] = []
        fetched, batch, sure = 0, max(2 * need, 50), complete
        while fetched < usable:
            prefix = keyed[fetched : min(fetched + batch, usable)]
            fetched += len(prefix)
            starts = _next_starts([pk for _, pk, _ in prefix], now)
            found += [(starts[pk], pk, distance) for _, pk, distance in prefix]
            found.sort(key=lambda r: (r[0], r[1]))
            if fetched == len(keyed):
                break
            # No meeting not yet read starts before this instant (keyed[fetched] is the
            # first of them in wall-clock order: the rows not kept come after it).
            horizon = now + timedelta(minutes=keyed[fetched][0] - GRACE_MINUTES) - margin
            if len(found) >= need and found[need - 1][0] < horizon:
                sure = True
                break
            batch *= 2
        if sure:
            return [(pk, distance) for _, pk, distance in found]
        rows, keep = again(), keep * 8


def _wall_clock_keyed(rows, now: datetime, now_minutes: dict[str, int]):
    """(minutes until the wall-clock start, pk, distance_km) of each row; fills now_minutes
    (zone -> the local minute of the week now) with every zone seen."""
    week = schedule.MINUTES_PER_WEEK
    for pk, distance, week_minute, zone_name in rows:
        now_minute = now_minutes.get(zone_name)
        if now_minute is None:
            now_minute = now_minutes[zone_name] = _local_minute_of_week(now, zone_name)
        yield ((week_minute + week + GRACE_MINUTES - now_minute) % week, pk, distance)


def _wall_clock_margin(now: datetime, zone_names) -> timedelta:
    """How much sooner than its wall-clock minutes-until-start a meeting can really start.

    The wall-clock key counts from the start of the current minute (up to a minute early);
    a UTC offset change in the coming week can add up to DST_MARGIN. Offsets are sampled
    hourly from a day before now to eight days after (no zone changes offset twice within
    an hour).
    """
    for name in zone_names:
        tz = schedule.zone(name)
        first = (now - timedelta(days=1)).astimezone(tz).utcoffset()
        for hours in range(-23, 8 * 24 + 1):
            if (now + timedelta(hours=hours)).astimezone(tz).utcoffset() != first:
                return DST_MARGIN
    return timedelta(minutes=1)


def _next_starts(pks: list[int], now: datetime) -> dict[int, datetime]:
    """Meeting.next_start(now) for these meetings, from their schedule columns only."""
    starts = {}
    for i in range(0, len(pks), 500):
        rows = Meeting.objects.filter(pk__in=pks[i : i + 500]).values_list(
            "pk", "weekday", "start_time", "timezone", "frequency", "month_week", "series_anchor"
        )
        for pk, weekday, start_time, zone_name, frequency, month_week, anchor in rows:
            # Meeting.next_start, without building a Meeting (Model.__init__ was 80% of
            # an "upcoming" search's time in Python).
            if weekday is None or start_time is None:
                starts[pk] = None
                continue
            starts[pk] = schedule.next_occurrence(
                weekday=weekday,
                start=start_time,
                tz=schedule.zone(zone_name),
                now=now,
                recurrence=schedule.Recurrence(frequency, nth=month_week, anchor=anchor),
            )
    return starts


def filtered_meetings(query: SearchQuery) -> QuerySet[Meeting]:
    """Every listed meeting the query matches, annotated with distance_km when near a point."""
    allowed = query.allowed_modes
    qs = _matching(query).filter(mode__in=sorted(allowed))
    if query.near is not None:
        qs = _near(qs, query, online_allowed=Mode.ONLINE in allowed)
    return qs


def _matching(query: SearchQuery, *, with_time: bool = True) -> QuerySet[Meeting]:
    """Listed meetings the viewer may see that pass every filter but mode and place (and
    day and time, without with_time)."""
    qs = Meeting.objects.listed().visible_to(query.organisation_ids)
    if query.fellowships:
        qs = qs.filter(fellowship__code__in=list(query.fellowships))
    if query.approaches:
        qs = qs.filter(fellowship__approach__in=list(query.approaches))
    for key in query.types:
        qs = qs.filter(type_codes__contains=f",{key},")
    if query.languages:
        any_language = Q()
        for code in query.languages:
            any_language |= Q(language_codes__contains=f",{code},")
        qs = qs.filter(any_language)
    for word in query.text.split():
        qs = qs.filter(
            Q(name__icontains=word)
            | Q(group_name__icontains=word)
            | Q(location_name__icontains=word)
            | Q(city__icontains=word)
            | Q(notes__icontains=word)
        )
    return qs.filter(_time_filter(query)) if with_time else qs


def _includes_unscheduled(query: SearchQuery) -> bool:
    """Whether "by appointment" meetings (no day) match: no day, time, upcoming or
    next-start order asked (they have no next start to order by)."""
    timed = (
        query.upcoming
        or query.start_after is not None
        or query.start_before is not None
        or query.effective_sort == "start"
    )
    return not query.weekdays and not timed


def _time_filter(query: SearchQuery) -> Q:
    days = sorted(set(query.weekdays)) if query.weekdays else list(range(7))
    # Always name the days: it lets the (weekday, ...) index serve every query.
    condition = Q(weekday__in=days)
    if _includes_unscheduled(query):
        condition |= Q(weekday__isnull=True)  # "by appointment" meetings
    after = _minutes(query.start_after)
    before = _minutes(query.start_before)
    if after is not None and before is not None and before <= after:
        condition &= Q(start_minute__gte=after) | Q(start_minute__lt=before)
    else:
        if after is not None:
            condition &= Q(start_minute__gte=after)
        if before is not None:
            condition &= Q(start_minute__lt=before)
    return condition


def _minutes(value: time | None) -> int | None:
    return None if value is None else value.hour * 60 + value.minute


def distance_expression(lat: float, lng: float):
    """Haversine distance in km from a fixed point, as SQL both databases evaluate natively."""
    import math

    lat_r, lng_r = math.radians(lat), math.radians(lng)
    half_dlat = (Radians(F("latitude")) - Value(lat_r)) / Value(2.0)
    half_dlng = (Radians(F("longitude")) - Value(lng_r)) / Value(2.0)
    a = Power(Sin(half_dlat), 2) + Value(math.cos(lat_r)) * Cos(Radians(F("latitude"))) * Power(
        Sin(half_dlng), 2
    )
    return Value(2.0 * geo.EARTH_RADIUS_KM) * ASin(Sqrt(a))


def _in_box(lat: float, lng: float, radius_km: float) -> Q:
    in_box = Q()
    for min_lat, max_lat, min_lng, max_lng in geo.bounding_boxes(lat, lng, radius_km):
        in_box |= Q(latitude__range=(min_lat, max_lat), longitude__range=(min_lng, max_lng))
    return in_box


def _near(qs: QuerySet[Meeting], query: SearchQuery, *, online_allowed: bool) -> QuerySet[Meeting]:
    lat, lng = query.near
    physical = _in_box(lat, lng, query.radius_km) & ~Q(mode=Mode.ONLINE)
    qs = qs.filter(physical | Q(mode=Mode.ONLINE) if online_allowed else physical)
    qs = qs.annotate(
        distance_km=Case(
            When(mode=Mode.ONLINE, then=Value(None, output_field=FloatField())),
            default=distance_expression(lat, lng),
            output_field=FloatField(),
        )
    )
    within = Q(distance_km__lte=query.radius_km)
    return qs.filter(within | Q(mode=Mode.ONLINE) if online_allowed else within)


def _local_minute_of_week(now: datetime, zone_name: str) -> int:
    local = now.astimezone(schedule.zone(zone_name))
    return schedule.minute_of_week(local.weekday(), local.time())


def _by_next_start(qs: QuerySet[Meeting], *, now: datetime, need: int) -> list[SearchResult]:
    """The first `need` meetings by exact next start, reading only a short prefix in SQL order."""
    zones = sorted(qs.order_by().values_list("timezone", flat=True).distinct())
    if not zones:
        return []
    if len(zones) == 1:
        now_minute = Value(_local_minute_of_week(now, zones[0]))
    else:
        now_minute = Case(
            *[When(timezone=z, then=Value(_local_minute_of_week(now, z))) for z in zones],
            output_field=IntegerField(),
        )
    soon_key = (
        F("week_minute") + Value(schedule.MINUTES_PER_WEEK + GRACE_MINUTES) - now_minute
    ) % Value(schedule.MINUTES_PER_WEEK)
    ordered = qs.annotate(soon_key=soon_key).order_by("soon_key", "pk").select_related("fellowship")
    found: list[SearchResult] = []
    fetched, batch = 0, max(2 * need, 50)
    while True:
        rows = list(ordered[fetched : fetched + batch])
        fetched += len(rows)
        found += [
            SearchResult(m, getattr(m, "distance_km", None), m.next_start(now), now) for m in rows
        ]
        found.sort(key=lambda r: (r.next_start, r.meeting.pk))
        if len(rows) < batch:
            return found
        # No meeting further down the SQL order starts before this instant.
        horizon = now + timedelta(minutes=rows[-1].soon_key - GRACE_MINUTES) - DST_MARGIN
        if len(found) >= need and found[need - 1].next_start < horizon:
            return found
        batch *= 2
