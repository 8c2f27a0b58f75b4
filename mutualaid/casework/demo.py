"""A demo service with staff, volunteers and ~80 synthetic clients on believable journeys,
so a new user sees the whole FAMA workflow (`mutualaid demo_casework`, also run at the end
of `mutualaid demo`).

Everything goes through services (so it is audited like real work) at the real time, then
the demo back-dates its own casework rows so the journeys span the last few months. Names
are fake, from a small list; meetings come from the directory (the one search selector),
near Brighton when the demo directory is loaded, else anywhere.

The staff password is random on every load and printed once, with each login's TOTP
secret and a few recovery codes: never stored in the repository or in plain text.
"""

from __future__ import annotations

import base64
import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from mutualaid.accounts.mfa import TOTP_DEVICE_NAME, issue_recovery_codes
from mutualaid.accounts.models import AccessGrant, Membership, Organisation, Role, Team
from mutualaid.directory.models import Fellowship, Meeting
from mutualaid.directory.search import SearchQuery, search
from mutualaid.lib import schedule

from . import services
from .models import (
    DEMO_ORGANISATION_SLUG,
    Assessment,
    Attendance,
    Barc10,
    CheckIn,
    Client,
    FollowUp,
    Goal,
    Introduction,
    MeetingChoice,
    StageChange,
    Volunteer,
)

DEMO_SLUG = DEMO_ORGANISATION_SLUG
DEMO_NAME = "Demo Recovery Service"
DEMO_AREA = "Brighton and Hove"
CENTRE = (50.8225, -0.1372)  # Brighton
DEFAULT_CLIENTS = 80  # enough for the insights charts to show more than "*"
DEFAULT_SEED = 2026

STAFF = [
    # username, role, team, full name
    ("demo-keyworker", Role.KEYWORKER, "East", "Dana Keyworker"),
    ("demo-keyworker2", Role.KEYWORKER, "East", "Eli Keyworker"),
    ("demo-keyworker3", Role.KEYWORKER, "West", "Fran Keyworker"),
    ("demo-teamlead", Role.TEAM_LEAD, "East", "Gus Teamlead"),
    ("demo-manager", Role.MANAGER, None, "Hana Manager"),
    ("demo-commissioner", Role.COMMISSIONER, None, "Ira Commissioner"),
    ("demo-admin", Role.ADMINISTRATOR, None, "Jules Administrator"),
]
FIRST_NAMES = [
    "Sam", "Alex", "Jordan", "Casey", "Robin", "Jamie", "Charlie", "Taylor", "Morgan", "Riley",
    "Frankie", "Jess", "Lee", "Mo", "Nat", "Pat", "Kit", "Toni", "Ash", "Billie", "Danni",
    "Rowan", "Sky", "Val", "Ollie", "Priya", "Tomasz", "Ana", "Kemi", "Declan",
]  # fmt: skip
SURNAMES = [
    "Ashdown", "Birch", "Carver", "Dunmore", "Ellery", "Fenwick", "Garside", "Holloway",
    "Ingram", "Jessop", "Kettle", "Lowther", "Marlow", "Northcott", "Oakley", "Penhale",
]  # fmt: skip
VOLUNTEERS = [
    # name, fellowships, area, (lat, lng), gender, languages, offers
    ("Jo", ["AA"], "Hove", (50.8279, -0.1688), "woman", ["en"], "call meet go"),
    ("Mick", ["AA", "CA"], "Brighton", (50.8300, -0.1350), "man", ["en"], "call meet go transport"),
    ("Ruth", ["NA"], "Kemptown", (50.8190, -0.1180), "woman", ["en"], "call go"),
    ("Dev", ["NA", "CA"], "Preston Park", (50.8420, -0.1470), "man", ["en", "pa"], "call meet"),
    ("Agnieszka", ["AA"], "Brighton", (50.8250, -0.1400), "woman", ["pl", "en"], "call meet go"),
    ("Sol", ["SMART"], "Hove", (50.8300, -0.1750), "non-binary", ["en"], "call meet go"),
    ("Bev", ["ALANON"], "Portslade", (50.8430, -0.2180), "woman", ["en"], "call go"),
    ("Tony", ["AA"], "Worthing", (50.8150, -0.3720), "man", ["en"], "call transport"),
    ("Marta", ["NA", "AA"], "Lewes", (50.8740, 0.0080), "woman", ["es", "en"], "call meet go"),
    ("Chris", ["SMART", "AA"], "Shoreham", (50.8340, -0.2720), "man", ["en"], "call"),
]
OFFER_WORDS = {
    "call": "offers_phone_call",
    "meet": "offers_meet_before",
    "go": "offers_go_along",
    "transport": "offers_transport",
}
CONCERNS = [
    "Worried about having to speak",
    "Not religious; put off by the God bit",
    "Anxious in groups",
    "Worried about being recognised",
    "Went once years ago and felt out of place",
    "Childcare in the evenings",
]
BARRIERS = ["Bus times", "Felt too old for the group", "Nervous on the day", "Shift work"]
# How far through the journey each demo client is, and how many of 40 (scaled).
PLAN = [
    ("new", 6),
    ("not_now", 3),
    ("declined", 2),
    ("connect", 6),
    ("requested", 4),
    ("accepted", 5),
    ("overdue", 5),
    ("engaged", 7),
    ("another", 2),
]


@dataclass
class DemoStaff:
    username: str
    role: str
    password: str
    totp_secret: str
    otpauth_url: str
    recovery_codes: list[str]


@dataclass
class CaseworkDemo:
    created: bool
    organisation: Organisation | None = None
    staff: list[DemoStaff] = field(default_factory=list)
    clients: int = 0
    volunteers: int = 0
    meetings: int = 0


class Clock:
    """Back-dates the demo's own rows after each service call (the audit trail keeps the
    real time of every write)."""

    def __init__(self, now: datetime, rng: random.Random):
        self.now, self.rng = now, rng

    def ago(self, days: float, hour: int = 11) -> datetime:
        moment = timezone.localtime(self.now - timedelta(days=days))
        return moment.replace(hour=hour, minute=self.rng.randint(0, 59), second=0, microsecond=0)


def _credentials(users) -> list[DemoStaff]:
    """One new random password for all the demo logins (hashed once: Argon2 is slow on
    purpose), and each login's own TOTP secret and recovery codes."""
    password = f"demo-{secrets.token_urlsafe(12)}"
    hashed = make_password(password)
    found = []
    for user in users:
        user.password = hashed
        user.save(update_fields=["password"])
        TOTPDevice.objects.filter(user=user).delete()
        device = TOTPDevice.objects.create(user=user, name=TOTP_DEVICE_NAME, confirmed=True)
        found.append(
            DemoStaff(
                username=user.get_username(),
                role=user.membership.get_role_display(),
                password=password,
                totp_secret=base64.b32encode(device.bin_key).decode("ascii").rstrip("="),
                otpauth_url=device.config_url,
                recovery_codes=issue_recovery_codes(user, count=3),
            )
        )
    return found


def reset_credentials() -> list[DemoStaff]:
    """A new password, TOTP secrets and recovery codes for the demo staff."""
    users = get_user_model().objects.filter(
        membership__organisation__slug=DEMO_SLUG, username__startswith="demo-"
    )
    return _credentials(users.select_related("membership").order_by("username"))


def demo_meetings(count: int = 30) -> list[Meeting]:
    """Meetings for the demo clients, through the one search selector: near Brighton if
    the directory has any, else the first listed anywhere."""
    wanted = ("AA", "NA", "CA", "SMART", "ALANON")
    query = SearchQuery(
        near=CENTRE,
        radius_km=25,
        fellowships=wanted,
        modes=("in_person",),
        limit=count,
        sort="distance",
    )
    found = [r.meeting for r in search(query).results if r.meeting.weekday is not None]
    if len(found) < 5:
        query = SearchQuery(fellowships=wanted, limit=count, sort="week")
        found += [r.meeting for r in search(query).results if r.meeting.weekday is not None]
    return list(dict.fromkeys(found))


def _past_start(meeting: Meeting, days_ago: float, now: datetime) -> datetime:
    """An occurrence of the meeting about `days_ago` days ago, on its own wall clock."""
    start = meeting.next_start(now - timedelta(days=days_ago))
    return start if start < now else start - timedelta(days=7)


def _shift_to(intro: Introduction, starts_at: datetime) -> None:
    local = starts_at.astimezone(meeting_zone(intro.meeting))
    fixed = schedule.localize(local.date(), intro.meeting.start_time, meeting_zone(intro.meeting))
    Introduction.objects.filter(pk=intro.pk).update(starts_at=fixed)
    intro.starts_at = fixed
    FollowUp.objects.filter(introduction=intro).update(due_on=fixed.date() + timedelta(days=2))


def meeting_zone(meeting):
    return schedule.zone(meeting.timezone)


def _last_stage_change(client: Client, at: datetime) -> None:
    change = StageChange.objects.filter(client=client).order_by("-pk").first()
    if change:
        StageChange.objects.filter(pk=change.pk).update(changed_at=at)


@transaction.atomic
def remove_casework_demo() -> bool:
    """Delete the demo service: its clients, volunteers, staff and organisation. The audit
    trail keeps its events (append-only). Returns False when there was none."""
    org = Organisation.objects.filter(slug=DEMO_SLUG).first()
    if org is None:
        return False
    Client.objects.filter(organisation=org).delete()
    Volunteer.objects.filter(organisation=org).delete()
    get_user_model().objects.filter(membership__organisation=org).delete()
    AccessGrant.objects.filter(organisation=org).delete()
    Team.objects.filter(organisation=org).delete()
    org.delete()
    return True


@transaction.atomic
def load_casework_demo(
    *, clients: int = DEFAULT_CLIENTS, seed: int = DEFAULT_SEED, now: datetime | None = None
) -> CaseworkDemo:
    """Load the demo service once. Returns created=False when it is already there."""
    existing = Organisation.objects.filter(slug=DEMO_SLUG).first()
    if existing is not None:
        return CaseworkDemo(created=False, organisation=existing)
    rng = random.Random(seed)
    now = now or timezone.now()
    clock = Clock(now, rng)
    org = Organisation.objects.create(name=DEMO_NAME, slug=DEMO_SLUG, area=DEMO_AREA)
    teams = {name: Team.objects.create(organisation=org, name=name) for name in ("East", "West")}
    User = get_user_model()
    users = {}
    for username, role, team, full_name in STAFF:
        first, last = full_name.split(" ", 1)
        user = User.objects.create_user(
            username=username,
            first_name=first,
            last_name=last,
            email=f"{username}@example.org",
        )
        Membership.objects.create(
            user=user,
            organisation=org,
            team=teams.get(team),
            role=role,
            area=DEMO_AREA if role == Role.COMMISSIONER else "",
        )
        users[username] = user
    result = CaseworkDemo(created=True, organisation=org)
    result.staff = _credentials([users[username] for username, *_ in STAFF])

    lead = users["demo-keyworker"]
    by_code = {f.code: f for f in Fellowship.objects.all()}
    volunteers = []
    for name, codes, area, (lat, lng), gender, languages, offers in VOLUNTEERS:
        flags = {OFFER_WORDS[w]: True for w in offers.split()}
        volunteers.append(
            services.create_volunteer(
                actor=lead,
                name=name,
                fellowships=[by_code[c] for c in codes if c in by_code],
                area_name=area,
                latitude=lat,
                longitude=lng,
                gender=gender,
                languages=languages,
                availability=[
                    {"weekday": d, "start": "17:00", "end": "22:00"}
                    for d in rng.sample(range(7), 4)
                ]
                + [{"weekday": 5, "start": "10:00", "end": "14:00"}],
                email=f"{name.lower()}.volunteer@example.org",
                consent_to_contact=True,
                **flags,
            )
        )
    result.volunteers = len(volunteers)

    meetings = demo_meetings()
    result.meetings = len(meetings)
    if not meetings:
        return result  # no directory: staff and volunteers only
    keyworkers = [users["demo-keyworker"], users["demo-keyworker2"], users["demo-keyworker3"]]
    scale = clients / sum(n for _, n in PLAN)
    plan = [step for step, n in PLAN for _ in range(max(1, round(n * scale)))][:clients]
    names = [f"{f} {s}" for f in FIRST_NAMES for s in SURNAMES]
    rng.shuffle(names)
    for n, step in enumerate(plan):
        # The demo keyworker gets a full caseload covering every stage.
        keyworker = keyworkers[0] if n % 2 == 0 else keyworkers[1 + (n // 2) % 2]
        _journey(
            step,
            rng=rng,
            clock=clock,
            keyworker=keyworker,
            reference=f"DRS-{1001 + n}",
            name=names[n],
            meetings=meetings,
            volunteers=volunteers,
            now=now,
        )
    result.clients = len(plan)
    return result


def _journey(step, *, rng, clock, keyworker, reference, name, meetings, volunteers, now):
    meeting = rng.choice(meetings)
    fellowship = meeting.fellowship
    started = rng.randint(50, 120) if step in ("engaged", "another") else rng.randint(10, 40)
    if step == "new":
        started = rng.randint(0, 6)
    client = services.create_client(
        actor=keyworker,
        case_reference=reference,
        preferred_name=name,
        area_name="Brighton",
        latitude=CENTRE[0] + rng.uniform(-0.03, 0.03),
        longitude=CENTRE[1] + rng.uniform(-0.05, 0.05),
        preferences_note=rng.choice(CONCERNS),
        fellowships=[fellowship],
        pref_times=[rng.choice(["evening", "evening", "afternoon", "morning"])],
        pref_languages=["pl"] if rng.random() < 0.1 else ["en"],
        pref_volunteer_gender=rng.choice(["", "", "", "woman", "man"]),
        contact_email=f"{reference.lower()}@example.org",
    )
    Client.objects.filter(pk=client.pk).update(created_at=clock.ago(started))
    _last_stage_change(client, clock.ago(started))
    if step == "new":
        return
    for scope in ("volunteer_introduction", "reminders_email", "self_report"):
        if rng.random() < 0.85:
            services.record_consent(actor=keyworker, client=client, scope=scope)
    outcome = {"not_now": "not_now", "declined": "declined"}.get(step, "interested")
    assessment = services.record_assessment(
        actor=keyworker,
        client=client,
        previous_experience=rng.choice(["none", "none", "helpful", "mixed", "unhelpful"]),
        concerns=rng.choice(CONCERNS),
        guide_used=rng.random() < 0.7,
        outcome=outcome,
        outcome_reason="Wants to settle on the script first" if outcome != "interested" else "",
    )
    assessed = clock.ago(started - 1)
    Assessment.objects.filter(pk=assessment.pk).update(created_at=assessed, held_on=assessed.date())
    _last_stage_change(client, assessed)
    if outcome == "not_now":
        FollowUp.objects.filter(client=client, kind="revisit").update(
            due_on=assessed.date() + timedelta(days=28)
        )
    if outcome != "interested":
        return
    choice = services.choose_meeting(actor=keyworker, client=client, meeting=meeting)
    MeetingChoice.objects.filter(pk=choice.pk).update(chosen_at=assessed + timedelta(minutes=20))
    goal = services.set_goal(
        actor=keyworker,
        client=client,
        kind="attend_once",
        meeting=meeting,
        due_on=(now + timedelta(days=rng.randint(7, 21))).date(),
    )
    Goal.objects.filter(pk=goal.pk).update(created_at=assessed + timedelta(minutes=25))
    if step == "connect":
        return
    has_consent = client.has_consent("volunteer_introduction")
    candidates = [
        v for v in volunteers if fellowship.code in v.fellowships.values_list("code", flat=True)
    ]
    volunteer = rng.choice(candidates) if candidates and has_consent else None
    kind = rng.choice(["volunteer_goes", "volunteer_meets", "volunteer_call"])
    if volunteer is None or kind == "volunteer_call" and not volunteer.offers_phone_call:
        kind, volunteer = rng.choice(["keyworker_goes", "information"]), None
    elif kind == "volunteer_goes" and not volunteer.offers_go_along:
        kind = "volunteer_call"
    elif kind == "volunteer_meets" and not volunteer.offers_meet_before:
        kind = "volunteer_call"
    contact = {
        "volunteer_goes": "Meet at the front door 15 minutes before",
        "volunteer_meets": "Meet at the café on the corner half an hour before",
        "volunteer_call": f"{client.first_name} will ring you during their session",
    }
    intro = services.arrange_introduction(
        actor=keyworker,
        client=client,
        meeting=meeting,
        starts_at=meeting.next_start(now + timedelta(hours=rng.randint(20, 200))),
        kind=kind,
        volunteer=volunteer,
        agreed_contact=contact.get(kind, ""),
    )
    Introduction.objects.filter(pk=intro.pk).update(requested_at=assessed + timedelta(minutes=30))
    if step == "requested":
        return
    if volunteer is not None:
        services.respond_to_introduction(introduction=intro, accept=True)
        _last_stage_change(client, assessed + timedelta(hours=5))
    if step == "accepted":
        Introduction.objects.filter(pk=intro.pk).update(responded_at=assessed + timedelta(hours=5))
        return
    # The introduced meeting has happened.
    _shift_to(intro, _past_start(meeting, max(3, started - 8), now))
    Introduction.objects.filter(pk=intro.pk).update(
        responded_at=assessed + timedelta(hours=5),
        reminder_client_sent_at=intro.starts_at - timedelta(hours=25),
        reminder_volunteer_sent_at=intro.starts_at - timedelta(hours=25)
        if volunteer is not None
        else None,
    )
    if step == "overdue":
        _last_stage_change(client, assessed + timedelta(hours=5))
        return
    item = FollowUp.objects.get(introduction=intro)
    another = step == "another"
    services.record_follow_up(
        actor=keyworker,
        client=client,
        follow_up=item,
        attended="yes",
        felt="hard" if another else rng.choice(["good", "ok"]),
        barriers=rng.choice(BARRIERS) if another else "",
        next_step="another_meeting" if another else "keep_going",
    )
    followed = intro.starts_at + timedelta(days=2, hours=2)
    FollowUp.objects.filter(pk=item.pk).update(done_at=followed)
    Attendance.objects.filter(client=client).update(created_at=followed)
    _last_stage_change(client, followed)
    services.review_goal(actor=keyworker, goal=goal, status="met")
    Goal.objects.filter(pk=goal.pk).update(
        created_at=assessed + timedelta(minutes=25),
        due_on=(assessed + timedelta(days=14)).date(),
        reviewed_at=followed,
    )
    FollowUp.objects.filter(goal=goal).update(
        due_on=(assessed + timedelta(days=14)).date(), done_at=followed
    )
    if another:
        return
    # Engaged: weekly goal, self-reported meetings, check-ins and BARC-10 over months.
    weekly = services.set_goal(
        actor=keyworker,
        client=client,
        kind="attend_weekly",
        meeting=meeting,
        due_on=(now + timedelta(days=rng.randint(14, 40))).date(),
    )
    Goal.objects.filter(pk=weekly.pk).update(created_at=followed + timedelta(minutes=5))
    weeks = max(1, int((now - intro.starts_at).days // 7))
    for week in range(1, weeks + 1):
        if rng.random() < 0.75:
            when = intro.starts_at + timedelta(days=7 * week)
            if when >= now:
                break
            Attendance.objects.create(
                client=client,
                meeting=meeting,
                fellowship=fellowship,
                attended_on=when.date(),
                mode="online" if meeting.mode == "online" else "in_person",
                felt=rng.choice(["good", "good", "ok", "hard"]),
                source="self",
                created_at=when + timedelta(hours=3),
            )
    months = max(1, weeks // 4)
    base = rng.randint(30, 42)
    for month in range(months + 1):
        taken = followed + timedelta(days=28 * month)
        if taken >= now:
            break
        check_in = services.record_check_in(
            actor=keyworker,
            client=client,
            period_days=30,
            answers={
                "fellowships": [fellowship.code],
                "meetings_in_person": rng.randint(2, 5) + month,
                "meetings_online": rng.randint(0, 2),
                "shared": month > 0 or rng.random() < 0.4,
                "sponsor": month > 1 and rng.random() < 0.6,
                "contact_between": month > 0,
                "tools": rng.random() < 0.6,
                "service": month > 1 and rng.random() < 0.4,
                "programme_work": month > 0 and rng.random() < 0.5,
                "member": month > 0,
                "mandated": False,
                "felt_safe": True,
            },
        )
        CheckIn.objects.filter(pk=check_in.pk).update(taken_on=taken.date(), created_at=taken)
        barc = services.record_barc10(
            actor=keyworker,
            client=client,
            items=[
                min(6, max(1, round((base + 4 * month) / 10 + rng.uniform(-1, 1))))
                for _ in range(10)
            ],
            taken_on=taken.date(),
        )
        Barc10.objects.filter(pk=barc.pk).update(created_at=taken + timedelta(minutes=10))
