"""`make bench` in quick mode for the serving benchmarks (bench/run.py --quick --only
http,memory): a real gunicorn answers every endpoint at every concurrency without errors,
the trivial baseline is measured in the same run, the goals are judged from the figures,
and the worker's memory is read from /proc."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_bench_run_quick_http_and_memory(tmp_path):
    env = {**os.environ, "MUTUALAID_VAR_DIR": str(tmp_path / "var"), "BENCH_QUICK": "1"}
    env.pop("DATABASE_URL", None)
    command = [sys.executable, str(ROOT / "bench" / "run.py"), "--only", "http,memory"]
    command += ["--out-dir", str(tmp_path / "out")]
    result = subprocess.run(command, env=env, cwd=ROOT, timeout=600, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| http | ok |" in result.stdout and "| memory | ok |" in result.stdout

    http = json.loads((tmp_path / "out" / "http.json").read_text())
    assert http["size"] == 2000 and http["feed"]["gzip_bytes"] < http["feed"]["bytes"]
    for name, levels in http["endpoints"].items():
        assert [lv["concurrency"] for lv in levels] == [1, 8, 32], name
        for level in levels:
            assert level["errors"] == 0, (name, level)
            assert level["requests"] > 0 and level["rps"] > 0, (name, level)
            assert 0 < level["p50_ms"] <= level["p99_ms"], (name, level)
    assert set(http["verdicts"]) == {"search_vs_trivial_c8", "p99_c32_ms", "feed_rps"}
    for verdict in http["verdicts"].values():
        assert isinstance(verdict["met"], bool)
    assert len(http["loadavg"]) == 6

    memory = json.loads((tmp_path / "out" / "memory.json").read_text())
    steps = [s["step"] for s in memory["steps"]]
    assert steps[0] == "started" and "searches" in steps and "feed (all)" in steps
    for step in memory["steps"]:
        assert 30 < step["rss_mb"] <= step["peak_mb"] < 4000, step
    # quick mode leaves the docs alone
    assert "bench:serving" not in result.stderr
