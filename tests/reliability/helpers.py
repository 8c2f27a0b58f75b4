"""Shared by the reliability tests: synthetic feeds, throwaway databases run by real
`mutualaid` processes, and snapshots of whole tables to compare before and after."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

PROJECT_DIR = Path(__file__).resolve().parents[2]
MUTUALAID = [sys.executable, "-m", "mutualaid"]
TOWNS = [
    ("Brighton", 50.8225, -0.1372),
    ("Leeds", 53.8008, -1.5491),
    ("Bristol", 51.4545, -2.5879),
    ("York", 53.9600, -1.0873),
    ("Norwich", 52.6309, 1.2974),
]


def meeting_guide_feed(n: int, *, tag: str, seed: int = 1, skip: int = 0) -> bytes:
    """n meetings (ids skip..skip+n-1) as a Meeting Guide feed; every name and note
    carries `tag`, so a reader can tell which import a row came from."""
    rng = random.Random(seed)
    rows = []
    for i in range(skip, skip + n):
        town, lat, lng = TOWNS[i % len(TOWNS)]
        rows.append(
            {
                "slug": f"m{i}",
                "name": f"{town} Group {i} [{tag}]",
                "day": i % 7,
                "time": f"{6 + i % 16:02d}:{(i * 15) % 60:02d}",
                "timezone": "Europe/London",
                "location": f"Hall {i % 97}",
                "formatted_address": f"{i % 200} High Street, {town}, AB{i % 9} 1CD, UK",
                "attendance_option": "in_person",
                "latitude": round(lat + rng.uniform(-0.05, 0.05), 5),
                "longitude": round(lng + rng.uniform(-0.05, 0.05), 5),
                "types": ["O", "D"] if i % 2 else ["C"],
                "notes": f"note {tag} {i}",
                "updated": "2026-01-05 12:00:00",
            }
        )
    return json.dumps(rows).encode()


# --- throwaway databases driven by real processes --------------------------------


@dataclass
class Target:
    """One database, and the environment that points `mutualaid` at it."""

    vendor: str
    env: dict
    sqlite_path: Path | None = None
    pg: dict | None = None

    def run(self, *args, timeout: float = 300, check: bool = True, **kw):
        result = subprocess.run(
            [*MUTUALAID, *args], env=self.env, capture_output=True, text=True,
            timeout=timeout, cwd=PROJECT_DIR, **kw,
        )  # fmt: skip
        if check and result.returncode != 0:
            raise AssertionError(
                f"mutualaid {' '.join(args)} -> {result.returncode}\n{result.stderr}"
            )
        return result

    def popen(self, *args) -> subprocess.Popen:
        return subprocess.Popen(
            [*MUTUALAID, *args], env=self.env, cwd=PROJECT_DIR,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip

    # raw connections, no Django: the test process's own Django points at its test DB
    def query(self, sql: str, params=()) -> list[tuple]:
        if self.vendor == "sqlite":
            db = sqlite3.connect(self.sqlite_path, timeout=30, isolation_level=None)
            try:
                return db.execute(sql, params).fetchall()  # autocommit, as on PostgreSQL
            finally:
                db.close()
        import psycopg

        with psycopg.connect(**self.pg, autocommit=True) as db:
            cursor = db.execute(sql.replace("?", "%s"), params)
            return cursor.fetchall() if cursor.description else []

    def snapshot(self, tables=("directory_meeting", "directory_source", "directory_importrun")):
        """Every row of every given table, ordered by id, as plain values."""
        return {
            t: [tuple(map(repr, r)) for r in self.query(f"SELECT * FROM {t} ORDER BY id")]
            for t in tables
        }

    def writer_active(self) -> bool:
        """Whether some other process has a write transaction open right now."""
        if self.vendor == "sqlite":
            db = sqlite3.connect(self.sqlite_path, timeout=0, isolation_level=None)
            try:
                db.execute("BEGIN IMMEDIATE")
                db.execute("ROLLBACK")
                return False
            except sqlite3.OperationalError:
                return True
            finally:
                db.close()
        rows = self.query(
            "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
            "WHERE c.relname = 'directory_meeting' AND l.mode = 'RowExclusiveLock' "
            "AND l.pid <> pg_backend_pid()"
        )
        return rows[0][0] > 0


def _base_env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env["DJANGO_SETTINGS_MODULE"] = "mutualaid.settings"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PROJECT_DIR), *filter(None, [os.environ.get("PYTHONPATH")])]
    )
    env.pop("DATABASE_URL", None)
    return env


@contextmanager
def throwaway_database(tmp_path: Path):
    """A fresh, migrated database of the vendor the suite runs on: an SQLite file (WAL)
    under tmp_path, or a new PostgreSQL database on the suite's server (dropped after)."""
    db = settings.DATABASES["default"]
    env = _base_env()
    env["MUTUALAID_VAR_DIR"] = str(tmp_path / "var")
    if db["ENGINE"].endswith("sqlite3"):
        target = Target("sqlite", env, sqlite_path=tmp_path / "var" / "mutualaid.sqlite3")
        target.run("migrate", "--noinput", "-v0")
        yield target
        return
    import psycopg

    name = f"reliability_{uuid.uuid4().hex[:10]}"
    conn = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
    }
    admin = {**conn, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        url = f"postgres://{conn['user']}:{conn['password'] or ''}@{conn['host']}:{conn['port']}/{name}"
        env["DATABASE_URL"] = url
        env["DB_CONN_MAX_AGE"] = "0"
        target = Target("postgresql", env, pg={**conn, "dbname": name})
        target.run("migrate", "--noinput", "-v0")
        yield target
    finally:
        with psycopg.connect(**admin, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
