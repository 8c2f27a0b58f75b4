"""`mutualaid erase --client ID --by MANAGER --confirm CASE_REFERENCE`: erase one client's
record at their request. Without --confirm it only says what would be deleted. The
manager's role is checked as on the web; the erasure is audited (ids and counts only).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError

from mutualaid.casework.lifecycle import erase_client, erasure_counts, manager_and_client


class Command(BaseCommand):
    help = "Erase one client's record on their request (audited)."

    def add_arguments(self, parser):
        parser.add_argument("--client", type=int, required=True, help="the client record's id")
        parser.add_argument("--by", required=True, help="username of the manager")
        parser.add_argument("--confirm", default="", help="the record's case reference")

    def handle(self, *args, **options):
        try:
            user, client = manager_and_client(options["by"], options["client"])
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        counts = erasure_counts(client)
        listed = ", ".join(f"{k} {v}" for k, v in counts.items())
        if not options["confirm"]:
            self.stdout.write(f"Would delete: {listed}.")
            self.stdout.write("Nothing changed. Repeat with --confirm CASE_REFERENCE to erase.")
            return
        try:
            erase_client(actor=user, client=client, confirm=options["confirm"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stdout.write(f"Erased client record {options['client']}: {listed}. Audited.")
