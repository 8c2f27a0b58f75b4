"""`mutualaid restore PATH [--force]`: replace the database with a verified backup."""

from pathlib import Path

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from mutualaid.ops.backups import BackupError, has_data, restore, verify


class Command(BaseCommand):
    help = (
        "Replace the whole database with a backup made by `mutualaid backup`, all or nothing. "
        "The backup is checked first; a database that already holds meetings, sources, "
        "clients, users or audit events is only overwritten with --force."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="a backup file")
        parser.add_argument(
            "--force", action="store_true", help="overwrite a database that has data"
        )

    def handle(self, *args, **opts):
        path = Path(opts["path"])
        try:
            verify(path, vendor=connection.vendor)
            occupied = has_data()
            if occupied and not opts["force"]:
                raise CommandError(
                    f"the database already has data ({', '.join(occupied)}): nothing restored "
                    "(--force replaces it with the backup)"
                )
            tables = restore(path)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"restored {tables} tables from {path}")
        # Apply migrations newer than the backup, so the code and the schema agree.
        call_command("migrate", interactive=False, verbosity=0)
        self.stdout.write("migrations applied; check the audit trail: mutualaid audit verify")
