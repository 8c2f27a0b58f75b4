import time
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from mutualaid.directory.printing import (
    MAX_MEETINGS,
    Filters,
    booklet_html,
    booklet_pdf,
    build_booklet,
    site_meeting_url,
)
from mutualaid.directory.search import SearchError
from mutualaid.lib.pdf import PDFUnavailable


class Command(BaseCommand):
    help = (
        "Write the printable list of meetings (the PDF booklet of /print/): grouped by day, "
        f"Monday first, at most {MAX_MEETINGS} meetings, with a QR code to each meeting's page "
        "under SITE_URL."
    )

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--place", metavar="TEXT", help="a town, city or postcode")
        where.add_argument("--near", metavar="LAT,LNG", help="around a point")
        parser.add_argument("--radius-km", metavar="R", help="how far from it (default 25)")
        parser.add_argument("--day", nargs="+", action="extend", default=[], metavar="DAY")
        parser.add_argument(
            "--when", metavar="TIME", help="morning, afternoon, evening or night (local time)"
        )
        parser.add_argument("--fellowship", nargs="+", action="extend", default=[], metavar="CODE")
        parser.add_argument(
            "--approach", nargs="+", action="extend", default=[], metavar="APPROACH"
        )
        parser.add_argument(
            "--type",
            nargs="+",
            action="extend",
            default=[],
            metavar="TYPE",
            help="all of these types: names (women) or Meeting Guide codes (W)",
        )
        parser.add_argument(
            "--mode",
            nargs="+",
            action="extend",
            default=[],
            metavar="MODE",
            help="in_person, online, hybrid or any (in_person and online include hybrid; "
            "default near a place: in_person)",
        )
        parser.add_argument("--language", nargs="+", action="extend", default=[], metavar="LANG")
        parser.add_argument(
            "--site-url",
            metavar="URL",
            help=f"where the QR codes point (default {settings.SITE_URL})",
        )
        parser.add_argument(
            "--out",
            required=True,
            metavar="FILE",
            help="the PDF to write (.html: the HTML instead)",
        )

    def handle(self, *args, **opts):
        out = Path(opts["out"])
        if not out.parent.is_dir():
            raise CommandError(f"out: no such directory {str(out.parent)!r}", returncode=2)
        filters = Filters(
            place=opts["place"] or "",
            near=opts["near"] or "",
            radius=opts["radius_km"] or "",
            days=opts["day"],
            when=opts["when"] or "",
            modes=opts["mode"],
            fellowships=opts["fellowship"],
            approaches=opts["approach"],
            types=opts["type"],
            languages=opts["language"],
        )
        started = time.perf_counter()
        try:
            booklet = build_booklet(
                filters,
                meeting_url=site_meeting_url(opts["site_url"]),
                site_url=opts["site_url"],
            )
            if out.suffix.lower() in (".html", ".htm"):
                data, pages = booklet_html(booklet).encode(), None
            else:
                rendered = booklet_pdf(booklet)
                data, pages = rendered.data, rendered.page_count
        except SearchError as exc:
            raise CommandError(str(exc), returncode=2) from None
        except PDFUnavailable as exc:
            raise CommandError(str(exc), returncode=1) from None
        try:
            out.write_bytes(data)
        except OSError as exc:
            raise CommandError(
                f"out: cannot write {str(out)!r}: {exc.strerror}", returncode=2
            ) from None
        shown = f"{booklet.shown} of {booklet.count}" if booklet.truncated else booklet.shown
        self.stdout.write(
            f"Wrote {out}: {shown} meeting(s)"
            + (f", {pages} page(s)" if pages else "")
            + f", {len(data) / 1024:.0f} KB in {time.perf_counter() - started:.1f} s."
        )
