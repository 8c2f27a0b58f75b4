"""`mutualaid send_reminders`: run from cron (every 15 minutes or so). Emails the client
(with consent) and the volunteer the evening before an introduced meeting, with an .ics
file. Safe to run as often as you like: nobody is ever sent the same reminder twice."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from mutualaid.casework.services import send_due_reminders


class Command(BaseCommand):
    help = "Email reminders the evening before introduced meetings (idempotent; run from cron)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--now",
            help="pretend it is this moment (ISO 8601 with offset), for testing a schedule",
        )

    def handle(self, *args, **opts):
        now = None
        if opts.get("now"):
            try:
                now = datetime.fromisoformat(opts["now"])
            except ValueError:
                raise CommandError(
                    f"--now: expected ISO 8601 such as 2026-03-28T18:05:00+00:00, got {opts['now']!r}"
                ) from None
            if now.tzinfo is None:
                raise CommandError("--now needs a UTC offset, e.g. +00:00")
        run = send_due_reminders(now=now)
        self.stdout.write(
            f"Reminders sent: {run.sent_client} to clients, {run.sent_volunteer} to volunteers"
            + (f"; {run.failed} failed (will retry)" if run.failed else "")
            + (
                f"; {run.skipped_removed_meeting} skipped (meeting removed from the directory)"
                if run.skipped_removed_meeting
                else ""
            )
            + "."
        )
        if run.failed:
            raise CommandError(f"{run.failed} reminder(s) could not be sent; they will be retried")
