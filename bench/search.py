"""How fast is `search()` on SQLite and PostgreSQL, against a NumPy brute force?

    .venv/bin/python bench/search.py                     # 250k and 1M, SQLite and PostgreSQL
    .venv/bin/python bench/search.py --quick             # 20k, a smoke run (docs untouched)
    .venv/bin/python bench/search.py --sizes 250000 --databases sqlite --queries 50

The parent process starts a throwaway PostgreSQL (port 54340, 127.0.0.1 only) when asked,
then runs one child process per database and size, so that each sets Django up with its
own DATABASE_URL. A child migrates, loads synthetic meetings clustered around real UK
towns (once: an SQLite file under var/bench/ is reused when its marker matches), runs
ANALYZE, warms up, then times `search(SearchQuery(...))` at random centres drawn from the
towns. The first child of each size also times a NumPy brute force (haversine + the same
filters over in-memory arrays of the same rows, read back from the database) and checks
that it finds the same number of meetings for every query. The parent prints one
markdown table, writes bench/out/search.json and the `bench:search` section of
docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import sys
import time as _time
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import common

GOALS_MS = {  # query -> {size: SQLite p95 goal in ms}; "upcoming" is within 3x of the day query
    "day_window_type": {250_000: 3.0, 1_000_000: 10.0},
    "upcoming_type": {250_000: 9.0, 1_000_000: 30.0},
}
QUERIES = {
    "day_window_type": "25 km + weekday + 18:00–21:00 + one type, by distance",
    "upcoming_type": "upcoming: 25 km + one type, by next start",
    "upcoming_all": "upcoming: 25 km, by next start",
    "nearest_10km": "10 km, nearest first",
    "day_text": "weekday + one word of text, week order",
}
QUERY_TYPES = ("wheelchair", "women")
TEXT_WORDS = ("hope", "serenity", "step", "church", "library", "recovery")
FIRST_NOW = datetime(2026, 12, 7, tzinfo=UTC)  # a Monday; each centre adds up to a week
BENCH_SOURCE = "bench:search synthetic"


def var_dir() -> Path:
    return Path(os.environ.get("MUTUALAID_VAR_DIR", common.PROJECT_DIR / "var"))


# --- the meetings -------------------------------------------------------------------


def towns() -> list[tuple[str, float, float, int]]:
    """(name, lat, lng, population) of the towns the synthetic meetings cluster around."""
    from mutualaid.lib import synthetic

    return [
        (t.local, t.lat, t.lng, getattr(t, "weight", None) or t.population)
        for t in synthetic.all_towns()
    ]


def generator_fingerprint(seed: int) -> str:
    """Changes when mutualaid.lib.synthetic changes the meetings it makes for this seed."""
    import hashlib
    import itertools

    from mutualaid.lib.synthetic import generate_meetings

    sample = repr(list(itertools.islice(generate_meetings(50, seed=seed), 50)))
    return hashlib.sha1(sample.encode()).hexdigest()[:12]


def _meetings(n: int, seed: int):
    """Unsaved Meeting objects with derived fields filled in."""
    from mutualaid.directory.models import Fellowship, Meeting
    from mutualaid.lib.synthetic import generate_meetings

    fellowships = {f.code: f for f in Fellowship.objects.all()}
    for row in generate_meetings(n, seed=seed):
        types, languages = row.pop("types"), row.pop("languages")
        code = row.pop("fellowship_code")
        meeting = Meeting(**row, fellowship=fellowships[code])
        meeting.types, meeting.languages = types, languages
        meeting.refresh_derived()
        yield meeting


def _rows(meetings, fields, connection):
    """Database values of `fields` for each meeting, as Django's bulk_create would send them."""
    from django.db import models

    now = datetime.now(UTC)
    plan = []
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            fixed = f.get_db_prep_save(now, connection)
            plan.append((None, lambda _v, fixed=fixed: fixed))
        elif isinstance(f, models.DateField | models.TimeField | models.JSONField):
            plan.append((f.attname, lambda v, f=f: f.get_db_prep_save(v, connection)))
        else:
            plan.append((f.attname, None))
    for m in meetings:
        yield tuple(
            (convert(getattr(m, attname) if attname else None) if convert else getattr(m, attname))
            for attname, convert in plan
        )


def load(n: int, seed: int, batch: int = 20_000) -> dict:
    """Fill an empty meeting table with n synthetic meetings; returns what it took."""
    import itertools

    from django.db import connection, transaction

    from mutualaid.directory.models import Meeting

    fields = [f for f in Meeting._meta.concrete_fields if not f.primary_key]
    table = Meeting._meta.db_table
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    started = _time.perf_counter()
    meetings = _meetings(n, seed)
    loaded = 0
    with transaction.atomic():
        connection.ensure_connection()
        raw = connection.connection
        if connection.vendor == "sqlite":
            raw.execute("PRAGMA cache_size = -1000000")
            sql = f"INSERT INTO {table} ({columns}) VALUES ({', '.join('?' * len(fields))})"
        while chunk := list(itertools.islice(meetings, batch)):
            rows = list(_rows(chunk, fields, connection))
            if connection.vendor == "sqlite":
                raw.executemany(sql, rows)
            else:
                with (
                    raw.cursor() as cursor,
                    cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
                ):
                    for row in rows:
                        copy.write_row(row)
            loaded += len(rows)
            common.log(f"  loaded {loaded:,}/{n:,} ({_time.perf_counter() - started:.0f} s)")
    load_s = _time.perf_counter() - started
    started = _time.perf_counter()
    analyse()
    return {"load_s": round(load_s, 1), "analyze_s": round(_time.perf_counter() - started, 1)}


def analyse() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("ANALYZE")
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        else:  # VACUUM also sets the visibility map, as autovacuum would soon after a load
            cursor.execute("VACUUM ANALYZE")


def ensure_loaded(n: int, seed: int) -> dict:
    """Reuse the database when its marker says it holds these meetings; otherwise reload."""
    from django.db import connection

    from mutualaid.directory.models import Meeting, Source

    marker = f"{BENCH_SOURCE} n={n} seed={seed} generator={generator_fingerprint(seed)}"
    if Source.objects.filter(name=marker).exists() and Meeting.objects.count() == n:
        common.log(f"  reusing {n:,} meetings ({marker})")
        started = _time.perf_counter()
        analyse()  # migrations may have added indexes since
        return {"reused": True, "analyze_s": round(_time.perf_counter() - started, 1)}
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {Meeting._meta.db_table}")
    Source.objects.filter(name__startswith=BENCH_SOURCE).delete()
    took = load(n, seed)
    Source.objects.create(name=marker, format="demo")
    return {"reused": False, **took}


# --- the queries --------------------------------------------------------------------


def make_specs(n_centres: int, seed: int) -> list[dict]:
    """n_centres random centres drawn from the towns in proportion to population (people
    search where they live), each with its own instant, weekday, type and word; every
    query kind runs at every centre."""
    rng = random.Random(seed * 7919 + 1)
    places = towns()
    weights = [t[3] for t in places]
    specs = []
    for _ in range(n_centres):
        _, lat, lng, _ = rng.choices(places, weights)[0]
        specs.append(
            {
                "near": (round(lat + rng.gauss(0, 0.03), 5), round(lng + rng.gauss(0, 0.05), 5)),
                "now": FIRST_NOW + timedelta(minutes=rng.randrange(7 * 24 * 60)),
                "weekday": rng.randrange(7),
                "type": rng.choice(QUERY_TYPES),
                "word": rng.choice(TEXT_WORDS),
            }
        )
    return specs


def query_kwargs(kind: str, spec: dict) -> dict:
    near, now = spec["near"], spec["now"]
    if kind == "day_window_type":
        return {
            "near": near,
            "radius_km": 25.0,
            "weekdays": (spec["weekday"],),
            "start_after": time(18, 0),
            "start_before": time(21, 0),
            "types": (spec["type"],),
            "now": now,
        }
    if kind == "upcoming_type":
        return {
            "near": near,
            "radius_km": 25.0,
            "types": (spec["type"],),
            "upcoming": True,
            "now": now,
        }
    if kind == "upcoming_all":
        return {"near": near, "radius_km": 25.0, "upcoming": True, "now": now}
    if kind == "nearest_10km":
        return {"near": near, "radius_km": 10.0, "sort": "distance", "now": now}
    if kind == "day_text":
        return {"weekdays": (spec["weekday"],), "text": spec["word"], "now": now}
    raise ValueError(kind)


# --- timing the database ------------------------------------------------------------


class SqlClock:
    """Time spent inside cursor.execute (the database's share), and how many statements."""

    def __init__(self):
        self.seconds = 0.0
        self.statements = 0

    def __call__(self, execute, sql, params, many, context):
        started = _time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += _time.perf_counter() - started
            self.statements += 1


def _server_cpu_s(connection) -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL server process, if readable."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def time_database(specs: list[dict], kinds) -> dict:
    import gc

    from django.db import connection

    from mutualaid.directory.search import SearchQuery, search

    out = {}
    for kind in kinds:
        queries = [SearchQuery(**query_kwargs(kind, spec)) for spec in specs]
        for q in queries:  # warm-up: page cache, statement cache, zoneinfo, ...
            search(q)
        gc.collect()
        server_before = _server_cpu_s(connection)
        totals, cpu, sql_times, counts, pages, statements = [], [], [], [], [], []
        clock = SqlClock()
        with connection.execute_wrapper(clock):
            for q in queries:
                clock.seconds, clock.statements = 0.0, 0
                cpu_started = _time.process_time()
                started = _time.perf_counter()
                result = search(q)
                totals.append(_time.perf_counter() - started)
                cpu.append(_time.process_time() - cpu_started)
                sql_times.append(clock.seconds)
                statements.append(clock.statements)
                counts.append(result.count)
                pages.append([r.meeting.pk for r in result.results])
        server = _server_cpu_s(connection) - server_before if server_before is not None else 0.0
        out[kind] = {
            **common.summarise_ms(totals),
            # Mean CPU per search of this process and, on PostgreSQL, of its server process
            # (read from /proc in clock ticks, so only a mean over all the searches).
            "cpu_mean_ms": round((sum(cpu) + server) * 1000 / len(cpu), 3),
            # CPU time of this process: SQLite's work and ours, not PostgreSQL's; less
            # sensitive than wall time to other processes competing for the cores.
            "cpu_p50_ms": common.summarise_ms(cpu)["p50_ms"],
            "cpu_p95_ms": common.summarise_ms(cpu)["p95_ms"],
            # Inside cursor.execute: PostgreSQL's whole statement, SQLite's up to the first row.
            "execute_p50_ms": common.summarise_ms(sql_times)["p50_ms"],
            "statements": max(statements),
            "median_count": sorted(counts)[len(counts) // 2],
            "counts": counts,
            "pages": pages,
        }
        common.log(
            f"  {kind:16} p50 {out[kind]['p50_ms']:8.2f} ms  p95 {out[kind]['p95_ms']:8.2f} ms"
            f"  (CPU p50 {out[kind]['cpu_p50_ms']:.2f} ms, median count {out[kind]['median_count']})"
        )
    return out


def explain(specs: list[dict], kinds) -> dict:
    """The plan of every statement search() runs for each kind, at the first centre."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from mutualaid.directory.search import SearchQuery, search

    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN ANALYZE "
    plans = {}
    for kind in kinds:
        with CaptureQueriesContext(connection) as captured:
            search(SearchQuery(**query_kwargs(kind, specs[0])))
        plans[kind] = []
        for statement in captured.captured_queries:
            with connection.cursor() as cursor:
                cursor.execute(prefix + statement["sql"])
                plan = [" ".join(str(c) for c in row) for row in cursor.fetchall()]
            plans[kind].append({"sql": statement["sql"], "time": statement["time"], "plan": plan})
    return plans


# --- the NumPy brute force ----------------------------------------------------------


class NumpyBaseline:
    """The same meetings as NumPy arrays, and the same filters written as array operations.

    It returns the count and the first page of ids: by distance or week order exactly as
    search() does; for "upcoming" by minutes until the wall-clock start, i.e. the SQL
    order before search() refines fortnightly/monthly meetings in Python. It builds no
    objects, so it is a floor for what any in-memory search could do.
    """

    COLUMNS = (
        "id, mode, weekday, start_minute, week_minute, latitude, longitude, timezone, "
        "type_codes, name, group_name, location_name, city, notes"
    )
    SCHEDULE = ("weekday", "start_time", "timezone", "frequency", "month_week", "series_anchor")

    def __init__(self, rows: list[tuple], listed_ids: list[int], type_keys):
        import numpy as np

        from mutualaid.directory.search import DEFAULT_MODES, MODE_EXPANSION

        self.np = np
        cols = list(zip(*rows, strict=True)) if rows else [()] * 14
        self.ids = np.array(cols[0], dtype=np.int64)
        # Which rows are listed and public is the model's business (status, duplicates...).
        self.public_listed = np.isin(self.ids, np.array(listed_ids, dtype=np.int64))
        mode = np.array(cols[1])
        self.online = mode == "online"
        allowed = set()
        for m in DEFAULT_MODES:
            allowed |= {str(x) for x in MODE_EXPANSION[m]}
        self.mode_ok = np.isin(mode, sorted(allowed))
        self.weekday = np.array([-1 if v is None else v for v in cols[2]], dtype=np.int16)
        self.start_minute = np.array([-1 if v is None else v for v in cols[3]], dtype=np.int32)
        self.week_minute = np.array([-1 if v is None else v for v in cols[4]], dtype=np.int64)
        self.lat = np.array([np.nan if v is None else v for v in cols[5]], dtype=np.float64)
        self.lng = np.array([np.nan if v is None else v for v in cols[6]], dtype=np.float64)
        self.lat_r, self.lng_r = np.radians(self.lat), np.radians(self.lng)
        self.cos_lat = np.cos(self.lat_r)
        zones = np.array(cols[7])
        self.zone_names, self.zone_idx = np.unique(zones, return_inverse=True)
        packed = np.array(cols[8], dtype=np.dtypes.StringDType())
        self.has_type = {k: np.strings.find(packed, f",{k},") >= 0 for k in type_keys}
        hay = ["\x00".join(parts).lower() for parts in zip(*cols[9:14], strict=True)]
        self.hay = np.array(hay, dtype=np.dtypes.StringDType())
        order = np.argsort(np.array(cols[9], dtype=np.dtypes.StringDType()), kind="stable")
        self.name_rank = np.empty(len(order), dtype=np.int64)
        self.name_rank[order] = np.arange(len(order))
        self.base = self.public_listed & self.mode_ok

    def _by_next_start(self, rows, keys, now, limit):
        """The first `limit` rows by exact next start, given rows in wall-clock key order:
        exact next starts for a prefix, as long as a later row could still come first."""
        from mutualaid.directory import search as selector
        from mutualaid.lib import schedule

        margin_of = getattr(selector, "_wall_clock_margin", None)
        zones = {self.zone_names[z] for z in set(self.zone_idx[rows].tolist())}
        margin = margin_of(now, zones) if margin_of else selector.DST_MARGIN
        found, fetched, batch = [], 0, max(2 * limit, 50)
        while fetched < len(rows):
            for i in rows[fetched : fetched + batch].tolist():
                weekday, start, zone, frequency, nth, anchor = self.schedule[i]
                recurrence = schedule.Recurrence(frequency, nth=nth, anchor=anchor)
                start = schedule.next_occurrence(
                    weekday=weekday,
                    start=start,
                    tz=schedule.zone(zone),
                    now=now,
                    recurrence=recurrence,
                )
                found.append((start, int(self.ids[i]), i))
            fetched += batch
            found.sort()
            if fetched >= len(rows):
                break
            horizon = now + timedelta(minutes=int(keys[fetched]) - selector.GRACE_MINUTES) - margin
            if len(found) >= limit and found[limit - 1][0] < horizon:
                break
            batch *= 2
        return [i for _, _, i in found[:limit]]

    @classmethod
    def from_database(cls, type_keys) -> NumpyBaseline:
        from django.db import connection

        from mutualaid.directory.models import Meeting

        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {cls.COLUMNS} FROM {Meeting._meta.db_table} ORDER BY id")
            rows = cursor.fetchall()
        listed = list(Meeting.objects.listed().visible_to().values_list("id", flat=True))
        baseline = cls(rows, listed, type_keys)
        schedules = list(Meeting.objects.order_by("id").values_list("id", *cls.SCHEDULE))
        baseline.schedule = [row[1:] for row in schedules]
        assert [row[0] for row in schedules] == baseline.ids.tolist()
        return baseline

    def search(self, kw: dict) -> tuple[int, list[int]]:
        from mutualaid.directory.search import GRACE_MINUTES
        from mutualaid.lib import geo, schedule

        np = self.np
        mask = self.base.copy()
        for key in kw.get("types", ()):
            mask &= self.has_type[key]
        days = kw.get("weekdays", ())
        upcoming = kw.get("upcoming", False)
        after, before = kw.get("start_after"), kw.get("start_before")
        if days:
            mask &= np.isin(self.weekday, days) if len(days) > 1 else self.weekday == days[0]
        elif upcoming or after or before:
            mask &= self.weekday >= 0
        if after is not None:
            mask &= self.start_minute >= after.hour * 60 + after.minute
        if before is not None:
            mask &= self.start_minute < before.hour * 60 + before.minute
        candidates = np.flatnonzero(mask)
        for word in kw.get("text", "").split():
            found = np.strings.find(self.hay[candidates], word.lower()) >= 0
            candidates = candidates[found]
        distance = None
        if kw.get("near") is not None:
            lat, lng = kw["near"]
            radius = kw.get("radius_km", 25.0)
            physical = ~self.online[candidates]
            (lo_lat, hi_lat, lo_lng, hi_lng), *more = geo.bounding_boxes(lat, lng, radius)
            assert not more, "the bench centres are far from the antimeridian"
            c_lat, c_lng = self.lat[candidates], self.lng[candidates]
            in_box = (c_lat >= lo_lat) & (c_lat <= hi_lat) & (c_lng >= lo_lng) & (c_lng <= hi_lng)
            candidates = candidates[in_box & physical | ~physical]
            lat0, lng0 = np.radians(lat), np.radians(lng)
            a = (
                np.sin((self.lat_r[candidates] - lat0) / 2) ** 2
                + np.cos(lat0)
                * self.cos_lat[candidates]
                * np.sin((self.lng_r[candidates] - lng0) / 2) ** 2
            )
            distance = 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.sqrt(a))
            online = self.online[candidates]
            keep = online | (distance <= radius)
            candidates, distance = candidates[keep], np.where(online, np.inf, distance)[keep]
        count = len(candidates)
        limit = kw.get("limit", 50)
        if upcoming:
            now = kw["now"]
            now_minute = np.array(
                [
                    schedule.minute_of_week(
                        (local := now.astimezone(schedule.zone(z))).weekday(), local.time()
                    )
                    for z in self.zone_names
                ],
                dtype=np.int64,
            )
            week = schedule.MINUTES_PER_WEEK
            key = (
                self.week_minute[candidates]
                + week
                + GRACE_MINUTES
                - now_minute[self.zone_idx[candidates]]
            ) % week
            order = np.lexsort((self.ids[candidates], key))
            page = self._by_next_start(candidates[order], key[order], now, limit)
            return count, self.ids[page].tolist()
        elif distance is not None:
            order = np.lexsort((self.ids[candidates], self.week_minute[candidates], distance))
        else:
            order = np.lexsort(
                (self.ids[candidates], self.name_rank[candidates], self.week_minute[candidates])
            )
        return count, self.ids[candidates[order[:limit]]].tolist()


def time_numpy(baseline: NumpyBaseline, specs: list[dict], kinds, db: dict | None) -> dict:
    out = {}
    for kind in kinds:
        kws = [query_kwargs(kind, spec) for spec in specs]
        for kw in kws:
            baseline.search(kw)
        totals, counts, pages = [], [], []
        for kw in kws:
            started = _time.perf_counter()
            count, page = baseline.search(kw)
            totals.append(_time.perf_counter() - started)
            counts.append(count)
            pages.append(page)
        out[kind] = {
            **common.summarise_ms(totals),
            "median_count": sorted(counts)[len(counts) // 2],
        }
        out[kind]["counts"] = counts
        if db and kind in db:
            out[kind]["counts_agree"] = counts == db[kind]["counts"]
            same = [a == b for a, b in zip(pages, db[kind]["pages"], strict=True)]
            out[kind]["pages_agree"] = sum(same) / len(same)
        common.log(
            f"  {'numpy ' + kind:22} p50 {out[kind]['p50_ms']:8.2f} ms  p95 {out[kind]['p95_ms']:8.2f} ms"
            f"  counts agree: {out[kind].get('counts_agree')},"
            f" pages agree: {out[kind].get('pages_agree', 0):.0%}"
        )
    return out


# --- one child: one database, one size ----------------------------------------------


def _proc_status_mb(name: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) / 1024
    return math.nan


def _index_nbytes(index) -> int:
    """Bytes in the index's NumPy arrays (any version of search_index.py)."""
    import numpy as np

    total = 0
    for holder in (index.placed, index.online, index.types, index.languages):
        total += sum(v.nbytes for v in vars(holder).values() if isinstance(v, np.ndarray))
    return total


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    # Built by the search that needs it, so that it is timed here, apart from searches.
    os.environ.setdefault("SEARCH_INDEX_BUILD", "inline")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    kinds = list(QUERIES)
    size = args.size
    common.log(f"[{args.database} {common.size_label(size)}] {connection.settings_dict['NAME']}")
    started = _time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    migrate_s = _time.perf_counter() - started
    build = {"migrate_s": round(migrate_s, 1), **ensure_loaded(size, args.seed)}
    # The in-process index (mutualaid/directory/search_index.py) is built by the first
    # near search of a process and after every change; timed here, apart from searches.
    from mutualaid.directory import search_index
    from mutualaid.directory.search import SearchQuery

    probe = SearchQuery(near=(51.5, -0.12), now=FIRST_NOW)
    search_index.for_query(probe)  # the first near search of a generation uses SQL
    rss_before = _proc_status_mb("VmRSS")
    try:  # reset the peak (VmHWM) to the current RSS: the build's own peak is then read
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass
    started = _time.perf_counter()
    index = search_index.for_query(probe)
    build["index_s"] = round(_time.perf_counter() - started, 2) if index is not None else None
    if index is not None:
        build["index_mb"] = round(_index_nbytes(index) / 2**20, 1)
        build["index_build_peak_mb"] = round(_proc_status_mb("VmHWM") - rss_before, 1)
        build["index_retained_mb"] = round(_proc_status_mb("VmRSS") - rss_before, 1)
        common.log(
            f"  index built in {build['index_s']} s: arrays {build['index_mb']} MB, RSS"
            f" +{build['index_build_peak_mb']} MB at the peak of the build,"
            f" +{build['index_retained_mb']} MB after"
        )
    if args.index_only:
        Path(args.json_out).write_text(json.dumps({"build": build}))
        return
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT sqlite_version()")
        else:
            cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    specs = make_specs(args.queries, args.seed)
    load_before = os.getloadavg()
    result = {
        "database": args.database,
        "vendor": connection.vendor,
        "version": version,
        "size": size,
        "build": build,
        "queries": time_database(specs, kinds),
    }
    if args.explain:
        result["plans"] = explain(specs, kinds)
    if args.numpy:
        started = _time.perf_counter()
        baseline = NumpyBaseline.from_database(QUERY_TYPES)
        result["numpy_load_s"] = round(_time.perf_counter() - started, 1)
        result["numpy"] = time_numpy(baseline, specs, kinds, result["queries"])
    result["loadavg"] = [round(x, 2) for x in (*load_before, *os.getloadavg())]
    for timings in result["queries"].values():
        del timings["pages"]
    Path(args.json_out).write_text(json.dumps(result, indent=1, default=str))


# --- the parent ---------------------------------------------------------------------


def sqlite_url(size: int) -> str:
    path = var_dir() / "bench" / f"bench-{common.size_label(size)}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{path}"


def run_all(args, save) -> dict:
    import signal

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `finally` stops PostgreSQL
    machine = common.machine_info()
    runs = []
    report = {"machine": machine, "args": vars(args) | {"sizes": args.sizes}, "runs": runs}
    pg = None
    try:
        if "postgres" in args.databases:
            pg = common.ThrowawayPostgres(port=args.pg_port).start()
            machine["postgresql"] = pg.version
            common.log(f"PostgreSQL {pg.version} on 127.0.0.1:{args.pg_port} in {pg.tmp}")
        for size in args.sizes:
            for i, database in enumerate(args.databases):
                if database == "sqlite":
                    url = sqlite_url(size)
                else:
                    url = pg.create_database(f"bench_{common.size_label(size).lower()}")
                argv = [
                    __file__,
                    "--child",
                    "--database",
                    database,
                    "--size",
                    str(size),
                    "--queries",
                    str(args.queries),
                    "--seed",
                    str(args.seed),
                ]
                argv += ["--numpy"] if i == 0 and not args.no_numpy else []
                argv += ["--explain"] if args.explain else []
                runs.append(common.run_child(argv, env={"DATABASE_URL": url}))
                save(report)  # a run cut short still leaves what it measured
                if database == "postgres" and not args.keep_pg:
                    pg.psql(f"DROP DATABASE bench_{common.size_label(size).lower()}")
    finally:
        if pg is not None:
            pg.stop()
    return report


def table(report: dict) -> str:
    sizes = sorted({r["size"] for r in report["runs"]})
    databases = [
        d for d in ("sqlite", "postgres") if any(r["database"] == d for r in report["runs"])
    ]
    names = {"sqlite": "SQLite", "postgres": "PG"}
    by = {(r["size"], r["database"]): r for r in report["runs"]}
    headers = ["query"]
    for size in sizes:
        label = common.size_label(size)
        headers += [f"{names[d]} {label} p50/p95" for d in databases]
        headers += [f"NumPy {label} p50/p95", f"rows {label}"]
    headers += ["goal (SQLite p95)", "met: wall / CPU"]
    rows = []
    for kind, title in QUERIES.items():
        row = [title]
        verdicts, cpu_verdicts, goal_texts = [], [], []
        for size in sizes:
            numpy_part = "–"
            count = "–"
            for d in databases:
                run = by.get((size, d))
                q = run["queries"][kind] if run else None
                row.append(
                    f"{common.fmt_ms(q['p50_ms'])} / {common.fmt_ms(q['p95_ms'])}" if q else "–"
                )
                if run and "numpy" in run:
                    nq = run["numpy"][kind]
                    numpy_part = f"{common.fmt_ms(nq['p50_ms'])} / {common.fmt_ms(nq['p95_ms'])}"
                    count = str(q["median_count"])
            row += [numpy_part, count]
            goal = GOALS_MS.get(kind, {}).get(size)
            if goal is not None:
                goal_texts.append(f"≤ {goal:g} ms @{common.size_label(size)}")
                sqlite_run = by.get((size, "sqlite"))
                if sqlite_run:
                    verdicts.append(sqlite_run["queries"][kind]["p95_ms"] <= goal)
                    # CPU: other processes on a loaded machine stretch wall time, not this.
                    cpu_verdicts.append(sqlite_run["queries"][kind]["cpu_p95_ms"] <= goal)
        row.append(", ".join(goal_texts) or "–")
        if verdicts:
            row.append(
                f"{'yes' if all(verdicts) else 'no'} / {'yes' if all(cpu_verdicts) else 'no'}"
            )
        else:
            row.append("–")
        rows.append(row)
    return common.markdown_table(headers, rows)


def cpu_table(report: dict) -> str:
    """CPU per search, which other work on the machine disturbs less than wall time."""
    runs = sorted(report["runs"], key=lambda r: (r["size"], r["database"] != "sqlite"))
    headers = ["query"] + [
        f"{'SQLite' if r['database'] == 'sqlite' else 'PG'} {common.size_label(r['size'])}"
        + (" p50/p95/mean" if r["database"] == "sqlite" else " mean")
        for r in runs
    ]
    rows = []
    for kind, title in QUERIES.items():
        row = [title]
        for r in runs:
            q = r["queries"][kind]
            if r["database"] == "sqlite":
                row.append(
                    f"{common.fmt_ms(q['cpu_p50_ms'])} / {common.fmt_ms(q['cpu_p95_ms'])}"
                    f" / {common.fmt_ms(q['cpu_mean_ms'])}"
                )
            else:
                row.append(common.fmt_ms(q["cpu_mean_ms"]))
        rows.append(row)
    return common.markdown_table(headers, rows)


def builds(report: dict) -> str:
    lines = []
    for r in report["runs"]:
        b = r["build"]
        label = f"{r['database']} {common.size_label(r['size'])}"
        index = (
            f"; in-process search index built in {b['index_s']} s"
            if b.get("index_s") is not None
            else "; no in-process search index"
        )
        if b.get("index_mb") is not None:
            index += (
                f" (arrays {b['index_mb']} MB; process RSS +{b['index_build_peak_mb']} MB"
                f" at the build's peak, +{b['index_retained_mb']} MB after)"
            )
        if b.get("reused"):
            lines.append(f"- {label}: reused the database built by an earlier run{index}")
        else:
            lines.append(
                f"- {label}: loaded in {b['load_s']} s, ANALYZE {b['analyze_s']} s, "
                f"migrate {b['migrate_s']} s{index}"
            )
    return "\n".join(lines)


def docs_section(report: dict) -> str:
    m = report["machine"]
    machine = (
        f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}"
        + (f", PostgreSQL {m['postgresql']}" if m.get("postgresql") else "")
    )
    loads = [
        f"{r['database']} {common.size_label(r['size'])} {r['loadavg'][0]:.1f} → "
        f"{r['loadavg'][3]:.1f}"
        for r in report["runs"]
    ]
    agree = all(
        q.get("counts_agree", True) for r in report["runs"] for q in r.get("numpy", {}).values()
    )
    return "\n".join(
        [
            f"Measured {m['date']} with `{report['command']}`, {report['args']['queries']} "
            f"centres per query, milliseconds per `search()` call including building the results.",
            "",
            f"Machine: {machine}.",
            "",
            table(report),
            "",
            "NumPy counts equal the database counts for every query: "
            + ("yes." if agree else "**NO** (see bench/out/search.json)."),
            "",
            "Builds:",
            "",
            builds(report),
            "",
            f"Load average (1 min) before → after each run, on {m['cores']} cores: "
            + "; ".join(loads)
            + ". Other work on the machine inflates wall times; CPU time per search is"
            " steadier: for SQLite the benchmark process's own (p50 / p95 / mean), for"
            " PostgreSQL the mean of the benchmark process plus its server process:",
            "",
            cpu_table(report),
        ]
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="250000,1000000")
    parser.add_argument("--databases", default="sqlite,postgres")
    parser.add_argument("--queries", type=int, default=80, help="random centres per query")
    parser.add_argument("--quick", action="store_true", help="20k meetings; leaves docs alone")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", default=str(common.OUT_DIR / "search.json"))
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--no-numpy", action="store_true")
    parser.add_argument("--explain", action="store_true", help="record query plans in the JSON")
    parser.add_argument("--pg-port", type=int, default=54340)
    parser.add_argument("--keep-pg", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--index-only",
        action="store_true",
        help="only build the in-process index and report its time and memory (SQLite)",
    )
    # child-only
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--database", help=argparse.SUPPRESS)
    parser.add_argument("--size", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--numpy", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick and args.sizes == parser.get_default("sizes"):
        args.sizes = "20000"
    args.sizes = [int(s.replace("_", "")) for s in str(args.sizes).split(",") if s]
    args.databases = [d.strip() for d in str(args.databases).split(",") if d.strip()]
    for d in args.databases:
        if d not in ("sqlite", "postgres"):
            parser.error(f"unknown database {d!r} (use sqlite, postgres)")
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        child(args)
        return
    if args.index_only:
        for size in args.sizes:
            argv = [__file__, "--child", "--index-only", "--database", "sqlite"]
            argv += ["--size", str(size), "--seed", str(args.seed)]
            build = common.run_child(argv, env={"DATABASE_URL": sqlite_url(size)})["build"]
            print(json.dumps({"size": size, **build}))
        return
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    command = "bench/search.py " + " ".join(sys.argv[1:] if argv is None else argv)

    def save(report):
        report["command"] = command
        out.write_text(json.dumps(report, indent=1, default=str))

    report = run_all(args, save)
    save(report)
    print(table(report))
    print()
    print(builds(report))
    if not (args.quick or args.no_docs):
        common.replace_marked_section(common.DOCS, "search", docs_section(report))
        common.log(f"wrote {out} and the bench:search section of {common.DOCS}")
    else:
        common.log(f"wrote {out}")


if __name__ == "__main__":
    main()
