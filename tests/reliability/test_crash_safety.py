"""kill -9 in the middle of `mutualaid import` leaves the directory exactly as it was, and
the next import succeeds (docs/reliability.md, "Crash during an import").

Real processes on a real database file (SQLite in WAL mode) or a fresh PostgreSQL
database, whichever the suite runs on. The import being killed changes every one of the
meetings (about as much work as an import can do to them), so it takes seconds; it is
SIGKILLed at random fractions of its own measured duration, and as soon as it is seen
holding the write lock (plus a random delay), so that kills land while parsing, while
writing, and just before commit.
"""

from __future__ import annotations

import random
import signal
import time

import pytest

from .helpers import meeting_guide_feed, throwaway_database

N = 1500
FRACTIONS = 3  # kills at random fractions of the measured duration
LOCKED_KILLS = 2  # kills once the import is seen writing


def _args(feed):
    return ("import", str(feed), "--source", "crash", "--format", "meeting-guide")


def _names_all_tagged(target, tag) -> bool:
    rows = target.query("SELECT name FROM directory_meeting WHERE status = 'active'")
    return len(rows) == N and all(f"[{tag}]" in name for (name,) in rows)


@pytest.mark.django_db
def test_sigkill_during_import_changes_nothing_and_next_import_succeeds(tmp_path):
    seed = random.randrange(10**6)
    rng = random.Random(seed)
    feeds = {}
    for tag in "AB":
        feeds[tag] = tmp_path / f"{tag}.json"
        feeds[tag].write_bytes(meeting_guide_feed(N, tag=tag))
    with throwaway_database(tmp_path) as target:
        target.run(*_args(feeds["A"]))
        # Imports that rewrite every meeting (A -> B, B -> A): timed; the shorter is the
        # duration the kills are placed in.
        durations = []
        for tag in "BA":
            started = time.perf_counter()
            target.run(*_args(feeds[tag]))
            durations.append(time.perf_counter() - started)
        duration = min(durations)
        current = "A"

        kills, completed = [], 0
        plan = [("time", rng.uniform(0.05, 0.95)) for _ in range(FRACTIONS)]
        plan += [("writing", rng.uniform(0, 0.5)) for _ in range(LOCKED_KILLS)]
        rng.shuffle(plan)
        for how, value in plan:
            before = target.snapshot()
            other = "B" if current == "A" else "A"
            process = target.popen(*_args(feeds[other]))
            start = time.perf_counter()
            if how == "time":
                time.sleep(value * duration)
            else:
                deadline = start + 3 * duration + 10
                while not target.writer_active() and process.poll() is None:
                    assert time.perf_counter() < deadline, "never saw the import writing"
                    time.sleep(0.005)
                time.sleep(value * duration * 0.5)
            at = time.perf_counter() - start
            if process.poll() is not None:
                # It won the race and finished: then it must have applied all of it.
                assert process.returncode == 0, process.stderr.read()
                assert _names_all_tagged(target, other)
                current, completed = other, completed + 1
                continue
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=30)
            assert process.returncode == -signal.SIGKILL
            after = target.snapshot()
            if after != before:
                # Killed after its commit (while exiting): then all of it is there, once.
                assert _names_all_tagged(target, other), f"half an import (seed {seed})"
                runs = len(before["directory_importrun"]) + 1
                assert len(after["directory_importrun"]) == runs, f"seed {seed}"
                kills.append(f"{how}@{at:.2f}s(after commit)")
                current = other
                continue
            kills.append(f"{how}@{at:.2f}s")
            assert _names_all_tagged(target, current)
            if target.vendor == "sqlite":
                assert target.query("PRAGMA integrity_check") == [("ok",)]
        landed = [k for k in kills if "after commit" not in k]
        assert len(landed) >= len(plan) - 2, f"too few kills landed: {kills} (seed {seed})"

        # The next import runs normally and applies the whole feed.
        other = "B" if current == "A" else "A"
        result = target.run(*_args(feeds[other]))
        assert f"0 created, {N} updated" in result.stdout, result.stdout
        assert _names_all_tagged(target, other)
        print(
            f"{target.vendor}: import of {N} changes took {duration:.2f}s; killed at {kills}; "
            f"{completed} finished first (seed {seed})"
        )
