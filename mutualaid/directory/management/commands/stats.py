import json

from django.core.management.base import BaseCommand
from django.db.models import Count

from mutualaid.directory.models import Meeting, Mode, Status
from mutualaid.lib import schedule

NO_SOURCE = "(no source)"
BY_APPOINTMENT = "By appointment"


def directory_stats() -> dict:
    """Counts of listed meetings by fellowship, mode, source and weekday, and totals."""
    listed = Meeting.objects.listed().order_by()

    def counts(field):
        return list(listed.values(field).annotate(n=Count("id")).order_by("-n", field))

    by_weekday = {
        (schedule.DAY_NAMES[r["weekday"]] if r["weekday"] is not None else BY_APPOINTMENT): r["n"]
        for r in sorted(counts("weekday"), key=lambda r: (r["weekday"] is None, r["weekday"] or 0))
    }
    return {
        "total": Meeting.objects.count(),
        "listed": listed.count(),
        "removed": Meeting.objects.filter(status=Status.REMOVED).count(),
        "duplicates": Meeting.objects.filter(
            status=Status.ACTIVE, duplicate_of__isnull=False
        ).count(),
        "by_fellowship": {r["fellowship__code"]: r["n"] for r in counts("fellowship__code")},
        "by_mode": {r["mode"]: r["n"] for r in counts("mode")},
        "by_source": {(r["source__name"] or NO_SOURCE): r["n"] for r in counts("source__name")},
        "by_weekday": by_weekday,
    }


def render(stats: dict) -> str:
    listed = stats["listed"]
    lines = [
        f"Listed meetings: {listed}",
        f"Removed from their feeds: {stats['removed']}",
        f"Duplicates of another listing: {stats['duplicates']}",
        f"All meetings: {stats['total']}",
    ]
    labels = {"by_mode": dict(Mode.choices)}
    for key, title in (
        ("by_fellowship", "By fellowship"),
        ("by_mode", "By mode"),
        ("by_source", "By source"),
        ("by_weekday", "By weekday"),
    ):
        rows = [(str(labels.get(key, {}).get(k, k)), n) for k, n in stats[key].items()]
        lines += ["", title]
        if not rows:
            lines.append("  (none)")
            continue
        width = max(len(label) for label, _ in rows)
        digits = max(len(str(n)) for _, n in rows)
        for label, n in rows:
            share = f"{100 * n / listed:5.1f}%" if listed else ""
            lines.append(f"  {label.ljust(width)}  {str(n).rjust(digits)}  {share}".rstrip())
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Counts of listed meetings by fellowship, mode, source and weekday."

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **opts):
        stats = directory_stats()
        if opts["json"]:
            self.stdout.write(json.dumps(stats, indent=1))
        else:
            self.stdout.write(render(stats))
