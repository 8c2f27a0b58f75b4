"""gunicorn settings for `mutualaid serve` (docs/deploy.md), all from the environment.

    WEB_WORKERS        processes (default: 2 per core, at least 2)
    WEB_THREADS        threads per process (default 1: sync workers; >1: gthread workers,
                       which also keep client connections alive between requests)
    WEB_TIMEOUT        seconds before a stuck worker is killed and replaced (default 30)
    WEB_MAX_REQUESTS   requests before a worker is replaced, bounding slow memory growth
                       (default 5000, with jitter so workers do not restart together)
    WEB_ACCESS_LOG     1: log each request to stderr. Off by default: the lines hold client
                       addresses and search URLs (places people search near).
    FORWARDED_ALLOW_IPS  proxies trusted for X-Forwarded-* (default 127.0.0.1)
    GUNICORN_BIND      host:port (serve's --host/--port set it)

The application is loaded once before forking (preload_app), so workers share its code
pages; each opens its own database connections after the fork.
"""

import os

_cores = os.cpu_count() or 1


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = max(1, _int("WEB_WORKERS", max(2, 2 * _cores)))
threads = max(1, _int("WEB_THREADS", 1))
worker_class = "gthread" if threads > 1 else "sync"
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = _int("WEB_GRACEFUL_TIMEOUT", 30)
keepalive = _int("WEB_KEEPALIVE", 5)
max_requests = _int("WEB_MAX_REQUESTS", 5000)
max_requests_jitter = max(0, max_requests // 10)
preload_app = os.environ.get("WEB_PRELOAD", "1").strip().lower() in ("1", "true", "yes", "on")
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
accesslog = "-" if os.environ.get("WEB_ACCESS_LOG", "").strip().lower() in ("1", "true") else None
errorlog = "-"
loglevel = os.environ.get("WEB_LOG_LEVEL", "info")
proc_name = "mutualaid"
# Heartbeat files in memory, not on a disk that may stall (gunicorn's advice for Docker).
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
wsgi_app = "mutualaid.wsgi:application"
# No control socket: several servers (or a benchmark) under one user would share its path.
control_socket_disable = True


def pre_fork(server, worker):
    # In the master, before each fork: a database connection opened while preloading must
    # not be inherited (two processes on one socket); each worker opens its own.
    from django.db import connections

    for conn in connections.all(initialized_only=True):
        conn.close()
