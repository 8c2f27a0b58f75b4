"""`mutualaid subject-access --client ID --by MANAGER [--format json|pdf] [--output FILE]`:
everything held about one client (UK GDPR Article 15), as JSON (to standard output by
default) or PDF (--output needed). `--by` names the manager answering the request: their
role is checked as on the web, and the export is audited with them as actor.
"""

import sys

from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from mutualaid.casework import lifecycle


def manager_and_client(by: str, client_id: int):
    try:
        return lifecycle.manager_and_client(by, client_id)
    except PermissionDenied as exc:
        raise CommandError(str(exc)) from None


class Command(BaseCommand):
    help = "Export everything held about one client (subject access), audited."

    def add_arguments(self, parser):
        parser.add_argument("--client", type=int, required=True, help="the client record's id")
        parser.add_argument("--by", required=True, help="username of the manager")
        parser.add_argument("--format", choices=["json", "pdf"], default="json")
        parser.add_argument("--output", help="file to write (default: standard output, JSON only)")

    def handle(self, *args, **options):
        user, client = manager_and_client(options["by"], options["client"])
        if options["format"] == "pdf" and not options["output"]:
            raise CommandError("--format pdf needs --output FILE")
        body, _, name = lifecycle.export_subject_access(
            actor=user, client=client, fmt=options["format"]
        )
        if options["output"]:
            with open(options["output"], "wb") as fh:
                fh.write(body)
            self.stderr.write(f"wrote {options['output']} ({len(body)} bytes); audited as export")
        else:
            sys.stdout.flush()
            self.stdout.write(body.decode())
