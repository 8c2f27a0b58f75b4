"""How fast are Meeting Guide feed import and export at 100k meetings, on SQLite?

    .venv/bin/python bench/feeds.py                 # 100k meetings, writes the docs section
    .venv/bin/python bench/feeds.py --quick         # 5k, a smoke run (docs untouched)
    .venv/bin/python bench/feeds.py --profile first # cProfile one step, print the hotspots

The parent runs one child process with MUTUALAID_VAR_DIR set to a fresh var/bench/feeds/
(a throwaway SQLite database; removed first and after), so that the child sets Django up
there, with query logging off as in production (DEBUG off).
The child:

1. makes the feed: synthetic meetings (mutualaid.lib.synthetic, real UK towns) rendered
   by render_meeting_guide into var/bench/feeds/feed-<size>.json;
2. first import: parse_meeting_guide + apply_records into an empty database;
3. re-import of the same bytes, which must write nothing: the import's own counts, the
   meetings whose updated_at moved, and SQLite's total_changes() (rows inserted, updated
   or deleted: only the ImportRun row and the source's last_imported_at may change);
4. import with 1% of the meetings changed (their notes edited): exactly those updated;
5. export: the served feed rendered from the database (render_feed, a cache miss), then
   the view: a miss, a hit (only the version check), gzip, and a 304;

each timed beside `json.load` of the same file in the same run (the floor for reading it)
and `json.dumps` of the loaded list (the floor for writing it). The parent prints a
markdown table, writes bench/out/feeds.json and the bench:feeds section of
docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import common

GOALS_S = {"first_import": 20.0, "export": 3.0}  # and unchanged re-import ≤ 1/4 of the first
UNCHANGED_SHARE = 0.25
SOURCE_NAME = "bench:feeds"
FEED_STAMP = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
STEPS = ("first", "unchanged", "changed", "export")


def var_dir() -> Path:
    return common.PROJECT_DIR / "var" / "bench" / "feeds"


# --- the child ----------------------------------------------------------------------


def make_feed(n: int, seed: int) -> bytes:
    """n synthetic meetings as a Meeting Guide feed, through our own renderer."""
    from mutualaid.directory.feeds.meeting_guide import render_meeting_guide
    from mutualaid.lib.synthetic import generate_meetings

    def pack(tokens) -> str:
        unique = sorted({t for t in tokens or () if t})
        return f",{','.join(unique)}," if unique else ""

    def rows():
        for row in generate_meetings(n, seed=seed):
            row = dict(row)
            row["type_codes"] = pack(row.pop("types"))
            row["language_codes"] = pack(row.pop("languages"))
            row["fellowship__code"] = row.pop("fellowship_code")
            row.setdefault("formatted_address", "")
            row.setdefault("location_notes", "")
            row.setdefault("approximate", row["mode"] == "online")
            start = row.pop("start_time")
            row["start_minute"] = start.hour * 60 + start.minute
            row["updated"] = FEED_STAMP
            yield row

    return render_meeting_guide(rows())


def timed(step: str, profile: str | None, fn):
    """(wall seconds, CPU seconds of this process, result) of fn(); under cProfile when
    this is the step asked for."""
    started, cpu_started = time.perf_counter(), time.process_time()
    if profile == step:
        profiler = cProfile.Profile()
        result = profiler.runcall(fn)
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        for order, lines in (("cumulative", 35), ("tottime", 25)):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
            common.log(out.getvalue())
        return wall, cpu, result
    result = fn()
    return time.perf_counter() - started, time.process_time() - cpu_started, result


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    # As in production: with DEBUG on, Django keeps the SQL and parameters of every query,
    # which costs seconds on a 100k-row import.
    settings.DEBUG = False

    from mutualaid.directory import feed_files, feeds_views
    from mutualaid.directory.feeds.meeting_guide import parse_meeting_guide
    from mutualaid.directory.importing import apply_records, known_rows
    from mutualaid.directory.models import Meeting, Source, SourceFormat

    size = args.size
    label = common.size_label(size)
    common.log(f"[feeds {label}] {connection.settings_dict['NAME']}")
    call_command("migrate", verbosity=0, interactive=False)
    connection.ensure_connection()
    raw = connection.connection

    started = time.perf_counter()
    feed = make_feed(size, args.seed)
    make_s = time.perf_counter() - started
    path = Path(settings.VAR_DIR) / f"feed-{label}.json"  # beside the throwaway database
    path.write_bytes(feed)
    common.log(f"  feed: {len(feed):,} bytes in {make_s:.1f} s")

    def json_load():
        with path.open("rb") as f:
            return json.load(f)

    load_s, load_cpu, items = timed("json", None, json_load)
    dumps_s, dumps_cpu, _ = timed(
        "json", None, lambda: json.dumps(items, ensure_ascii=False, separators=(",", ":"))
    )
    source = Source.objects.create(
        name=SOURCE_NAME, format=SourceFormat.MEETING_GUIDE, default_timezone="Europe/London"
    )

    def import_bytes(data: bytes):
        # As `mutualaid import` does: rows the source's meetings hold the digest of are
        # not parsed again (known_rows), apply_records checks them.
        parse_started = time.perf_counter()
        known = known_rows(source)
        parsed = parse_meeting_guide(data, default_timezone=source.default_timezone, known=known)
        parse_s = time.perf_counter() - parse_started
        summary = apply_records(
            source=source,
            records=parsed.records,
            rejected=parsed.rejected,
            unchanged_rows=parsed.unchanged_rows,
        )
        return parse_s, summary

    steps: dict[str, dict] = {}

    def record(step, seconds, cpu, parse_s, summary, **extra):
        steps[step] = {
            "seconds": round(seconds, 3),
            "cpu_s": round(cpu, 3),
            "parse_s": round(parse_s, 3),
            "apply_s": round(seconds - parse_s, 3),
            "created": summary.created,
            "updated": summary.updated,
            "unchanged": summary.unchanged,
            "removed": summary.removed,
            "rejected": len(summary.rejected),
            **extra,
        }
        common.log(f"  {step}: {seconds:.2f} s {steps[step]}")

    seconds, cpu, (parse_s, summary) = timed("first", args.profile, lambda: import_bytes(feed))
    record("first_import", seconds, cpu, parse_s, summary)

    before_changes = raw.total_changes if connection.vendor == "sqlite" else None
    mark = datetime.now(UTC)
    seconds, cpu, (parse_s, summary) = timed("unchanged", args.profile, lambda: import_bytes(feed))
    record(
        "unchanged_reimport",
        seconds,
        cpu,
        parse_s,
        summary,
        meetings_rewritten=Meeting.objects.filter(updated_at__gte=mark).count(),
        sqlite_rows_changed=(raw.total_changes - before_changes)
        if before_changes is not None
        else None,
    )

    changed_items = json.loads(feed)
    for item in changed_items[::100]:
        item["notes"] = (item.get("notes", "") + " Changed for the benchmark.").strip()
    changed = json.dumps(changed_items, ensure_ascii=False, separators=(",", ":")).encode()
    want_changed = len(changed_items[::100])
    seconds, cpu, (parse_s, summary) = timed("changed", args.profile, lambda: import_bytes(changed))
    record("changed_1pct_import", seconds, cpu, parse_s, summary, expected_updated=want_changed)

    listed = feeds_views.feed_meetings().count()
    feeds_views.meeting_url_maker("https://bench.invalid")  # loads the URLconf, as a server has
    seconds, cpu, body = timed(
        "export", args.profile, lambda: feeds_views.render_feed(base_url="https://bench.invalid")
    )
    steps["export"] = {
        "seconds": round(seconds, 3),
        "cpu_s": round(cpu, 3),
        "bytes": len(body),
        "meetings": listed,
    }
    common.log(f"  export: {seconds:.2f} s, {len(body):,} bytes, {listed} meetings")

    version_s, _, _ = timed("version", None, feeds_views.directory_version)
    client = Client()
    # A miss renders the feed's files (feed_files.py): start with none on disk.
    shutil.rmtree(feed_files.folder(), ignore_errors=True)
    url = "/feeds/meeting-guide.json"
    miss_s, _, miss = timed("view", None, lambda: client.get(url))
    hit_s, _, hit = timed("view", None, lambda: client.get(url))
    gzip_s, _, gz = timed("view", None, lambda: client.get(url, HTTP_ACCEPT_ENCODING="gzip"))
    gzip_hit_s, _, _ = timed("view", None, lambda: client.get(url, HTTP_ACCEPT_ENCODING="gzip"))
    not_modified_s, _, nm = timed(
        "view", None, lambda: client.get(url, HTTP_IF_NONE_MATCH=miss["ETag"])
    )
    assert miss.status_code == hit.status_code == gz.status_code == 200
    assert nm.status_code == 304
    steps["served"] = {
        "version_check_s": round(version_s, 4),
        "miss_s": round(miss_s, 3),
        "hit_s": round(hit_s, 4),
        "gzip_first_s": round(gzip_s, 3),
        "gzip_hit_s": round(gzip_hit_s, 4),
        "not_modified_s": round(not_modified_s, 4),
        "bytes": int(miss["Content-Length"]),
        "gzip_bytes": int(gz["Content-Length"]),
    }
    common.log(f"  served: {steps['served']}")

    result = {
        "size": size,
        "feed_bytes": len(feed),
        "make_feed_s": round(make_s, 3),
        "json_load_s": round(load_s, 3),
        "json_load_cpu_s": round(load_cpu, 3),
        "json_dumps_s": round(dumps_s, 3),
        "json_dumps_cpu_s": round(dumps_cpu, 3),
        "steps": steps,
    }
    Path(args.json_out).write_text(json.dumps(result, indent=1, default=str))


# --- the parent ---------------------------------------------------------------------


def verdicts(run: dict) -> dict[str, bool]:
    """Goals judged on CPU seconds: the machine is shared, and wall time waits for others."""
    s = run["steps"]
    first = s["first_import"]["cpu_s"]
    unchanged = s["unchanged_reimport"]
    changed = s["changed_1pct_import"]
    return {
        "first_import": first <= GOALS_S["first_import"] and first_clean(s["first_import"], run),
        "unchanged_reimport": unchanged["cpu_s"] <= UNCHANGED_SHARE * first
        and unchanged["created"] == unchanged["updated"] == unchanged["removed"] == 0
        and unchanged["meetings_rewritten"] == 0,
        "changed_1pct_import": changed["updated"] == changed["expected_updated"]
        and changed["created"] == changed["removed"] == 0,
        "export": s["export"]["cpu_s"] <= GOALS_S["export"],
    }


def first_clean(step: dict, run: dict) -> bool:
    return step["created"] == run["size"] and step["rejected"] == 0


def table(run: dict) -> str:
    s = run["steps"]
    ok = verdicts(run)
    first = s["first_import"]["cpu_s"]

    def floor(seconds: float, base: float, what: str) -> str:
        return f"{base:.2f} ({what}; {seconds / base:.0f}×)" if base else "–"

    def import_row(key, title, goal, note):
        step = s[key]
        return [
            title,
            f"{step['cpu_s']:.2f}",
            f"{step['seconds']:.2f}",
            f"{step['parse_s']:.2f} + {step['apply_s']:.2f}",
            floor(step["cpu_s"], run["json_load_cpu_s"], "json.load"),
            goal,
            "yes" if ok[key] else "**no**",
            note,
        ]

    unchanged = s["unchanged_reimport"]
    changed = s["changed_1pct_import"]
    written = f"{unchanged['meetings_rewritten']} meetings rewritten" + (
        f", {unchanged['sqlite_rows_changed']} SQLite rows changed (run log + source)"
        if unchanged.get("sqlite_rows_changed") is not None
        else ""
    )
    rows = [
        import_row(
            "first_import",
            "first import",
            f"≤ {GOALS_S['first_import']:g} s",
            f"{s['first_import']['created']:,} created",
        ),
        import_row(
            "unchanged_reimport",
            "re-import, unchanged",
            f"≤ {UNCHANGED_SHARE * first:.2f} s (¼ of first)",
            f"{unchanged['unchanged']:,} unchanged; {written}",
        ),
        import_row(
            "changed_1pct_import",
            "import, 1% changed",
            "–",
            f"{changed['updated']:,} updated of {changed['expected_updated']:,} changed",
        ),
        [
            "export (render feed)",
            f"{s['export']['cpu_s']:.2f}",
            f"{s['export']['seconds']:.2f}",
            "–",
            floor(s["export"]["cpu_s"], run["json_dumps_cpu_s"], "json.dumps"),
            f"≤ {GOALS_S['export']:g} s",
            "yes" if ok["export"] else "**no**",
            f"{s['export']['meetings']:,} meetings, {s['export']['bytes'] / 1e6:.1f} MB",
        ],
    ]
    headers = [
        "step",
        "CPU s",
        "wall s",
        "parse + apply (wall)",
        "floor, CPU s",
        "goal (CPU)",
        "met",
        "notes",
    ]
    return common.markdown_table(headers, rows)


def served_lines(run: dict) -> str:
    v = run["steps"]["served"]
    return "\n".join(
        [
            f"- version check (one aggregate query): {v['version_check_s'] * 1000:.1f} ms",
            f"- first request after a change (render + hash): {v['miss_s']:.2f} s",
            f"- cached request: {v['hit_s'] * 1000:.1f} ms; 304: {v['not_modified_s'] * 1000:.1f} ms",
            f"- gzip: first {v['gzip_first_s']:.2f} s (compressed once per version), then "
            f"{v['gzip_hit_s'] * 1000:.1f} ms; {v['bytes'] / 1e6:.1f} MB → "
            f"{v['gzip_bytes'] / 1e6:.1f} MB",
        ]
    )


# What cProfile showed (`--profile first|unchanged|changed`, 2026-11-28, DEBUG off) and
# what changed. Update this when the importer changes.
HOTSPOTS = """\
What changed (2026-11-28), measured with cProfile (`python bench/feeds.py --profile
first|unchanged|changed`):

- First import was 34–37 s (48 s CPU at load 25): `bulk_create` was 53% of it (Django 5.2
  assumes SQLite's old 999-variable limit, so 100,000 meetings of 42 columns went as
  4,349 INSERTs of 23 rows, each value prepared through the field API), building 100,000
  unsaved `Meeting` objects 16%, parsing 21%. Now new meetings go in one `executemany` of
  plain tuples per 5,000 (`importing._insert_meetings`: every column the record does not
  give gets the field's default, dates and times go through `get_db_prep_save`, memoised
  per distinct value), with SQLite's page cache raised to 256 MB for the insert; records
  are compared as tuples, never as model objects. Parsing went from ~80 to ~50 µs a row:
  `updated` read with `datetime.fromisoformat` when it has the spec's zero-padded form
  (strptime took 12 µs a call; other forms still go through strptime), `slugify` skipped
  for slugs it would return unchanged, `_text` tries the plain string first. Parsing is
  now ~40% of the first import, the INSERT (SQLite's own work on the table and its 13
  indexes) ~30%, unique slugs and duplicate marking ~7% each.
- Unchanged re-import was 46% of the first: parsing every row again (~45%), loading the
  source's 100,000 meetings as model instances and building 100,000 more to compare. Now
  each meeting keeps `content_hash`: a digest of the feed row it came from (its JSON
  values, `marshal` format 2), of the parser's code and vocabulary, the feed's default
  zone and the importer's fellowship choices, written by the importer only; any other
  `save()` clears it. `known_rows(source)` reads (source_ref, content_hash, status) with
  a plain cursor; `parse_meeting_guide(known=...)` digests each row (~10 µs) and skips
  parsing rows whose digest the source holds; `apply_records` checks, inside its
  transaction, that each skipped row's meetings are still listed with that digest (else
  it parses the row there and compares it as before). Rows that gave a warning or an
  unknown type, or an unknown fellowship, get no digest, so their warnings come again.
  What remains: `json.loads`, the digests, the two light reads; nothing is written but
  the run log. tests/directory/test_import_known_rows.py checks, with random edits and
  hand edits over several imports, that skipping ends exactly where a full import does.
- Changed import: `bulk_update` (a CASE WHEN per field and row) took 6.9 s for 1,000
  meetings; the importer sends one UPDATE per changed meeting (0.6 s), and only the
  changed rows are parsed.
"""


def docs_section(report: dict) -> str:
    m = report["machine"]
    run = report["run"]
    machine = (
        f"{m['cpu']}, {m['cores']} cores, {m['ram_gib']} GiB RAM, {m['os']}; "
        f"Python {m['python']}, SQLite {m['sqlite']}"
    )
    return "\n".join(
        [
            "## Feeds: Meeting Guide import and export",
            "",
            f"Measured {m['date']} with `{report['command']}`: "
            f"{run['size']:,} synthetic meetings as a {run['feed_bytes'] / 1e6:.1f} MB Meeting "
            "Guide feed, imported into an empty SQLite database as `mutualaid import` does "
            "(known_rows + parse_meeting_guide + apply_records), re-imported unchanged, "
            "imported with 1% of the meetings "
            "changed, then rendered back from the database as the served feed. The floor "
            "is `json.load` of the same file (for imports) and `json.dumps` of the loaded "
            "list (for the export), in the same run. Goals are judged on the process's CPU "
            "seconds, which other work on the machine inflates far less than wall time.",
            "",
            f"Machine: {machine}; 1-minute load average {run['load_average'][0]:g} before the "
            f"run and {run['load_average'][1]:g} after (other work shares the machine: "
            "timings vary by up to 2× between runs).",
            "",
            table(run),
            "",
            "The served feed (`GET /feeds/meeting-guide.json`, cached in memory per version):",
            "",
            served_lines(run),
            "",
            HOTSPOTS.strip(),
        ]
    )


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="5k meetings; leaves docs alone")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", default=str(common.OUT_DIR / "feeds.json"))
    parser.add_argument("--no-docs", action="store_true", help="do not rewrite docs/performance.md")
    parser.add_argument("--profile", choices=STEPS, help="run this step under cProfile")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick and args.size == parser.get_default("size"):
        args.size = 5_000
    return args


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.child:
        child(args)
        return
    where = var_dir()
    shutil.rmtree(where, ignore_errors=True)
    where.mkdir(parents=True)
    child_argv = [__file__, "--child", "--size", str(args.size), "--seed", str(args.seed)]
    if args.profile:
        child_argv += ["--profile", args.profile]
    env = {"MUTUALAID_VAR_DIR": str(where), "DATABASE_URL": ""}
    load_before = os.getloadavg()[0]
    run = common.run_child(child_argv, env=env)
    run["load_average"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    shutil.rmtree(where, ignore_errors=True)
    report = {
        "machine": common.machine_info(),
        "command": " ".join(["bench/feeds.py", *(sys.argv[1:] if argv is None else argv)]),
        "args": {"size": args.size, "seed": args.seed},
        "run": run,
        "verdicts": verdicts(run),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=str))
    print(table(run))
    print()
    print(served_lines(run))
    if not (args.quick or args.no_docs or args.profile or args.size != 100_000):
        common.replace_marked_section(common.DOCS, "feeds", docs_section(report))
        common.log(f"wrote {out} and the bench:feeds section of {common.DOCS}")
    else:
        common.log(f"wrote {out}")


if __name__ == "__main__":
    main()
