"""How much memory does one gunicorn worker use with 1M meetings in the database?

    .venv/bin/python bench/memory.py                # 1M meetings
    .venv/bin/python bench/memory.py --quick        # 2k meetings (a smoke run)

Builds (or reuses) an SQLite directory of --size synthetic meetings under
var/bench/memory/ (a copy of bench/search.py's var/bench/bench-1M.sqlite3 when that holds
the same number of meetings, else bench/search.py's loader), starts `mutualaid serve` with
one worker (the production settings, as bench/http_load.py does) and reads the worker's
resident memory (VmRSS) and its peak (VmHWM) from /proc after each step:

    started      the worker after one trivial request (the baseline: Django and the app)
    searches     + 300 API searches (hot and cold, cached and not); the second near search
                 starts the worker's search index build in a background thread, and the
                 searches meanwhile run in SQL
    index built  + waiting until the worker logs that its index is in use
    searches (index) + 180 more uncached searches at new centres, answered by the index
    pages        + 60 meeting pages and 20 result pages
    feed (one fellowship) + the Meeting Guide feed of one fellowship
    feed (all)   + the whole directory's feed (rendered to a file once per change, then
                 sent from disk: no worker holds it)

Writes bench/out/memory.json; bench/run.py puts the table into docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import sys
import time
from pathlib import Path

import common
import http_load

GOAL_MB = 300


def var_dir() -> Path:
    base = Path(os.environ.get("MUTUALAID_VAR_DIR", common.PROJECT_DIR / "var"))
    return base / "bench" / "memory"


def child_build(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    import django

    django.setup()
    import search as search_bench
    from django.core.management import call_command

    from mutualaid.directory import cache
    from mutualaid.directory.models import Meeting

    call_command("migrate", verbosity=0, interactive=False)
    count = Meeting.objects.count()
    took = {"reused": True, "meetings": count}
    if count != args.size:
        took = search_bench.ensure_loaded(args.size, args.seed)
    cache.directory_changed()
    slugs = list(Meeting.objects.listed().order_by("?").values_list("slug", flat=True)[:60])
    specs = search_bench.make_specs(40, args.seed)
    Path(args.json_out).write_text(
        json.dumps({"build": took, "slugs": slugs, "hot": [s["near"] for s in specs]})
    )


def build_database(size: int, seed: int) -> tuple[str, dict]:
    path = var_dir() / f"memory-{common.size_label(size)}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    shared = common.PROJECT_DIR / "var" / "bench" / f"bench-{common.size_label(size)}.sqlite3"
    if not path.exists() and shared.exists():
        common.log(f"  copying {shared} ({shared.stat().st_size / 2**20:.0f} MB)")
        shutil.copyfile(shared, path)
    url = f"sqlite:///{path}"
    data = common.run_child(
        [__file__, "--child-build", "--size", str(size), "--seed", str(seed)],
        env={"DATABASE_URL": url},
    )
    return url, data


def memory_of(pid: int) -> dict:
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM"):
            fields[name] = round(int(value.split()[0]) / 1024, 1)
    return {"rss_mb": fields.get("VmRSS"), "peak_mb": fields.get("VmHWM")}


def run_steps(args, url: str, data: dict) -> list[dict]:
    rng = random.Random(args.seed)
    steps = []
    extra = {"WEB_TIMEOUT": "900"}  # rendering the whole 1M feed takes longer than 30 s
    # INFO: the worker's "search index ... in use" line tells when its build is done.
    extra["LOG_LEVEL"] = "INFO"
    with http_load.Server(url, workers=1, threads=args.threads, extra_env=extra) as server:
        (pid,) = server.worker_pids()
        port = server.port

        def step(name, paths, headers=None, note=""):
            started = time.perf_counter()
            slowest = 0.0
            for path in paths:
                one = time.perf_counter()
                status, _, _ = http_load.get(port, path, headers)
                slowest = max(slowest, time.perf_counter() - one)
                if status != 200:
                    raise RuntimeError(f"{path}: HTTP {status}")
            took = time.perf_counter() - started
            steps.append(
                {
                    "step": name,
                    "requests": len(paths),
                    "seconds": round(took, 1),
                    "slowest_ms": round(slowest * 1000),
                    "note": note,
                    **memory_of(pid),
                }
            )
            common.log(
                f"  {name:24} RSS {steps[-1]['rss_mb']:7.1f} MB"
                f"  peak {steps[-1]['peak_mb']:7.1f} MB  ({took:.1f} s, slowest"
                f" request {slowest * 1000:.0f} ms)"
            )

        step("started", ["/bench/trivial.json"])
        hot = http_load.search_paths(data["hot"], 0, rng, cold=False)
        cold = http_load.search_paths(data["hot"], 180, rng, cold=True)
        searched = time.perf_counter()
        step("searches", hot * 3 + cold, note="120 cached + 180 uncached")
        ready = wait_for_index(server, timeout=args.index_timeout)
        step(
            "index built",
            [],
            note=(
                f"built in the background, ready {ready - searched:.0f} s after the first search"
                if ready is not None
                else f"**not in use after {args.index_timeout} s**"
            ),
        )
        again = http_load.search_paths(data["hot"], 180, random.Random(args.seed + 1), cold=True)
        step("searches (index)", again, note="180 uncached, new centres")
        pages = [f"/meetings/{slug}/" for slug in data["slugs"]]
        pages += [f"/?near={lat:.4f},{lng:.4f}&radius=10" for lat, lng in data["hot"][:20]]
        step("pages", pages)
        step(
            "feed (one fellowship)",
            ["/feeds/meeting-guide.json?fellowship=NA"],
            {"Accept-Encoding": "gzip"},
        )
        if not args.no_full_feed:
            step(
                "feed (all)",
                ["/feeds/meeting-guide.json"],
                {"Accept-Encoding": "gzip"},
                note="the whole directory, from its file",
            )
    return steps


def wait_for_index(server, *, timeout: float) -> float | None:
    """time.perf_counter() when the worker's log says its search index is built (in use,
    or not used in a directory under SEARCH_INDEX_MIN_MEETINGS)."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        built = [
            line for line in server.output().splitlines() if "search index for database" in line
        ]
        if any("in use" in line or "not used" in line for line in built):
            return time.perf_counter()
        time.sleep(0.5)
    return None


def table(report: dict) -> str:
    base = report["steps"][0]["rss_mb"]
    rows = [
        [
            s["step"],
            s["requests"],
            f"{s['rss_mb']:.0f}",
            f"{s['peak_mb']:.0f}",
            f"{s['rss_mb'] - base:+.0f}",
            f"{s['slowest_ms']:,}" if s.get("slowest_ms") and s["requests"] else "–",
            s["note"],
        ]
        for s in report["steps"]
    ]
    return common.markdown_table(
        ["after", "requests", "RSS MB", "peak MB", "vs started", "slowest request ms", "note"],
        rows,
    )


def main(argv=None) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `with Server` stops it
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--no-full-feed", action="store_true")
    parser.add_argument("--index-timeout", type=float, default=600, help="seconds")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--out", default=str(common.OUT_DIR / "memory.json"))
    parser.add_argument("--child-build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_build:
        child_build(args)
        return
    if args.quick:
        args.size = min(args.size, 2000)
    common.log(f"[memory] building or reusing {common.size_label(args.size)} meetings")
    url, data = build_database(args.size, args.seed)
    steps = run_steps(args, url, data)
    worst = max(s["peak_mb"] for s in steps if s["step"] != "feed (all)")
    report = {
        "machine": common.machine_info(),
        "size": args.size,
        "server": {"workers": 1, "threads": args.threads, "database": "sqlite"},
        "build": data["build"],
        "steps": steps,
        "goal_mb": GOAL_MB,
        "peak_without_full_feed_mb": worst,
        "met": worst <= GOAL_MB,
        "command": "bench/memory.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    print(table(report))
    common.log(f"wrote {out}")


if __name__ == "__main__":
    main()
