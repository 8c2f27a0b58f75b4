"""Every casework write: keyword-only arguments (the acting user first), one transaction,
and its audit event in that same transaction (so a change without its event cannot exist).

Audit `detail` holds ids and field NAMES only, never client content. Volunteers and
clients acting through signed links have no account: their events have actor=None and
say which link ("via").

Access: services re-check with selectors (defence in depth); views check first so they can
answer 404 and audit the attempt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from mutualaid.accounts.roles import membership_of
from mutualaid.audit.services import record_event
from mutualaid.directory.models import Meeting
from mutualaid.directory.models import Status as MeetingStatus
from mutualaid.ops.concurrency import claim_version

from . import emails, scheduling, selectors
from .models import (
    BARC10_ITEMS,
    CHECK_IN_QUESTIONS,
    KIND_OFFER,
    Assessment,
    AssessmentOutcome,
    Attendance,
    Attended,
    Barc10,
    CheckIn,
    Client,
    ClientShare,
    ClientStatus,
    Consent,
    ConsentScope,
    FollowUp,
    FollowUpKind,
    Goal,
    GoalKind,
    GoalStatus,
    Introduction,
    IntroductionKind,
    IntroductionStatus,
    MeetingChoice,
    NextStep,
    SelfReportLink,
    Source,
    Stage,
    StageChange,
    Volunteer,
    VolunteerStatus,
    new_nonce,
)

CLIENT_FIELDS = (
    "case_reference",
    "preferred_name",
    "keyworker",
    "contact_email",
    "contact_phone",
    "area_name",
    "latitude",
    "longitude",
    "preferences_note",
    "pref_approaches",
    "pref_types",
    "pref_languages",
    "pref_days",
    "pref_times",
    "pref_modes",
    "pref_volunteer_gender",
)
VOLUNTEER_FIELDS = (
    "name",
    "area_name",
    "latitude",
    "longitude",
    "languages",
    "gender",
    "availability",
    "offers_phone_call",
    "offers_meet_before",
    "offers_go_along",
    "offers_transport",
    "email",
    "phone",
    "consent_to_contact",
)


def _audit(actor, action, target, *, request=None, organisation=None, **detail):
    return record_event(
        actor=actor,
        action=action,
        target=target,
        request=request,
        organisation=organisation,
        detail=detail,
    )


_CLIENT_RECORD = "This client's record"


def _require_edit(actor, client: Client) -> None:
    if not selectors.can_edit_client(actor, client):
        raise PermissionDenied("You cannot change this client's record.")
    if not client.is_active:
        raise ValidationError("This client's record is closed. Reopen it to add to it.")


def _round(value: float | None) -> float | None:
    """Client coordinates are kept to about 1 km: enough to find meetings, not a home."""
    return None if value is None else round(float(value), 2)


def _change_stage(*, actor, client: Client, to: str, reason: str) -> None:
    # The stored stage, not this instance's: another write may have moved it meanwhile.
    client.stage = Client.objects.filter(pk=client.pk).values_list("stage", flat=True).get()
    if client.stage == to:
        return
    StageChange.objects.create(
        client=client, from_stage=client.stage, to_stage=to, reason=reason, changed_by=actor
    )
    client.stage = to
    client.save(update_fields=["stage", "updated_at"])
    claim_version(client, None)


# --- clients ------------------------------------------------------------------------


@transaction.atomic
def create_client(
    *,
    actor,
    case_reference: str,
    preferred_name: str,
    keyworker=None,
    fellowships=(),
    request=None,
    **fields,
) -> Client:
    membership = membership_of(actor)
    if not selectors.can_create_clients(actor):
        raise PermissionDenied("Your role cannot add clients.")
    keyworker = keyworker or actor
    keyworker_membership = membership_of(keyworker)
    if keyworker_membership is None or keyworker_membership.organisation_id != (
        membership.organisation_id
    ):
        raise ValidationError({"keyworker": "The keyworker must work in your service."})
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {', '.join(sorted(unknown))}")
    case_reference = case_reference.strip()
    if Client.objects.filter(
        organisation_id=membership.organisation_id, case_reference=case_reference
    ).exists():
        raise ValidationError({"case_reference": "Another client already has this reference."})
    for key in ("latitude", "longitude"):
        if key in fields:
            fields[key] = _round(fields[key])
    client = Client.objects.create(
        organisation_id=membership.organisation_id,
        team_id=keyworker_membership.team_id,
        case_reference=case_reference,
        preferred_name=preferred_name.strip(),
        keyworker=keyworker,
        created_by=actor,
        **fields,
    )
    client.pref_fellowships.set(fellowships)
    StageChange.objects.create(
        client=client, from_stage="", to_stage=Stage.ASSESS, reason="new client", changed_by=actor
    )
    _audit(actor, "create", client, request=request, fields=sorted(["preferred_name", *fields]))
    return client


@transaction.atomic
def update_client(
    *, actor, client: Client, fellowships=None, request=None, expected_version=None, **fields
) -> list[str]:
    """Change the named fields; returns the names of those that changed.

    With expected_version (the version the editor's form was made from), raises
    EditConflict, changing nothing, when someone else has changed the record since.
    """
    _require_edit(actor, client)
    if expected_version is not None:
        claim_version(client, expected_version, what=_CLIENT_RECORD)
    unknown = set(fields) - set(CLIENT_FIELDS)
    if unknown:
        raise TypeError(f"unknown client fields: {', '.join(sorted(unknown))}")
    for key in ("latitude", "longitude"):
        if key in fields:
            fields[key] = _round(fields[key])
    changed = []
    if "keyworker" in fields and fields["keyworker"] != client.keyworker:
        new = fields["keyworker"]
        new_membership = membership_of(new) if new else None
        if new is not None and (
            new_membership is None or new_membership.organisation_id != client.organisation_id
        ):
            raise ValidationError({"keyworker": "The keyworker must work in this service."})
        client.team_id = new_membership.team_id if new_membership else None
        changed.append("team")
    if "case_reference" in fields:
        fields["case_reference"] = fields["case_reference"].strip()
        if (
            Client.objects.filter(
                organisation_id=client.organisation_id, case_reference=fields["case_reference"]
            )
            .exclude(pk=client.pk)
            .exists()
        ):
            raise ValidationError({"case_reference": "Another client already has this reference."})
    for key, value in fields.items():
        if getattr(client, key) != value:
            setattr(client, key, value)
            changed.append(key)
    if changed:
        client.save()
    if fellowships is not None:
        before = set(client.pref_fellowships.values_list("pk", flat=True))
        after = {getattr(f, "pk", f) for f in fellowships}
        if before != after:
            client.pref_fellowships.set(after)
            changed.append("pref_fellowships")
    if changed:
        if expected_version is None:
            claim_version(client, None)
        _audit(actor, "update", client, request=request, fields=sorted(set(changed)))
    return changed


@transaction.atomic
def set_stage(*, actor, client: Client, stage: str, request=None) -> None:
    _require_edit(actor, client)
    if stage not in Stage.values:
        raise ValidationError({"stage": "Choose one of the three stages."})
    before = client.stage
    _change_stage(actor=actor, client=client, to=stage, reason="set by hand")
    _audit(actor, "update", client, request=request, fields=["stage"], before=before, after=stage)


@transaction.atomic
def close_client(*, actor, client: Client, request=None) -> None:
    _require_edit(actor, client)
    now = timezone.now()
    client.status, client.closed_at = ClientStatus.CLOSED, now
    client.save(update_fields=["status", "closed_at", "updated_at"])
    claim_version(client, None)
    # Nothing more goes out: live links stop, pending introductions are cancelled.
    SelfReportLink.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
    for intro in client.introductions.filter(
        status__in=[IntroductionStatus.REQUESTED, IntroductionStatus.ACCEPTED], starts_at__gt=now
    ):
        _cancel(actor=actor, introduction=intro, request=request, now=now)
    _audit(actor, "update", client, request=request, fields=["status", "closed_at"])


@transaction.atomic
def reopen_client(*, actor, client: Client, request=None) -> None:
    if not selectors.can_edit_client(actor, client):
        raise PermissionDenied("You cannot change this client's record.")
    client.status, client.closed_at = ClientStatus.ACTIVE, None
    client.save(update_fields=["status", "closed_at", "updated_at"])
    claim_version(client, None)
    _audit(actor, "update", client, request=request, fields=["status", "closed_at"])


@transaction.atomic
def record_consent(*, actor, client: Client, scope: str, request=None) -> Consent:
    _require_edit(actor, client)
    if scope not in ConsentScope.values:
        raise ValidationError({"scope": "Unknown consent."})
    existing = client.consents.filter(scope=scope, withdrawn_at__isnull=True).first()
    if existing:
        return existing
    consent = Consent.objects.create(client=client, scope=scope, recorded_by=actor)
    _audit(actor, "create", consent, request=request, client=client.pk, scope=scope)
    return consent


@transaction.atomic
def withdraw_consent(*, actor, client: Client, scope: str, request=None) -> int:
    """Withdraw a consent; what depended on it stops (links, pending introductions)."""
    _require_edit(actor, client)
    now = timezone.now()
    withdrawn = client.consents.filter(scope=scope, withdrawn_at__isnull=True).update(
        withdrawn_at=now, withdrawn_by=actor
    )
    if scope == ConsentScope.SELF_REPORT:
        SelfReportLink.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
    if scope == ConsentScope.VOLUNTEER_INTRODUCTION:
        for intro in client.introductions.filter(
            status__in=[IntroductionStatus.REQUESTED, IntroductionStatus.ACCEPTED],
            starts_at__gt=now,
        ):
            _cancel(actor=actor, introduction=intro, request=request, now=now)
    if withdrawn:
        _audit(actor, "update", client, request=request, consent_withdrawn=scope)
    return withdrawn


@transaction.atomic
def share_client(*, actor, client: Client, user, request=None) -> ClientShare:
    _require_edit(actor, client)
    membership = membership_of(user)
    if membership is None or membership.organisation_id != client.organisation_id:
        raise ValidationError({"user": "You can only share with staff of this service."})
    share = client.shares.filter(user=user, revoked_at__isnull=True).first()
    if share is None:
        share = ClientShare.objects.create(client=client, user=user, shared_by=actor)
        _audit(actor, "create", share, request=request, client=client.pk, user=user.pk)
    return share


@transaction.atomic
def unshare_client(*, actor, share: ClientShare, request=None) -> None:
    _require_edit(actor, share.client)
    if share.revoked_at is None:
        share.revoked_at = timezone.now()
        share.save(update_fields=["revoked_at"])
        _audit(
            actor, "update", share, request=request, client=share.client_id, fields=["revoked_at"]
        )


# --- stage 1 --------------------------------------------------------------------------


@transaction.atomic
def record_assessment(
    *,
    actor,
    client: Client,
    previous_experience: str,
    outcome: str,
    guide_used: bool = False,
    experience_note: str = "",
    concerns: str = "",
    preferences: str = "",
    outcome_reason: str = "",
    held_on: date | None = None,
    request=None,
) -> Assessment:
    _require_edit(actor, client)
    today = timezone.localdate()
    held_on = held_on or today
    if held_on > today:
        raise ValidationError({"held_on": "The conversation cannot be in the future."})
    assessment = Assessment.objects.create(
        client=client,
        held_on=held_on,
        previous_experience=previous_experience,
        experience_note=experience_note,
        concerns=concerns,
        preferences=preferences,
        guide_used=guide_used,
        outcome=outcome,
        outcome_reason=outcome_reason,
        recorded_by=actor,
    )
    if outcome == AssessmentOutcome.INTERESTED:
        _change_stage(actor=actor, client=client, to=Stage.CONNECT, reason="interested")
    elif outcome == AssessmentOutcome.NOT_NOW:
        _change_stage(actor=actor, client=client, to=Stage.ASSESS, reason="not now")
        FollowUp.objects.create(
            client=client, kind=FollowUpKind.REVISIT, due_on=scheduling.revisit_on(today)
        )
    else:
        _change_stage(actor=actor, client=client, to=Stage.ASSESS, reason="declined")
    filled = [
        name
        for name, value in (
            ("experience_note", experience_note),
            ("concerns", concerns),
            ("preferences", preferences),
            ("outcome_reason", outcome_reason),
        )
        if value
    ]
    _audit(
        actor, "create", assessment, request=request, client=client.pk, outcome=outcome,
        fields=filled,
    )  # fmt: skip
    return assessment


# --- stage 2 --------------------------------------------------------------------------


def _visible_meeting(meeting: Meeting, client: Client, field: str = "meeting") -> None:
    """A meeting restricted to another organisation (inside a prison, a hospital) does
    not exist for this client's service."""
    if not Meeting.objects.visible_to([client.organisation_id]).filter(pk=meeting.pk).exists():
        raise ValidationError({field: "There is no such meeting in the directory."})


def _usable_meeting(meeting: Meeting, client: Client, field: str = "meeting") -> None:
    _visible_meeting(meeting, client, field)
    if meeting.status == MeetingStatus.REMOVED:
        raise ValidationError(
            {field: "This meeting has been removed from the directory: choose another one."}
        )


@transaction.atomic
def choose_meeting(*, actor, client: Client, meeting: Meeting, request=None) -> MeetingChoice:
    _require_edit(actor, client)
    _usable_meeting(meeting, client)
    choice, created = MeetingChoice.objects.get_or_create(
        client=client, meeting=meeting, defaults={"chosen_by": actor}
    )
    if created:
        _audit(actor, "create", choice, request=request, client=client.pk, meeting=meeting.pk)
        if client.stage == Stage.ASSESS:
            _change_stage(actor=actor, client=client, to=Stage.CONNECT, reason="meeting chosen")
    return choice


@transaction.atomic
def set_choice_status(*, actor, choice: MeetingChoice, status: str, request=None) -> None:
    _require_edit(actor, choice.client)
    choice.status = status
    choice.save(update_fields=["status"])
    _audit(actor, "update", choice, request=request, client=choice.client_id, fields=["status"])


@transaction.atomic
def set_goal(
    *,
    actor,
    client: Client,
    kind: str,
    due_on: date,
    meeting: Meeting | None = None,
    description: str = "",
    today: date | None = None,
    request=None,
) -> Goal:
    _require_edit(actor, client)
    try:
        scheduling.check_goal_date(due_on, today or timezone.localdate())
    except ValueError as exc:
        raise ValidationError({"due_on": str(exc)}) from None
    if kind in (GoalKind.ATTEND_ONCE, GoalKind.ATTEND_WEEKLY) and meeting is None:
        raise ValidationError({"meeting": "Choose the meeting this goal is about."})
    if kind == GoalKind.OTHER and not description.strip():
        raise ValidationError({"description": "Say what the goal is."})
    if meeting is not None:
        _usable_meeting(meeting, client)
    goal = Goal.objects.create(
        client=client,
        kind=kind,
        meeting=meeting,
        description=description,
        due_on=due_on,
        created_by=actor,
    )
    FollowUp.objects.create(client=client, kind=FollowUpKind.GOAL_REVIEW, due_on=due_on, goal=goal)
    _audit(
        actor, "create", goal, request=request, client=client.pk, kind=kind,
        meeting=getattr(meeting, "pk", None), fields=["description"] if description else [],
    )  # fmt: skip
    return goal


@transaction.atomic
def review_goal(
    *, actor, goal: Goal, status: str, note: str = "", request=None, expected_version=None
) -> Goal:
    """Record whether a goal was met. With expected_version, raises EditConflict (nothing
    changed) when someone else reviewed or changed the goal after the form was made."""
    _require_edit(actor, goal.client)
    if status not in GoalStatus.values or status == GoalStatus.OPEN:
        raise ValidationError({"status": "Say whether the goal was met."})
    claim_version(goal, expected_version, what="This goal")
    goal.status, goal.review_note = status, note
    goal.reviewed_at, goal.reviewed_by = timezone.now(), actor
    goal.save()
    goal.follow_ups.filter(done_at__isnull=True).update(done_at=goal.reviewed_at, done_by=actor)
    _audit(
        actor, "update", goal, request=request, client=goal.client_id,
        fields=["status", "review_note"] if note else ["status"],
    )  # fmt: skip
    return goal


@dataclass
class Sent:
    introduction: Introduction
    emailed: bool


@transaction.atomic
def arrange_introduction(
    *,
    actor,
    client: Client,
    meeting: Meeting,
    starts_at: datetime,
    kind: str,
    volunteer: Volunteer | None = None,
    agreed_contact: str = "",
    request=None,
) -> Introduction:
    """Arrange the hand-off to one occurrence of a meeting. With a volunteer, the request
    goes by email (after the transaction commits) with a signed link to accept or decline."""
    _require_edit(actor, client)
    _usable_meeting(meeting, client)
    now = timezone.now()
    if starts_at <= now:
        raise ValidationError({"starts_at": "Choose a date that is still to come."})
    if kind not in IntroductionKind.values:
        raise ValidationError({"kind": "Choose how the introduction will happen."})
    needs_volunteer = kind in KIND_OFFER
    if needs_volunteer:
        if volunteer is None:
            raise ValidationError({"volunteer": "Choose a volunteer for this introduction."})
        if not client.has_consent(ConsentScope.VOLUNTEER_INTRODUCTION):
            raise ValidationError(
                {
                    "volunteer": "Record the client's consent to share their first name with a "
                    "volunteer first (Consents)."
                }
            )
        if volunteer.organisation_id != client.organisation_id:
            raise ValidationError({"volunteer": "Choose one of your service's volunteers."})
        if not volunteer.is_active:
            raise ValidationError(
                {"volunteer": "This volunteer has withdrawn: choose another one."}
            )
        if not volunteer.consent_to_contact or not volunteer.email:
            raise ValidationError(
                {"volunteer": "This volunteer cannot be contacted by email: choose another one."}
            )
        if KIND_OFFER[kind] not in volunteer.offers:
            raise ValidationError({"volunteer": "This volunteer does not offer that."})
        if not agreed_contact.strip():
            raise ValidationError(
                {"agreed_contact": "Say how they will meet or speak, e.g. 'meet at the door at "
                 "18:40'."}
            )  # fmt: skip
    else:
        volunteer = None
    intro = Introduction.objects.create(
        client=client,
        meeting=meeting,
        starts_at=starts_at,
        kind=kind,
        volunteer=volunteer,
        shared_first_name=client.first_name if needs_volunteer else "",
        agreed_contact=agreed_contact.strip(),
        status=IntroductionStatus.REQUESTED if needs_volunteer else IntroductionStatus.ARRANGED,
        requested_by=actor,
    )
    MeetingChoice.objects.get_or_create(
        client=client, meeting=meeting, defaults={"chosen_by": actor}
    )
    FollowUp.objects.create(
        client=client,
        kind=FollowUpKind.AFTER_MEETING,
        due_on=scheduling.follow_up_due_on(intro.local_start),
        introduction=intro,
    )
    if not needs_volunteer:
        _change_stage(
            actor=actor, client=client, to=Stage.FOLLOW_UP, reason="introduction arranged"
        )
    elif client.stage == Stage.ASSESS:
        _change_stage(actor=actor, client=client, to=Stage.CONNECT, reason="introduction requested")
    _audit(
        actor, "create", intro, request=request, client=client.pk, meeting=meeting.pk, kind=kind,
        volunteer=getattr(volunteer, "pk", None),
    )  # fmt: skip
    if needs_volunteer:
        # An accounting of disclosures: the client's first name goes to a named volunteer.
        # Targeted at the client, so `mutualaid audit disclosures` for them lists it.
        _audit(
            actor, "disclose", client, request=request, introduction=intro.pk,
            volunteer=volunteer.pk, fields=["shared_first_name", "agreed_contact"],
            consent="volunteer_introduction",
        )  # fmt: skip
        transaction.on_commit(lambda: emails.send_introduction_request(intro))
    return intro


@transaction.atomic
def respond_to_introduction(*, introduction: Introduction, accept: bool, request=None) -> bool:
    """The volunteer's answer through their link (no account). Returns False when it was
    already answered the same way (a second click changes nothing)."""
    intro = Introduction.objects.select_for_update().get(pk=introduction.pk)
    new = IntroductionStatus.ACCEPTED if accept else IntroductionStatus.DECLINED
    if intro.status == new:
        return False
    if intro.status not in (
        IntroductionStatus.REQUESTED,
        IntroductionStatus.ACCEPTED,
        IntroductionStatus.DECLINED,
    ):
        raise ValidationError("This introduction can no longer be changed.")
    if intro.starts_at <= timezone.now():
        raise ValidationError("This meeting has already started.")
    if accept and intro.volunteer and not intro.volunteer.is_active:
        raise ValidationError("Your details were withdrawn, so this cannot be accepted.")
    intro.status, intro.responded_at = new, timezone.now()
    intro.save(update_fields=["status", "responded_at"])
    client = intro.client
    if accept:
        _change_stage(actor=None, client=client, to=Stage.FOLLOW_UP, reason="volunteer accepted")
    _audit(
        None, "update", intro, request=request, organisation=client.organisation_id,
        client=client.pk, via="volunteer_link", volunteer=intro.volunteer_id, status=new,
    )  # fmt: skip
    transaction.on_commit(lambda: emails.send_introduction_answer(intro))
    introduction.status, introduction.responded_at = intro.status, intro.responded_at
    return True


def _cancel(*, actor, introduction: Introduction, request, now) -> None:
    was_accepted = introduction.status == IntroductionStatus.ACCEPTED
    introduction.status, introduction.cancelled_at = IntroductionStatus.CANCELLED, now
    introduction.link_nonce = new_nonce()  # the volunteer's link stops working
    introduction.save(update_fields=["status", "cancelled_at", "link_nonce"])
    introduction.follow_ups.filter(done_at__isnull=True).delete()
    _audit(
        actor, "update", introduction, request=request, client=introduction.client_id,
        fields=["status"], status="cancelled",
    )  # fmt: skip
    if introduction.volunteer_id and was_accepted:
        transaction.on_commit(lambda: emails.send_introduction_cancelled(introduction))


@transaction.atomic
def cancel_introduction(*, actor, introduction: Introduction, request=None) -> None:
    _require_edit(actor, introduction.client)
    if introduction.status == IntroductionStatus.CANCELLED:
        return
    _cancel(actor=actor, introduction=introduction, request=request, now=timezone.now())


# --- stage 3 --------------------------------------------------------------------------


@transaction.atomic
def record_follow_up(
    *,
    actor,
    client: Client,
    follow_up: FollowUp | None = None,
    attended: str = "",
    felt: str = "",
    how_it_felt: str = "",
    barriers: str = "",
    next_step: str = "",
    request=None,
) -> FollowUp:
    """What happened: attended? how it felt, barriers, and what next. Closes the due item
    (or records one done now); "attended" on an introduction also records the attendance."""
    _require_edit(actor, client)
    now = timezone.now()
    if follow_up is None:
        follow_up = FollowUp(client=client, kind=FollowUpKind.REVIEW, due_on=timezone.localdate())
    elif follow_up.client_id != client.pk:
        raise ValidationError("This follow-up belongs to another client.")
    elif follow_up.done_at:
        raise ValidationError("This follow-up was already recorded.")
    follow_up.attended, follow_up.felt = attended, felt
    follow_up.how_it_felt, follow_up.barriers = how_it_felt, barriers
    follow_up.next_step = next_step
    follow_up.done_at, follow_up.done_by = now, actor
    follow_up.save()
    intro = follow_up.introduction
    if attended == Attended.YES and intro is not None:
        Attendance.objects.create(
            client=client,
            meeting=intro.meeting,
            fellowship=intro.meeting.fellowship,
            attended_on=intro.local_start.date(),
            mode="online" if intro.meeting.mode == "online" else "in_person",
            felt=felt,
            source=Source.STAFF,
            recorded_by=actor,
        )
    if next_step in (NextStep.ANOTHER_MEETING, NextStep.ANOTHER_FELLOWSHIP):
        _change_stage(actor=actor, client=client, to=Stage.CONNECT, reason="trying another")
        if intro is not None:
            MeetingChoice.objects.filter(client=client, meeting=intro.meeting).update(
                status="not_suited"
            )
    elif next_step == NextStep.NOT_NOW:
        _change_stage(actor=actor, client=client, to=Stage.ASSESS, reason="not now")
        FollowUp.objects.create(
            client=client, kind=FollowUpKind.REVISIT, due_on=scheduling.revisit_on(now.date())
        )
    elif next_step == NextStep.STOP:
        _change_stage(actor=actor, client=client, to=Stage.ASSESS, reason="no longer interested")
    elif next_step == NextStep.KEEP_GOING:
        _change_stage(actor=actor, client=client, to=Stage.FOLLOW_UP, reason="keeps going")
        if intro is not None:
            MeetingChoice.objects.filter(client=client, meeting=intro.meeting).update(
                status="suits"
            )
    if follow_up.kind == FollowUpKind.REVISIT and not next_step:
        _change_stage(actor=actor, client=client, to=Stage.ASSESS, reason="asked again")
    filled = [n for n, v in (("how_it_felt", how_it_felt), ("barriers", barriers)) if v]
    _audit(
        actor, "update", follow_up, request=request, client=client.pk, attended=attended or None,
        next_step=next_step or None, fields=filled,
    )  # fmt: skip
    return follow_up


def _check_answers(answers: dict) -> dict:
    clean = {}
    for key in ("meetings_in_person", "meetings_online"):
        value = answers.get(key) or 0
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise ValidationError({key: "Give a number of meetings."}) from None
        if not 0 <= value <= 200:
            raise ValidationError({key: "Give a number from 0 to 200."})
        clean[key] = value
    for key, _ in CHECK_IN_QUESTIONS:
        clean[key] = bool(answers.get(key))
    clean["fellowships"] = sorted({str(c) for c in answers.get("fellowships") or []})
    return clean


def _create_check_in(*, client, answers, period_days, source, actor, link) -> CheckIn:
    if period_days not in (7, 30, 90):
        raise ValidationError({"period_days": "Choose 7, 30 or 90 days."})
    check_in = CheckIn(
        client=client, period_days=period_days, source=source, recorded_by=actor, via_link=link
    )
    check_in.answers = _check_answers(answers)
    check_in.save()
    return check_in


@transaction.atomic
def record_check_in(
    *, actor, client: Client, answers: dict, period_days: int = 30, request=None
) -> CheckIn:
    _require_edit(actor, client)
    check_in = _create_check_in(
        client=client, answers=answers, period_days=period_days, source=Source.STAFF,
        actor=actor, link=None,
    )  # fmt: skip
    _audit(actor, "create", check_in, request=request, client=client.pk, fields=["answers"])
    return check_in


@transaction.atomic
def record_barc10(
    *, actor, client: Client, items: list[int], taken_on: date | None = None, request=None
) -> Barc10:
    _require_edit(actor, client)
    if len(items) != len(BARC10_ITEMS):
        raise ValidationError({"items": f"Answer all {len(BARC10_ITEMS)} statements."})
    try:
        values = [int(v) for v in items]
    except (TypeError, ValueError):
        raise ValidationError({"items": "Each answer is a number from 1 to 6."}) from None
    if any(not 1 <= v <= 6 for v in values):
        raise ValidationError({"items": "Each answer is a number from 1 to 6."})
    barc = Barc10.objects.create(
        client=client,
        taken_on=taken_on or timezone.localdate(),
        items_json=json.dumps(values),
        total=sum(values),
        recorded_by=actor,
    )
    _audit(actor, "create", barc, request=request, client=client.pk, fields=["items", "total"])
    return barc


@transaction.atomic
def record_attendance(
    *,
    actor,
    client: Client,
    attended_on: date,
    meeting: Meeting | None = None,
    fellowship=None,
    mode: str = "in_person",
    felt: str = "",
    request=None,
) -> Attendance:
    _require_edit(actor, client)
    if attended_on > timezone.localdate():
        raise ValidationError({"attended_on": "The date cannot be in the future."})
    if meeting is not None:
        _visible_meeting(meeting, client)
    attendance = Attendance.objects.create(
        client=client,
        meeting=meeting,
        fellowship=fellowship or (meeting.fellowship if meeting else None),
        attended_on=attended_on,
        mode=mode,
        felt=felt,
        source=Source.STAFF,
        recorded_by=actor,
    )
    _audit(actor, "create", attendance, request=request, client=client.pk)
    return attendance


# --- self-report links ----------------------------------------------------------------


@transaction.atomic
def create_self_report_link(
    *, actor, client: Client, days: int | None = None, request=None
) -> tuple[SelfReportLink, str]:
    """A new private link for the client (older ones stop working). Returns (link, token);
    show the token's URL once."""
    _require_edit(actor, client)
    if not client.has_consent(ConsentScope.SELF_REPORT):
        raise ValidationError("Record the client's consent to a self-report link first.")
    days = days or settings.CASEWORK_SELF_REPORT_LINK_DAYS
    if not 1 <= days <= 180:
        raise ValidationError({"days": "A link lasts 1 to 180 days."})
    now = timezone.now()
    SelfReportLink.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
    link = SelfReportLink.objects.create(
        client=client, created_by=actor, created_at=now, expires_at=now + timedelta(days=days)
    )
    _audit(actor, "create", link, request=request, client=client.pk, days=days)
    return link, selectors.self_report_token(link)


@transaction.atomic
def revoke_self_report_link(*, actor, link: SelfReportLink, request=None) -> None:
    _require_edit(actor, link.client)
    if link.revoked_at is None:
        link.revoked_at = timezone.now()
        link.save(update_fields=["revoked_at"])
        _audit(actor, "update", link, request=request, client=link.client_id, fields=["revoked_at"])


class RateLimited(Exception):
    """Too many self-reported entries in a day; the message says when to try again."""


def _self_report_guard(link: SelfReportLink, now: datetime) -> None:
    limit = settings.CASEWORK_SELF_REPORT_DAILY_LIMIT
    if selectors.self_report_recent_count(link, since=now - timedelta(days=1)) >= limit:
        raise RateLimited(
            f"You have sent {limit} entries in the last day, which is the most we take. "
            "Everything you sent is kept; please try again tomorrow."
        )


@transaction.atomic
def self_report_attendance(
    *,
    link: SelfReportLink,
    attended_on: date,
    meeting: Meeting | None = None,
    fellowship=None,
    mode: str = "in_person",
    felt: str = "",
    request=None,
) -> Attendance:
    """The client records a meeting they went to, from their link. No other person named."""
    now = timezone.now()
    _self_report_guard(link, now)
    client = link.client
    today = timezone.localdate()
    if attended_on > today:
        raise ValidationError({"attended_on": "The date cannot be in the future."})
    if attended_on < today - timedelta(days=60):
        raise ValidationError({"attended_on": "Please give a date in the last two months."})
    attendance = Attendance.objects.create(
        client=client,
        meeting=meeting,
        fellowship=fellowship or (meeting.fellowship if meeting else None),
        attended_on=attended_on,
        mode=mode,
        felt=felt,
        source=Source.SELF,
        via_link=link,
        created_at=now,
    )
    SelfReportLink.objects.filter(pk=link.pk).update(last_used_at=now)
    _audit(
        None, "create", attendance, request=request, organisation=client.organisation_id,
        client=client.pk, via="self_report_link", link=link.pk,
    )  # fmt: skip
    if client.stage != Stage.FOLLOW_UP:
        _change_stage(actor=None, client=client, to=Stage.FOLLOW_UP, reason="went to a meeting")
    return attendance


@transaction.atomic
def self_report_check_in(*, link: SelfReportLink, answers: dict, request=None) -> CheckIn:
    now = timezone.now()
    _self_report_guard(link, now)
    client = link.client
    check_in = _create_check_in(
        client=client, answers=answers, period_days=7, source=Source.SELF, actor=None, link=link
    )
    SelfReportLink.objects.filter(pk=link.pk).update(last_used_at=now)
    _audit(
        None, "create", check_in, request=request, organisation=client.organisation_id,
        client=client.pk, via="self_report_link", link=link.pk,
    )  # fmt: skip
    return check_in


# --- volunteers -----------------------------------------------------------------------


def _check_volunteer_fields(fields: dict) -> None:
    unknown = set(fields) - set(VOLUNTEER_FIELDS)
    if unknown:
        raise TypeError(f"unknown volunteer fields: {', '.join(sorted(unknown))}")
    if "availability" in fields:
        from .matching import parse_availability

        try:
            parse_availability(fields["availability"])
        except ValueError as exc:
            raise ValidationError({"availability": str(exc)}) from None


@transaction.atomic
def create_volunteer(*, actor, name: str, fellowships=(), request=None, **fields) -> Volunteer:
    if not selectors.can_edit_volunteers(actor):
        raise PermissionDenied("Your role cannot add volunteers.")
    _check_volunteer_fields(fields)
    membership = membership_of(actor)
    volunteer = Volunteer(
        organisation_id=membership.organisation_id, name=name.strip(), created_by=actor, **fields
    )
    if volunteer.consent_to_contact:
        volunteer.consent_given_at = timezone.now()
    volunteer.save()
    volunteer.fellowships.set(fellowships)
    _audit(actor, "create", volunteer, request=request, fields=sorted(["name", *fields]))
    return volunteer


def _require_volunteer_edit(actor, volunteer: Volunteer) -> None:
    if not (
        selectors.can_edit_volunteers(actor)
        and selectors.volunteers_visible_to(actor).filter(pk=volunteer.pk).exists()
    ):
        raise PermissionDenied("You cannot change this volunteer's details.")
    if volunteer.status == VolunteerStatus.REMOVED:
        raise ValidationError("This volunteer removed their details; they cannot be changed.")


@transaction.atomic
def update_volunteer(
    *, actor, volunteer: Volunteer, fellowships=None, request=None, **fields
) -> list[str]:
    _require_volunteer_edit(actor, volunteer)
    _check_volunteer_fields(fields)
    changed = [k for k, v in fields.items() if getattr(volunteer, k) != v]
    for key in changed:
        setattr(volunteer, key, fields[key])
    if "consent_to_contact" in changed:
        volunteer.consent_given_at = timezone.now() if volunteer.consent_to_contact else None
    if changed:
        volunteer.save()
    if fellowships is not None:
        before = set(volunteer.fellowships.values_list("pk", flat=True))
        after = {getattr(f, "pk", f) for f in fellowships}
        if before != after:
            volunteer.fellowships.set(after)
            changed.append("fellowships")
    if changed:
        _audit(actor, "update", volunteer, request=request, fields=sorted(changed))
    return changed


def _withdraw_pending(volunteer: Volunteer, now) -> list[Introduction]:
    """A volunteer who leaves: their pending and coming introductions go back to the
    keyworker as declined (nothing lost; the keyworker asks someone else)."""
    affected = list(
        volunteer.introductions.filter(
            status__in=[IntroductionStatus.REQUESTED, IntroductionStatus.ACCEPTED],
            starts_at__gt=now,
        )
    )
    for intro in affected:
        intro.status, intro.responded_at = IntroductionStatus.DECLINED, now
        intro.link_nonce = new_nonce()
        intro.save(update_fields=["status", "responded_at", "link_nonce"])
    return affected


@transaction.atomic
def withdraw_volunteer(*, actor, volunteer: Volunteer, request=None) -> None:
    _require_volunteer_edit(actor, volunteer)
    now = timezone.now()
    volunteer.status, volunteer.withdrawn_at = VolunteerStatus.WITHDRAWN, now
    volunteer.save(update_fields=["status", "withdrawn_at"])
    affected = _withdraw_pending(volunteer, now)
    _audit(
        actor, "update", volunteer, request=request, fields=["status"],
        introductions=[i.pk for i in affected],
    )  # fmt: skip
    for intro in affected:
        transaction.on_commit(lambda intro=intro: emails.send_introduction_answer(intro))


@transaction.atomic
def reinstate_volunteer(*, actor, volunteer: Volunteer, request=None) -> None:
    _require_volunteer_edit(actor, volunteer)
    volunteer.status, volunteer.withdrawn_at = VolunteerStatus.ACTIVE, None
    volunteer.save(update_fields=["status", "withdrawn_at"])
    _audit(actor, "update", volunteer, request=request, fields=["status"])


@transaction.atomic
def erase_volunteer(*, volunteer: Volunteer, actor=None, request=None) -> None:
    """ "Remove my details": everything personal goes; the row stays so the clients'
    journeys still say "a volunteer". Through the volunteer's own link (actor None) or by
    staff on their behalf."""
    if actor is not None:
        _require_volunteer_edit(actor, volunteer)
    now = timezone.now()
    affected = _withdraw_pending(volunteer, now)
    volunteer.name = ""
    volunteer.area_name = ""
    volunteer.latitude = volunteer.longitude = None
    volunteer.languages, volunteer.availability = [], []
    volunteer.gender = volunteer.email = volunteer.phone = ""
    volunteer.offers_phone_call = volunteer.offers_meet_before = False
    volunteer.offers_go_along = volunteer.offers_transport = False
    volunteer.consent_to_contact, volunteer.consent_given_at = False, None
    volunteer.status, volunteer.withdrawn_at = VolunteerStatus.REMOVED, now
    volunteer.link_nonce = new_nonce()
    volunteer.save()
    volunteer.fellowships.clear()
    _audit(
        actor, "delete", volunteer, request=request, organisation=volunteer.organisation_id,
        via="volunteer_link" if actor is None else "staff", introductions=[i.pk for i in affected],
    )  # fmt: skip
    for intro in affected:
        transaction.on_commit(lambda intro=intro: emails.send_introduction_answer(intro))


# --- reminders ------------------------------------------------------------------------


@dataclass
class ReminderRun:
    sent_client: int = 0
    sent_volunteer: int = 0
    skipped_removed_meeting: int = 0
    failed: int = 0


def send_due_reminders(*, now: datetime | None = None) -> ReminderRun:
    """Email the client (with consent) and the volunteer (accepted) the evening before,
    with an .ics attachment. Idempotent: each is claimed with a conditional UPDATE before
    sending, so a second run (or two at once) never sends twice."""
    now = now or timezone.now()
    run = ReminderRun()
    candidates = (
        Introduction.objects.filter(
            status__in=[IntroductionStatus.ACCEPTED, IntroductionStatus.ARRANGED],
            starts_at__gt=now,
            starts_at__lte=now + timedelta(days=2),
            client__status=ClientStatus.ACTIVE,
        )
        .select_related("client", "meeting__fellowship", "volunteer")
        .order_by("starts_at")
    )
    for intro in candidates:
        if not scheduling.reminder_is_due(intro.local_start, now):
            continue
        if intro.meeting.status == MeetingStatus.REMOVED:
            run.skipped_removed_meeting += 1
            continue
        client = intro.client
        if (
            intro.reminder_client_sent_at is None
            and client.contact_email
            and client.has_consent(ConsentScope.REMINDERS_EMAIL)
        ):
            if _claim(intro, "reminder_client_sent_at", now):
                if _send(emails.send_client_reminder, intro, "reminder_client_sent_at", now):
                    run.sent_client += 1
                else:
                    run.failed += 1
        volunteer = intro.volunteer
        if (
            intro.reminder_volunteer_sent_at is None
            and intro.status == IntroductionStatus.ACCEPTED
            and volunteer is not None
            and volunteer.is_active
            and volunteer.email
        ):
            if _claim(intro, "reminder_volunteer_sent_at", now):
                if _send(emails.send_volunteer_reminder, intro, "reminder_volunteer_sent_at", now):
                    run.sent_volunteer += 1
                else:
                    run.failed += 1
    return run


def _claim(intro: Introduction, field: str, now: datetime) -> bool:
    with transaction.atomic():
        claimed = Introduction.objects.filter(pk=intro.pk, **{f"{field}__isnull": True}).update(
            **{field: now}
        )
        if claimed and field == "reminder_volunteer_sent_at":
            # The volunteer is told the client's first name again: a disclosure.
            record_event(
                actor=None,
                action="disclose",
                target=intro.client,
                detail={
                    "introduction": intro.pk,
                    "volunteer": intro.volunteer_id,
                    "fields": ["shared_first_name", "agreed_contact"],
                    "via": "reminder",
                },
            )
        elif claimed:
            record_event(
                actor=None,
                action="update",
                target=intro,
                organisation=intro.client.organisation_id,
                detail={"client": intro.client_id, "reminder": "client", "via": "cron"},
            )
    return bool(claimed)


def _send(sender, intro: Introduction, field: str, now: datetime) -> bool:
    try:
        sender(intro)
    except Exception:  # noqa: BLE001 - a mail server error: release the claim, try next run
        with transaction.atomic():
            Introduction.objects.filter(pk=intro.pk, **{field: now}).update(**{field: None})
            record_event(
                actor=None,
                action="update",
                target=intro,
                organisation=intro.client.organisation_id,
                detail={"client": intro.client_id, "reminder_failed": field.split("_")[1]},
            )
        return False
    return True
