"""Searches running while an import changes the directory see it wholly before or wholly
after the import, never half of each (docs/reliability.md, "Searches during an import").

A searcher process runs the search selector in a loop (near a point, everything, text
with next start) against a real database while a real `mutualaid import` rewrites every
meeting (each name carries the feed's tag) and adds and removes some; every result page
must carry one tag only.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from .helpers import meeting_guide_feed, throwaway_database

N = 800
SEARCHER = Path(__file__).with_name("searcher.py")


@pytest.mark.django_db
def test_searches_during_an_import_see_old_or_new_never_half(tmp_path):
    feed_a, feed_b = tmp_path / "a.json", tmp_path / "b.json"
    feed_a.write_bytes(meeting_guide_feed(N, tag="A"))
    # B: every meeting renamed, the first 100 gone, 100 new ones.
    feed_b.write_bytes(meeting_guide_feed(N, tag="B", skip=100))
    stop = tmp_path / "stop"
    with throwaway_database(tmp_path) as target:
        target.run("import", str(feed_a), "--source", "s", "--format", "meeting-guide")
        errors = tmp_path / "searcher.err"
        searcher = subprocess.Popen(
            [sys.executable, str(SEARCHER), str(stop)],
            env=target.env, stdout=subprocess.PIPE, stderr=errors.open("w"), text=True,
        )  # fmt: skip
        out: list[str] = []
        reader = threading.Thread(target=lambda: out.extend(searcher.stdout), daemon=True)
        reader.start()
        try:
            deadline = time.monotonic() + 120
            while len(out) < 3:  # a whole round of searches of the old directory first
                assert searcher.poll() is None, errors.read_text()
                assert time.monotonic() < deadline, "the searcher never searched"
                time.sleep(0.1)
            started = time.perf_counter()
            result = target.run("import", str(feed_b), "--source", "s", "--format", "meeting-guide")
            took = time.perf_counter() - started
            assert "100 created" in result.stdout and "100 removed" in result.stdout, result.stdout
            stop.touch()
            searcher.wait(timeout=120)
            reader.join(timeout=30)
        finally:
            if searcher.poll() is None:
                searcher.kill()
        assert searcher.returncode == 0, errors.read_text()
    lines = [json.loads(line) for line in out]
    mixed = [line for line in lines if len(line["tags"]) != 1]
    assert not mixed, f"searches that saw half an import: {mixed[:5]}"
    seen = [line["tags"][0] for line in lines]
    assert seen[0] == "A" and seen[-1] == "B"
    # Once a search has seen the new directory, no later one sees the old.
    assert "A" not in seen[seen.index("B") :]
    print(f"{target.vendor}: {len(lines)} searches across a {took:.1f}s import, none mixed")
