"""bench/search.py in --quick mode on a tiny SQLite directory: it runs end to end, writes
the JSON it promises, and its NumPy baseline finds exactly what search() finds for the
same queries (same counts, same first page), so the baseline it reports is honest."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KINDS = {"day_window_type", "upcoming_type", "upcoming_all", "nearest_10km", "day_text"}


def test_bench_search_quick_run_and_honest_baseline(tmp_path):
    out = tmp_path / "search.json"
    env = {**os.environ, "MUTUALAID_VAR_DIR": str(tmp_path / "var")}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, str(ROOT / "bench" / "search.py"), "--quick"]
    command += ["--sizes", "2000", "--databases", "sqlite", "--queries", "5", "--out", str(out)]
    subprocess.run(command, check=True, env=env, cwd=ROOT, timeout=120, capture_output=True)

    report = json.loads(out.read_text())
    assert {"machine", "args", "runs", "command"} <= set(report)
    assert {"cpu", "cores", "ram_gib", "python", "sqlite", "date"} <= set(report["machine"])
    (run,) = report["runs"]
    assert (run["database"], run["vendor"], run["size"]) == ("sqlite", "sqlite", 2000)
    assert run["build"]["reused"] is False and run["build"]["load_s"] >= 0
    assert set(run["queries"]) == KINDS == set(run["numpy"])
    for kind in KINDS:
        db, baseline = run["queries"][kind], run["numpy"][kind]
        for timings in (db, baseline):
            assert {"n", "p50_ms", "p95_ms", "max_ms", "counts"} <= set(timings)
            assert timings["n"] == 5 and 0 < timings["p50_ms"] <= timings["p95_ms"]
        assert baseline["counts"] == db["counts"], kind
        assert baseline["counts_agree"] is True
        assert baseline["pages_agree"] == 1.0, kind
    assert sum(sum(q["counts"]) for q in run["queries"].values()) > 0  # not all empty
    # The docs are left alone in --quick mode; the SQLite file went to MUTUALAID_VAR_DIR.
    assert (tmp_path / "var" / "bench" / "bench-2k.sqlite3").exists()
