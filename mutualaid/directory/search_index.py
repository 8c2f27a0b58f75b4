"""An in-process index of listed meetings for searches near a point (search._search_near).

Why (docs/performance.md, search): at 250,000 meetings the database answers a 25 km
search by reading every index entry of the day in a latitude band across the country
and handing each matching row to Python, and Django builds the query each time; NumPy
over arrays held in memory does the same filtering 10-30x faster. So each process keeps
the few columns a near search filters on, as arrays grouped by weekday and sorted by
latitude (a bounding box is then a binary search plus a slice), and answers with meeting
ids; the page's meetings are then read in one query.

Exactly the same results as the SQL path: the same filters on the same values (listed,
visible to the viewer, fellowships, approaches, all-of types, any-of languages, modes,
days, start-minute window, the bounding box, then the great-circle distance), the same
orderings and ties. Distances are computed with NumPy and then, for every meeting within
DISTANCE_EPS of the radius or of the page's last distance, again with the Python
operations of search._placed_within, so that membership, order and the distances shown
are those floats exactly (NumPy's sin/cos may differ in the last bit).

Small: each column in the narrowest integer type its values need (chosen when the build
ends), latitude and longitude as stored (float64: the exact recompute needs them), types
and languages as a number into the table of distinct packed values (a query turns its
wanted tokens into a yes/no table over those few thousand values, then one lookup per
meeting); about 40 bytes a meeting. Built with bounded memory: rows are read with
fetchmany (a server-side cursor on PostgreSQL) and turned into small arrays chunk by
chunk, never a list of every row.

Freshness: the index belongs to a stamp: the directory generation (cache.py: every
change to what the directory shows moves it, in every process), when it moved, and the
highest meeting id, read in one statement before each search; an index whose stamp is
not the current one never answers. The build reads its stamp, the fellowships and the
rows in one snapshot (a REPEATABLE READ, READ ONLY transaction on PostgreSQL; a deferred,
read-only transaction on SQLite, whose WAL gives it one snapshot without locking out
writers), so the index is exactly the directory of its stamp.

When it is built (settings.SEARCH_INDEX_BUILD): the first near search of a new stamp in a
process uses SQL and builds nothing (a one-off process, `mutualaid search`, never pays
for a build it would use once). At the next one, "background" (the default) starts a
daemon thread that builds the index on its own database connection (at most one per
process and database) while searches keep using SQL; the thread swaps the index in only
if its stamp is still the current one, logs a failure (no row data) and lets a search
SEARCH_INDEX_RETRY_SECONDS later start another. "inline" builds in the search that asks
(deterministic: for tests and benchmarks). Inside a transaction searches use SQL (it sees
the transaction's own changes). Text searches use SQL. Directories smaller than
settings.SEARCH_INDEX_MIN_MEETINGS use SQL (fast enough there).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from contextlib import contextmanager
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from mutualaid.lib import geo, schedule

from .models import DirectoryGeneration, Fellowship, Meeting, Mode, Visibility

logger = logging.getLogger(__name__)

# Distances within this of a decision (the radius, the page's last distance) are
# computed again in Python: far more than NumPy's and libm's last-bit differences.
DISTANCE_EPS_KM = 1e-6
NO_DAY = 7  # the group of "by appointment" meetings (weekday NULL)
FETCH_ROWS = 5_000  # rows per fetchmany while building: a few MB of Python tuples
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
_lock = threading.Lock()  # guards the dicts below (never held during a background build)
_indexes: dict[str, NearIndex] = {}
_first_seen: dict[str, tuple] = {}
_builders: dict[str, threading.Thread] = {}  # database -> the thread building its index
_failed_at: dict[str, float] = {}  # database -> time.monotonic() of its last failed build
_inline_lock = threading.Lock()  # one inline build at a time


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
    if index is not None and index.stamp == stamp:
        return index if index.enabled else None
    if index is not None:
        # Stale: it never answers again; let go of it now rather than hold two at once.
        with _lock:
            if _indexes.get(using) is index:
                del _indexes[using]
    if _first_seen.get(using) != stamp:
        # The first near search of a stamp in this process uses SQL: a one-off process
        # (`mutualaid search`) never pays for a build it would use once.
        _first_seen[using] = stamp
        return None
    if build_mode() == "inline":
        with _inline_lock:
            index = _indexes.get(using)
            if index is None or index.stamp != stamp:
                index = NearIndex.build(using)
                with _lock:
                    _indexes[using] = index
                _release_free_memory()
        return index if index.stamp == stamp and index.enabled else None
    start_build(using)
    return None  # SQL answers while the index is built


def build_mode() -> str:
    mode = getattr(settings, "SEARCH_INDEX_BUILD", "background")
    if mode not in ("background", "inline"):
        raise ValueError(f"SEARCH_INDEX_BUILD must be 'background' or 'inline', got {mode!r}")
    return mode


def start_build(using: str = DEFAULT_DB_ALIAS) -> threading.Thread | None:
    """Start a background build of this database's index, unless one is running or the
    last one failed less than SEARCH_INDEX_RETRY_SECONDS ago; returns the new thread."""
    with _lock:
        running = _builders.get(using)
        if running is not None and running.is_alive():
            return None
        failed = _failed_at.get(using)
        retry = getattr(settings, "SEARCH_INDEX_RETRY_SECONDS", 60)
        if failed is not None and time.monotonic() - failed < retry:
            return None
        thread = threading.Thread(
            target=_build_in_background,
            args=(using,),
            name=f"search-index-{using}",
            daemon=True,  # never keeps a process from exiting
        )
        _builders[using] = thread
        thread.start()
        return thread


def wait_for_build(using: str = DEFAULT_DB_ALIAS, timeout: float | None = None) -> bool:
    """Wait for this database's background build, if one is running; True when none is."""
    thread = _builders.get(using)
    if thread is not None:
        thread.join(timeout)
        return not thread.is_alive()
    return True


def _build_in_background(using: str) -> None:
    started = time.monotonic()
    try:
        index = NearIndex.build(using)
        current = _generation(using)
        with _lock:
            swapped = index.stamp == current
            if swapped:
                _indexes[using] = index
                _failed_at.pop(using, None)
        logger.info(
            "search index for database %r: %d meetings, %.1f MB, built in %.1f s; %s",
            using,
            index.size,
            index.nbytes / 2**20,
            time.monotonic() - started,
            (
                ("in use" if index.enabled else "not used (a small directory: SQL answers)")
                if swapped
                else "discarded (the directory changed meanwhile)"
            ),
        )
    except Exception as exc:
        with _lock:
            _failed_at[using] = time.monotonic()
        # The class and where, not the message: no row's values in the log.
        logger.error(
            "search index build failed for database %r after %.1f s (%s); searches use SQL,"
            " a later one retries",
            using,
            time.monotonic() - started,
            type(exc).__name__,
        )
    finally:
        connections[using].close()  # this thread's own connection
        _release_free_memory()
        with _lock:
            if _builders.get(using) is threading.current_thread():
                del _builders[using]


def _release_free_memory() -> None:
    """Give the C heap's free pages back to the system (glibc's malloc_trim): a build's
    row tuples and chunk arrays are freed, but the heap (and the builder thread's own
    arena) would otherwise keep their pages resident for the life of the worker."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


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


@contextmanager
def _snapshot(conn):
    """One read-only snapshot for every statement inside (see the module's docstring)."""
    if conn.vendor == "sqlite":
        # Not transaction.atomic(): the project's SQLite transactions are IMMEDIATE (they
        # take the write lock); a deferred read transaction in WAL mode holds one
        # snapshot from its first read and blocks no writer.
        conn.ensure_connection()
        with conn.cursor() as cursor:
            cursor.execute("BEGIN DEFERRED")
        try:
            yield
        finally:
            with conn.cursor() as cursor:
                cursor.execute("COMMIT")
        return
    with transaction.atomic(using=conn.alias):
        if conn.vendor == "postgresql":
            with conn.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        yield


_UNKNOWN = object()


class _Bits:
    """The distinct packed ',a,b,' values of a column (types, languages) and their tokens
    as 128-bit masks: meetings hold a value's number; a query makes a yes/no table over
    the values (a few thousand), then looks each meeting's number up in it."""

    def __init__(self, values: list[str]):
        tokens = set()
        for packed in values:
            tokens.update(t for t in packed.split(",") if t)
        self.bit = {token: i for i, token in enumerate(sorted(tokens))}
        self.ok = len(self.bit) <= 128
        self.lo = np.zeros(len(values), dtype=np.uint64)
        self.hi = np.zeros(len(values), dtype=np.uint64)
        if self.ok:
            for n, packed in enumerate(values):
                lo = hi = 0
                for token in packed.split(","):
                    if token:
                        i = self.bit[token]
                        if i < 64:
                            lo |= 1 << i
                        else:
                            hi |= 1 << (i - 64)
                self.lo[n], self.hi[n] = lo, hi
        self._memo: dict[tuple, np.ndarray | None] = {}

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

    def all_of(self, tokens) -> np.ndarray | None:
        """Yes/no by value number: has every one of these tokens; None: no value has."""
        key = ("all", *tokens)
        table = self._memo.get(key, _UNKNOWN)
        if table is _UNKNOWN:
            bits = self.mask(tokens)
            table = None
            if bits is not None:
                want_lo, want_hi = np.uint64(bits[0]), np.uint64(bits[1])
                table = ((self.lo & want_lo) == want_lo) & ((self.hi & want_hi) == want_hi)
            self._remember(key, table)
        return table

    def any_of(self, tokens) -> np.ndarray | None:
        """Yes/no by value number: has at least one of these tokens; None: no value has."""
        key = ("any", *tokens)
        table = self._memo.get(key, _UNKNOWN)
        if table is _UNKNOWN:
            known = [t for t in tokens if t in self.bit]
            table = None
            if known:
                any_lo = any_hi = 0
                for token in known:
                    w_lo, w_hi = self.mask([token])
                    any_lo, any_hi = any_lo | w_lo, any_hi | w_hi
                table = ((self.lo & np.uint64(any_lo)) != 0) | ((self.hi & np.uint64(any_hi)) != 0)
            self._remember(key, table)
        return table

    def _remember(self, key, table) -> None:
        # Shared by a worker's threads: a table is returned from the local, never re-read
        # from the memo another thread may be clearing.
        if len(self._memo) >= 512:
            self._memo.clear()
        self._memo[key] = table

    @property
    def nbytes(self) -> int:
        return self.lo.nbytes + self.hi.nbytes


_MODE_CODES = {mode: i for i, mode in enumerate(Mode.values)}
_ONLINE = _MODE_CODES[Mode.ONLINE]
_VISIBILITY_CODES = {Visibility.PUBLIC.value: 0, Visibility.RESTRICTED.value: 1}  # else 2


def _narrow(values: np.ndarray) -> np.ndarray:
    """values in the narrowest signed integer type that holds them all."""
    if not len(values):
        return values.astype(np.int8)
    low, high = int(values.min()), int(values.max())
    for dtype in (np.int8, np.int16, np.int32, np.int64):
        info = np.iinfo(dtype)
        if info.min <= low and high <= info.max:
            return values.astype(dtype, copy=False)
    raise ValueError("integer column out of range")


class _Builder:
    """Rows of the listed-meeting SELECT, chunk by chunk, into per-chunk arrays."""

    # column -> dtype as read (chunks are then narrowed, and each column again when sorted)
    FIELDS = {
        "ids": np.int64,
        "lat": np.float64,
        "lng": np.float64,
        "group": np.int8,
        "start_minute": np.int16,
        "week_minute": np.int16,
        "zone": np.int32,
        "mode": np.int8,
        "types": np.int32,
        "languages": np.int32,
        "fellowship": np.int64,
        "visibility": np.int8,
        "organisation": np.int64,
        "schedule": np.int32,
    }

    def __init__(self, converters):
        self.start_of, self.anchor_of = converters
        self.rows = 0
        self.chunks = {
            "placed": {f: [] for f in self.FIELDS},
            "online": {f: [] for f in self.FIELDS},
        }
        self.zones: dict[str, int] = {}
        self.types: dict[str, int] = {}
        self.languages: dict[str, int] = {}
        self.schedule_numbers: dict[tuple, int] = {}
        self.max_fellowship = 0

    def add(self, rows: list[tuple]) -> None:
        self.rows += len(rows)
        cols = list(zip(*rows, strict=True))
        zones, types, languages = self.zones, self.types, self.languages
        numbers, start_of, anchor_of = self.schedule_numbers, self.start_of, self.anchor_of
        other = len(_MODE_CODES)
        schedules = []
        for start, frequency, nth, anchor in zip(
            cols[13], cols[14], cols[15], cols[16], strict=True
        ):
            key = (start_of(start), frequency, nth, anchor_of(anchor))
            number = numbers.get(key)
            if number is None:
                number = numbers[key] = len(numbers)
            schedules.append(number)
        arrays = {
            "ids": np.array(cols[0], dtype=np.int64),
            "lat": np.array(cols[1], dtype=np.float64),  # None -> nan
            "lng": np.array(cols[2], dtype=np.float64),
            "group": np.array([NO_DAY if v is None else v for v in cols[3]], np.int8),
            "start_minute": np.array([-1 if v is None else v for v in cols[4]], np.int16),
            "week_minute": np.array([-1 if v is None else v for v in cols[5]], np.int16),
            "zone": np.array([zones.setdefault(z, len(zones)) for z in cols[6]], np.int32),
            "mode": np.array([_MODE_CODES.get(v, other) for v in cols[7]], np.int8),
            "types": np.array([types.setdefault(v, len(types)) for v in cols[8]], np.int32),
            "languages": np.array(
                [languages.setdefault(v, len(languages)) for v in cols[9]], np.int32
            ),
            "fellowship": np.array(cols[10], dtype=np.int64),
            "visibility": np.array([_VISIBILITY_CODES.get(str(v), 2) for v in cols[11]], np.int8),
            "organisation": np.array([-1 if v is None else v for v in cols[12]], np.int64),
            "schedule": np.array(schedules, dtype=np.int32),
        }
        self.max_fellowship = max(self.max_fellowship, int(arrays["fellowship"].max()))
        # The chunks are held until the end: each integer column as narrow as its values.
        for field in ("ids", "zone", "types", "languages", "fellowship", "organisation"):
            arrays[field] = _narrow(arrays[field])
        arrays["schedule"] = _narrow(arrays["schedule"])
        online = arrays["mode"] == _ONLINE
        placed = ~online & ~np.isnan(arrays["lat"]) & ~np.isnan(arrays["lng"])
        for name, mask in (("placed", placed), ("online", online)):
            for field, values in arrays.items():
                self.chunks[name][field].append(values[mask])

    def part(self, name: str, *, sort_lat: bool) -> _Part:
        chunks = self.chunks.pop(name)
        return _Part(chunks, sort_lat=sort_lat, fields=self.FIELDS)


class _Part:
    """Arrays of one kind of meeting (with a place, or online), grouped by weekday group
    (0-6, NO_DAY) and, with a place, sorted by latitude within a group (then id)."""

    def __init__(self, chunks: dict[str, list[np.ndarray]], *, sort_lat: bool, fields):
        def column(name):
            found = chunks.pop(name)
            values = np.concatenate(found) if found else np.array([], dtype=fields[name])
            found.clear()
            return values

        ids, group = column("ids"), column("group")
        lat = column("lat") if sort_lat else None
        order = np.lexsort((ids, lat, group) if sort_lat else (ids, group))
        self.ids = _narrow(ids[order])
        del ids
        self.weekday = group[order]
        del group
        if sort_lat:
            self.lat, self.lng = lat[order], column("lng")[order]
            del lat
        else:  # online meetings: a place they may have is not searched
            column("lat"), column("lng")
            self.lat = self.lng = np.array([], dtype=np.float64)
        for name in ("start_minute", "week_minute", "mode", "visibility"):
            setattr(self, name, column(name)[order])
        for name in ("zone", "types", "languages", "fellowship", "organisation", "schedule"):
            setattr(self, name, _narrow(column(name)[order]))
        bounds = np.searchsorted(self.weekday, np.arange(NO_DAY + 2), side="left")
        self.groups = {g: (int(bounds[g]), int(bounds[g + 1])) for g in range(NO_DAY + 1)}

    @property
    def nbytes(self) -> int:
        return sum(v.nbytes for v in vars(self).values() if isinstance(v, np.ndarray))

    def __len__(self) -> int:
        return len(self.ids)


class NearIndex:
    def __init__(self, built: _Builder, stamp: tuple, fellowships: list[Fellowship]):
        self.stamp = stamp
        self.size = built.rows
        self.types = _Bits(list(built.types))
        self.languages = _Bits(list(built.languages))
        minimum = getattr(settings, "SEARCH_INDEX_MIN_MEETINGS", 20_000)
        self.enabled = self.types.ok and self.languages.ok and built.rows >= minimum
        # Read-only Fellowship objects for the results' meeting.fellowship (a change to a
        # fellowship moves the generation, so these are current).
        self.fellowship_objects = {f.pk: f for f in fellowships}
        self.fellowship_by_code = {f.code: f.pk for f in fellowships}
        # Lookup tables are indexed by fellowship id: as long as the largest in use.
        self.max_fellowship = max([f.pk for f in fellowships] + [built.max_fellowship, 0])
        self.fellowships_by_approach: dict[str, set[int]] = {}
        for f in fellowships:
            self.fellowships_by_approach.setdefault(f.approach, set()).add(f.pk)
        # (start_time, frequency, month_week, series_anchor) by number: rows carry the
        # number (few distinct schedules: times x frequencies x anchors).
        self.schedules: list[tuple] = list(built.schedule_numbers)
        self._recurrences: dict[int, tuple] = {}
        self.zone_names = sorted(built.zones, key=built.zones.get)
        if not self.enabled:
            built.chunks.clear()
            return
        self.placed = built.part("placed", sort_lat=True)
        self.online = built.part("online", sort_lat=False)

    @property
    def nbytes(self) -> int:
        """Bytes held in arrays (the Python objects around them are a few hundred kB)."""
        if not self.enabled:
            return 0
        return self.placed.nbytes + self.online.nbytes + self.types.nbytes + self.languages.nbytes

    @classmethod
    def build(cls, using: str) -> NearIndex:
        """Read every listed meeting, its stamp and the fellowships in one snapshot."""
        conn = connections[using]
        listed = Meeting.objects.using(using).listed().values_list(*_COLUMNS)
        sql, params = listed.query.get_compiler(using=using).as_sql()
        with _snapshot(conn):
            stamp = _generation(using)
            fellowships = list(Fellowship.objects.using(using))
            built = _Builder((_converter(conn, "start_time"), _converter(conn, "series_anchor")))
            if conn.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS"):
                cursor = conn.cursor()  # behind a pooler that cannot keep them
            else:
                cursor = conn.chunked_cursor()  # server-side on PostgreSQL
            try:
                cursor.execute(sql, params)
                while rows := cursor.fetchmany(FETCH_ROWS):
                    built.add(rows)
                    del rows
            finally:
                cursor.close()
        return cls(built, stamp, fellowships)

    # --- filters ----------------------------------------------------------------------

    def _common(self, part: _Part, lo: int, hi: int, query, modes) -> np.ndarray | None:
        """Mask over part[lo:hi] of every filter but place, day and time; None: none match."""
        sl = slice(lo, hi)
        wanted_modes = np.zeros(len(_MODE_CODES) + 1, dtype=bool)  # a lookup table, not isin
        wanted_modes[[_MODE_CODES[m] for m in modes if m in _MODE_CODES]] = True
        mask = wanted_modes[part.mode[sl]]
        if query.types:
            table = self.types.all_of(tuple(query.types))
            if table is None:
                return None
            mask &= table[part.types[sl]]
        if query.languages:
            table = self.languages.any_of(tuple(query.languages))
            if table is None:
                return None
            mask &= table[part.languages[sl]]
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
        visibility = part.visibility[sl]
        visible = visibility == 0
        if query.organisation_ids:
            own = np.isin(part.organisation[sl], np.array(query.organisation_ids, dtype=np.int64))
            visible |= (visibility == 1) & own
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
        lat_r = np.radians(part.lat[pos])
        a = (
            np.sin((lat_r - phi1) / 2) ** 2
            + math.cos(phi1) * np.cos(lat_r) * np.sin(np.radians(part.lng[pos] - lng) / 2) ** 2
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
            week_minute.append(part.week_minute[at].astype(np.int64))
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
