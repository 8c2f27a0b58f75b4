import json
import time
from io import StringIO

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from mutualaid.directory.feeds_views import render_feeds_after_change
from mutualaid.directory.models import ImportRun, ImportStatus, Source

URL_PATTERN = r"^https?://"
REFUSED_EXIT_CODE = 1  # `mutualaid import`'s code for a refused (mass-removal) import


class Command(BaseCommand):
    help = (
        "Re-import every source whose location is an http(s) URL, each in its own "
        "transaction, with a conditional GET (an unchanged feed costs one request). A source "
        "that fails does not stop the others; the exit code is 1 when any failed. For cron."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="fetch every feed in full, changed or not"
        )
        parser.add_argument("--json", action="store_true", help="print the results as JSON")

    def handle(self, *args, **opts):
        sources = list(Source.objects.filter(location__iregex=URL_PATTERN).order_by("name"))
        results = [sync_source(source, force=opts["force"]) for source in sources]
        changed = any(r.get("created") or r.get("updated") or r.get("removed") for r in results)
        if changed:  # once for all sources (each import was told not to)
            render_feeds_after_change(self.stderr)
        failed = [r for r in results if r["status"] in ("failed", "refused")]
        if opts["json"]:
            self.stdout.write(
                json.dumps({"sources": results, "failed": len(failed)}, ensure_ascii=False)
            )
        elif not sources:
            self.stdout.write("no sources with an http(s) location: nothing to sync")
        else:
            for result in results:
                self.stdout.write(describe(result))
        if failed:
            names = ", ".join(r["source"] for r in failed)
            raise CommandError(
                f"{len(failed)} of {len(results)} sources failed: {names}", returncode=1
            )


def sync_source(source: Source, *, force: bool = False) -> dict:
    """Run `mutualaid import` for one source; never raises."""
    clock = time.perf_counter()
    started_at = timezone.now()
    out = StringIO()
    args = [source.location, "--source", source.name, "--format", source.format, "--json"]
    args.append("--no-render-feeds")
    if force:
        args.append("--force")
    try:
        call_command("import", *args, stdout=out)
        result = json.loads(out.getvalue())
        result["error"] = ""
    except CommandError as exc:
        status = "refused" if exc.returncode == REFUSED_EXIT_CODE else "failed"
        error = str(exc).removeprefix(f"{source.name}: ")
        result = {"source": source.name, "status": status, "error": error}
    except Exception as exc:  # one broken source must not stop the others
        message = f"{type(exc).__name__}: {exc}".splitlines()[0]
        result = {"source": source.name, "status": "failed", "error": message}
        try:
            ImportRun.objects.create(
                source=source,
                started_at=started_at,
                finished_at=timezone.now(),
                status=ImportStatus.FAILED,
                error=message,
            )
        except Exception:  # the database itself may be what failed
            pass
    result["format"] = source.format
    result["location"] = source.location
    result["seconds"] = round(time.perf_counter() - clock, 2)
    return result


def describe(result: dict) -> str:
    name, seconds = result["source"], result["seconds"]
    status = result["status"]
    if status == "applied":
        return (
            f"{name}: {result['created']} created, {result['updated']} updated, "
            f"{result['unchanged']} unchanged, {result['removed']} removed, "
            f"{len(result['rejected'])} rejected ({seconds:.1f} s)"
        )
    if status == "not_modified":
        return f"{name}: not modified (HTTP 304), nothing changed ({seconds:.1f} s)"
    return f"{name}: {status.upper()}: {result['error']}"
