"""How long do the insights pages take for a large service, on SQLite and PostgreSQL?

    .venv/bin/python bench/insights.py                  # 5,000 clients, 100,000 events
    .venv/bin/python bench/insights.py --quick          # 500 clients, a smoke run (docs untouched)
    .venv/bin/python bench/insights.py --databases sqlite

One child process per database (a fresh SQLite file under var/bench/insights/, and a
database in a throwaway PostgreSQL cluster on 127.0.0.1:--pg-port). The child migrates,
loads a synthetic directory (mutualaid.lib.synthetic: 3,000 meetings around Brighton, Hove
and London) and one service in "Brighton and Hove" with 5,000 clients and about 100,000
casework events (conversations, chosen meetings, goals, introductions, attendances,
check-ins with encrypted answers, BARC-10s, follow-ups) spread over 18 months, written
with bulk_create (no audit events: the load is not what is measured).

Then each page is computed the way a request computes it: the view function is called
with a signed-in, second-factor-verified user (the audit event each read writes is part
of the time), the report is built, every chart drawn as SVG and the template rendered:

    outcomes        the manager's service outcomes (all 5,000 clients)
    supervision     the manager's report on one keyworker (about 200 clients)
    area            the commissioner's area: suppressed funnel + the directory's provision
    self-assessment the commissioner's self-assessment page

Each is timed --repeat times after one warm-up. Beside it, in the same run, the baseline:
a plain SELECT COUNT(*) over every table the pages read (clients, the eight casework
tables and the meetings), the least any page computed from those tables could cost.
The parent prints a table, writes bench/out/insights.json and (full runs only) the
bench:insights section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import common

PAGES = ("outcomes", "supervision", "area", "self-assessment")
GOAL_S = 1.0


def var_dir() -> Path:
    return common.PROJECT_DIR / "var" / "bench" / "insights"


# --- the child ----------------------------------------------------------------------


def load(clients: int, events: int, seed: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.db import transaction
    from django.utils import timezone

    from mutualaid.accounts.models import Membership, Organisation, Role, Team
    from mutualaid.casework.models import (
        Assessment,
        Attendance,
        Barc10,
        CheckIn,
        Client,
        FollowUp,
        Goal,
        Introduction,
        MeetingChoice,
    )
    from mutualaid.directory.demo import fellowships_by_code, meeting_objects
    from mutualaid.directory.models import Meeting, Source, SourceFormat
    from mutualaid.lib import synthetic

    rng = random.Random(seed)
    now = timezone.now()
    today = timezone.localdate()
    started = time.perf_counter()
    source = Source.objects.create(name="bench", format=SourceFormat.DEMO)
    by_code = fellowships_by_code()
    for batch_seed, towns, count in [(1, ["Brighton", "Hove"], 1500), (2, ["London"], 1500)]:
        rows = synthetic.generate_meetings(count, seed=batch_seed, towns=towns)
        Meeting.objects.bulk_create(meeting_objects(rows, by_code, source=source), batch_size=500)
    meetings = list(
        Meeting.objects.filter(city__in=["Brighton", "Hove"], weekday__isnull=False)
        .exclude(mode="online")
        .values_list("pk", flat=True)[:300]
    )
    User = get_user_model()
    org = Organisation.objects.create(name="Bench service", slug="bench", area="Brighton and Hove")
    council = Organisation.objects.create(name="Bench council", slug="bench-council")
    teams = [Team.objects.create(organisation=org, name=f"Team {n}") for n in range(3)]
    keyworkers = []
    for n in range(25):
        user = User.objects.create_user(username=f"bench-kw{n}")
        Membership.objects.create(
            user=user, organisation=org, team=teams[n % 3], role=Role.KEYWORKER
        )
        keyworkers.append(user)
    manager = User.objects.create_user(username="bench-manager")
    Membership.objects.create(user=manager, organisation=org, role=Role.MANAGER)
    commissioner = User.objects.create_user(username="bench-commissioner")
    Membership.objects.create(
        user=commissioner, organisation=council, role=Role.COMMISSIONER, area="Brighton and Hove"
    )

    with transaction.atomic():
        made = Client.objects.bulk_create(
            [
                Client(
                    organisation=org,
                    team=teams[n % 25 % 3],
                    keyworker=keyworkers[n % 25],
                    case_reference=f"B-{n:05d}",
                    preferred_name=f"Client {n}",
                )
                for n in range(clients)
            ],
            batch_size=1000,
        )
    offered = {c.pk: now - timedelta(days=rng.randint(0, 540)) for c in made}
    Client.objects.bulk_update(
        [Client(pk=pk, created_at=at) for pk, at in offered.items()],
        ["created_at"],
        batch_size=1000,
    )
    # Events: share of the target per kind (sums to 1). Attendances dominate, as in life.
    per_client = events / clients
    plan = {"attendance": 0.6, "check_in": 0.1, "barc": 0.08, "follow_up": 0.066}
    rows: dict[str, list] = {k: [] for k in
                             ("assessment", "choice", "goal", "intro", "attendance",
                              "check_in", "barc", "follow_up")}  # fmt: skip
    keys = ["shared", "sponsor", "contact_between", "tools", "service", "programme_work"]
    kinds = ["volunteer_call", "volunteer_meets", "volunteer_goes", "keyworker_goes", "information"]
    for c in made:
        start = offered[c.pk]
        if rng.random() < 0.1:
            continue  # offered only
        day = timezone.localtime(start).date() + timedelta(days=rng.randint(0, 7))
        day = min(day, today)
        rows["assessment"].append(
            Assessment(client=c, held_on=day, previous_experience="none", outcome="interested")
        )
        if rng.random() < 0.15:
            continue
        meeting = rng.choice(meetings)
        rows["choice"].append(MeetingChoice(client=c, meeting_id=meeting, chosen_at=start))
        rows["goal"].append(Goal(client=c, kind="attend_once", meeting_id=meeting, due_on=day))
        if rng.random() < 0.15:
            continue
        rows["intro"].append(
            Introduction(client=c, meeting_id=meeting, starts_at=start + timedelta(days=5),
                         kind=rng.choice(kinds), status="arranged", requested_at=start)
        )  # fmt: skip
        rows["follow_up"].append(
            FollowUp(client=c, kind="after_meeting", due_on=day + timedelta(days=7),
                     done_at=None if rng.random() < 0.3 else start + timedelta(days=8))
        )  # fmt: skip
        if rng.random() < 0.45:
            continue
        first = day + timedelta(days=rng.randint(2, 20))
        weeks = int(per_client * plan["attendance"] * 5.2)
        for w in range(weeks):
            when = first + timedelta(days=7 * w + rng.randint(0, 2))
            if when > today:
                break
            if w == 0 or rng.random() < 0.8:
                rows["attendance"].append(
                    Attendance(client=c, meeting_id=meeting, attended_on=when, source="self")
                )
        for m in range(int(per_client * plan["check_in"] * 5.2)):
            taken = first + timedelta(days=28 * (m + 1))
            if taken > today:
                break
            check_in = CheckIn(client=c, taken_on=taken, source="staff")
            check_in.answers = {k: rng.random() < 0.5 for k in keys}
            rows["check_in"].append(check_in)
            if rng.random() < plan["barc"] / plan["check_in"]:
                rows["barc"].append(
                    Barc10(client=c, taken_on=taken, total=rng.randint(20, 58), items_json="[]")
                )
    counts = {}
    models = {"assessment": Assessment, "choice": MeetingChoice, "goal": Goal,
              "intro": Introduction, "attendance": Attendance, "check_in": CheckIn,
              "barc": Barc10, "follow_up": FollowUp}  # fmt: skip
    with transaction.atomic():
        for kind, objects in rows.items():
            models[kind].objects.bulk_create(objects, batch_size=2000)
            counts[kind] = len(objects)
    common.log(f"  loaded {clients} clients, {sum(counts.values())} events "
               f"in {time.perf_counter() - started:.1f} s: {counts}")  # fmt: skip
    return {
        "clients": clients,
        "events": sum(counts.values()),
        "by_kind": counts,
        "load_s": round(time.perf_counter() - started, 1),
        "manager": manager.pk,
        "commissioner": commissioner.pk,
        "keyworker": keyworkers[0].username,
    }


def request_for(user, path: str):
    from django.contrib.messages.storage.fallback import FallbackStorage
    from django.contrib.sessions.backends.db import SessionStore
    from django.test import RequestFactory

    request = RequestFactory().get(path)
    user.is_verified = lambda: True  # the second factor, as OTPMiddleware would mark it
    request.user = user
    request.session = SessionStore()
    request._messages = FallbackStorage(request)
    return request


def baseline_counts() -> int:
    from mutualaid.casework.models import (
        Assessment,
        Attendance,
        Barc10,
        CheckIn,
        Client,
        FollowUp,
        Goal,
        Introduction,
        MeetingChoice,
    )
    from mutualaid.directory.models import Meeting

    total = 0
    for model in (Client, Assessment, MeetingChoice, Goal, Introduction, Attendance, CheckIn,
                  Barc10, FollowUp, Meeting):  # fmt: skip
        total += model.objects.count()
    return total


def child(args) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mutualaid.settings")
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from mutualaid.insights import views

    call_command("migrate", verbosity=0)
    loaded = load(args.clients, args.events, args.seed)
    User = get_user_model()
    manager = User.objects.get(pk=loaded["manager"])
    commissioner = User.objects.get(pk=loaded["commissioner"])
    pages = {
        "outcomes": (manager, "/insights/outcomes/", views.outcomes, {}),
        "supervision": (
            manager,
            f"/insights/supervision/{loaded['keyworker']}/",
            views.supervision,
            {"username": loaded["keyworker"]},
        ),
        "area": (commissioner, "/insights/area/", views.area, {}),
        "self-assessment": (commissioner, "/insights/self-assessment/", views.self_assessment, {}),
    }
    from django.core.cache import cache

    results = {}
    for name, (user, path, view, kwargs) in pages.items():
        cold, warm, baseline, cpu = [], [], [], []
        for attempt in range(args.repeat + 1):
            with common.Stopwatch() as base:
                baseline_counts()
            cache.clear()  # no chart drawn before: every chart is drawn in this request
            cpu_start = time.process_time()
            with common.Stopwatch() as first:
                response = view(request_for(user, path), **kwargs)
                assert response.status_code == 200, (name, response.status_code)
                size = len(response.content)
            cpu_used = time.process_time() - cpu_start
            with common.Stopwatch() as again:  # the same figures: charts from the cache
                view(request_for(user, path), **kwargs)
            if attempt:  # the first is a warm-up (imports, the gazetteer, fonts)
                cold.append(first.seconds)
                warm.append(again.seconds)
                baseline.append(base.seconds)
                cpu.append(cpu_used)
        results[name] = {
            "page": common.summarise_ms(cold),
            "cpu": common.summarise_ms(cpu),
            "warm": common.summarise_ms(warm),
            "count_baseline": common.summarise_ms(baseline),
            "bytes": size,
        }
        common.log(f"  {name}: p50 {results[name]['page']['p50_ms']:.0f} ms, charts cached "
                   f"{results[name]['warm']['p50_ms']:.0f} ms "
                   f"(counts {results[name]['count_baseline']['p50_ms']:.1f} ms)")  # fmt: skip
    load_average = os.getloadavg()
    out = {
        "database": args.database,
        "vendor": connection.vendor,
        "loaded": loaded,
        "pages": results,
        "load_average": [round(v, 1) for v in load_average],
    }
    Path(args.json_out).write_text(json.dumps(out, indent=2))


# --- the parent ---------------------------------------------------------------------


def run_database(database: str, args, pg=None) -> dict:
    base = var_dir() / database
    if base.exists():
        import shutil

        shutil.rmtree(base)
    base.mkdir(parents=True)
    env = {"MUTUALAID_VAR_DIR": str(base), "DEBUG": "0", "SECRET_KEY": "bench-only",
           "ALLOWED_HOSTS": "testserver", "FIELD_ENCRYPTION_KEYS":
           "6Uiy91oB7S8VBuAWfE3JXX4gAigaE5zpOZdVQ0MX1B8=",
           "SECURE_SSL_REDIRECT": "0",
           "STATICFILES_BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # fmt: skip
    if pg is not None:
        env["DATABASE_URL"] = pg.create_database(f"bench_insights_{args.clients}")
    else:
        env["DATABASE_URL"] = ""
        os.environ.pop("DATABASE_URL", None)
    argv = [str(Path(__file__)), "--child", "--database", database, "--clients", str(args.clients),
            "--events", str(args.events), "--seed", str(args.seed), "--repeat", str(args.repeat)]  # fmt: skip
    if not env["DATABASE_URL"]:
        env.pop("DATABASE_URL")
    result = common.run_child(argv, env=env, timeout=3600)
    if pg is not None:
        result["server"] = f"PostgreSQL {pg.version}"
    return result


def table(runs: list[dict]) -> str:
    headers = ["page"]
    for run in runs:
        headers += [f"{run['database']} p50 ms", f"{run['database']} max ms",
                    f"{run['database']} CPU p50 ms",
                    f"{run['database']} charts cached p50 ms",
                    f"{run['database']} COUNT(*) baseline p50 ms"]  # fmt: skip
    headers.append(f"goal ≤ {GOAL_S * 1000:.0f} ms")
    rows = []
    for page in PAGES:
        row = [page]
        ok = True
        for run in runs:
            figures = run["pages"][page]
            row += [common.fmt_ms(figures["page"]["p50_ms"]), common.fmt_ms(figures["page"]["max_ms"]),
                    common.fmt_ms(figures["cpu"]["p50_ms"]),
                    common.fmt_ms(figures["warm"]["p50_ms"]),
                    common.fmt_ms(figures["count_baseline"]["p50_ms"])]  # fmt: skip
            ok = ok and figures["page"]["max_ms"] <= GOAL_S * 1000
        row.append("yes" if ok else "no")
        rows.append(row)
    return common.markdown_table(headers, rows)


def parent(args) -> None:
    if args.quick:
        args.clients, args.events, args.repeat = 500, 10_000, 2
    runs = []
    if "sqlite" in args.databases:
        common.log(f"SQLite: {args.clients} clients, {args.events} events")
        runs.append(run_database("sqlite", args))
    if "postgres" in args.databases:
        common.log(f"PostgreSQL: {args.clients} clients, {args.events} events")
        port = args.pg_port
        if not port:  # other engineers' clusters come and go on this machine
            import socket

            with socket.socket() as probe:
                probe.bind(("127.0.0.1", 0))
                port = probe.getsockname()[1]
        with common.ThrowawayPostgres(port=port) as pg:
            runs.append(run_database("postgres", args, pg))
    text = table(runs)
    print(text)
    report = {
        "machine": common.machine_info(),
        "args": {"clients": args.clients, "events": args.events, "repeat": args.repeat},
        "runs": runs,
        "command": " ".join(["python", "bench/insights.py", *sys.argv[1:]]),
    }
    out = Path(args.out) if args.out else common.OUT_DIR / "insights.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2))
    if not args.quick:
        m = report["machine"]
        loaded = runs[0]["loaded"]
        body = (
            f"Measured {datetime.now(UTC):%Y-%m-%d} on {m['cpu']} ({m['cores']} cores, "
            f"{m['ram_gib']} GiB), Python {m['python']}, SQLite {m['sqlite']}"
            + "".join(f", {r['server']}" for r in runs if r.get("server"))
            + f"; {loaded['clients']:,} clients, {loaded['events']:,} events "
            f"({', '.join(f'{k} {v:,}' for k, v in loaded['by_kind'].items())}); "
            f"{args.repeat} timed runs per page after a warm-up; load average during the "
            f"runs {', '.join(str(r['load_average']) for r in runs)} on {m['cores']} cores."
            f"\n\n{text}\n"
        )
        common.replace_marked_section(common.DOCS, "insights", body)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json-out", help=argparse.SUPPRESS)
    parser.add_argument("--database", default="sqlite", help=argparse.SUPPRESS)
    parser.add_argument("--databases", nargs="+", default=["sqlite", "postgres"])
    parser.add_argument("--clients", type=int, default=5000)
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--pg-port", type=int, default=0, help="0: any free port")
    parser.add_argument("--quick", action="store_true", help="500 clients; docs untouched")
    parser.add_argument("--out", help="JSON output (default bench/out/insights.json)")
    args = parser.parse_args()
    if args.child:
        child(args)
    else:
        parent(args)


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
