"""Soak: N minutes of mixed load against a real server on loopback (docs/reliability.md).

    .venv/bin/python bench/soak.py                  # 10 minutes, SQLite, 2 workers
    .venv/bin/python bench/soak.py --minutes 3
    DATABASE_URL=postgres://... .venv/bin/python bench/soak.py --minutes 10

A fresh database (SQLite in var/bench/soak/, or the empty PostgreSQL DATABASE_URL names)
is migrated and given a feed of meetings, a keyworker with an API token, and hand-entered
meetings; then `mutualaid serve` (gunicorn, DEBUG off, worker recycling off so memory
growth shows) serves it on 127.0.0.1 while, all at once:

- searchers (threads) ask the JSON API (near a point, text, next start), the search page,
  the BMLT endpoint and /healthz;
- a casework writer adds clients (POST) and changes them (PATCH with the version it
  read), over HTTP with the token;
- a meeting editor changes hand-entered meetings through the editors' service
  (change_requests.edit_meeting, the admin's rules) with the version it last saw;
- an importer runs `mutualaid import` of two alternating feeds (a tenth of the meetings
  differ) every few seconds, as cron would.

Afterwards every acknowledged write is read back (clients over the API, meetings from the
database, the imported feed's meetings), and the workers' memory at the end is compared
with after warm-up. Zero errors, zero lost writes and growth under 10% pass (exit 0).
Before the load, each request kind is timed on the idle server: the baseline printed
beside the figures under load. Results: bench/out/soak.json.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections import defaultdict
from datetime import time as dtime
from pathlib import Path

import common

SOAK_DIR = common.PROJECT_DIR / "var" / "bench" / "soak"
MEETINGS = 800
HAND_MEETINGS = 40
BRIGHTON = (50.8225, -0.1372)
GROWTH_LIMIT = 0.10


def feed(n: int, tag: str) -> bytes:
    """n meetings; with tag "B" every tenth has other notes than with "A"."""
    rows = []
    for i in range(n):
        changed = tag if i % 10 == 0 else "A"
        rows.append(
            {
                "slug": f"soak-{i}",
                "name": f"Soak Group {i}",
                "day": i % 7,
                "time": f"{7 + i % 14:02d}:{(i * 15) % 60:02d}",
                "timezone": "Europe/London",
                "location": f"Hall {i % 50}",
                "formatted_address": f"{i % 90} High Street, Brighton, BN1 {i % 9}AA, UK",
                "attendance_option": "in_person",
                "latitude": BRIGHTON[0] + (i % 40 - 20) * 0.003,
                "longitude": BRIGHTON[1] + (i % 30 - 15) * 0.004,
                "types": ["O", "D"] if i % 2 else ["C"],
                "notes": f"feed {changed} {i}",
                "updated": "2026-01-05 12:00:00",
            }
        )
    return json.dumps(rows).encode()


# --- HTTP ---------------------------------------------------------------------------


class Http:
    def __init__(self, base: str, token: str):
        self.base, self.token = base, token

    def call(self, method: str, path: str, body=None, auth=False) -> tuple[int, bytes, float]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if auth:
            request.add_header("Authorization", f"Bearer {self.token}")
        started = time.perf_counter()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                payload, status = response.read(), response.status
        except urllib.error.HTTPError as exc:
            payload, status = exc.read(), exc.code
        except (urllib.error.URLError, OSError) as exc:
            payload, status = str(exc).encode(), 0
        return status, payload, time.perf_counter() - started


SEARCHES = {
    "api near": "/api/v1/meetings?near=50.8225,-0.1372&radius_km=10&limit=20",
    "api text": "/api/v1/meetings?text=Group&limit=50",
    "api upcoming": "/api/v1/meetings?near=50.8225,-0.1372&upcoming=true&limit=10",
    "search page": "/?place=Brighton",
    "bmlt": "/main_server/client_interface/json/?switcher=GetSearchResults"
    "&lat_val=50.8225&long_val=-0.1372&geo_width_km=10",
    "healthz": "/healthz",
}


# --- the run ------------------------------------------------------------------------


class Soak:
    def __init__(self, args):
        self.args = args
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.latency = defaultdict(list)
        self.errors: list[str] = []
        self.clients: dict[int, dict] = {}  # id -> what the server acknowledged
        self.meetings: dict[int, tuple[str, int]] = {}  # pk -> (notes, version)
        self.imports: list[str] = []  # tags of acknowledged imports, in order
        self.memory: list[tuple[float, dict[int, int]]] = []

    def record(self, kind, status, seconds, expected=(200,), detail=b""):
        with self.lock:
            self.latency[kind].append(seconds)
            if status not in expected:
                self.errors.append(f"{kind}: HTTP {status} {detail[:200]!r}")

    # -- load ----------------------------------------------------------------------

    def searcher(self, seed):
        rng = random.Random(seed)
        kinds = list(SEARCHES)
        while not self.stop.is_set():
            kind = rng.choice(kinds)
            status, body, took = self.http.call("GET", SEARCHES[kind])
            self.record(kind, status, took, detail=body)

    def casework_writer(self):
        n = 0
        while not self.stop.is_set():
            n += 1
            ref = f"SOAK-{n:05d}"
            status, body, took = self.http.call(
                "POST", "/api/v1/casework/clients",
                {"case_reference": ref, "preferred_name": f"Soak Person {n}", "area_name": "Brighton"},
                auth=True,
            )  # fmt: skip
            self.record("casework create", status, took, expected=(201,), detail=body)
            if status != 201:
                continue
            pk = json.loads(body)["id"]
            with self.lock:
                self.clients[pk] = {"case_reference": ref, "version": None}
            status, body, took = self.http.call("GET", f"/api/v1/casework/clients/{pk}", auth=True)
            self.record("casework read", status, took, detail=body)
            if status != 200:
                continue
            version = json.loads(body)["version"]
            status, body, took = self.http.call(
                "PATCH", f"/api/v1/casework/clients/{pk}",
                {"version": version, "preferred_name": f"Soak Person {n} changed"}, auth=True,
            )  # fmt: skip
            self.record("casework patch", status, took, detail=body)
            if status == 200:
                with self.lock:
                    self.clients[pk].update(
                        version=json.loads(body)["version"],
                        preferred_name=f"Soak Person {n} changed",
                    )
            time.sleep(0.05)

    def meeting_editor(self):
        from django.db import close_old_connections

        from mutualaid.directory.change_requests import edit_meeting
        from mutualaid.directory.models import Meeting

        rng = random.Random(7)
        pks = list(self.meetings)
        n = 0
        while not self.stop.is_set():
            n += 1
            pk = rng.choice(pks)
            _, version = self.meetings[pk]
            notes = f"edited {n}"
            started = time.perf_counter()
            try:
                stored = edit_meeting(
                    meeting=Meeting(pk=pk), user=self.editor, expected_version=version,
                    changes={"notes": notes},
                )  # fmt: skip
                with self.lock:
                    self.meetings[pk] = (notes, stored.version)
                self.record("meeting edit", 200, time.perf_counter() - started)
            except Exception as exc:  # recorded as an error, the run goes on
                self.record(
                    "meeting edit", 0, time.perf_counter() - started, detail=repr(exc).encode()
                )
            close_old_connections()
            time.sleep(0.2)

    def importer(self):
        n = 0
        while not self.stop.is_set():
            tag = "B" if n % 2 == 0 else "A"
            n += 1
            started = time.perf_counter()
            result = subprocess.run(
                [sys.executable, "-m", "mutualaid", "import", str(SOAK_DIR / f"{tag}.json"),
                 "--source", "soak", "--format", "meeting-guide"],
                env=self.env, capture_output=True, text=True,
            )  # fmt: skip
            ok = result.returncode == 0
            self.record("import", 200 if ok else 0, time.perf_counter() - started,
                        detail=result.stderr.encode())  # fmt: skip
            if ok:
                with self.lock:
                    self.imports.append(tag)
            self.stop.wait(self.args.import_every)

    def memory_sampler(self):
        while not self.stop.is_set():
            self.memory.append((time.monotonic() - self.started, worker_rss(self.server.pid)))
            self.stop.wait(5)

    # -- set-up, run, check ----------------------------------------------------------

    def setup(self):
        from cryptography.fernet import Fernet

        shutil.rmtree(SOAK_DIR, ignore_errors=True)
        SOAK_DIR.mkdir(parents=True)
        env = dict(os.environ)
        env.update(
            MUTUALAID_VAR_DIR=str(SOAK_DIR), DEBUG="0", SECRET_KEY="soak-" + "x" * 40,
            FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(), ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0", WEB_MAX_REQUESTS="0", DJANGO_SETTINGS_MODULE="mutualaid.settings",
            LOG_FORMAT="json", PYTHONPATH=str(common.PROJECT_DIR),
        )  # fmt: skip
        self.env = env
        os.environ.update(env)
        for tag in "AB":
            (SOAK_DIR / f"{tag}.json").write_bytes(feed(self.args.meetings, tag))
        import django

        django.setup()
        from django.contrib.auth import get_user_model
        from django.contrib.auth.models import Group
        from django.core.management import call_command

        from mutualaid.accounts.api_auth import issue_token
        from mutualaid.accounts.models import Membership, Organisation, Role
        from mutualaid.directory.models import Fellowship, Meeting

        call_command("migrate", interactive=False, verbosity=0)
        subprocess.run(
            [sys.executable, "-m", "mutualaid", "import", str(SOAK_DIR / "A.json"), "--source",
             "soak", "--format", "meeting-guide"], env=env, check=True, capture_output=True,
        )  # fmt: skip
        self.imports.append("A")
        users = get_user_model().objects
        org = Organisation.objects.create(name="Soak service", slug="soak", area="Brighton")
        keyworker = users.create_user("soak-keyworker", password="soak password 1234")
        Membership.objects.create(user=keyworker, organisation=org, role=Role.KEYWORKER)
        _, self.token = issue_token(
            user=keyworker, name="soak", scopes=["casework:read", "casework:write"]
        )
        self.editor = users.create_user("soak-editor", password="soak password 1234", is_staff=True)
        self.editor.groups.add(Group.objects.get(name="Directory editors"))
        self.editor = users.get(pk=self.editor.pk)
        aa = Fellowship.objects.get(code="AA")
        for i in range(HAND_MEETINGS):
            m = Meeting.objects.create(
                fellowship=aa, name=f"Hand-entered {i}", weekday=i % 7,
                start_time=dtime(10 + i % 10, 0), timezone="Europe/London",
                latitude=BRIGHTON[0], longitude=BRIGHTON[1], city="Brighton",
            )  # fmt: skip
            self.meetings[m.pk] = ("", m.version)

    def start_server(self):
        port = self.args.port
        if not port:
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
        self.server = subprocess.Popen(
            [sys.executable, "-m", "mutualaid", "serve", "--host", "127.0.0.1", "--port",
             str(port), "--workers", str(self.args.workers), "--threads", "1"],
            env=self.env, stdout=subprocess.DEVNULL, stderr=open(SOAK_DIR / "server.log", "w"),
        )  # fmt: skip
        self.http = Http(f"http://127.0.0.1:{port}", self.token)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            status, _, _ = self.http.call("GET", "/healthz")
            if status == 200 and len(worker_rss(self.server.pid)) >= self.args.workers:
                return
            time.sleep(0.5)
        raise SystemExit(f"server did not come up; see {SOAK_DIR / 'server.log'}")

    def baseline(self) -> dict[str, float]:
        """Each request kind on the idle server: median of 15."""
        idle = {}
        for kind, path in SEARCHES.items():
            times = []
            for _ in range(15):
                status, body, took = self.http.call("GET", path)
                if status != 200:
                    raise SystemExit(f"baseline {kind}: HTTP {status} {body[:200]!r}")
                times.append(took)
            idle[kind] = common.percentile(times, 50) * 1000
        return idle

    def run(self):
        self.setup()
        self.start_server()
        try:
            idle = self.baseline()
            self.started = time.monotonic()
            threads = [threading.Thread(target=self.searcher, args=(i,)) for i in range(3)]
            threads += [threading.Thread(target=f) for f in
                        (self.casework_writer, self.meeting_editor, self.importer, self.memory_sampler)]  # fmt: skip
            for t in threads:
                t.start()
            end = self.started + self.args.minutes * 60
            while time.monotonic() < end:
                time.sleep(min(10, max(0, end - time.monotonic())))
                done = sum(len(v) for v in self.latency.values())
                common.log(f"{(time.monotonic() - self.started) / 60:.1f} min: {done} requests, "
                           f"{len(self.errors)} errors")  # fmt: skip
            self.stop.set()
            for t in threads:
                t.join(timeout=300)
            self.memory.append((time.monotonic() - self.started, worker_rss(self.server.pid)))
            lost = self.read_back()
        finally:
            self.server.send_signal(signal.SIGTERM)
            try:
                self.server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.server.kill()
        return self.report(idle, lost)

    def read_back(self) -> list[str]:
        from django.db import connections

        from mutualaid.directory.models import Meeting

        connections.close_all()
        lost = []
        for pk, wanted in sorted(self.clients.items()):
            status, body, _ = self.http.call("GET", f"/api/v1/casework/clients/{pk}", auth=True)
            if status != 200:
                lost.append(f"client {pk}: HTTP {status}")
                continue
            got = json.loads(body)
            for key, value in wanted.items():
                if value is not None and got.get(key) != value:
                    lost.append(f"client {pk}: {key} {got.get(key)!r} != {value!r}")
        for pk, (notes, version) in sorted(self.meetings.items()):
            stored = Meeting.objects.get(pk=pk)
            if (stored.notes, stored.version) != (notes, version):
                lost.append(f"meeting {pk}: {(stored.notes, stored.version)} != {(notes, version)}")
        last = self.imports[-1]
        wrong = [
            m.source_ref
            for m in Meeting.objects.filter(source__name="soak", status="active")
            if m.notes != f"feed {last if int(m.source_ref.split('-')[1]) % 10 == 0 else 'A'} "
            f"{m.source_ref.split('-')[1]}"
        ]
        if wrong or Meeting.objects.filter(source__name="soak", status="active").count() != (
            self.args.meetings
        ):
            lost.append(f"imported meetings not as the last import ({last}) left them: {wrong[:5]}")
        return lost

    def report(self, idle, lost) -> int:
        warm = next((m for t, m in self.memory if t >= self.args.warmup), self.memory[0][1])
        final = self.memory[-1][1]
        growth = {
            pid: (final[pid] - warm[pid]) / warm[pid] for pid in final if pid in warm and warm[pid]
        }
        replaced = sorted(set(warm) ^ set(final))
        rows = []
        for kind in sorted(self.latency):
            samples = self.latency[kind]
            rows.append([
                kind, len(samples),
                f"{idle[kind]:.1f}" if kind in idle else "-",
                f"{common.percentile(samples, 50) * 1000:.1f}",
                f"{common.percentile(samples, 95) * 1000:.1f}",
            ])  # fmt: skip
        total = sum(len(v) for v in self.latency.values())
        print()
        print(f"soak: {self.args.minutes:g} min, {self.args.workers} workers, "
              f"{common.machine_info().get('cpu', '')}")  # fmt: skip
        print(common.markdown_table(
            ["request", "count", "idle p50 ms (baseline)", "p50 ms", "p95 ms"], rows))  # fmt: skip
        print(f"requests: {total}; errors: {len(self.errors)}; acknowledged writes read back: "
              f"{len(self.clients)} clients, {len(self.meetings)} meetings, "
              f"{len(self.imports)} imports; lost: {len(lost)}")  # fmt: skip
        for pid in sorted(final):
            print(f"worker {pid}: RSS {warm.get(pid, 0) / 1e6:.1f} MB after warm-up "
                  f"({self.args.warmup:g} s) -> {final[pid] / 1e6:.1f} MB at the end "
                  f"({growth.get(pid, float('nan')) * 100:+.1f}%)")  # fmt: skip
        for line in self.errors[:10] + lost[:10]:
            print("  " + line)
        ok = (
            not self.errors
            and not lost
            and not replaced
            and all(g < GROWTH_LIMIT for g in growth.values())
        )
        if replaced:
            print(f"workers replaced during the run: {replaced}")
        common.OUT_DIR.mkdir(parents=True, exist_ok=True)
        (common.OUT_DIR / "soak.json").write_text(json.dumps({
            "minutes": self.args.minutes, "workers": self.args.workers,
            "requests": {k: len(v) for k, v in self.latency.items()},
            "idle_p50_ms": idle,
            "p50_ms": {k: common.percentile(v, 50) * 1000 for k, v in self.latency.items()},
            "p95_ms": {k: common.percentile(v, 95) * 1000 for k, v in self.latency.items()},
            "errors": self.errors, "lost": lost,
            "writes": {"clients": len(self.clients), "meetings": len(self.meetings),
                       "imports": len(self.imports)},
            "rss_bytes": {"warm": warm, "final": final}, "growth": growth,
            "memory_samples": self.memory, "passed": ok, "machine": common.machine_info(),
        }, indent=1, default=str))  # fmt: skip
        print("PASS" if ok else "FAIL")
        return 0 if ok else 1


def worker_rss(master: int) -> dict[int, int]:
    """Resident memory (bytes) of each child process of the gunicorn master."""
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) != master:
                continue
            status = (stat.parent / "status").read_text()
        except (OSError, IndexError, ValueError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                found[int(stat.parent.name)] = int(line.split()[1]) * 1024
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--meetings", type=int, default=MEETINGS)
    parser.add_argument("--import-every", type=float, default=5, help="seconds between imports")
    parser.add_argument("--warmup", type=float, default=60, help="seconds before memory baseline")
    args = parser.parse_args()
    args.warmup = min(args.warmup, args.minutes * 60 / 5)
    return Soak(args).run()


if __name__ == "__main__":
    sys.exit(main())
