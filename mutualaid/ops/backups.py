"""Backups of the whole database, and restoring one (docs/reliability.md).

SQLite: the online backup API (a consistent copy while the site runs; readers and the
WAL are handled by SQLite), then `PRAGMA integrity_check` on the copy. Restore copies the
backup back into the live database with the same API, in one step: other connections see
the old or the restored database, never a mix.

PostgreSQL: `pg_dump --format=custom` (a consistent snapshot), checked with
`pg_restore --list`; restore is `pg_restore --clean --single-transaction`, all or nothing.

Framework-light on purpose: the management commands call these with a Django connection.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connections

# Tables that only a used site has rows in: restore refuses (without --force) to
# overwrite a database where any of them has a row.
DATA_TABLES = (
    "directory_meeting",
    "directory_source",
    "casework_client",
    "audit_auditevent",
    "auth_user",
)


class BackupError(Exception):
    """A backup that could not be made, or a file that is not a usable backup. One line."""


@dataclass
class BackupInfo:
    path: Path
    vendor: str
    size: int
    tables: int


def pg_tool(name: str) -> str:
    """pg_dump / pg_restore: PG_BIN_DIR, else PATH, else the newest /usr/lib/postgresql."""
    if settings.PG_BIN_DIR:
        candidate = Path(settings.PG_BIN_DIR) / name
        if candidate.exists():
            return str(candidate)
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(
        glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
        key=lambda p: (
            int(Path(p).parent.parent.name) if Path(p).parent.parent.name.isdigit() else 0
        ),
    )
    if versions:
        return versions[-1]
    raise BackupError(f"{name} not found: install the PostgreSQL client or set PG_BIN_DIR")


def _pg_env(db: dict) -> tuple[list[str], dict]:
    env = dict(os.environ)
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    args = ["--dbname", str(db["NAME"])]
    if db.get("HOST"):
        args += ["--host", str(db["HOST"])]
    if db.get("PORT"):
        args += ["--port", str(db["PORT"])]
    if db.get("USER"):
        args += ["--username", str(db["USER"])]
    return args, env


def _run(cmd: list[str], env: dict) -> str:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise BackupError(f"{Path(cmd[0]).name} failed (exit {result.returncode}): {last}")
    return result.stdout


def default_path(vendor: str, now) -> Path:
    suffix = "sqlite3" if vendor == "sqlite" else "pgdump"
    return Path(settings.BACKUP_DIR) / f"mutualaid-{now:%Y%m%dT%H%M%S}.{suffix}"


def backup(path: Path, *, using: str = "default") -> BackupInfo:
    """Write a consistent copy of the database to path (a new file) and verify it."""
    connection = connections[using]
    path = Path(path)
    if path.exists():
        raise BackupError(f"{path} already exists: give a new file name")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if connection.vendor == "sqlite":
            connection.ensure_connection()
            target = sqlite3.connect(partial)
            try:
                connection.connection.backup(target)
            finally:
                target.close()
        elif connection.vendor == "postgresql":
            args, env = _pg_env(connection.settings_dict)
            _run(
                [pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                 "--file", str(partial), *args],
                env,
            )  # fmt: skip
        else:
            raise BackupError(f"backups of {connection.vendor} databases are not supported")
        tables = verify(partial, vendor=connection.vendor)
        os.replace(partial, path)  # a file at `path` is always a complete, checked backup
    finally:
        partial.unlink(missing_ok=True)
    return BackupInfo(path, connection.vendor, path.stat().st_size, tables)


def verify(path: Path, *, vendor: str) -> int:
    """Check a backup file is whole and is a mutualaid database; the number of tables."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    if vendor == "sqlite":
        with open(path, "rb") as handle:
            if handle.read(16) != b"SQLite format 3\x00":
                raise BackupError(f"{path} is not an SQLite database (wrong header)")
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            check = db.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{path} is damaged: integrity_check says {check}")
            tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        except sqlite3.DatabaseError as exc:
            raise BackupError(f"{path} is not a readable SQLite database: {exc}") from None
        finally:
            db.close()
    else:
        try:
            listing = _run([pg_tool("pg_restore"), "--list", str(path)], dict(os.environ))
        except BackupError as exc:
            raise BackupError(f"{path} is not a readable pg_dump archive: {exc}") from None
        tables = {
            line.split()[-2]
            for line in listing.splitlines()
            if " TABLE " in line and not line.startswith(";") and "TABLE DATA" not in line
        }
    if "django_migrations" not in tables or "directory_meeting" not in tables:
        raise BackupError(f"{path} is not a mutualaid backup (no django_migrations/meetings)")
    return len(tables)


def has_data(*, using: str = "default") -> list[str]:
    """The DATA_TABLES that have at least one row in the target database."""
    connection = connections[using]
    existing = set(connection.introspection.table_names())
    found = []
    with connection.cursor() as cursor:
        for table in DATA_TABLES:
            if table in existing:
                cursor.execute(f"SELECT 1 FROM {connection.ops.quote_name(table)} LIMIT 1")
                if cursor.fetchone():
                    found.append(table)
    return found


def restore(path: Path, *, using: str = "default") -> int:
    """Replace the database's contents with the backup's, all or nothing; tables restored."""
    connection = connections[using]
    tables = verify(path, vendor=connection.vendor)
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        if connection.in_atomic_block:
            raise BackupError("cannot restore inside a transaction")
        source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            source.backup(connection.connection)
        finally:
            source.close()
    else:
        args, env = _pg_env(connection.settings_dict)
        connection.close()  # hold no locks while pg_restore drops and recreates tables
        _run(
            [pg_tool("pg_restore"), "--clean", "--if-exists", "--single-transaction",
             "--no-owner", "--no-privileges", "--exit-on-error", *args, str(path)],
            env,
        )  # fmt: skip
    return tables
