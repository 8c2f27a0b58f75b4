"""How many requests a second does a real gunicorn serve, and how fast, on loopback?

    .venv/bin/python bench/http_load.py                 # 100k meetings, concurrency 1, 8, 32
    .venv/bin/python bench/http_load.py --quick         # 2k meetings, short levels (docs untouched)
    .venv/bin/python bench/http_load.py --size 250000 --seconds 10 --workers 2 --threads 4

The parent builds (once; reused while bench/search.py's generator makes the same meetings)
an SQLite directory of --size synthetic meetings under var/bench/http/, then starts
`mutualaid serve` (gunicorn, DEBUG off, the production middleware) in a subprocess with
one extra URL, /bench/trivial.json (bench/server/bench_urls.py: {"ok": true} through the same
middleware), and drives it from this process with a bounded load generator: N threads,
each with its own keep-alive connection, stopping after --requests or --seconds per
level, whichever comes first. The generator reads every response the same way, into one
reused buffer per connection, counting body bytes without keeping them (LeanConnection;
--client http.client reads bodies as before, allocating each whole body). For each endpoint and concurrency it records
requests per second, p50 and p99 latency and errors, beside the trivial endpoint measured
the same way in the same run:

    trivial        GET /bench/trivial.json
    search (hot)   GET /api/v1/meetings for 40 popular searches repeated (cache hits)
    search (cold)  GET /api/v1/meetings at a new random centre each time (cache misses)
    meeting page   GET /meetings/<slug>/ of 500 meetings
    feed           GET /feeds/meeting-guide.json, gzip (the whole directory, from its file)
    feed 304       the same with If-None-Match (an app polling an unchanged feed)

(Named http_load.py, not http.py: scripts in bench/ run with bench/ first on sys.path,
where an http.py would hide the standard library's http package from Django.)

The load generator shares the machine's cores with the server (loopback), so these are
figures for "this box serving itself", lower than a separate client would see. Writes
bench/out/http.json; bench/run.py puts the table into docs/performance.md.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import itertools
import json
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import common

BENCH_DIR = Path(__file__).resolve().parent
CONCURRENCY = (1, 8, 32)
ENDPOINTS = {
    "trivial": "trivial JSON (baseline)",
    "search_hot": "search API, 40 hot searches",
    "search_cold": "search API, a new centre each time",
    "meeting": "meeting page",
    "feed": "Meeting Guide feed (gzip)",
    "feed_304": "Meeting Guide feed, If-None-Match → 304",
}
GOALS = {
    "search_vs_trivial_c8": 0.5,  # search (hot) throughput ≥ half the trivial's at c=8
    "p99_c32_ms": 50.0,  # search (hot) p99 at c=32
    "feed_rps": 200.0,  # the feed from cache, at the best concurrency
}


def var_dir() -> Path:
    return Path(os.environ.get("MUTUALAID_VAR_DIR", common.PROJECT_DIR / "var")) / "bench" / "http"


# --- the database -------------------------------------------------------------------


def build_database(size: int, seed: int) -> tuple[str, dict]:
    """An SQLite file with `size` synthetic meetings (bench/search.py's loader), reused."""
    path = var_dir() / f"http-{common.size_label(size)}.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{path}"
    out = common.run_child(
        [__file__, "--child-build", "--size", str(size), "--seed", str(seed)],
        env={"DATABASE_URL": url},
    )
    return url, out


def child_build(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    import django

    django.setup()
    from django.core.management import call_command

    sys.path.insert(0, str(BENCH_DIR))
    import search as search_bench

    call_command("migrate", verbosity=0, interactive=False)
    took = search_bench.ensure_loaded(args.size, args.seed)
    from mutualaid.directory import cache
    from mutualaid.directory.models import Meeting

    cache.directory_changed()  # the loader writes with raw SQL: tell the caches
    slugs = list(Meeting.objects.listed().order_by("?").values_list("slug", flat=True)[:500])
    specs = search_bench.make_specs(40, args.seed)
    Path(args.json_out).write_text(
        json.dumps({"build": took, "slugs": slugs, "hot": [s["near"] for s in specs]})
    )


# --- the server ---------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env(database_url: str) -> dict:
    key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench_settings",
        "PYTHONPATH": os.pathsep.join(
            [str(BENCH_DIR / "server"), str(common.PROJECT_DIR), os.environ.get("PYTHONPATH", "")]
        ),
        "DATABASE_URL": database_url,
        "DEBUG": "0",
        "SECRET_KEY": secrets.token_urlsafe(40),
        "FIELD_ENCRYPTION_KEYS": key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        # Static files are not measured here: no collectstatic, whitenoise from the apps.
        "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage",
        "WHITENOISE_USE_FINDERS": "1",
        # INFO: the search index's "built ... in use" line (wait_for_indexes); nothing
        # else logs at INFO on a request's path.
        "LOG_LEVEL": "INFO",
        # No worker restarts within a run.
        "WEB_MAX_REQUESTS": "0",
    }


class Server:
    """`mutualaid serve` in its own process group; stopped with SIGTERM to the group."""

    def __init__(self, database_url: str, *, workers: int, threads: int, extra_env=None):
        self.port = free_port()
        # The rendered feed files (mutualaid/directory/feed_files.py): this server's own
        # folder, removed when it stops (each run's port makes new feed keys).
        var_dir().mkdir(parents=True, exist_ok=True)
        self.feed_dir = tempfile.mkdtemp(prefix="feeds-", dir=var_dir())
        self.env = {
            **server_env(database_url),
            "FEED_CACHE_DIR": self.feed_dir,
            **(extra_env or {}),
        }
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 180) -> Server:
        argv = [sys.executable, "-m", "mutualaid", "serve", "--port", str(self.port)]
        argv += ["--workers", str(self.workers), "--threads", str(self.threads)]
        argv += ["--no-collectstatic"]
        # The server's log to a file: a pipe nobody reads would fill and stall gunicorn.
        self.log = tempfile.NamedTemporaryFile(prefix="bench-server-", suffix=".log")
        self.proc = subprocess.Popen(
            argv,
            env=self.env,
            cwd=common.PROJECT_DIR,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited: {self.output()[-2000:]}")
            try:
                status, _, _ = get(self.port, "/bench/trivial.json")
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("server did not answer in time")

    def output(self) -> str:
        return Path(self.log.name).read_text(errors="replace")

    def worker_pids(self) -> list[int]:
        out = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(self.proc.pid)], capture_output=True, text=True
        ).stdout
        return [int(p) for p in out.split()]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        if "WORKER TIMEOUT" in self.output():
            common.log("  warning: gunicorn killed a worker that took too long (see its log)")
        self.log.close()
        shutil.rmtree(self.feed_dir, ignore_errors=True)

    def __enter__(self) -> Server:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def get(port: int, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("GET", path, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


# --- the load generator -------------------------------------------------------------

RECV_BUFFER = 1 << 20
HEAD_READ = 16384  # the first read of a response: its head and, for small bodies, all of it


class LeanConnection:
    """One keep-alive HTTP/1.1 connection that reads each response into one reused buffer
    and counts the body's bytes without keeping them (http.client's read() allocates the
    whole body: 7 MB a feed request, costing this process the CPU the server needs).
    Every endpoint is read this way, the trivial baseline included. Understands
    Content-Length, chunked bodies, bodiless statuses and Connection: close."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.sock: socket.socket | None = None
        self.buffer = bytearray(RECV_BUFFER)
        self.view = memoryview(self.buffer)

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def _recv(self, limit: int | None = None) -> int:
        n = self.sock.recv_into(self.view, min(limit or RECV_BUFFER, RECV_BUFFER))
        if n == 0:
            raise ConnectionError("server closed the connection mid-response")
        return n

    def get(self, path: str, header_bytes: bytes) -> tuple[int, int]:
        """GET path; returns (status, body bytes read)."""
        if self.sock is None:
            self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=self.timeout)
            self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n%s\r\n"
            % (path.encode(), self.port, header_bytes)
        )
        head = b""
        while True:  # the status line and headers (small: read into the buffer, copied)
            n = self.sock.recv_into(self.view, HEAD_READ)
            if n == 0:
                raise ConnectionError("server closed the connection")
            head += self.view[:n]
            end = head.find(b"\r\n\r\n")
            if end >= 0:
                break
        rest = head[end + 4 :]
        lines = head[:end].decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        fields = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            fields[name.strip().lower()] = value.strip()
        close = fields.get("connection", "").lower() == "close"
        if status in (204, 304) or 100 <= status < 200:
            body = 0
        elif "content-length" in fields:
            body = int(fields["content-length"])
            remaining = body - len(rest)
            while remaining > 0:
                remaining -= self._recv(remaining)
        elif "chunked" in fields.get("transfer-encoding", "").lower():
            body = self._chunked(rest)
        else:  # read to the end of the connection
            body = len(rest)
            while True:
                n = self.sock.recv_into(self.view)
                if n == 0:
                    break
                body += n
            close = True
        if close:
            self.close()
        return status, body

    def _chunked(self, data: bytes) -> int:
        body = 0
        while True:
            while b"\r\n" not in data:
                data += self.view[: self._recv()]
            line, _, data = data.partition(b"\r\n")
            size = int(line.split(b";")[0], 16)
            while len(data) < size + 2:
                data += self.view[: self._recv()]
            data = data[size + 2 :]
            body += size
            if size == 0:
                return body


class HttpClientConnection:
    """The load generator before LeanConnection (--client http.client): the standard
    library's client, which reads each body into a new bytes object. For comparison."""

    def __init__(self, port: int, timeout: float = 60):
        self.port, self.timeout = port, timeout
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)

    def close(self) -> None:
        self.conn.close()

    def get(self, path: str, header_bytes: bytes) -> tuple[int, int]:
        headers = dict(
            line.split(": ", 1) for line in header_bytes.decode("latin-1").split("\r\n") if line
        )
        self.conn.request("GET", path, headers=headers)
        response = self.conn.getresponse()
        size = len(response.read())
        if response.getheader("Connection", "").lower() == "close":
            self.conn.close()
        return response.status, size


CLIENT = "lean"  # --client


def load(port, paths, *, concurrency, max_requests, seconds, headers=None, expect=200) -> dict:
    """`concurrency` threads, each with its own keep-alive connection (LeanConnection),
    issue GETs for paths[n % len(paths)] until max_requests are issued or `seconds` pass."""
    counter = itertools.count()
    latencies: list[float] = []
    errors = [0]
    received = [0]
    lock = threading.Lock()
    stop_at = time.perf_counter() + seconds
    start = threading.Barrier(concurrency + 1)
    header_bytes = b"".join(
        f"{name}: {value}\r\n".encode("latin-1") for name, value in (headers or {}).items()
    )

    def worker():
        conn = LeanConnection(port) if CLIENT == "lean" else HttpClientConnection(port)
        mine, bad, got = [], 0, 0
        start.wait()
        while time.perf_counter() < stop_at:
            n = next(counter)
            if n >= max_requests:
                break
            began = time.perf_counter()
            try:
                status, size = conn.get(paths[n % len(paths)], header_bytes)
                ok = status == expect
                got += size
            except (OSError, ValueError, IndexError, http.client.HTTPException):
                ok = False
                conn.close()
            mine.append(time.perf_counter() - began)
            bad += not ok
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad
            received[0] += got

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for t in threads:
        t.start()
    start.wait()
    began, cpu_began = time.perf_counter(), time.process_time()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    client_cpu = time.process_time() - cpu_began  # this process: the load generator
    ms = sorted(x * 1000 for x in latencies)
    return {
        "concurrency": concurrency,
        "requests": len(ms),
        "seconds": round(elapsed, 2),
        "rps": round(len(ms) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(common.percentile(ms, 50), 2),
        "p99_ms": round(common.percentile(ms, 99), 2),
        "errors": errors[0],
        "mib_per_s": round(received[0] / elapsed / 2**20, 1) if elapsed else 0.0,
        # The cores the generator itself used (of os.cpu_count()), beside the server's.
        "client_cores": round(client_cpu / elapsed, 2) if elapsed else 0.0,
    }


def search_paths(hot: list, n: int, rng: random.Random, *, cold: bool) -> list[str]:
    def path(lat, lng, kind):
        query = f"near={lat:.4f},{lng:.4f}&radius_km=25"
        if kind == 1:
            query += "&type=wheelchair"
        elif kind == 2:
            query += "&day=tuesday&start_after=18:00&start_before=21:00"
        return f"/api/v1/meetings?{query}&limit=20"

    if not cold:
        return [path(lat, lng, i % 3) for i, (lat, lng) in enumerate(hot)]
    out = []
    for i in range(n):
        lat, lng = rng.choice(hot)
        out.append(path(lat + rng.gauss(0, 0.05), lng + rng.gauss(0, 0.08), i % 3))
    return out


def measure(args, database_url: str, data: dict) -> dict:
    rng = random.Random(args.seed)
    results: dict[str, list[dict]] = {}
    with Server(database_url, workers=args.workers, threads=args.threads) as server:
        port = server.port
        status, headers, body = get(port, "/feeds/meeting-guide.json", {"Accept-Encoding": "gzip"})
        assert status == 200, status
        feed_etag = headers.get("ETag", "")
        feed = {"gzip_bytes": len(body)}
        _, _, plain = get(port, "/feeds/meeting-guide.json")
        feed["bytes"] = len(plain)
        paths = {
            "trivial": ["/bench/trivial.json"],
            "search_hot": search_paths(data["hot"], 0, rng, cold=False),
            "meeting": [f"/meetings/{slug}/" for slug in data["slugs"]],
            "feed": ["/feeds/meeting-guide.json"],
            "feed_304": ["/feeds/meeting-guide.json"],
        }
        gz = {"Accept-Encoding": "gzip"}
        options = {
            "feed": {"headers": gz},
            "feed_304": {"headers": {**gz, "If-None-Match": feed_etag}, "expect": 304},
            "search_hot": {"headers": gz},
            "search_cold": {"headers": gz},
            "meeting": {"headers": gz},
            "trivial": {"headers": gz},
        }
        # Warm every worker: each renders the feed once and caches the hot searches.
        for _ in range(args.workers * 3):
            for name in ("feed", "search_hot"):
                load(
                    port,
                    paths[name],
                    concurrency=args.workers,
                    max_requests=len(paths[name]),
                    seconds=30,
                    **options[name],
                )
        cold_budget = args.requests * len(args.concurrency) * 2
        paths["search_cold"] = search_paths(data["hot"], cold_budget, rng, cold=True)
        # Each worker builds its search index in a background thread after its second
        # uncached near search: start and finish those builds here, or they would take
        # cores from whichever level runs meanwhile (the trivial baseline, first).
        index_wait = wait_for_indexes(server, port, rng, data, workers=args.workers)
        load_before = os.getloadavg()
        for name in args.endpoints:
            results[name] = []
            for c in args.concurrency:
                level = load(
                    port,
                    paths[name],
                    concurrency=c,
                    max_requests=args.requests,
                    seconds=args.seconds,
                    **options[name],
                )
                if name == "search_cold":  # never reuse a cold path
                    paths[name] = paths[name][level["requests"] :] or paths[name]
                results[name].append(level)
                common.log(
                    f"  {name:12} c={c:<3} {level['rps']:8.1f} req/s  p50 {level['p50_ms']:7.2f} ms"
                    f"  p99 {level['p99_ms']:7.2f} ms  errors {level['errors']}"
                    f"  client {level['client_cores']:.2f} cores"
                )
        load_after = os.getloadavg()
    return {
        "endpoints": results,
        "feed": feed,
        "index_wait_s": index_wait,
        "loadavg": [round(x, 2) for x in (*load_before, *load_after)],
    }


def wait_for_indexes(server, port, rng, data, *, workers: int, timeout: float = 300):
    """Seconds until every worker has logged that its search index is built (None: not
    within timeout), sending a few uncached near searches meanwhile so that each starts."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        built = [
            line
            for line in server.output().splitlines()
            if "search index for database" in line and ("in use" in line or "not used" in line)
        ]
        if len(built) >= workers:
            return round(time.perf_counter() - started, 1)
        load(
            port,
            search_paths(data["hot"], workers * 2, rng, cold=True),
            concurrency=workers,
            max_requests=workers * 2,
            seconds=10,
        )
        time.sleep(0.5)
    common.log(f"[http] search indexes not all built after {timeout:.0f} s: measuring anyway")
    return None


# --- report -------------------------------------------------------------------------


def verdicts(report: dict) -> dict:
    r = report["endpoints"]
    at = {name: {lv["concurrency"]: lv for lv in levels} for name, levels in r.items()}
    ratio = at["search_hot"][8]["rps"] / max(at["trivial"][8]["rps"], 1e-9)
    feed_rps = max(lv["rps"] for lv in r["feed"])
    return {
        "search_vs_trivial_c8": {
            "value": round(ratio, 2),
            "goal": f"≥ {GOALS['search_vs_trivial_c8']}",
            "met": ratio >= GOALS["search_vs_trivial_c8"],
        },
        "p99_c32_ms": {
            "value": at["search_hot"][32]["p99_ms"],
            "goal": f"≤ {GOALS['p99_c32_ms']:g} ms",
            "met": at["search_hot"][32]["p99_ms"] <= GOALS["p99_c32_ms"],
        },
        "feed_rps": {
            "value": feed_rps,
            "goal": f"≥ {GOALS['feed_rps']:g} req/s",
            "met": feed_rps >= GOALS["feed_rps"],
        },
    }


def table(report: dict) -> str:
    headers = ["endpoint"]
    for c in CONCURRENCY:
        headers += [f"c={c} req/s", f"c={c} p50/p99 ms"]
    rows = []
    for name, title in ENDPOINTS.items():
        if name not in report["endpoints"]:
            continue
        row = [title]
        for level in report["endpoints"][name]:
            err = f" ({level['errors']} errors)" if level["errors"] else ""
            row += [f"{level['rps']:.0f}{err}", f"{level['p50_ms']:.1f} / {level['p99_ms']:.1f}"]
        rows.append(row)
    return common.markdown_table(headers, rows)


def goals_table(report: dict) -> str:
    names = {
        "search_vs_trivial_c8": "search API (hot) ÷ trivial, req/s at c=8",
        "p99_c32_ms": "search API (hot) p99 at c=32",
        "feed_rps": f"feed of {common.size_label(report['size'])} meetings from cache, req/s",
    }
    rows = [
        [names[k], v["value"], v["goal"], "yes" if v["met"] else "**no**"]
        for k, v in report["verdicts"].items()
    ]
    return common.markdown_table(["goal", "measured", "target", "met"], rows)


def main(argv=None) -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so that `with Server` stops it
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=8.0, help="at most, per level")
    parser.add_argument("--requests", type=int, default=4000, help="at most, per level")
    parser.add_argument("--quick", action="store_true", help="2k meetings, short levels")
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument(
        "--client",
        choices=("lean", "http.client"),
        default="lean",
        help="how the load generator reads responses (http.client: as before 2026-11-28)",
    )
    parser.add_argument(
        "--only", help="comma-separated endpoints to measure (default: all); docs untouched"
    )
    parser.add_argument(
        "--levels", help="comma-separated concurrency levels (default 1,8,32); docs untouched"
    )
    parser.add_argument("--out", default=str(common.OUT_DIR / "http.json"))
    parser.add_argument("--child-build", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    global CLIENT
    CLIENT = args.client
    args.endpoints = list(ENDPOINTS)
    if args.only:
        args.endpoints = [name.strip() for name in args.only.split(",") if name.strip()]
        unknown = set(args.endpoints) - set(ENDPOINTS)
        if unknown:
            parser.error(f"unknown endpoints {sorted(unknown)} (known: {', '.join(ENDPOINTS)})")
        if args.out == str(common.OUT_DIR / "http.json"):  # a partial run: not the docs' file
            args.out = str(common.OUT_DIR / f"http-{'-'.join(args.endpoints)}.json")
    args.concurrency = list(CONCURRENCY)
    if args.levels:
        args.concurrency = [int(c) for c in args.levels.split(",")]
        if args.out == str(common.OUT_DIR / "http.json"):  # a partial run: not the docs' file
            args.out = str(common.OUT_DIR / "http-levels.json")
    if args.child_build:
        child_build(args)
        return
    if args.quick:
        args.size = min(args.size, 2000)
        args.seconds, args.requests = min(args.seconds, 1.0), min(args.requests, 200)
    common.log(f"[http] building or reusing {common.size_label(args.size)} meetings")
    url, data = build_database(args.size, args.seed)
    common.log(f"[http] gunicorn: {args.workers} workers x {args.threads} threads")
    measured = measure(args, url, data)
    report = {
        "machine": common.machine_info(),
        "size": args.size,
        "server": {"workers": args.workers, "threads": args.threads, "database": "sqlite"},
        "client": args.client,
        "limits": {"seconds": args.seconds, "requests": args.requests},
        "build": data["build"],
        **measured,
        "command": "bench/http_load.py " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    complete = set(ENDPOINTS) <= set(report["endpoints"]) and args.concurrency == list(CONCURRENCY)
    report["verdicts"] = verdicts(report) if complete else {}
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    if complete:
        print(table(report))
        print()
        print(goals_table(report))
    common.log(f"wrote {out}")


if __name__ == "__main__":
    main()
