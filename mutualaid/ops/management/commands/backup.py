"""`mutualaid backup [PATH]`: a consistent, verified copy of the whole database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from mutualaid.ops.backups import BackupError, backup, default_path


class Command(BaseCommand):
    help = (
        "Copy the whole database to PATH (default: BACKUP_DIR/mutualaid-<time>.sqlite3 or "
        ".pgdump) while the site runs: SQLite's online backup API, or pg_dump on PostgreSQL. "
        "The copy is checked before it gets its name."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", nargs="?", help="a new file to write")

    def handle(self, *args, **opts):
        path = (
            Path(opts["path"]) if opts["path"] else default_path(connection.vendor, timezone.now())
        )
        try:
            info = backup(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"backup written: {info.path} ({info.vendor}, {info.tables} tables, "
            f"{info.size / 1_000_000:.1f} MB), verified"
        )
