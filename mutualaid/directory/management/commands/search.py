import json

from django.core.management.base import BaseCommand, CommandError

from mutualaid.directory.query_params import build_query
from mutualaid.directory.search import SORTS, SearchError, search


class Command(BaseCommand):
    help = "Search the meeting directory (the same search as the web site and the API)."

    def add_arguments(self, parser):
        where = parser.add_mutually_exclusive_group()
        where.add_argument("--near", metavar="LAT,LNG", help="search around a point")
        where.add_argument("--place", metavar="TEXT", help="a town, city or postcode")
        parser.add_argument("--radius-km", metavar="R", help="how far from the point (default 25)")
        parser.add_argument("--day", nargs="+", action="extend", default=[], metavar="DAY")
        parser.add_argument(
            "--start-after", metavar="HH:MM", help="starting at or after (local time)"
        )
        parser.add_argument("--start-before", metavar="HH:MM", help="starting before (local time)")
        parser.add_argument(
            "--type",
            nargs="+",
            action="extend",
            default=[],
            metavar="CODE",
            help="all of these types: Meeting Guide codes (W, O, X) or names (women)",
        )
        parser.add_argument("--fellowship", nargs="+", action="extend", default=[], metavar="CODE")
        parser.add_argument(
            "--approach",
            nargs="+",
            action="extend",
            default=[],
            choices=["twelve_step", "secular", "family"],
        )
        parser.add_argument(
            "--mode",
            nargs="+",
            action="extend",
            default=[],
            metavar="MODE",
            help="in_person, online, hybrid, inactive (in_person and online include hybrid)",
        )
        parser.add_argument("--language", nargs="+", action="extend", default=[], metavar="LANG")
        parser.add_argument("--text", default="", metavar="Q", help="words in name, venue or notes")
        parser.add_argument("--upcoming", action="store_true", help="order by next start from now")
        parser.add_argument("--now", metavar="ISO8601", help="pretend it is this moment")
        parser.add_argument("--timezone", metavar="TZ", help="show start times in this zone too")
        parser.add_argument("--sort", choices=SORTS)
        parser.add_argument("--limit", default=20, metavar="N")
        parser.add_argument("--offset", default=0, metavar="N")
        parser.add_argument("--json", action="store_true", help="print JSON")

    def handle(self, *args, **opts):
        try:
            query, place = build_query(
                near=opts["near"],
                place=opts["place"],
                radius_km=opts["radius_km"],
                days=opts["day"],
                start_after=opts["start_after"],
                start_before=opts["start_before"],
                types=opts["type"],
                fellowships=opts["fellowship"],
                approaches=opts["approach"],
                modes=opts["mode"],
                languages=opts["language"],
                text=opts["text"],
                upcoming=opts["upcoming"],
                now=opts["now"],
                viewer_timezone=opts["timezone"],
                sort=opts["sort"],
                limit=opts["limit"],
                offset=opts["offset"],
            )
            results = search(query)
        except SearchError as exc:
            raise CommandError(str(exc), returncode=2) from None
        if opts["json"]:
            self.stdout.write(json.dumps(results.as_dict(), ensure_ascii=False, indent=1))
            return
        self.stdout.write(render_table(results, place))


def render_table(results, place=None) -> str:
    tz = results.query.viewer_timezone
    lines = []
    if place is not None:
        lines.append(f"Near {place.name} ({place.lat:.4f}, {place.lng:.4f})")
    shown = len(results.results)
    lines.append(f"{results.count} meeting(s) found; showing {shown}.")
    if not shown:
        return "\n".join(lines)
    header = ["Next start", "Local", "Fellowship", "Name", "Where", "km", "Types"]
    rows = []
    for r in results.results:
        m = r.meeting
        start = r.next_start_in(tz)
        rows.append(
            [
                start.strftime("%a %d %b %H:%M %Z") if start else "by appointment",
                f"{m.weekday_name[:3]} {m.start_time:%H:%M}" if m.start_time else "",
                m.fellowship.code,
                m.name[:40],
                ("Online" if m.mode == "online" else (m.location_name or m.city or m.address))[:30],
                f"{r.distance_km:.1f}" if r.distance_km is not None else "",
                " ".join(m.meeting_guide_types)[:24],
            ]
        )
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        lines.append(
            "  ".join(str(cell).ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        )
    return "\n".join(lines)
