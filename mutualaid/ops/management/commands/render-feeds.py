"""`mutualaid render-feeds`: render the current generation's Meeting Guide feed files now,
so that the first reader after an import does not wait for them (docs/deploy.md)."""

import time
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation

from mutualaid.directory import feed_files, feeds_views
from mutualaid.directory.models import Fellowship


class Command(BaseCommand):
    help = (
        "Render the whole-directory Meeting Guide feed (and its gzip) for the directory's "
        "current generation into FEED_CACHE_DIR, unless already there, and remove older "
        "generations' files. Waits if a web worker is rendering the same feed. Run after "
        "imports (`mutualaid import` and `sync` do, after a change) or from a timer."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--base-url",
            default=None,
            help="the site's address as readers see it, for the feed's `url` fields "
            "(default: SITE_URL)",
        )
        parser.add_argument(
            "--fellowships",
            action="store_true",
            help="also render each fellowship's feed (/feeds/meeting-guide.json?fellowship=X)",
        )

    def handle(self, *args, **opts):
        base_url = (opts["base_url"] or settings.SITE_URL).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise CommandError(f"--base-url {base_url!r} is not an http(s) address")
        targets = [None]
        if opts["fellowships"]:
            targets += list(Fellowship.objects.order_by("code"))
        # The feeds speak the service's language, as the web view does.
        with translation.override(settings.LANGUAGE_CODE):
            for fellowship in targets:
                clock = time.perf_counter()
                etag, rendered = feeds_views.render_files(base_url=base_url, fellowship=fellowship)
                name = "meeting-guide" + (f" ({fellowship.code})" if fellowship else "")
                if not rendered:
                    self.stdout.write(f"{name} for {base_url}: already rendered, ETag {etag}")
                    continue
                key = feeds_views.feed_key(base_url, fellowship)
                gen = etag.strip('"').split("-", 1)[1]
                where = feed_files.folder()
                size = (where / f"{key}.{gen}.json").stat().st_size
                zipped = (where / f"{key}.{gen}.json.gz").stat().st_size
                self.stdout.write(
                    f"{name} for {base_url}: rendered in {time.perf_counter() - clock:.1f} s, "
                    f"{size / 1e6:.1f} MB ({zipped / 1e6:.1f} MB gzipped), ETag {etag}, "
                    f"in {where}"
                )
