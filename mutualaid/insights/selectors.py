"""Reads for the insights pages: who may see which figures, the journeys behind them, and
the directory's local provision. The ONLY place insights decide access.

- keyworker: their own caseload in full; the service's figures suppressed;
- team lead: their team in full (and its keyworkers' supervision reports); the service's
  figures suppressed;
- manager: every client of the service in full, every keyworker's report, the area view;
- commissioner: only suppressed aggregates across the services of their `area`;
- administrator: the service of an active break-glass grant, read only (as casework);
- directory editor: nothing here.

Client rows always come through mutualaid.casework.selectors.clients_visible_to, so the
casework rules and these cannot drift apart. Journeys are read with a handful of queries
over value tuples (no model instances, no decryption except the one check-in per client
nearest 12 weeks after the first meeting).
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.contrib.auth import get_user_model
from django.db import connections
from django.db.models import Min, Q, QuerySet
from django.utils import timezone

from mutualaid.accounts.models import Organisation, Role
from mutualaid.accounts.roles import membership_of
from mutualaid.casework.models import (
    Assessment,
    Attendance,
    Barc10,
    CheckIn,
    Client,
    FollowUp,
    Goal,
    Introduction,
    IntroductionStatus,
    MeetingChoice,
)
from mutualaid.casework.selectors import clients_visible_to

from . import funnel as fn
from .funnel import Journey

LIVE_INTRODUCTION = [
    IntroductionStatus.REQUESTED,
    IntroductionStatus.ACCEPTED,
    IntroductionStatus.ARRANGED,
]
OUTCOME_ROLES = {Role.TEAM_LEAD, Role.MANAGER, Role.ADMINISTRATOR}
SUPERVISION_ROLES = {Role.KEYWORKER, Role.TEAM_LEAD, Role.MANAGER}
AREA_ROLES = {Role.MANAGER, Role.COMMISSIONER}


# --- who may see what ---------------------------------------------------------------------


def role_of(user) -> str | None:
    membership = membership_of(user)
    return membership.role if membership else None


def can_see_outcomes(user) -> bool:
    """The service outcomes page: team leads (their team), managers (the service), and
    administrators with a break-glass grant (read only)."""
    role = role_of(user)
    if role == Role.ADMINISTRATOR:
        return clients_visible_to(user).exists()
    return role in (Role.TEAM_LEAD, Role.MANAGER)


def area_of(user) -> str:
    """The commissioning area whose aggregates the user sees ('' for none)."""
    membership = membership_of(user)
    if membership is None:
        return ""
    if membership.role == Role.COMMISSIONER:
        return membership.area.strip()
    if membership.role == Role.MANAGER:
        return (membership.organisation.area or "").strip()
    return ""


def can_see_area(user) -> bool:
    return role_of(user) in AREA_ROLES and bool(area_of(user))


def keyworkers_visible_to(user) -> QuerySet:
    """Staff whose supervision report this user may open: a keyworker only themselves; a team
    lead their team (and themselves); a manager everyone with a caseload in the service."""
    User = get_user_model()
    membership = membership_of(user)
    if membership is None or membership.role not in SUPERVISION_ROLES:
        return User.objects.none()
    staff = User.objects.filter(
        is_active=True,
        membership__organisation_id=membership.organisation_id,
        membership__role__in=[Role.KEYWORKER, Role.TEAM_LEAD, Role.MANAGER],
    )
    if membership.role == Role.KEYWORKER:
        return staff.filter(pk=user.pk)
    if membership.role == Role.TEAM_LEAD:
        if membership.team_id is None:
            return staff.filter(pk=user.pk)
        return staff.filter(Q(membership__team_id=membership.team_id) | Q(pk=user.pk))
    return staff.filter(Q(membership__role__in=[Role.KEYWORKER, Role.TEAM_LEAD]) | Q(pk=user.pk))


def organisations_in_area(area: str) -> QuerySet[Organisation]:
    return Organisation.objects.filter(area__iexact=area.strip()).order_by("name")


# --- journeys -----------------------------------------------------------------------------


def _day(moment) -> date:
    """The local date of a stored datetime (zoneinfo directly: Django's localtime() checks
    cost more than the conversion, and this runs for every row)."""
    if moment.tzinfo is None:
        return moment.date()
    return moment.astimezone(_zone()).date()


def _zone():
    return timezone.get_current_timezone()


def _rows(queryset):
    """Tuples of a values_list queryset without Django's per-row converters (tens of
    thousands of rows here): dates come back as date objects from PostgreSQL, as ISO
    strings from SQLite, and are parsed with date.fromisoformat."""
    sql, params = queryset.query.sql_with_params()
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _date(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def journeys(
    clients: QuerySet[Client],
    *,
    with_barc: bool = True,
    with_methods: bool = True,
    since: date | None = None,
    until: date | None = None,
) -> list[Journey]:
    """Every client of `clients` as a Journey (the queryset decides who: pass one from
    clients_visible_to, or, for aggregates, the clients of the organisations in an area).

    `since`/`until` keep only the clients offered between those days (as `cohort` does),
    choosing them in the database so that the events of everyone else are never read.
    Without `with_methods` the introduction method and the fellowship are left out (the
    category counts do not need them); without `with_barc`, the BARC-10s."""
    zone = _zone()

    def day(moment) -> date:  # _day with the zone looked up once, not per row
        return moment.astimezone(zone).date() if moment.tzinfo is not None else moment.date()

    if since is not None or until is not None:
        clients = _offered_between(clients, since, until, zone)
    rows = list(
        clients.values_list("pk", "created_at", "organisation_id", "keyworker_id", "team_id")
    )
    by_id: dict[int, Journey] = {
        pk: Journey(
            client_id=pk,
            offered_on=day(created),
            organisation_id=org,
            keyworker_id=kw,
            team_id=team,
        )
        for pk, created, org, kw, team in rows
        if (since is None or day(created) >= since) and (until is None or day(created) <= until)
    }
    if not by_id:
        return []
    ids = clients.values("pk")
    for client_id, first in (
        Assessment.objects.filter(client__in=ids)
        .values("client_id")
        .annotate(first=Min("held_on"))
        .values_list("client_id", "first")
    ):
        if client_id in by_id:
            by_id[client_id].discussed_on = first
    for client_id, first in (
        Goal.objects.filter(client__in=ids)
        .values("client_id")
        .annotate(first=Min("created_at"))
        .values_list("client_id", "first")
    ):
        if client_id in by_id:
            by_id[client_id].goal_on = day(first)
    if with_methods:
        for client_id, requested, kind, code, approach in (
            Introduction.objects.filter(client__in=ids, status__in=LIVE_INTRODUCTION)
            .order_by("requested_at", "pk")
            .values_list(
                "client_id",
                "requested_at",
                "kind",
                "meeting__fellowship__code",
                "meeting__fellowship__approach",
            )
        ):
            journey = by_id.get(client_id)
            if journey is not None and journey.introduced_on is None:
                journey.introduced_on = day(requested)
                journey.method = kind
                journey.fellowship, journey.approach = code, approach
        for client_id, code, approach in (
            MeetingChoice.objects.filter(client__in=ids)
            .order_by("chosen_at", "pk")
            .values_list("client_id", "meeting__fellowship__code", "meeting__fellowship__approach")
        ):
            journey = by_id.get(client_id)
            if journey is not None and journey.fellowship is None:
                journey.fellowship, journey.approach = code, approach
    else:
        for client_id, first in (
            Introduction.objects.filter(client__in=ids, status__in=LIVE_INTRODUCTION)
            .values("client_id")
            .annotate(first=Min("requested_at"))
            .values_list("client_id", "first")
        ):
            if client_id in by_id:
                by_id[client_id].introduced_on = day(first)
    attended: dict[int, list[date]] = defaultdict(list)
    for client_id, attended_on in _rows(
        Attendance.objects.filter(client__in=ids).values_list("client_id", "attended_on")
    ):
        attended[client_id].append(_date(attended_on))
    for client_id, days in attended.items():
        journey = by_id.get(client_id)
        if journey is not None:
            journey.attendances = days
    _check_ins_at_12_weeks(by_id, ids)
    if with_barc:
        for client_id, taken, total in _rows(
            Barc10.objects.filter(client__in=ids).values_list("client_id", "taken_on", "total")
        ):
            if client_id in by_id:
                by_id[client_id].barc10.append((_date(taken), total))
    return list(by_id.values())


def _offered_between(clients: QuerySet[Client], since, until, zone) -> QuerySet[Client]:
    """The clients created within a day either side of since..until (local days); the exact
    local-day test is made on each row, so a day that starts at an odd hour (a clock
    change at midnight) loses no one."""
    if since is not None:
        start = datetime.combine(since - timedelta(days=1), time.min, tzinfo=zone)
        clients = clients.filter(created_at__gte=start)
    if until is not None:
        end = datetime.combine(until + timedelta(days=2), time.min, tzinfo=zone)
        clients = clients.filter(created_at__lt=end)
    return clients


def _check_ins_at_12_weeks(by_id: dict[int, Journey], ids) -> None:
    """Dates of every check-in first (cheap); then the answers, decrypted, only of the one
    per client that the 12-week step reads."""
    dates: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for pk, client_id, taken in _rows(
        CheckIn.objects.filter(client__in=ids).values_list("pk", "client_id", "taken_on")
    ):
        dates[client_id].append((_date(taken), pk))
    wanted: dict[int, int] = {}
    for client_id, found in dates.items():
        journey = by_id.get(client_id)
        if journey is None or not journey.attendances:
            continue  # no first meeting: no 12-week step
        journey.check_ins = found  # (date, pk) for now: pick the nearest day 84
        chosen = journey.check_in_at_12_weeks()
        journey.check_ins = []
        if chosen is not None:
            wanted[chosen[1]] = client_id
    if not wanted:
        return
    # answers_json is encrypted: read through the model field (values_list applies its
    # from_db_value, which decrypts) without making model instances.
    for pk, taken, answers_json in CheckIn.objects.filter(pk__in=list(wanted)).values_list(
        "pk", "taken_on", "answers_json"
    ):
        answers = json.loads(answers_json or "{}")
        ways = sum(1 for key in fn.PARTICIPATION_KEYS if answers.get(key))
        by_id[wanted[pk]].check_ins = [(taken, ways)]


def cohort(
    items: list[Journey], *, since: date | None = None, until: date | None = None
) -> list[Journey]:
    """Clients offered mutual aid between `since` and `until` (inclusive)."""
    return [
        j
        for j in items
        if (since is None or j.offered_on >= since) and (until is None or j.offered_on <= until)
    ]


# --- follow-ups and methods for supervision ----------------------------------------------


@dataclass
class OverdueItem:
    client_id: int
    case_reference: str
    kind: str
    due_on: date
    days_overdue: int


def overdue_follow_ups(clients: QuerySet[Client], *, today: date) -> list[OverdueItem]:
    rows = (
        FollowUp.objects.filter(
            client__in=clients.filter(status="active").values("pk"),
            done_at__isnull=True,
            due_on__lt=today,
        )
        .order_by("due_on", "pk")
        .values_list("client_id", "client__case_reference", "kind", "due_on")
    )
    labels = dict(FollowUp._meta.get_field("kind").choices)
    return [
        OverdueItem(cid, ref, str(labels.get(kind, kind)), due, (today - due).days)
        for cid, ref, kind, due in rows
    ]


def follow_up_timeliness(clients: QuerySet[Client], *, days: int = 7) -> tuple[int, int]:
    """(done within `days` of the due date, done in all) for follow-ups of these clients."""
    done = FollowUp.objects.filter(
        client__in=clients.values("pk"), done_at__isnull=False
    ).values_list("due_on", "done_at")
    total = on_time = 0
    for due, done_at in done:
        total += 1
        if _day(done_at) <= due + timedelta(days=days):
            on_time += 1
    return on_time, total


def volunteer_share(clients: QuerySet[Client]) -> tuple[int, int]:
    """(live introductions with a volunteer, live introductions)."""
    intros = Introduction.objects.filter(
        client__in=clients.values("pk"), status__in=LIVE_INTRODUCTION
    )
    return intros.filter(volunteer__isnull=False).count(), intros.count()


def service_clients(user) -> QuerySet[Client]:
    """Every client of the user's organisation, for aggregate figures only (never listed)."""
    membership = membership_of(user)
    if membership is None:
        return Client.objects.none()
    return Client.objects.filter(organisation_id=membership.organisation_id)


def area_clients(area: str) -> QuerySet[Client]:
    """Every client of the services in an area, for suppressed aggregates only."""
    return Client.objects.filter(organisation__in=organisations_in_area(area))
