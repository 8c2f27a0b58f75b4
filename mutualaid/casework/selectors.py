"""What each person may see of casework: the ONLY place these access rules live.

- keyworker: their own caseload, plus clients explicitly shared with them (ClientShare);
- team lead: every client of their team (and their own caseload);
- manager: every client of their organisation;
- commissioner, directory editor: no client rows at all (aggregates live elsewhere);
- administrator: nothing, unless an active AccessGrant names the organisation (read only);
- volunteer: no account; only their own introduction, through its signed link;
- client: no account; only their own self-report page, through its signed link.

Views, the API and services ask here; templates never decide access.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.core import signing
from django.db.models import Count, Max, Q, QuerySet
from django.utils import dateformat, timezone
from django.utils.translation import gettext

from mutualaid.accounts.models import Role
from mutualaid.accounts.roles import active_grant, membership_of
from mutualaid.directory.models import Status as MeetingStatus

from . import scheduling
from .models import (
    Assessment,
    Attendance,
    Barc10,
    CheckIn,
    Client,
    ClientShare,
    ClientStatus,
    FollowUp,
    Goal,
    Introduction,
    IntroductionStatus,
    MeetingChoice,
    SelfReportLink,
    Stage,
    StageChange,
    Volunteer,
    VolunteerStatus,
)

INTRODUCTION_SALT = "casework.introduction"
VOLUNTEER_REMOVE_SALT = "casework.volunteer-remove"
SELF_REPORT_SALT = "casework.self-report"


# --- staff -------------------------------------------------------------------------


def clients_visible_to(user) -> QuerySet[Client]:
    """Every client row this user may read (an empty queryset for everyone else)."""
    membership = membership_of(user)
    none = Client.objects.none()
    if membership is None:
        return none
    in_org = Client.objects.filter(organisation_id=membership.organisation_id)
    if membership.role == Role.KEYWORKER:
        shared = ClientShare.objects.filter(user=user, revoked_at__isnull=True)
        return in_org.filter(Q(keyworker=user) | Q(pk__in=shared.values("client_id")))
    if membership.role == Role.TEAM_LEAD:
        if membership.team_id is None:
            return in_org.filter(keyworker=user)
        return in_org.filter(Q(team_id=membership.team_id) | Q(keyworker=user))
    if membership.role == Role.MANAGER:
        return in_org
    if membership.role == Role.ADMINISTRATOR:
        from mutualaid.accounts.models import AccessGrant

        granted = (
            AccessGrant.objects.active(timezone.now()).filter(user=user).values("organisation_id")
        )
        return Client.objects.filter(organisation_id__in=granted)
    return none


def can_edit_client(user, client: Client) -> bool:
    """Staff who may see a client may work with them; break-glass access is read only."""
    membership = membership_of(user)
    if membership is None or membership.role == Role.ADMINISTRATOR:
        return False
    return clients_visible_to(user).filter(pk=client.pk).exists()


def can_create_clients(user) -> bool:
    membership = membership_of(user)
    return membership is not None and membership.role in (
        Role.KEYWORKER,
        Role.TEAM_LEAD,
        Role.MANAGER,
    )


def volunteers_visible_to(user) -> QuerySet[Volunteer]:
    """The organisation's volunteers, for staff who work with clients there."""
    membership = membership_of(user)
    if membership is None:
        return Volunteer.objects.none()
    if membership.role in (Role.KEYWORKER, Role.TEAM_LEAD, Role.MANAGER):
        return Volunteer.objects.filter(organisation_id=membership.organisation_id)
    if membership.role == Role.ADMINISTRATOR:
        grant = active_grant(user)
        if grant is not None:
            return Volunteer.objects.filter(organisation_id=grant.organisation_id)
    return Volunteer.objects.none()


def can_edit_volunteers(user) -> bool:
    return can_create_clients(user)


def staff_to_share_with(user, client: Client):
    """Keyworkers and team leads of the client's organisation, other than the keyworker."""
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__organisation_id=client.organisation_id,
            membership__role__in=[Role.KEYWORKER, Role.TEAM_LEAD],
        )
        .exclude(pk=client.keyworker_id)
        .order_by("username")
    )


def keyworkers_for(client: Client):
    from django.contrib.auth import get_user_model

    return (
        get_user_model()
        .objects.filter(
            is_active=True,
            membership__organisation_id=client.organisation_id,
            membership__role__in=[Role.KEYWORKER, Role.TEAM_LEAD, Role.MANAGER],
        )
        .order_by("username")
    )


# --- the keyworker home ------------------------------------------------------------


@dataclass
class Home:
    by_stage: list[tuple[str, str, list[Client]]]
    overdue: list[FollowUp]
    due_soon: list[FollowUp]
    upcoming: list[Introduction]
    declined: list[Introduction]
    barc_due: list[tuple[Client, str]]
    scope: str


def home_for(user, *, today: date | None = None, now: datetime | None = None) -> Home:
    """What the keyworker's home page lists, for the clients this user may see.

    A keyworker's home is their own caseload and shares; a team lead's, their team's; a
    manager's, their organisation's.
    """
    today = today or timezone.localdate()
    now = now or timezone.now()
    clients = clients_visible_to(user).filter(status=ClientStatus.ACTIVE)
    active = list(clients.select_related("keyworker").order_by("case_reference"))
    by_stage = [
        (value, label, [c for c in active if c.stage == value]) for value, label in Stage.choices
    ]
    open_follow_ups = FollowUp.objects.filter(
        client__in=clients, done_at__isnull=True
    ).select_related("client", "introduction__meeting", "goal")
    overdue = list(open_follow_ups.filter(due_on__lt=today).order_by("due_on", "pk"))
    due_soon = list(
        open_follow_ups.filter(due_on__gte=today, due_on__lte=today + timedelta(days=7)).order_by(
            "due_on", "pk"
        )
    )
    upcoming = list(
        Introduction.objects.filter(
            client__in=clients,
            status__in=[
                IntroductionStatus.REQUESTED,
                IntroductionStatus.ACCEPTED,
                IntroductionStatus.ARRANGED,
            ],
            starts_at__gte=now - timedelta(hours=2),
            starts_at__lte=now + timedelta(days=21),
        )
        .select_related("client", "meeting", "volunteer")
        .order_by("starts_at")
    )
    declined = list(
        Introduction.objects.filter(
            client__in=clients, status=IntroductionStatus.DECLINED, starts_at__gte=now
        )
        .select_related("client", "meeting", "volunteer")
        .order_by("starts_at")
    )
    last_barc = dict(
        Barc10.objects.filter(client__in=clients)
        .values("client_id")
        .annotate(last=Max("taken_on"))
        .values_list("client_id", "last")
    )
    barc_due = []
    for client in active:
        if client.stage != Stage.FOLLOW_UP:
            continue
        status = scheduling.barc_status(last_barc.get(client.pk), today)
        if status != "not yet":
            barc_due.append((client, status))
    membership = membership_of(user)
    scope = {
        Role.KEYWORKER: gettext("your caseload and clients shared with you"),
        Role.TEAM_LEAD: gettext("your team's clients"),
        Role.MANAGER: gettext("every client of your service"),
        Role.ADMINISTRATOR: gettext("clients of the organisation you have temporary access to"),
    }.get(membership.role if membership else None, "")
    return Home(by_stage, overdue, due_soon, upcoming, declined, barc_due, scope)


def follow_ups_due(user, *, today: date | None = None, within_days: int = 7) -> list[FollowUp]:
    """Open follow-ups due by `today + within_days`, overdue first, for this user's clients."""
    today = today or timezone.localdate()
    return list(
        FollowUp.objects.filter(
            client__in=clients_visible_to(user).filter(status=ClientStatus.ACTIVE),
            done_at__isnull=True,
            due_on__lte=today + timedelta(days=within_days),
        )
        .select_related("client__keyworker", "introduction__meeting", "goal")
        .order_by("due_on", "pk")
    )


# --- one client --------------------------------------------------------------------


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # stage, assessment, choice, goal, introduction, attendance, check_in, ...
    title: str
    detail: str = ""
    actor: str = ""
    self_reported: bool = False


def _who(user) -> str:
    if user is None:
        return ""
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def _midday(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=12))


def timeline(client: Client) -> list[TimelineEntry]:
    """The client's journey, newest first: who did what, when. No note text, no other
    member of any group, only what happened."""
    entries: list[TimelineEntry] = []
    for change in StageChange.objects.filter(client=client).select_related("changed_by"):
        label = dict(Stage.choices)[change.to_stage]
        entries.append(
            TimelineEntry(
                change.changed_at,
                "stage",
                gettext("Stage: %(stage)s") % {"stage": label},
                change.reason,
                _who(change.changed_by),
            )
        )
    for a in Assessment.objects.filter(client=client).select_related("recorded_by"):
        guide = gettext("guide used together") if a.guide_used else gettext("guide not used")
        entries.append(
            TimelineEntry(
                a.created_at,
                "assessment",
                gettext("Conversation about mutual aid: %(outcome)s")
                % {"outcome": a.get_outcome_display().split(":")[0]},
                f"{a.get_previous_experience_display()}; {guide}",
                _who(a.recorded_by),
            )
        )
    for c in MeetingChoice.objects.filter(client=client).select_related("meeting", "chosen_by"):
        removed = gettext(" (since removed from the directory)") if _removed(c.meeting) else ""
        entries.append(
            TimelineEntry(
                c.chosen_at,
                "choice",
                gettext("Chose a meeting: %(name)s") % {"name": c.meeting.name} + removed,
                c.meeting.schedule_text,
                _who(c.chosen_by),
            )
        )
    for g in Goal.objects.filter(client=client).select_related("meeting", "created_by"):
        entries.append(
            TimelineEntry(
                g.created_at,
                "goal",
                gettext("Goal set: %(goal)s") % {"goal": g},
                "",
                _who(g.created_by),
            )
        )
        if g.reviewed_at:
            entries.append(
                TimelineEntry(
                    g.reviewed_at,
                    "goal",
                    gettext("Goal reviewed: %(status)s") % {"status": g.get_status_display()},
                    str(g),
                    _who(g.reviewed_by),
                )
            )
    for i in Introduction.objects.filter(client=client).select_related(
        "meeting", "volunteer", "requested_by"
    ):
        who = (
            gettext(" with %(name)s") % {"name": i.volunteer.display_name} if i.volunteer_id else ""
        )
        entries.append(
            TimelineEntry(
                i.requested_at,
                "introduction",
                gettext("Introduction arranged%(with)s: %(kind)s")
                % {"with": who, "kind": i.get_kind_display()},
                f"{i.meeting.name}, {i.local_start:%a %d %b %Y %H:%M}",
                _who(i.requested_by),
            )
        )
        if i.responded_at:
            answer = {
                "accepted": gettext("Volunteer accepted"),
                "declined": gettext("Volunteer declined"),
            }
            entries.append(
                TimelineEntry(
                    i.responded_at,
                    "introduction",
                    answer.get(i.status, gettext("Volunteer answered")),
                    i.meeting.name,
                    i.volunteer.display_name if i.volunteer_id else "",
                )
            )
        if i.cancelled_at:
            entries.append(
                TimelineEntry(i.cancelled_at, "introduction", gettext("Introduction cancelled"))
            )
    for a in Attendance.objects.filter(client=client).select_related(
        "meeting", "fellowship", "recorded_by"
    ):
        felt = gettext("; felt %(felt)s") % {"felt": a.get_felt_display().lower()} if a.felt else ""
        entries.append(
            TimelineEntry(
                a.created_at,
                "attendance",
                gettext("Went to a meeting (%(mode)s): %(what)s")
                % {"mode": a.get_mode_display().lower(), "what": a.what},
                gettext("on %(day)s") % {"day": dateformat.format(a.attended_on, "D d M Y")} + felt,
                gettext("the client") if a.source == "self" else _who(a.recorded_by),
                self_reported=a.source == "self",
            )
        )
    for ch in CheckIn.objects.filter(client=client).select_related("recorded_by"):
        entries.append(
            TimelineEntry(
                ch.created_at,
                "check_in",
                gettext("Engagement check-in (%(period)s)")
                % {"period": ch.get_period_days_display().lower()},
                gettext("%(meetings)s meetings; %(ways)s of 6 ways of taking part")
                % {"meetings": ch.meetings_total, "ways": ch.participation},
                gettext("the client") if ch.source == "self" else _who(ch.recorded_by),
                self_reported=ch.source == "self",
            )
        )
    for b in Barc10.objects.filter(client=client).select_related("recorded_by"):
        entries.append(
            TimelineEntry(
                b.created_at,
                "barc10",
                gettext("BARC-10: %(total)s of 60") % {"total": b.total},
                "",
                _who(b.recorded_by),
            )
        )
    for f in FollowUp.objects.filter(client=client, done_at__isnull=False).select_related(
        "done_by"
    ):
        bits = []
        if f.attended:
            bits.append(
                gettext("attended: %(answer)s") % {"answer": f.get_attended_display().lower()}
            )
        if f.felt:
            bits.append(gettext("felt %(felt)s") % {"felt": f.get_felt_display().lower()})
        if f.next_step:
            bits.append(gettext("next: %(step)s") % {"step": f.get_next_step_display().lower()})
        entries.append(
            TimelineEntry(
                f.done_at, "follow_up",
                gettext("Followed up: %(kind)s") % {"kind": f.get_kind_display()}, "; ".join(bits),
                _who(f.done_by),
            )
        )  # fmt: skip
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _removed(meeting) -> bool:
    return meeting.status == MeetingStatus.REMOVED


def removed_meetings(client: Client) -> list:
    """Meetings in this client's plan that have since left the directory."""
    seen = {}
    for c in MeetingChoice.objects.filter(client=client).select_related("meeting"):
        seen[c.meeting_id] = c.meeting
    for i in Introduction.objects.filter(
        client=client, status__in=["requested", "accepted", "arranged"]
    ).select_related("meeting"):
        seen[i.meeting_id] = i.meeting
    return [m for m in seen.values() if _removed(m)]


def last_barc(client: Client) -> Barc10 | None:
    return Barc10.objects.filter(client=client).order_by("-taken_on", "-pk").first()


def caseload_counts(user) -> dict[str, int]:
    rows = (
        clients_visible_to(user)
        .filter(status=ClientStatus.ACTIVE)
        .values("stage")
        .annotate(n=Count("pk"))
    )
    return {row["stage"]: row["n"] for row in rows}


# --- signed links (volunteers and clients, no account) -----------------------------


class LinkProblem(Exception):
    """A signed link that cannot be used; the message says why, in plain words."""


def introduction_token(introduction: Introduction) -> str:
    return signing.dumps(
        {"i": introduction.pk, "n": introduction.link_nonce}, salt=INTRODUCTION_SALT
    )


def introduction_for_token(token: str, *, max_age: timedelta) -> Introduction:
    """The one introduction a volunteer's link opens, or LinkProblem."""
    try:
        data = signing.loads(token, salt=INTRODUCTION_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkProblem(
            "This link has expired. Nothing has been lost: the keyworker can send a new one."
        ) from None
    except signing.BadSignature:
        raise LinkProblem("This link is not valid. Check that it was copied in full.") from None
    intro = (
        Introduction.objects.select_related("meeting__fellowship", "volunteer", "client")
        .filter(pk=data.get("i"))
        .first()
    )
    if intro is None or intro.link_nonce != data.get("n"):
        raise LinkProblem(
            "This link is no longer in use: the introduction was changed or cancelled."
        )
    if intro.status == IntroductionStatus.CANCELLED:
        raise LinkProblem("This introduction was cancelled. Thank you for offering to help.")
    return intro


def volunteer_remove_token(volunteer: Volunteer) -> str:
    return signing.dumps({"v": volunteer.pk, "n": volunteer.link_nonce}, salt=VOLUNTEER_REMOVE_SALT)


def volunteer_for_remove_token(token: str, *, max_age: timedelta) -> Volunteer:
    try:
        data = signing.loads(token, salt=VOLUNTEER_REMOVE_SALT, max_age=max_age)
    except signing.SignatureExpired:
        raise LinkProblem(
            "This link has expired. Ask the service for a new one, or reply to any of our emails."
        ) from None
    except signing.BadSignature:
        raise LinkProblem("This link is not valid. Check that it was copied in full.") from None
    volunteer = Volunteer.objects.filter(pk=data.get("v")).first()
    if volunteer is None or volunteer.status == VolunteerStatus.REMOVED:
        raise LinkProblem("Your details have already been removed. Nothing more to do.")
    if volunteer.link_nonce != data.get("n"):
        raise LinkProblem("This link is no longer in use. Ask the service for a new one.")
    return volunteer


def self_report_token(link: SelfReportLink) -> str:
    return signing.dumps({"l": link.pk, "n": link.nonce}, salt=SELF_REPORT_SALT)


def self_report_link_for_token(token: str, *, now: datetime | None = None) -> SelfReportLink:
    now = now or timezone.now()
    try:
        data = signing.loads(token, salt=SELF_REPORT_SALT)
    except signing.BadSignature:
        raise LinkProblem("This link is not valid. Check that it was copied in full.") from None
    link = SelfReportLink.objects.select_related("client").filter(pk=data.get("l")).first()
    if link is None or link.nonce != data.get("n"):
        raise LinkProblem("This link is not valid any more. Ask your keyworker for a new one.")
    if link.revoked_at is not None:
        raise LinkProblem(
            "This link has been switched off. Ask your keyworker for a new one if you need it."
        )
    if link.expires_at <= now:
        raise LinkProblem(
            "This link has expired. Everything you recorded is kept; ask your keyworker for a "
            "new link."
        )
    if not link.client.is_active:
        raise LinkProblem("This link is not in use any more. Thank you.")
    return link


def self_report_recent_count(link: SelfReportLink, *, since: datetime) -> int:
    """Entries made through any of this client's links since `since` (for the rate limit)."""
    client = link.client_id
    return (
        Attendance.objects.filter(client_id=client, source="self", created_at__gte=since).count()
        + CheckIn.objects.filter(client_id=client, source="self", created_at__gte=since).count()
    )
