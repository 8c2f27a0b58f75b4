"""Helpers shared by the benchmarks in bench/: percentiles, tables, the machine, a throwaway
PostgreSQL, child processes and the marked sections of docs/performance.md.

Only the standard library here, so that every benchmark can import it before Django is set up.
"""

from __future__ import annotations

import json
import math
import os
import platform
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent
OUT_DIR = PROJECT_DIR / "bench" / "out"
DOCS = PROJECT_DIR / "docs" / "performance.md"


# --- numbers ------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) with linear interpolation, as numpy's default."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summarise_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p95 and max of timings given in seconds, in milliseconds."""
    ms = [s * 1000.0 for s in seconds]
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 4),
        "p95_ms": round(percentile(ms, 95), 4),
        "max_ms": round(max(ms), 4) if ms else math.nan,
    }


def size_label(n: int) -> str:
    """250000 -> '250k', 1000000 -> '1M'."""
    if n >= 1_000_000 and n % 100_000 == 0:
        return f"{n / 1_000_000:g}M"
    if n >= 1_000 and n % 100 == 0:
        return f"{n / 1_000:g}k"
    return str(n)


def fmt_ms(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join(" --- " for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- the machine --------------------------------------------------------------------


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _ram_gib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def machine_info() -> dict[str, object]:
    return {
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "ram_gib": _ram_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


# --- child processes ----------------------------------------------------------------


def run_child(
    argv: Sequence[str], *, env: dict[str, str] | None = None, timeout: float | None = None
) -> dict:
    """Run `python argv...` with `--json-out FILE` appended and return the JSON it wrote.

    One process per database keeps Django's settings clean; the child's stderr (progress)
    passes through to ours.
    """
    with tempfile.TemporaryDirectory(prefix="bench-child-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, *argv, "--json-out", str(out)]
        subprocess.run(cmd, env={**os.environ, **(env or {})}, check=True, timeout=timeout)
        return json.loads(out.read_text())


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc) -> None:
        self.seconds = time.perf_counter() - self.start


# --- a throwaway PostgreSQL ---------------------------------------------------------


def postgres_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/N/bin with initdb, or the directory of initdb on PATH."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


class ThrowawayPostgres:
    """A private PostgreSQL cluster in a temporary directory, listening on 127.0.0.1 only.

    initdb runs as the `postgres` user when we are root (the server refuses to run as
    root), as ourselves otherwise. Durability is switched off (fsync, synchronous_commit,
    full_page_writes): it changes how fast the load is, not how fast reads are.

        with ThrowawayPostgres(port=54340) as pg:
            pg.create_database("bench")
            url = pg.url("bench")
    """

    SETTINGS = {
        "listen_addresses": "127.0.0.1",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "shared_buffers": "512MB",
        "max_wal_size": "4GB",
        "maintenance_work_mem": "512MB",
    }

    def __init__(self, port: int = 54340, *, bin_dir: Path | None = None):
        self.port = port
        self.bin_dir = bin_dir or postgres_bin_dir()
        if self.bin_dir is None:
            raise RuntimeError(
                "PostgreSQL is not installed: apt-get install -y postgresql-15 (or postgresql)"
            )
        self.tmp: Path | None = None
        self.user = "postgres"
        self.version = ""

    def _as_owner(self, argv: list[str]) -> list[str]:
        if os.geteuid() == 0:
            return ["runuser", "-u", "postgres", "--", *argv]
        return argv

    def start(self) -> ThrowawayPostgres:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                raise RuntimeError(
                    f"port {self.port} is already in use; pick another with --pg-port"
                )
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.tmp, user="postgres", group="postgres")
        data = self.tmp / "data"
        subprocess.run(
            self._as_owner(
                [
                    str(self.bin_dir / "initdb"),
                    "-D",
                    str(data),
                    "-U",
                    self.user,
                    "-A",
                    "trust",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        options = " ".join(f"-c {k}={v}" for k, v in self.SETTINGS.items())
        options += f" -p {self.port} -k {self.tmp}"
        subprocess.run(
            self._as_owner(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-o",
                    options,
                    "-l",
                    str(self.tmp / "server.log"),
                    "-w",
                    "start",
                ]
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        self.version = self.psql("SHOW server_version").strip()
        return self

    def psql(self, sql: str, database: str = "postgres") -> str:
        result = subprocess.run(
            [
                str(self.bin_dir / "psql"),
                "-X",
                "-A",
                "-t",
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                self.user,
                "-d",
                database,
                "-c",
                sql,
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        return result.stdout

    def create_database(self, name: str) -> str:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"bad database name {name!r}")
        self.psql(f"DROP DATABASE IF EXISTS {name}")
        self.psql(f"CREATE DATABASE {name}")
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgres://{self.user}@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.tmp is None:
            return
        subprocess.run(
            self._as_owner(
                [
                    str(self.bin_dir / "pg_ctl"),
                    "-D",
                    str(self.tmp / "data"),
                    "-m",
                    "fast",
                    "-w",
                    "stop",
                ]
            ),
            check=False,
            stdout=subprocess.DEVNULL,
        )
        shutil.rmtree(self.tmp, ignore_errors=True)
        self.tmp = None

    def __enter__(self) -> ThrowawayPostgres:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


# --- docs/performance.md ------------------------------------------------------------


def replace_marked_section(path: Path, name: str, body: str) -> None:
    """Put body between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, adding them if absent."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text() if path.exists() else ""
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text, count=1)
    else:
        text = text.rstrip() + ("\n\n" if text.strip() else "") + block + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
