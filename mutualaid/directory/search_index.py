"""An in-process index of listed meetings for searches near a point (search._search_near).

Why (docs/performance.md, search): at 250,000 meetings the database answers a 25 km
search by reading every index entry of the day in a latitude band across the country
and handing each matching row to Python, and Django builds the query each time; NumPy
over arrays held in memory does the same filtering 10-30x faster. So each process keeps
the few columns a near search filters on, as arrays grouped by weekday and sorted by
latitude (a bounding box is then a binary search plus a slice), and answers with meeting
ids; the page's meetings are then read in one query.

Exactly the same results as the SQL path: the same filters on the same values (listed,
visible to the viewer, fellowships, approaches, all-of types as bits, any-of languages
as bits, modes, days, start-minute window, the bounding box, then the great-circle
distance), the same orderings and ties. Distances are computed with NumPy and then, for
every meeting within DISTANCE_EPS of the radius or of the page's last distance, again
with the Python operations of search._placed_within, so that membership, order and the
distances shown are those floats exactly (NumPy's sin/cos may differ in the last bit).

Freshness: the index belongs to one directory generation (cache.py: every change to
what the directory shows moves it, in every process). Each search reads the generation
and the highest meeting id (one statement, two primary-key reads) and rebuilds the index
when either moved, at the second near search of the new generation in this process (the
first uses SQL, so a one-off command never builds it): it reads every listed meeting and
makes the arrays in Python, 6-31 s for 250,000 on a loaded 2-core machine (bench). Inside a transaction searches use SQL (it sees the transaction's own changes).
Text searches use SQL. Directories smaller than
settings.SEARCH_INDEX_MIN_MEETINGS use SQL (fast enough there, no rebuild pauses).
"""

from __future__ import annotations

import math
import threading
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections

from mutualaid.lib import geo, schedule

from .models import DirectoryGeneration, Fellowship, Meeting, Mode, Visibility

# Distances within this of a decision (the radius, the page's last distance) are
# computed again in Python: far more than NumPy's and libm's last-bit differences.
DISTANCE_EPS_KM = 1e-6
NO_DAY = 7  # the group of "by appointment" meetings (weekday NULL)
_COLUMNS = (
    "id",
    "latitude",
    "longitude",
    "weekday",
    "start_minute",
    "week_minute",
    "timezone",
    "mode",
    "type_codes",
    "language_codes",
    "fellowship_id",
    "visibility",
    "organisation_id",
    # the schedule, for exact next starts without reading the database again
    "start_time",
    "frequency",
    "month_week",
    "series_anchor",
)
_lock = threading.Lock()
_indexes: dict[str, NearIndex] = {}
_first_seen: dict[str, tuple] = {}


def for_query(query, using: str = DEFAULT_DB_ALIAS) -> NearIndex | None:
    """The current index for this database, or None when this query should use SQL."""
    if query.text.strip() or not getattr(settings, "SEARCH_INDEX", True):
        return None
    if connections[using].in_atomic_block:
        # A transaction sees its own changes, which no generation describes yet (and a
        # rolled-back one can reuse a generation number): SQL answers inside one.
        return None
    stamp = _generation(using)
    index = _indexes.get(using)
    if index is None or index.stamp != stamp:
        if _first_seen.get(using) != stamp:
            # The first near search of a generation in this process uses SQL: a one-off
            # process (`mutualaid search`) never pays for a build it would use once.
            _first_seen[using] = stamp
            return None
        with _lock:
            index = _indexes.get(using)
            if index is None or index.stamp != stamp:
                index = NearIndex.build(using, stamp)
                _indexes[using] = index
    return index if index.enabled else None


def _generation(using: str) -> tuple:
    """(database, generation, when it moved, highest meeting id), in one statement.

    The time tells apart generations with the same number (a database restored from a
    backup); the highest id sees meetings created without the generation moving (a
    bulk_create whose caller forgot cache.directory_changed())."""
    conn = connections[using]
    quote = conn.ops.quote_name
    generation = quote(DirectoryGeneration._meta.db_table)
    meetings = quote(Meeting._meta.db_table)
    with conn.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT value FROM {generation} WHERE id = 1), "
            f"(SELECT changed_at FROM {generation} WHERE id = 1), "
            f"(SELECT MAX(id) FROM {meetings})"
        )
        row = cursor.fetchone()
    return (conn.settings_dict["NAME"], *row)


class _Bits:
    """Token -> bit, for packed ',a,b,' columns (types, languages): up to 128 tokens."""

    def __init__(self, packed_values):
        tokens = set()
        for packed in set(packed_values):
            tokens.update(t for t in packed.split(",") if t)
        self.bit = {token: i for i, token in enumerate(sorted(tokens))}
        self.ok = len(self.bit) <= 128
        self._memo: dict[str, tuple[int, int]] = {}

    def words(self, packed: str) -> tuple[int, int]:
        found = self._memo.get(packed)
        if found is None:
            lo = hi = 0
            for token in packed.split(","):
                if token:
                    i = self.bit[token]
                    if i < 64:
                        lo |= 1 << i
                    else:
                        hi |= 1 << (i - 64)
            found = self._memo[packed] = (lo, hi)
        return found

    def mask(self, tokens) -> tuple[int, int] | None:
        """The bits of these tokens; None when one is in no meeting at all."""
        lo = hi = 0
        for token in tokens:
            i = self.bit.get(token)
            if i is None:
                return None
            if i < 64:
                lo |= 1 << i
            else:
                hi |= 1 << (i - 64)
        return lo, hi


_MODE_CODES = {mode: i for i, mode in enumerate(Mode.values)}


class _Part:
    """Arrays of one kind of meeting (with a place, or online), grouped by weekday group
    (0-6, NO_DAY) and, with a place, sorted by latitude within a group (then id)."""

    def __init__(self, rows: list[tuple], types: _Bits, languages: _Bits, zones, sort_lat):
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(_COLUMNS)
        ids = np.array(cols[0], dtype=np.int64)
        lat = np.array([math.nan if v is None else v for v in cols[1]], dtype=np.float64)
        group = np.array([NO_DAY if v is None else v for v in cols[3]], dtype=np.int8)
        order = np.lexsort((ids, lat, group) if sort_lat else (ids, group))
        self.ids = ids[order]
        self.lat = lat[order]
        lng = np.array([math.nan if v is None else v for v in cols[2]], dtype=np.float64)
        self.lng = lng[order]
        self.lat_r = np.radians(self.lat)
        self.cos_lat = np.cos(self.lat_r)
        self.start_minute = np.array([-1 if v is None else v for v in cols[4]], np.int32)[order]
        self.week_minute = np.array([-1 if v is None else v for v in cols[5]], np.int64)[order]
        self.zone = np.array([zones.setdefault(z, len(zones)) for z in cols[6]], np.int32)[order]
        other = len(_MODE_CODES)
        self.mode = np.array([_MODE_CODES.get(v, other) for v in cols[7]], np.int8)[order]
        type_words = np.array([types.words(v) for v in cols[8]], np.uint64).reshape(-1, 2)
        self.types_lo, self.types_hi = type_words[order, 0], type_words[order, 1]
        words = np.array([languages.words(v) for v in cols[9]], np.uint64).reshape(-1, 2)
        self.lang_lo, self.lang_hi = words[order, 0], words[order, 1]
        self.fellowship = np.array(cols[10], dtype=np.int64)[order]
        visibility = np.array([str(v) for v in cols[11]], dtype=object)
        self.public = (visibility == Visibility.PUBLIC.value).astype(bool)[order]
        self.restricted = (visibility == Visibility.RESTRICTED.value).astype(bool)[order]
        self.organisation = np.array([-1 if v is None else v for v in cols[12]], np.int64)[order]
        self.weekday = group[order]
        self.schedule = np.array(cols[13], dtype=np.int32)[order]  # see NearIndex.schedules
        bounds = np.searchsorted(group[order], np.arange(NO_DAY + 2), side="left")
        self.groups = {g: (int(bounds[g]), int(bounds[g + 1])) for g in range(NO_DAY + 1)}


class NearIndex:
    def __init__(self, rows: list[tuple], stamp: tuple, fellowships: list[Fellowship], converters):
        self.stamp = stamp
        self.types = _Bits(row[8] for row in rows)
        self.languages = _Bits(row[9] for row in rows)
        minimum = getattr(settings, "SEARCH_INDEX_MIN_MEETINGS", 20_000)
        self.enabled = self.types.ok and self.languages.ok and len(rows) >= minimum
        # Read-only Fellowship objects for the results' meeting.fellowship (a change to a
        # fellowship moves the generation, so these are current).
        self.fellowship_objects = {f.pk: f for f in fellowships}
        self.fellowship_by_code = {f.code: f.pk for f in fellowships}
        # Lookup tables are indexed by fellowship id: as long as the largest in use.
        self.max_fellowship = max([f.pk for f in fellowships] + [r[10] for r in rows] + [0])
        self.fellowships_by_approach: dict[str, set[int]] = {}
        for f in fellowships:
            self.fellowships_by_approach.setdefault(f.approach, set()).add(f.pk)
        if not self.enabled:
            return
        # (start_time, frequency, month_week, series_anchor) by number: rows carry the
        # number (few distinct schedules: times x frequencies x anchors).
        self.schedules: list[tuple] = []
        self._recurrences: dict[int, tuple] = {}
        numbers: dict[tuple, int] = {}
        start_of, anchor_of = converters
        for i, row in enumerate(rows):
            key = (start_of(row[13]), row[14], row[15], anchor_of(row[16]))
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(self.schedules)
                self.schedules.append(key)
            rows[i] = (*row[:13], number)
        self.zones: dict[str, int] = {}
        placed = [r for r in rows if r[7] != Mode.ONLINE and r[1] is not None and r[2] is not None]
        online = [r for r in rows if r[7] == Mode.ONLINE]
        self.placed = _Part(placed, self.types, self.languages, self.zones, sort_lat=True)
        self.online = _Part(online, self.types, self.languages, self.zones, sort_lat=False)
        self.zone_names = sorted(self.zones, key=self.zones.get)

    @classmethod
    def build(cls, using: str, stamp: tuple) -> NearIndex:
        conn = connections[using]
        listed = Meeting.objects.using(using).listed().values_list(*_COLUMNS)
        sql, params = listed.query.sql_with_params()
        with conn.cursor() as cursor:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
        fellowships = list(Fellowship.objects.using(using))
        return cls(
            rows,
            stamp,
            fellowships,
            (_converter(conn, "start_time"), _converter(conn, "series_anchor")),
        )

    # --- filters ----------------------------------------------------------------------

    def _common(self, part: _Part, lo: int, hi: int, query, modes) -> np.ndarray | None:
        """Mask over part[lo:hi] of every filter but place, day and time; None: none match."""
        sl = slice(lo, hi)
        wanted_modes = np.zeros(len(_MODE_CODES) + 1, dtype=bool)  # a lookup table, not isin
        wanted_modes[[_MODE_CODES[m] for m in modes if m in _MODE_CODES]] = True
        mask = wanted_modes[part.mode[sl]]
        if query.types:
            bits = self.types.mask(query.types)
            if bits is None:
                return None
            want_lo, want_hi = np.uint64(bits[0]), np.uint64(bits[1])
            mask &= (part.types_lo[sl] & want_lo) == want_lo
            mask &= (part.types_hi[sl] & want_hi) == want_hi
        if query.languages:
            known = [code for code in query.languages if code in self.languages.bit]
            if not known:
                return None
            any_lo = any_hi = 0
            for code in known:
                w_lo, w_hi = self.languages.mask([code])
                any_lo, any_hi = any_lo | w_lo, any_hi | w_hi
            mask &= ((part.lang_lo[sl] & np.uint64(any_lo)) != 0) | (
                (part.lang_hi[sl] & np.uint64(any_hi)) != 0
            )
        if query.fellowships or query.approaches:
            allowed = None
            if query.fellowships:
                allowed = {self.fellowship_by_code.get(c) for c in query.fellowships}
                allowed.discard(None)
            if query.approaches:
                by_approach = set().union(
                    *(self.fellowships_by_approach.get(a, set()) for a in query.approaches)
                )
                allowed = by_approach if allowed is None else allowed & by_approach
            wanted = np.zeros(self.max_fellowship + 1, dtype=bool)
            wanted[[pk for pk in allowed if pk <= self.max_fellowship]] = True
            mask &= wanted[part.fellowship[sl]]
        visible = part.public[sl]
        if query.organisation_ids:
            own = np.isin(part.organisation[sl], np.array(query.organisation_ids, dtype=np.int64))
            visible = visible | (part.restricted[sl] & own)
        return mask & visible

    def _window(self, part: _Part, lo: int, hi: int, query) -> np.ndarray | bool:
        from .search import _minutes

        after, before = _minutes(query.start_after), _minutes(query.start_before)
        minute = part.start_minute[lo:hi]
        if after is not None and before is not None and before <= after:
            return (minute >= after) | ((minute < before) & (minute >= 0))
        mask = True
        if after is not None:
            mask = minute >= after
        if before is not None:
            mask = mask & (minute < before) & (minute >= 0)
        return mask

    def _groups(self, query) -> tuple[list[int], bool]:
        """Weekday groups to read, and whether the start-minute window applies."""
        from .search import _includes_unscheduled

        if _includes_unscheduled(query):
            return [*range(7), NO_DAY], False
        return (sorted(set(query.weekdays)) if query.weekdays else list(range(7))), True

    def placed_within(self, query, modes) -> tuple[np.ndarray, np.ndarray]:
        """(positions in self.placed, NumPy distances) of meetings with a place within the
        radius, membership decided exactly (see the module's docstring)."""
        part = self.placed
        empty = np.array([], dtype=np.int64), np.array([], dtype=np.float64)
        if not modes:
            return empty
        lat, lng = query.near
        boxes = geo.bounding_boxes(lat, lng, query.radius_km)
        groups, timed = self._groups(query)
        found = []
        for g in groups:
            g_lo, g_hi = part.groups[g]
            if g_lo == g_hi:
                continue
            lats = part.lat[g_lo:g_hi]
            for min_lat, max_lat, min_lng, max_lng in boxes:
                lo = g_lo + int(np.searchsorted(lats, min_lat, side="left"))
                hi = g_lo + int(np.searchsorted(lats, max_lat, side="right"))
                if lo >= hi:
                    continue
                mask = self._common(part, lo, hi, query, modes)
                if mask is None:
                    return empty
                lngs = part.lng[lo:hi]
                mask &= (lngs >= min_lng) & (lngs <= max_lng)
                if timed:
                    mask &= self._window(part, lo, hi, query)
                found.append(lo + np.flatnonzero(mask))
        if not found:
            return empty
        pos = np.concatenate(found)
        if len(boxes) > 1:
            pos = np.unique(pos)
        phi1 = math.radians(lat)
        a = (
            np.sin((part.lat_r[pos] - phi1) / 2) ** 2
            + math.cos(phi1) * part.cos_lat[pos] * np.sin(np.radians(part.lng[pos] - lng) / 2) ** 2
        )
        distance = 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        radius = query.radius_km
        keep = distance <= radius - DISTANCE_EPS_KM
        close = np.flatnonzero(np.abs(distance - radius) <= DISTANCE_EPS_KM)
        for i in close.tolist():
            exact = _exact_km(lat, lng, float(part.lat[pos[i]]), float(part.lng[pos[i]]))
            keep[i] = exact <= radius
        return pos[keep], distance[keep]

    def online_matching(self, query) -> np.ndarray:
        """Positions in self.online of matching online meetings (any place or none)."""
        part = self.online
        groups, _ = self._groups(query)  # the window applies whenever given (_time_filter)
        found = []
        for g in groups:
            lo, hi = part.groups[g]
            if lo == hi:
                continue
            mask = self._common(part, lo, hi, query, {Mode.ONLINE})
            if mask is None:
                return np.array([], dtype=np.int64)
            mask &= self._window(part, lo, hi, query)
            found.append(lo + np.flatnonzero(mask))
        return np.concatenate(found) if found else np.array([], dtype=np.int64)

    # --- the search -------------------------------------------------------------------

    def search_near(self, query, *, now: datetime, need: int, sort: str):
        """search._search_near from the index: (count, [(pk, distance_km or None)] page,
        exact next starts by pk when the order needed them, else None)."""
        allowed = query.allowed_modes
        pos, approx = self.placed_within(query, allowed - {Mode.ONLINE})
        online = self.online_matching(query) if Mode.ONLINE in allowed else None
        n_online = 0 if online is None else len(online)
        count = len(pos) + n_online
        lat, lng = query.near
        part = self.placed
        if sort == "start":
            found = self._by_next_start(pos, online, now=now, need=need)
            page = found[query.offset : need]
            starts = {pk: start for pk, _, start in page}
            return (
                count,
                [
                    (
                        pk,
                        None
                        if p < 0
                        else _exact_km(lat, lng, float(part.lat[p]), float(part.lng[p])),
                    )
                    for pk, p, _ in page
                ],
                starts,
            )
        # By distance, exactly: the page's candidates (NumPy distance up to the need-th
        # one's plus twice the margin) ordered by exact distance, week minute, pk.
        page: list[tuple[int, float | None]] = []
        if len(pos):
            k = min(need, len(pos))
            kth = np.partition(approx, k - 1)[k - 1]
            near = np.flatnonzero(approx <= kth + 2 * DISTANCE_EPS_KM)
            rows = []
            for i in near.tolist():
                p = pos[i]
                week_minute = int(part.week_minute[p])
                rows.append(
                    (
                        _exact_km(lat, lng, float(part.lat[p]), float(part.lng[p])),
                        week_minute < 0,
                        max(week_minute, 0),
                        int(part.ids[p]),
                    )
                )
            rows.sort()
            page = [(pk, distance) for distance, _, _, pk in rows[query.offset : need]]
        if online is not None and len(page) < query.limit and count > len(pos):
            skip = max(0, query.offset - len(pos))
            week_minute = self.online.week_minute[online]
            order = np.lexsort(
                (self.online.ids[online], np.maximum(week_minute, 0), week_minute < 0)
            )
            ids = self.online.ids[online[order[skip : skip + query.limit - len(page)]]]
            page += [(int(pk), None) for pk in ids.tolist()]
        return count, page, None

    def _recurrence(self, number: int) -> tuple:
        """(start_time, Recurrence) of a schedule number; made when first needed, as
        Meeting.next_start makes it (and raises for the same invalid rows)."""
        found = self._recurrences.get(number)
        if found is None:
            start_time, frequency, nth, anchor = self.schedules[number]
            recurrence = schedule.Recurrence(frequency, nth=nth, anchor=anchor)
            found = self._recurrences[number] = (start_time, recurrence)
        return found

    def _by_next_start(self, pos, online, *, now: datetime, need: int):
        """search._rows_by_next_start over the index's arrays: the wall-clock key in NumPy,
        exact next starts (search._next_starts) for a prefix long enough to be sure."""
        from .search import GRACE_MINUTES, _local_minute_of_week, _wall_clock_margin

        parts = [(self.placed, pos, True)]
        if online is not None:
            parts.append((self.online, online, False))
        ids, week_minute, zone, placed_at, weekday, numbers = [], [], [], [], [], []
        for part, at, placed in parts:
            ids.append(part.ids[at])
            week_minute.append(part.week_minute[at])
            zone.append(part.zone[at])
            placed_at.append(at if placed else np.full(len(at), -1, dtype=np.int64))
            weekday.append(part.weekday[at])
            numbers.append(part.schedule[at])
        ids = np.concatenate(ids)
        if not len(ids):
            return []
        week_minute, zone = np.concatenate(week_minute), np.concatenate(zone)
        placed_at = np.concatenate(placed_at)
        weekday, numbers = np.concatenate(weekday), np.concatenate(numbers)
        present = np.unique(zone)
        now_minutes = {
            self.zone_names[z]: _local_minute_of_week(now, self.zone_names[z])
            for z in present.tolist()
        }
        now_of_zone = np.zeros(len(self.zone_names), dtype=np.int64)
        for z in present.tolist():
            now_of_zone[z] = now_minutes[self.zone_names[z]]
        week = schedule.MINUTES_PER_WEEK
        soon = (week_minute + week + GRACE_MINUTES - now_of_zone[zone]) % week
        order = np.lexsort((ids, soon))
        soon, ids, placed_at = soon[order], ids[order], placed_at[order]
        weekday, numbers, zone = weekday[order], numbers[order], zone[order]
        zones = [schedule.zone(name) for name in self.zone_names]
        margin = _wall_clock_margin(now, now_minutes)
        found: list[tuple[datetime, int, int]] = []
        fetched, batch, total = 0, max(2 * need, 50), len(ids)
        while True:
            window = slice(fetched, fetched + batch)
            prefix = ids[window].tolist()
            at = placed_at[window].tolist()
            fetched += len(prefix)
            # Meeting.next_start from the index's copy of the schedule columns.
            for pk, p, day, number, z in zip(
                prefix,
                at,
                weekday[window].tolist(),
                numbers[window].tolist(),
                zone[window].tolist(),
                strict=True,
            ):
                start_time, recurrence = self._recurrence(number)
                start = schedule.next_occurrence(
                    weekday=day, start=start_time, tz=zones[z], now=now, recurrence=recurrence
                )
                found.append((start, pk, p))
            found.sort(key=lambda r: (r[0], r[1]))
            if fetched == total:
                break
            horizon = now + timedelta(minutes=int(soon[fetched]) - GRACE_MINUTES) - margin
            if len(found) >= need and found[need - 1][0] < horizon:
                break
            batch *= 2
        return [(pk, p, start) for start, pk, p in found]


def _converter(connection, name: str):
    """The ORM's conversion of one column's raw database value (a time, a date), memoised:
    the values a queryset would give, for the few distinct values a column holds."""
    field = Meeting._meta.get_field(name)
    column = field.get_col(Meeting._meta.db_table)
    steps = connection.ops.get_db_converters(column) + column.get_db_converters(connection)
    memo = {}

    def convert(value):
        try:
            return memo[value]
        except KeyError:
            converted = value
            for step in steps:
                converted = step(converted, column, connection)
            memo[value] = converted
            return converted

    return convert


def _exact_km(lat: float, lng: float, m_lat: float, m_lng: float) -> float:
    """search._placed_within's distance, operation for operation (the same float)."""
    phi1 = math.radians(lat)
    phi2 = math.radians(m_lat)
    a = (
        math.sin((phi2 - phi1) / 2) ** 2
        + math.cos(phi1) * math.cos(phi2) * math.sin(math.radians(m_lng - lng) / 2) ** 2
    )
    return 2 * geo.EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))
