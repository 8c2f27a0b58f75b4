"""`mutualaid audit verify` and `mutualaid audit disclosures --target app.model:ID`."""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from mutualaid.audit.selectors import disclosures_for, events_for
from mutualaid.audit.services import target_key, verify_chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain, or list who read or exported a record."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="subcommand", required=True)
        sub.add_parser("verify", help="walk the hash chain; exit 1 at the first broken event")
        disclosures = sub.add_parser(
            "disclosures",
            help="accounting of disclosures: who read, exported or disclosed a record",
        )
        disclosures.add_argument("--target", required=True, help="app.model:ID")
        disclosures.add_argument(
            "--all", action="store_true", help="every event about the record, not only reads"
        )
        disclosures.add_argument("--json", action="store_true", help="one JSON object a line")

    def handle(self, *args, **options):
        if options["subcommand"] == "verify":
            return self.verify()
        return self.disclosures(options)

    def verify(self):
        ok, bad_seq, message = verify_chain()
        if ok:
            self.stdout.write(message)
            return
        self.stderr.write(f"audit trail TAMPERED at #{bad_seq}: {message}")
        sys.exit(1)

    def disclosures(self, options):
        try:
            target_type, target_id = target_key(options["target"])
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        if not target_type or not target_id:
            raise CommandError("--target looks like casework.client:42")
        events = (
            events_for((target_type, target_id))
            if options["all"]
            else disclosures_for((target_type, target_id))
        )
        count = 0
        for event in events:
            count += 1
            row = {
                "seq": event.seq,
                "at": event.at.isoformat(),
                "actor": event.actor_label,
                "actor_id": event.actor_id,
                "action": event.action,
                "ip": event.ip,
                "organisation_id": event.organisation_id,
                "detail": event.detail,
            }
            if options["json"]:
                self.stdout.write(json.dumps(row, sort_keys=True))
            else:
                self.stdout.write(
                    f"#{event.seq}  {event.at:%Y-%m-%d %H:%M:%S %Z}  {event.actor_label}"
                    f"  {event.action}  from {event.ip or '-'}"
                    + (f"  {json.dumps(event.detail, sort_keys=True)}" if event.detail else "")
                )
        if not options["json"]:
            self.stdout.write(f"{count} event(s) for {target_type}:{target_id}")
