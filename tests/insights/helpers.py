"""An area with two services, a third service elsewhere, every role, and clients at known
points of the FAMA journey, made through the casework services and back-dated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from mutualaid.accounts.models import Role, Team
from mutualaid.casework import services
from mutualaid.casework.models import Client, Goal, Introduction
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

AREA = "Brighton and Hove"


@dataclass
class World:
    org: object
    other_org: object
    far_org: object
    north: object
    south: object
    keyworker: object
    keyworker2: object
    team_lead: object
    manager: object
    other_keyworker: object
    other_manager: object
    far_manager: object
    commissioner: object
    far_commissioner: object
    administrator: object
    editor: object
    meeting: object


def build_world() -> World:
    org = make_organisation("Service A", area=AREA)
    other = make_organisation("Service B", area=AREA)
    far = make_organisation("Service C", area="Elsewhere")
    council = make_organisation("Brighton and Hove Council", area=AREA)
    north = Team.objects.create(organisation=org, name="North")
    south = Team.objects.create(organisation=org, name="South")
    return World(
        org=org,
        other_org=other,
        far_org=far,
        north=north,
        south=south,
        keyworker=make_staff(Role.KEYWORKER, org, north, username="kw-north"),
        keyworker2=make_staff(Role.KEYWORKER, org, south, username="kw-south"),
        team_lead=make_staff(Role.TEAM_LEAD, org, north, username="lead-north"),
        manager=make_staff(Role.MANAGER, org, username="manager-a"),
        other_keyworker=make_staff(Role.KEYWORKER, other, username="kw-b"),
        other_manager=make_staff(Role.MANAGER, other, username="manager-b"),
        far_manager=make_staff(Role.MANAGER, far, username="manager-c"),
        commissioner=make_staff(Role.COMMISSIONER, council, username="commissioner", area=AREA),
        far_commissioner=make_staff(
            Role.COMMISSIONER, council, username="commissioner-far", area="Elsewhere"
        ),
        administrator=make_staff(Role.ADMINISTRATOR, org, username="admin"),
        editor=make_staff(Role.DIRECTORY_EDITOR, org, username="editor"),
        meeting=brighton_meeting(),
    )


def journey(keyworker, meeting, *, to: str, days_ago: int, kind: str = "volunteer_call",
            weeks: tuple[int, ...] = (), ways: int | None = None, barc=()) -> Client:  # fmt: skip
    """A client `days_ago` days into their journey, as far as `to` (discussed, goal,
    introduced, attended). The first meeting is 2 days after the conversation; `weeks`
    adds a meeting 7*w days after the first; `ways` records a check-in on day 84 with that
    many ways of taking part; `barc` is [(days after the conversation, total)]."""
    today = timezone.localdate()
    start = today - timedelta(days=days_ago)
    client = make_client(keyworker)
    Client.objects.filter(pk=client.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    if to == "offered":
        return client
    services.record_assessment(
        actor=keyworker, client=client, previous_experience="none", outcome="interested",
        held_on=start,
    )  # fmt: skip
    if to == "discussed":
        return client
    goal = services.set_goal(
        actor=keyworker, client=client, kind="attend_once", meeting=meeting,
        due_on=today + timedelta(days=7),
    )  # fmt: skip
    Goal.objects.filter(pk=goal.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
    if to == "goal":
        return client
    volunteer = None
    if kind.startswith("volunteer"):
        services.record_consent(actor=keyworker, client=client, scope="volunteer_introduction")
        volunteer = make_volunteer(keyworker)
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting,
        starts_at=meeting.next_start(timezone.now() + timedelta(days=1)), kind=kind,
        volunteer=volunteer, agreed_contact="Ring at 18:15" if volunteer else "",
    )  # fmt: skip
    Introduction.objects.filter(pk=intro.pk).update(
        requested_at=timezone.now() - timedelta(days=days_ago)
    )
    if to == "introduced":
        return client
    first = start + timedelta(days=2)
    for w in (0, *weeks):
        services.record_attendance(
            actor=keyworker, client=client, attended_on=first + timedelta(days=7 * w),
            meeting=meeting,
        )  # fmt: skip
    if ways is not None:
        from mutualaid.casework.models import CheckIn

        keys = ["shared", "sponsor", "contact_between", "tools", "service", "programme_work"]
        check_in = services.record_check_in(
            actor=keyworker, client=client, answers={k: True for k in keys[:ways]}
        )
        CheckIn.objects.filter(pk=check_in.pk).update(taken_on=first + timedelta(days=84))
    for after, total in barc:
        items = [total // 10] * 10
        for i in range(total - sum(items)):
            items[i] += 1
        services.record_barc10(
            actor=keyworker, client=client, items=items, taken_on=start + timedelta(days=after)
        )
    return client
