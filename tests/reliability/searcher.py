"""Run by test_search_during_import: search the directory over and over (the same search
selector the site, API and CLI use) and print, per search, which imports' meetings it saw.

    python tests/reliability/searcher.py STOPFILE   (DJANGO settings from the environment)
"""

import json
import re
import sys
import time
from pathlib import Path

import django

django.setup()

from mutualaid.directory.search import SearchQuery, search  # noqa: E402

TAG = re.compile(r"\[(\w+)\]$")
QUERIES = {
    "near": dict(near=(50.8225, -0.1372), radius_km=25, limit=500, sort="distance"),
    "all": dict(limit=500),
    "text": dict(text="Group", limit=500, sort="start", upcoming=True),
}


def main(stop: Path) -> None:
    stopping_at = None
    while True:
        for name, params in QUERIES.items():
            started = time.perf_counter()
            results = search(SearchQuery(**params))
            tags = sorted({TAG.search(r.meeting.name).group(1) for r in results.results})
            line = {"q": name, "count": results.count, "n": len(results.results), "tags": tags}
            line["ms"] = round((time.perf_counter() - started) * 1000, 1)
            print(json.dumps(line), flush=True)
        if stopping_at is None and stop.exists():
            stopping_at = time.monotonic()
        if stopping_at is not None and time.monotonic() - stopping_at > 0.5:
            return


if __name__ == "__main__":
    main(Path(sys.argv[1]))
