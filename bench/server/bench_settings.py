"""Settings for the servers bench/http.py and bench/memory.py start: the project's own,
plus one URL (bench/server/bench_urls.py) for the trivial JSON endpoint they compare against."""

from mutualaid.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
