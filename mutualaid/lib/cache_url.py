"""CACHE_URL -> a Django CACHES entry, like DATABASE_URL for databases (no framework imports).

locmem://[name]             memory of one process (the default; each worker its own)
file:///srv/mutualaid/cache  files shared by every process on one machine
db://cache_table            a table in the default database, shared by every machine
                             (`mutualaid createcachetable` makes it; `serve` runs it)
redis://host:6379/0         Redis, shared by every machine (needs the redis package)
"""

from __future__ import annotations

import importlib.util
from urllib.parse import urlsplit


def parse_cache_url(url: str, *, timeout: int = 300) -> dict:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme == "locmem":
        return {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": parts.netloc or parts.path.strip("/") or "mutualaid",
            "TIMEOUT": timeout,
        }
    if scheme == "file":
        if not parts.path.startswith("/"):
            raise ValueError(f"CACHE_URL {url!r}: file:// needs an absolute path (file:///srv/...)")
        return {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": parts.path,
            "TIMEOUT": timeout,
        }
    if scheme == "db":
        table = parts.netloc or parts.path.strip("/") or "mutualaid_cache"
        if not table.replace("_", "").isalnum():
            raise ValueError(f"CACHE_URL {url!r}: table name must be letters, digits and _")
        return {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": table,
            "TIMEOUT": timeout,
        }
    if scheme in ("redis", "rediss"):
        if importlib.util.find_spec("redis") is None:
            raise ValueError(
                f"CACHE_URL {url!r}: Redis needs the redis package (pip install redis), which "
                "is not installed; use file:///path (one machine) or db://table (many) instead"
            )
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url.strip(),
            "TIMEOUT": timeout,
        }
    raise ValueError(f"CACHE_URL {url!r}: unknown scheme (use locmem://, file://, db://, redis://)")
