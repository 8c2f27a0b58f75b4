"""Casework for facilitating access to mutual aid (FAMA): clients, volunteers, the three
stages, and what the client reports themselves.

Minimum necessary (docs/security.md, "Casework data map"): every free-text note, contact
detail and check-in answer is an EncryptedTextField (Fernet at rest; no lookups but
isnull). Nothing here names a member of a group other than a volunteer, by first name or
alias, who agreed to it. Meetings are referenced, never copied, and PROTECTed: a meeting
removed from the directory stays (status "removed"), so a client's journey keeps it.

Writes go through services.py (audited, atomic); reads through selectors.py (access rules).
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy

from mutualaid.accounts.encryption import EncryptedTextField

from . import matching


def new_nonce() -> str:
    """A random value signed links carry; changing it revokes every link made before."""
    return secrets.token_urlsafe(16)


# The demo service's slug (casework/demo.py).
DEMO_ORGANISATION_SLUG = "demo-service"


def protect_meeting(collector, field, sub_objs, using):
    """No longer used (meetings are plainly PROTECTed since migration 0005: `mutualaid
    demo --replace` removes the demo service before the demo meetings). Kept because
    migration 0002 refers to it."""
    client_ids = {obj.client_id for obj in sub_objs}
    real = (
        Client.objects.using(using)
        .filter(pk__in=client_ids)
        .exclude(organisation__slug=DEMO_ORGANISATION_SLUG)
        .exists()
    )
    if real:
        models.PROTECT(collector, field, sub_objs, using)
    else:
        models.CASCADE(collector, field, sub_objs, using)


class Stage(models.TextChoices):
    ASSESS = "assess", gettext_lazy("1. Assess and introduce")
    CONNECT = "connect", gettext_lazy("2. Connect")
    FOLLOW_UP = "follow_up", gettext_lazy("3. Follow up")


class ClientStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    CLOSED = "closed", gettext_lazy("Closed")


class AttendanceMode(models.TextChoices):
    IN_PERSON = "in_person", gettext_lazy("In person")
    ONLINE = "online", gettext_lazy("Online")


class Source(models.TextChoices):
    STAFF = "staff", gettext_lazy("Recorded by staff")
    SELF = "self", gettext_lazy("Self-reported by the client")


# --- volunteers -------------------------------------------------------------------


class VolunteerStatus(models.TextChoices):
    ACTIVE = "active", gettext_lazy("Active")
    WITHDRAWN = "withdrawn", gettext_lazy("Withdrawn")
    REMOVED = "removed", gettext_lazy("Details removed")


class Volunteer(models.Model):
    """A recovery champion: a fellowship member who helps newcomers to a first meeting.

    Known by first name or alias only (Tradition 12). Their details are theirs: a signed
    "remove my details" link erases everything but the row, which introductions refer to.
    """

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="volunteers"
    )
    name = models.CharField("First name or alias", max_length=60)
    fellowships = models.ManyToManyField(
        "directory.Fellowship", blank=True, related_name="volunteers"
    )
    area_name = models.CharField("Area", max_length=120, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    languages = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("ISO 639-1 codes")
    )
    gender = EncryptedTextField(
        blank=True, default="", help_text=gettext_lazy("Optional, self-described")
    )
    availability = models.JSONField(
        default=list,
        blank=True,
        help_text=gettext_lazy('[{"weekday": 0, "start": "18:00", "end": "21:30"}]'),
    )
    offers_phone_call = models.BooleanField("A phone call", default=False)
    offers_meet_before = models.BooleanField("Meet before the meeting", default=False)
    offers_go_along = models.BooleanField("Go along together", default=False)
    offers_transport = models.BooleanField("Transport", default=False)
    email = EncryptedTextField(blank=True, default="")
    phone = EncryptedTextField(blank=True, default="")
    consent_to_contact = models.BooleanField(default=False)
    consent_given_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=VolunteerStatus.choices, default=VolunteerStatus.ACTIVE
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    link_nonce = models.CharField(max_length=32, default=new_nonce)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["name", "pk"]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        if self.status == VolunteerStatus.REMOVED:
            return "A volunteer (details removed)"
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == VolunteerStatus.ACTIVE

    @property
    def offers(self) -> list[str]:
        flags = {
            matching.PHONE_CALL: self.offers_phone_call,
            matching.MEET_BEFORE: self.offers_meet_before,
            matching.GO_ALONG: self.offers_go_along,
            matching.TRANSPORT: self.offers_transport,
        }
        return [key for key, on in flags.items() if on]

    @property
    def offers_text(self) -> str:
        labels = {
            matching.PHONE_CALL: gettext("phone call"),
            matching.MEET_BEFORE: gettext("meets before"),
            matching.GO_ALONG: gettext("goes along"),
            matching.TRANSPORT: gettext("transport"),
        }
        return ", ".join(labels[k] for k in self.offers) or gettext("nothing yet")

    def facts(self) -> matching.VolunteerFacts:
        try:
            slots = tuple(matching.parse_availability(self.availability))
        except ValueError:
            slots = ()
        return matching.VolunteerFacts(
            id=self.pk,
            name=self.name,
            fellowship_codes=frozenset(f.code for f in self.fellowships.all()),
            lat=self.latitude,
            lng=self.longitude,
            languages=frozenset(self.languages or ()),
            gender=self.gender or "",
            availability=slots,
            offers=frozenset(self.offers),
            active=self.is_active,
            consented=self.consent_to_contact,
            contactable=bool(self.email),
        )


# --- clients ----------------------------------------------------------------------


class Client(models.Model):
    """A person in treatment whom a keyworker helps towards mutual aid. Minimum necessary:
    the service's own case reference, what to call them, and their preferences."""

    organisation = models.ForeignKey(
        "accounts.Organisation", on_delete=models.PROTECT, related_name="clients"
    )
    team = models.ForeignKey(
        "accounts.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="clients"
    )
    case_reference = models.CharField(
        "Service case reference",
        max_length=40,
        help_text=gettext_lazy("Your service's own reference"),
    )
    preferred_name = EncryptedTextField("Preferred name")
    keyworker = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="caseload",
    )
    # Contact routes, for reminders only, and only with the matching consent.
    contact_email = EncryptedTextField(blank=True, default="")
    contact_phone = EncryptedTextField(blank=True, default="")
    # Where to look for meetings: a town or the first half of a postcode, never an address.
    area_name = EncryptedTextField("Area", blank=True, default="")
    latitude = models.FloatField(
        null=True, blank=True, help_text=gettext_lazy("Rounded to about 1 km")
    )
    longitude = models.FloatField(
        null=True, blank=True, help_text=gettext_lazy("Rounded to about 1 km")
    )
    preferences_note = EncryptedTextField("Preferences and barriers", blank=True, default="")
    pref_fellowships = models.ManyToManyField("directory.Fellowship", blank=True, related_name="+")
    pref_approaches = models.JSONField(default=list, blank=True)
    pref_types = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("Meeting type keys")
    )
    pref_languages = models.JSONField(default=list, blank=True)
    pref_days = models.JSONField(default=list, blank=True, help_text=gettext_lazy("0 = Monday"))
    pref_times = models.JSONField(
        default=list, blank=True, help_text=gettext_lazy("morning, evening ...")
    )
    pref_modes = models.JSONField(default=list, blank=True)
    pref_volunteer_gender = models.CharField(
        "Prefers a volunteer who is", max_length=20, blank=True
    )
    stage = models.CharField(max_length=12, choices=Stage.choices, default=Stage.ASSESS)
    status = models.CharField(
        max_length=8, choices=ClientStatus.choices, default=ClientStatus.ACTIVE
    )
    closed_at = models.DateTimeField(null=True, blank=True)
    # Set when the retention policy anonymised this closed record (casework/lifecycle.py):
    # names, contact details and free text are gone; dates, stages and outcomes stay.
    anonymised_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    # Optimistic concurrency: each edit adds one; an edit of an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["case_reference", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organisation", "case_reference"], name="client_unique_case_reference"
            )
        ]
        indexes = [models.Index(fields=["keyworker", "status", "stage"], name="client_caseload")]

    def __str__(self) -> str:
        return f"Client {self.case_reference}"

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("casework:client", kwargs={"pk": self.pk})

    @property
    def first_name(self) -> str:
        """What a volunteer may be told: the first word of the preferred name."""
        return (self.preferred_name or "").split(" ")[0].strip()

    @property
    def is_active(self) -> bool:
        return self.status == ClientStatus.ACTIVE

    def has_consent(self, scope: str) -> bool:
        return self.consents.filter(scope=scope, withdrawn_at__isnull=True).exists()


class ConsentScope(models.TextChoices):
    VOLUNTEER_INTRODUCTION = (
        "volunteer_introduction",
        gettext_lazy(
            "Share first name and the agreed contact with a volunteer for an introduction"
        ),
    )
    REMINDERS_EMAIL = (
        "reminders_email",
        gettext_lazy("Reminders by email the evening before a meeting"),
    )
    SELF_REPORT = (
        "self_report",
        gettext_lazy("A private link to record meetings and check-ins from a phone"),
    )


class Consent(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="consents")
    scope = models.CharField(max_length=32, choices=ConsentScope.choices)
    given_at = models.DateTimeField(default=timezone.now)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        ordering = ["-given_at"]

    def __str__(self) -> str:
        return f"{self.get_scope_display()} ({'withdrawn' if self.withdrawn_at else 'given'})"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None


class ClientShare(models.Model):
    """A keyworker other than the client's own who may see and work with this client."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="client_shares"
    )
    shared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Client {self.client_id} shared with user {self.user_id}"


class StageChange(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=12, choices=Stage.choices, blank=True)
    to_stage = models.CharField(max_length=12, choices=Stage.choices)
    reason = models.CharField(max_length=200, blank=True)  # a fixed phrase, never free text
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    changed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["changed_at", "pk"]

    def __str__(self) -> str:
        return f"Client {self.client_id}: {self.from_stage or 'new'} -> {self.to_stage}"


# --- stage 1: assess and introduce -------------------------------------------------


class PreviousExperience(models.TextChoices):
    NONE = "none", gettext_lazy("Never been to a mutual-aid meeting")
    HELPFUL = "helpful", gettext_lazy("Has been; found it helpful")
    MIXED = "mixed", gettext_lazy("Has been; mixed feelings")
    UNHELPFUL = "unhelpful", gettext_lazy("Has been; it did not suit them")
    CURRENT = "current", gettext_lazy("Goes to meetings now")


class AssessmentOutcome(models.TextChoices):
    INTERESTED = "interested", gettext_lazy("Interested: go on to choose a meeting")
    NOT_NOW = "not_now", gettext_lazy("Not now: ask again later")
    DECLINED = "declined", gettext_lazy("Declined")


class Assessment(models.Model):
    """Stage 1: the structured conversation about mutual aid."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="assessments")
    held_on = models.DateField(default=timezone.localdate)
    previous_experience = models.CharField(max_length=12, choices=PreviousExperience.choices)
    experience_note = EncryptedTextField("What happened before", blank=True, default="")
    concerns = EncryptedTextField(blank=True, default="")
    preferences = EncryptedTextField("Preferences discussed", blank=True, default="")
    guide_used = models.BooleanField("We used the guide to mutual aid together", default=False)
    outcome = models.CharField(max_length=12, choices=AssessmentOutcome.choices)
    outcome_reason = EncryptedTextField("Reason", blank=True, default="")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-held_on", "-pk"]

    def __str__(self) -> str:
        return f"Conversation on {self.held_on:%d %b %Y}: {self.outcome}"


# --- stage 2: connect ----------------------------------------------------------------


class ChoiceStatus(models.TextChoices):
    CHOSEN = "chosen", gettext_lazy("Chosen")
    SUITS = "suits", gettext_lazy("Suits them")
    NOT_SUITED = "not_suited", gettext_lazy("Did not suit them")


class MeetingChoice(models.Model):
    """A meeting the client and keyworker chose together from the directory."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="meeting_choices")
    meeting = models.ForeignKey("directory.Meeting", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=12, choices=ChoiceStatus.choices, default="chosen")
    chosen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    chosen_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-chosen_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["client", "meeting"], name="choice_unique_meeting")
        ]

    def __str__(self) -> str:
        return f"Client {self.client_id} chose meeting {self.meeting_id}"


class GoalKind(models.TextChoices):
    ATTEND_ONCE = "attend_once", gettext_lazy("Attend this meeting by the date")
    ATTEND_WEEKLY = "attend_weekly", gettext_lazy("Then attend every week")
    OTHER = "other", gettext_lazy("Another mutual-aid goal")


class GoalStatus(models.TextChoices):
    OPEN = "open", gettext_lazy("Open")
    MET = "met", gettext_lazy("Met")
    PARTLY = "partly", gettext_lazy("Partly met")
    NOT_MET = "not_met", gettext_lazy("Not met")
    DROPPED = "dropped", gettext_lazy("No longer a goal")


class Goal(models.Model):
    """A care-plan goal about attending and engaging."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="goals")
    kind = models.CharField(max_length=16, choices=GoalKind.choices)
    meeting = models.ForeignKey(
        "directory.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    description = EncryptedTextField(blank=True, default="")
    due_on = models.DateField("Goal date")
    status = models.CharField(max_length=10, choices=GoalStatus.choices, default="open")
    review_note = EncryptedTextField(blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Optimistic concurrency: each edit adds one; an edit of an older version is refused.
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["due_on", "pk"]

    def __str__(self) -> str:
        where = f": {self.meeting.name}" if self.meeting_id else ""
        return f"{self.get_kind_display()}{where} by {self.due_on:%d %b %Y}"


class IntroductionKind(models.TextChoices):
    VOLUNTEER_CALL = "volunteer_call", gettext_lazy("A volunteer phone call during the session")
    VOLUNTEER_MEETS = (
        "volunteer_meets",
        gettext_lazy("A volunteer meets the client before the meeting"),
    )
    VOLUNTEER_GOES = "volunteer_goes", gettext_lazy("A volunteer goes along with the client")
    KEYWORKER_GOES = "keyworker_goes", gettext_lazy("The keyworker goes along")
    INFORMATION = "information", gettext_lazy("Information only")


# What each kind asks of a volunteer (kinds not listed need no volunteer).
KIND_OFFER = {
    IntroductionKind.VOLUNTEER_CALL: matching.PHONE_CALL,
    IntroductionKind.VOLUNTEER_MEETS: matching.MEET_BEFORE,
    IntroductionKind.VOLUNTEER_GOES: matching.GO_ALONG,
}


class IntroductionStatus(models.TextChoices):
    REQUESTED = "requested", gettext_lazy("Waiting for the volunteer")
    ACCEPTED = "accepted", gettext_lazy("Volunteer accepted")
    DECLINED = "declined", gettext_lazy("Volunteer declined")
    ARRANGED = "arranged", gettext_lazy("Arranged (no volunteer)")
    CANCELLED = "cancelled", gettext_lazy("Cancelled")


class Introduction(models.Model):
    """The warm hand-off to one occurrence of one meeting (stage 2)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="introductions")
    meeting = models.ForeignKey("directory.Meeting", on_delete=models.PROTECT, related_name="+")
    starts_at = models.DateTimeField(help_text=gettext_lazy("The occurrence the client will go to"))
    kind = models.CharField(max_length=16, choices=IntroductionKind.choices)
    volunteer = models.ForeignKey(
        Volunteer,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="introductions",
    )
    # Exactly what the volunteer is told, fixed when the request is made.
    shared_first_name = EncryptedTextField(blank=True, default="")
    agreed_contact = EncryptedTextField(
        "Agreed contact",
        blank=True,
        default="",
        help_text=gettext_lazy(
            "What the volunteer will see, e.g. 'Sam will ring you at 18:15' or "
            "'meet at the front door at 18:40'"
        ),
    )
    status = models.CharField(max_length=10, choices=IntroductionStatus.choices)
    link_nonce = models.CharField(max_length=32, default=new_nonce)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(default=timezone.now)
    responded_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    reminder_client_sent_at = models.DateTimeField(null=True, blank=True)
    reminder_volunteer_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["starts_at", "pk"]
        indexes = [models.Index(fields=["status", "starts_at"], name="introduction_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.meeting.name} on {self.starts_at:%d %b %Y}"

    @property
    def needs_volunteer(self) -> bool:
        return self.kind in KIND_OFFER

    @property
    def is_live(self) -> bool:
        return self.status in (
            IntroductionStatus.REQUESTED,
            IntroductionStatus.ACCEPTED,
            IntroductionStatus.ARRANGED,
        )

    @property
    def local_start(self):
        return self.starts_at.astimezone(self.meeting.zoneinfo)


# --- stage 3: follow up --------------------------------------------------------------


class FollowUpKind(models.TextChoices):
    AFTER_MEETING = "after_meeting", gettext_lazy("After the meeting: what happened?")
    REVISIT = "revisit", gettext_lazy("Ask again about mutual aid")
    GOAL_REVIEW = "goal_review", gettext_lazy("Review a care-plan goal")
    REVIEW = "review", gettext_lazy("Review how it is going")


class Attended(models.TextChoices):
    YES = "yes", gettext_lazy("Yes")
    NO = "no", gettext_lazy("No")
    UNKNOWN = "unknown", gettext_lazy("Not known yet")


class Felt(models.TextChoices):
    GOOD = "good", gettext_lazy("Good")
    OK = "ok", gettext_lazy("OK")
    HARD = "hard", gettext_lazy("Hard")


class NextStep(models.TextChoices):
    KEEP_GOING = "keep_going", gettext_lazy("Keep going to this meeting")
    ANOTHER_MEETING = "another_meeting", gettext_lazy("Try another meeting")
    ANOTHER_FELLOWSHIP = "another_fellowship", gettext_lazy("Try another fellowship or approach")
    NOT_NOW = "not_now", gettext_lazy("Not now: ask again later")
    STOP = "stop", gettext_lazy("Stop: no longer interested")


class FollowUp(models.Model):
    """Something to review at a coming session, and (once done) what was found."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="follow_ups")
    kind = models.CharField(max_length=16, choices=FollowUpKind.choices)
    due_on = models.DateField()
    introduction = models.ForeignKey(
        Introduction, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    goal = models.ForeignKey(
        Goal, on_delete=models.SET_NULL, null=True, blank=True, related_name="follow_ups"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    done_at = models.DateTimeField(null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attended = models.CharField(max_length=8, choices=Attended.choices, blank=True)
    felt = models.CharField("How it felt", max_length=8, choices=Felt.choices, blank=True)
    how_it_felt = EncryptedTextField("How it felt, in their words", blank=True, default="")
    barriers = EncryptedTextField(blank=True, default="")
    next_step = models.CharField(max_length=20, choices=NextStep.choices, blank=True)

    class Meta:
        ordering = ["due_on", "pk"]
        indexes = [models.Index(fields=["done_at", "due_on"], name="follow_up_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} (due {self.due_on:%d %b %Y})"

    @property
    def is_done(self) -> bool:
        return self.done_at is not None


class SelfReportLink(models.Model):
    """A private, expiring, revocable link for the client (no account needed)."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="self_report_links")
    nonce = models.CharField(max_length=32, default=new_nonce)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"Self-report link for client {self.client_id} until {self.expires_at:%d %b %Y}"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


class Attendance(models.Model):
    """A meeting the client went to: self-reported (AA keeps no proof of attendance), or
    told to staff. Never who else was there."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="attendances")
    meeting = models.ForeignKey(
        "directory.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    fellowship = models.ForeignKey(
        "directory.Fellowship", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    attended_on = models.DateField()
    mode = models.CharField(max_length=10, choices=AttendanceMode.choices, default="in_person")
    felt = models.CharField(max_length=8, choices=Felt.choices, blank=True)
    source = models.CharField(max_length=6, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via_link = models.ForeignKey(
        SelfReportLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-attended_on", "-pk"]

    def __str__(self) -> str:
        return f"Attendance on {self.attended_on:%d %b %Y} ({self.source})"

    @property
    def what(self) -> str:
        if self.meeting_id:
            return self.meeting.name
        if self.fellowship_id:
            return f"A {self.fellowship.code} meeting"
        return "A meeting"


# The engagement check-in (fama-and-evidence.md, "Measures worth recording"): counts and
# yes/no answers, stored together as encrypted JSON.
CHECK_IN_QUESTIONS = [
    ("shared", "Spoke or shared in a meeting"),
    ("sponsor", "Has a sponsor or mentor"),
    ("contact_between", "Contact with members between meetings"),
    ("tools", "Read literature or used tools (e.g. SMART cost-benefit analysis, urge log)"),
    ("service", "Did service or helped others"),
    ("programme_work", "Step or programme work"),
    ("member", "Considers themselves a member"),
    ("mandated", "Attendance was mandated (court, probation, employer)"),
    ("felt_safe", "Felt safe at meetings"),
]
CHECK_IN_PERIODS = [(7, "Last 7 days"), (30, "Last 30 days"), (90, "Last 90 days")]


class CheckIn(models.Model):
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="check_ins")
    taken_on = models.DateField(default=timezone.localdate)
    period_days = models.PositiveSmallIntegerField(choices=CHECK_IN_PERIODS, default=30)
    answers_json = EncryptedTextField(default="{}")
    source = models.CharField(max_length=6, choices=Source.choices)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    via_link = models.ForeignKey(
        SelfReportLink, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-taken_on", "-pk"]

    def __str__(self) -> str:
        return f"Check-in on {self.taken_on:%d %b %Y} ({self.source})"

    @property
    def answers(self) -> dict:
        return json.loads(self.answers_json or "{}")

    @answers.setter
    def answers(self, value: dict) -> None:
        self.answers_json = json.dumps(value, sort_keys=True)

    @property
    def meetings_total(self) -> int:
        a = self.answers
        return int(a.get("meetings_in_person") or 0) + int(a.get("meetings_online") or 0)

    @property
    def participation(self) -> int:
        """How many of the active-participation answers are yes (Weiss: participation,
        not attendance, predicts outcomes)."""
        a = self.answers
        keys = ("shared", "sponsor", "contact_between", "tools", "service", "programme_work")
        return sum(1 for k in keys if a.get(k))


BARC10_ITEMS = [
    "There are more important things to me in life than using substances",
    "In general I am happy with my life",
    "I have enough energy to complete the tasks I set myself",
    "I am proud of the community I live in and feel part of it",
    "I get lots of support from friends",
    "I regard my life as challenging and fulfilling without the need for using drugs or alcohol",
    "My living space has helped to drive my recovery journey",
    "I take full responsibility for my actions",
    "I am happy dealing with a range of professional people",
    "I am making good progress on my recovery journey",
]
BARC10_SCALE = [
    (1, "Strongly disagree"),
    (2, "Disagree"),
    (3, "Somewhat disagree"),
    (4, "Somewhat agree"),
    (5, "Agree"),
    (6, "Strongly agree"),
]
BARC10_REMISSION_THRESHOLD = 47


class Barc10(models.Model):
    """Brief Assessment of Recovery Capital: ten items, 1-6 each, total 10-60."""

    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="barc10s")
    taken_on = models.DateField(default=timezone.localdate)
    items_json = EncryptedTextField(default="[]")
    total = models.PositiveSmallIntegerField()
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.STAFF)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-taken_on", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(total__gte=10, total__lte=60), name="barc10_total_10_60"
            )
        ]

    def __str__(self) -> str:
        return f"BARC-10 on {self.taken_on:%d %b %Y}: {self.total}"

    @property
    def items(self) -> list[int]:
        return json.loads(self.items_json or "[]")

    @property
    def at_or_above_threshold(self) -> bool:
        return self.total >= BARC10_REMISSION_THRESHOLD
