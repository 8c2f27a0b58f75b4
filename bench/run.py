"""`make bench`: every benchmark, its JSON, and the tables in docs/performance.md.

    .venv/bin/python bench/run.py                  # the real figures (about an hour here)
    .venv/bin/python bench/run.py --quick          # a smoke run: small sizes, docs untouched
    BENCH_QUICK=1 make bench                       # the same, through make
    .venv/bin/python bench/run.py --only http,memory

Runs, each in its own process and each beside its own baseline measured in the same run:

    search    bench/search.py    search() on SQLite and PostgreSQL, 250k and 1M meetings,
                                 beside a NumPy brute force (its own docs section)
    feeds     bench/feeds.py     Meeting Guide import and export at 100k, beside json.load/
                                 json.dumps of the same bytes (its own docs section)
    http      bench/http_load.py gunicorn on loopback, concurrency 1/8/32, beside a trivial
                                 JSON endpoint of the same server
    memory    bench/memory.py    one worker's RSS with 1M meetings, beside the started worker
    insights  bench/insights.py  the dashboards, when that benchmark exists (its own section)

JSON goes to --out-dir (default bench/out/). A full run writes the bench:serving section of
docs/performance.md (HTTP and memory, with the machine and its load average); the other
benchmarks write their own sections. A step that fails is reported and the rest still run;
the exit status is then 1.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import common

BENCH_DIR = Path(__file__).resolve().parent
STEPS = ("search", "feeds", "http", "memory", "insights")
SCRIPTS = {
    "search": "search.py",
    "feeds": "feeds.py",
    "http": "http_load.py",
    "memory": "memory.py",
    "insights": "insights.py",
}


def command(step: str, quick: bool, out_dir: Path) -> list[str] | None:
    script = BENCH_DIR / SCRIPTS[step]
    if not script.exists():
        return None
    argv = [sys.executable, str(script), "--out", str(out_dir / f"{step}.json")]
    if quick:
        argv.append("--quick")
        if step == "search":
            argv += ["--databases", "sqlite", "--sizes", "2000", "--queries", "5"]
        if step == "insights":
            argv += ["--databases", "sqlite"]
    return argv


CLIENTS = {
    "lean": "one reused buffer per connection, bytes counted, not kept",
    "http.client": "http.client, each body read whole",
}


def serving_section(out_dir: Path) -> str:
    import http_load
    import memory

    parts = []
    http_path, memory_path = out_dir / "http.json", out_dir / "memory.json"
    if http_path.exists():
        report = json.loads(http_path.read_text())
        m, load = report["machine"], report["loadavg"]
        server = report["server"]
        parts += [
            f"Measured {m['date']} with `{report['command']}` on {m['cpu']}, {m['cores']} cores, "
            f"{m['ram_gib']} GiB RAM, {m['os']}, Python {m['python']}: gunicorn with "
            f"{server['workers']} workers × {server['threads']} threads "
            f"({'gthread' if server['threads'] > 1 else 'sync'}), DEBUG off, "
            f"SQLite with {common.size_label(report['size'])} synthetic meetings, the load "
            f"generator in the same machine (loopback, one keep-alive connection per thread, "
            f"bodies read by {CLIENTS.get(report.get('client', 'http.client'))}), "
            f"each level at most {report['limits']['requests']} requests or "
            f"{report['limits']['seconds']:g} s. The feed is "
            f"{report['feed']['bytes'] / 2**20:.1f} MB ({report['feed']['gzip_bytes'] / 2**20:.1f}"
            " MB gzipped).",
            "",
            (
                f"**The machine was shared and busy**: load average (1 min) {load[0]:.1f} "
                f"before and {load[3]:.1f} after (the benchmark's own load included), on "
                f"{m['cores']} cores, so every figure here "
                "is lower and noisier than on an idle machine; read each against the trivial "
                "endpoint's, measured the same way minutes apart."
                # Before the run: the load after it includes the benchmark's own.
                if load[0] >= m["cores"]
                else f"Load average (1 min) {load[0]:.1f} before and {load[3]:.1f} after (the "
                f"benchmark's own load included), on {m['cores']} cores, nothing else running; "
                "read each figure against the trivial endpoint's, "
                "measured the same way minutes apart."
            ),
            "",
            http_load.table(report),
            "",
            http_load.goals_table(report),
        ]
    if memory_path.exists():
        report = json.loads(memory_path.read_text())
        parts += [
            "",
            f"One worker's memory with {common.size_label(report['size'])} meetings in the "
            f"database (`{report['command']}`, {report['machine']['date']}): resident (RSS) "
            "and peak (VmHWM) after each step, beside the freshly started worker.",
            "",
            memory.table(report),
            "",
            f"Goal: ≤ {report['goal_mb']} MB without the whole-directory feed: peak "
            f"{report['peak_without_full_feed_mb']:.0f} MB, "
            + ("met." if report["met"] else "**not met**."),
        ]
    return "\n".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", default=os.environ.get("BENCH_QUICK") == "1"
    )
    parser.add_argument("--only", default=",".join(STEPS))
    parser.add_argument("--out-dir", default=str(common.OUT_DIR))
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args(argv)
    out_dir = Path(args.out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    steps = [s.strip() for s in args.only.split(",") if s.strip()]
    for step in steps:
        if step not in STEPS:
            parser.error(f"unknown step {step!r} (use {', '.join(STEPS)})")
    summary, failed = [], False
    for step in steps:
        argv_step = command(step, args.quick, out_dir)
        if argv_step is None:
            summary.append((step, "absent", 0.0))
            continue
        common.log(f"=== bench {step}: {' '.join(argv_step[1:])}")
        started = time.perf_counter()
        result = subprocess.run(argv_step, cwd=common.PROJECT_DIR)
        took = time.perf_counter() - started
        summary.append(
            (step, "ok" if result.returncode == 0 else f"exit {result.returncode}", took)
        )
        failed |= result.returncode != 0
    if not (args.quick or args.no_docs) and {"http", "memory"} & set(steps):
        common.replace_marked_section(common.DOCS, "serving", serving_section(out_dir))
        common.log(f"wrote the bench:serving section of {common.DOCS}")
    print()
    print(
        common.markdown_table(
            ["benchmark", "result", "seconds", "JSON"],
            [
                [s, r, f"{t:.0f}", str(out_dir / f"{s}.json") if r == "ok" else "–"]
                for s, r, t in summary
            ],
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
