"""`mutualaid retention [--apply]`: the retention policy for closed client records.

Dry run by default: lists the closed records the policy would anonymise now (record id,
service, closed date, what would be cleared; never a name or a case reference) and the
totals. `--apply` anonymises them, one audited transaction each; running it again
changes nothing. Run it from cron, e.g. weekly:

    30 2 * * 1  /srv/mutualaid/.venv/bin/mutualaid retention --apply
"""

from django.core.management.base import BaseCommand
from django.utils import timezone

from mutualaid.casework.lifecycle import retention


class Command(BaseCommand):
    help = "Anonymise client records closed longer ago than RETENTION_CLOSED_CASE_MONTHS."

    def add_arguments(self, parser):
        parser.add_argument(
            "--apply", action="store_true", help="anonymise them (default: only list them)"
        )

    def handle(self, *args, **options):
        run = retention(apply=options["apply"])
        cutoff = timezone.localtime(run.cutoff)
        self.stdout.write(
            f"Retention: closed records are anonymised {run.months} months after closing "
            f"(closed before {cutoff:%Y-%m-%d %H:%M %Z})."
        )
        verb = "anonymised" if run.applied else "would be anonymised"
        if not run.items:
            self.stdout.write(f"0 records {verb}.")
            return
        self.stdout.write(f"{'record':>8}  {'service':<24} {'closed':<10}  cleared")
        for item in run.items:
            cleared = ", ".join(f"{k} {v}" for k, v in item.counts.items() if k != "clients")
            self.stdout.write(
                f"{item.client_id:>8}  {item.organisation[:24]:<24} "
                f"{timezone.localtime(item.closed_at):%Y-%m-%d}  {cleared or 'record only'}"
            )
        totals = ", ".join(f"{k} {v}" for k, v in run.totals.items() if k != "clients")
        self.stdout.write(f"{len(run.items)} records {verb}" + (f" ({totals})." if totals else "."))
        if not run.applied:
            self.stdout.write("Dry run: nothing changed. Run with --apply to anonymise them.")
