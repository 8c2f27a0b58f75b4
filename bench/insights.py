"""How long do the insights pages take for a large service, on SQLite and PostgreSQL?

    .venv/bin/python bench/insights.py                  # 5,000 clients, 100,000 events
    .venv/bin/python bench/insights.py --quick          # 500 clients, a smoke run (docs untouched)
    .venv/bin/python bench/insights.py --databases sqlite

One child process per database (a fresh SQLite file under var/bench/insights/, and a
database in a throwaway PostgreSQL cluster on 127.0.0.1:--pg-port). The child migrates,
loads a synthetic directory (mutualaid.lib.synthetic: 3,000 meetings around Brighton, Hove
and London) and one service in "Brighton and Hove" with 5,000 clients first offered mutual aid over
the last 18 months, each journey running until today: conversations, chosen meetings,
goals (back-dated to when they were set), introductions, weekly attendances, a check-in
(encrypted answers) and a review every four weeks, BARC-10s, follow-ups after a first
meeting and a month after a "not now". That makes a little over 100,000 events (the
count is printed and recorded; fewer than --events is reported loudly). Written with
bulk_create (no audit events: the load is not what is measured).

Then each page is computed the way a request computes it: the view function is called
with a signed-in, second-factor-verified user (the audit event each read writes is part
of the time), the report is built, every chart drawn as SVG and the template rendered:

    outcomes        the manager's service outcomes (all 5,000 clients)
    supervision     the manager's report on one keyworker (about 200 clients)
    area            the commissioner's area: suppressed funnel + the directory's provision
    self-assessment the commissioner's self-assessment page

Each is timed --repeat times after one warm-up, three ways: with nothing cached (the
chart cache cleared: every chart drawn in the request, as after a restart), repeated (the
same figures: charts from the cache), and after a change (a new client and a first
conversation recorded since the last view: every chart whose figures moved is drawn
again, the others come from the cache, keyed on their figures). Wall and CPU time of the
process are both recorded. Beside it, in the same run, the baseline:
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
# Clients are first offered mutual aid over the last 18 months; each journey then runs
# until today (weekly meetings, a check-in and a review every four weeks).
HISTORY_DAYS = 540


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
    offered = {c.pk: now - timedelta(days=rng.randint(0, HISTORY_DAYS)) for c in made}
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
    goal_set: dict[int, datetime] = {}
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
            # not now: the keyworker asks again about mutual aid a month later
            rows["follow_up"].append(
                FollowUp(client=c, kind="revisit", due_on=day + timedelta(days=28),
                         done_at=None if rng.random() < 0.3 else start + timedelta(days=29))
            )  # fmt: skip
            continue
        meeting = rng.choice(meetings)
        rows["choice"].append(MeetingChoice(client=c, meeting_id=meeting, chosen_at=start))
        rows["goal"].append(Goal(client=c, kind="attend_once", meeting_id=meeting, due_on=day))
        goal_set[c.pk] = start
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
            # each monthly check-in is talked over at a review
            rows["follow_up"].append(
                FollowUp(client=c, kind="review", due_on=taken,
                         done_at=None if rng.random() < 0.2 else start + (taken - day)
                         + timedelta(days=rng.randint(0, 10)))
            )  # fmt: skip
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
        # created_at is auto_now_add: back-date each goal to the day it was set
        Goal.objects.bulk_update(
            [Goal(pk=g.pk, created_at=goal_set[g.client_id]) for g in rows["goal"]],
            ["created_at"],
            batch_size=1000,
        )
    made_events = sum(counts.values())
    common.log(f"  loaded {clients} clients, {made_events:,} events "
               f"in {time.perf_counter() - started:.1f} s: {counts}")  # fmt: skip
    if made_events < events:
        common.log(f"  FEWER EVENTS THAN ASKED: {made_events:,} of {events:,}")
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


def casework_change(n: int) -> None:
    """What happens between two views in a live service: a keyworker takes on a new client
    (offered today) and records the first conversation about mutual aid."""
    from django.utils import timezone

    from mutualaid.accounts.models import Organisation
    from mutualaid.casework.models import Assessment, Client

    org = Organisation.objects.get(slug="bench")
    sample = Client.objects.filter(organisation=org).order_by("pk")[n % 25]
    client = Client.objects.create(
        organisation=org,
        team_id=sample.team_id,
        keyworker_id=sample.keyworker_id,
        case_reference=f"B-new-{n:05d}",
        preferred_name=f"New client {n}",
    )
    Assessment.objects.create(
        client=client,
        held_on=timezone.localdate(),
        previous_experience="none",
        outcome="interested",
    )


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
    changes = iter(range(10**6))
    for name, (user, path, view, kwargs) in pages.items():
        cold, warm, changed, baseline, cpu, changed_cpu = [], [], [], [], [], []
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
            # A keyworker records a new client and a first conversation: the figures move,
            # so every chart they change is drawn again (the rest come from the cache).
            casework_change(next(changes))
            cpu_start = time.process_time()
            with common.Stopwatch() as after:
                view(request_for(user, path), **kwargs)
            after_cpu = time.process_time() - cpu_start
            if attempt:  # the first is a warm-up (imports, the gazetteer, fonts)
                cold.append(first.seconds)
                warm.append(again.seconds)
                changed.append(after.seconds)
                baseline.append(base.seconds)
                cpu.append(cpu_used)
                changed_cpu.append(after_cpu)
        results[name] = {
            "page": common.summarise_ms(cold),
            "cpu": common.summarise_ms(cpu),
            "warm": common.summarise_ms(warm),
            "changed": common.summarise_ms(changed),
            "changed_cpu": common.summarise_ms(changed_cpu),
            "count_baseline": common.summarise_ms(baseline),
            "bytes": size,
        }
        r = results[name]
        common.log(f"  {name}: nothing cached p50 {r['page']['p50_ms']:.0f} ms "
                   f"(CPU {r['cpu']['p50_ms']:.0f}), after a change {r['changed']['p50_ms']:.0f} "
                   f"ms (CPU {r['changed_cpu']['p50_ms']:.0f}), repeated "
                   f"{r['warm']['p50_ms']:.0f} ms; COUNT(*) baseline "
                   f"{r['count_baseline']['p50_ms']:.1f} ms")  # fmt: skip
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
    """One row per page and database: wall time (p50, max) and the process's CPU time with
    nothing cached and after a change, wall time repeated, and the COUNT(*) baseline."""
    headers = ["page", "database",
               "nothing cached p50 ms", "max ms", "CPU p50 ms",
               "after a change p50 ms", "max ms", "CPU p50 ms",
               "repeated p50 ms", "COUNT(*) baseline p50 ms",
               f"max ≤ {GOAL_S * 1000:.0f} ms: nothing cached / after a change"]  # fmt: skip
    rows = []
    for page in PAGES:
        for run in runs:
            f = run["pages"][page]
            ok_cold = f["page"]["max_ms"] <= GOAL_S * 1000
            ok_changed = f["changed"]["max_ms"] <= GOAL_S * 1000
            rows.append([page, run["database"],
                         common.fmt_ms(f["page"]["p50_ms"]), common.fmt_ms(f["page"]["max_ms"]),
                         common.fmt_ms(f["cpu"]["p50_ms"]),
                         common.fmt_ms(f["changed"]["p50_ms"]),
                         common.fmt_ms(f["changed"]["max_ms"]),
                         common.fmt_ms(f["changed_cpu"]["p50_ms"]),
                         common.fmt_ms(f["warm"]["p50_ms"]),
                         common.fmt_ms(f["count_baseline"]["p50_ms"]),
                         f"{'yes' if ok_cold else 'no'} / {'yes' if ok_changed else 'no'}"])  # fmt: skip
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
