import json

from django.core.management.base import BaseCommand
from django.db.models import Count, OuterRef, Q, Subquery

from mutualaid.directory.models import ImportRun, Source, Status


class Command(BaseCommand):
    help = (
        "List the feed sources: format, location, default zone, fellowship, meetings listed "
        "and removed, and what the last import run did."
    )

    def add_arguments(self, parser):
        parser.add_argument("--json", action="store_true", help="print the sources as JSON")

    def handle(self, *args, **opts):
        rows = source_rows()
        if opts["json"]:
            self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        if not rows:
            self.stdout.write("no sources yet: `mutualaid import PATH_OR_URL` adds one")
            return
        self.stdout.write(render_table(rows))


def source_rows() -> list[dict]:
    latest_run = ImportRun.objects.filter(source=OuterRef("pk")).order_by("-started_at", "-pk")
    sources = (
        Source.objects.select_related("fellowship")
        .annotate(
            listed=Count("meetings", filter=Q(meetings__status=Status.ACTIVE)),
            removed=Count("meetings", filter=Q(meetings__status=Status.REMOVED)),
            last_run_id=Subquery(latest_run.values("pk")[:1]),
        )
        .order_by("name")
    )
    sources = list(sources)
    runs = ImportRun.objects.in_bulk([s.last_run_id for s in sources if s.last_run_id])
    return [
        {
            "name": source.name,
            "format": source.format,
            "location": source.location,
            "default_timezone": source.default_timezone,
            "fellowship": source.fellowship.code if source.fellowship else None,
            "listed": source.listed,
            "removed": source.removed,
            "last_imported_at": _iso(source.last_imported_at),
            "last_run": _run_dict(runs.get(source.last_run_id)),
        }
        for source in sources
    ]


def _run_dict(run: ImportRun | None) -> dict | None:
    if run is None:
        return None
    return {
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "status": run.status,
        "created": run.created,
        "updated": run.updated,
        "unchanged": run.unchanged,
        "removed": run.removed,
        "rejected": len(run.rejected),
        "warnings": len(run.warnings),
        "error": run.error,
    }


def _iso(value) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def render_table(rows: list[dict]) -> str:
    header = [
        "name",
        "format",
        "location",
        "zone",
        "fellowship",
        "listed",
        "removed",
        "last import",
        "last run",
    ]
    table = [header]
    for row in rows:
        run = row["last_run"]
        table.append(
            [
                row["name"],
                row["format"],
                _shorten(row["location"], 40),
                row["default_timezone"] or "-",
                row["fellowship"] or "-",
                str(row["listed"]),
                str(row["removed"]),
                (row["last_imported_at"] or "never")[:16].replace("T", " "),
                _describe_run(run),
            ]
        )
    widths = [max(len(line[i]) for line in table) for i in range(len(header) - 1)]
    numeric = {5, 6}
    lines = []
    for line in table:
        cells = [
            cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i])
            for i, cell in enumerate(line[:-1])
        ]
        lines.append("  ".join([*cells, line[-1]]).rstrip())
    return "\n".join(lines)


def _describe_run(run: dict | None) -> str:
    if run is None:
        return "-"
    when = (run["started_at"] or "")[:16].replace("T", " ")
    if run["status"] == "applied":
        what = (
            f"{run['created']} created, {run['updated']} updated, {run['unchanged']} unchanged, "
            f"{run['removed']} removed, {run['rejected']} rejected"
        )
    elif run["status"] == "not_modified":
        what = "not modified (HTTP 304)"
    else:
        what = f"{run['status']}: {_shorten(run['error'], 80)}"
    return f"{when} {what}"


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
