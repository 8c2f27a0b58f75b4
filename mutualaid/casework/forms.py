"""Plain server-rendered forms: every field labelled, every error in words."""

from __future__ import annotations

from django import forms
from django.utils import timezone
from django.utils.translation import get_language, gettext, gettext_lazy

from mutualaid.directory.models import DAY_LABELS, Approach, Fellowship, Meeting
from mutualaid.lib import schedule, vocabulary

from . import scheduling
from .matching import Slot
from .models import (
    BARC10_ITEMS,
    BARC10_SCALE,
    CHECK_IN_PERIODS,
    CHECK_IN_QUESTIONS,
    AssessmentOutcome,
    AttendanceMode,
    Attended,
    ConsentScope,
    Felt,
    GoalKind,
    GoalStatus,
    IntroductionKind,
    NextStep,
    PreviousExperience,
    Stage,
)


def date_input():
    """A browser date picker. Its value must be ISO (YYYY-MM-DD) whatever the language:
    with the en-GB default format (28/11/2026) browsers show it empty and send nothing."""
    return forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


# Plain-language times of day, as local start-time windows (as on the public search).
TIME_OF_DAY = {
    "morning": ("05:00", "12:00", gettext_lazy("Morning")),
    "afternoon": ("12:00", "17:00", gettext_lazy("Afternoon")),
    "evening": ("17:00", "21:00", gettext_lazy("Evening")),
    "night": ("21:00", "05:00", gettext_lazy("Night")),
}
PREFERENCE_TYPES = [
    "women",
    "men",
    "lgbtq",
    "young_people",
    "newcomer",
    "open",
    "wheelchair",
    "secular",
    "sign_language",
]
VOLUNTEER_GENDER_CHOICES = [
    ("", gettext_lazy("No preference")),
    ("woman", gettext_lazy("A woman")),
    ("man", gettext_lazy("A man")),
    ("non-binary", gettext_lazy("A non-binary person")),
]
DAY_CHOICES = [(str(i), name) for i, name in enumerate(DAY_LABELS)]
MODE_CHOICES = [("in_person", gettext_lazy("In person")), ("online", gettext_lazy("Online"))]
RADIUS_CHOICES = [("5", "5 km"), ("10", "10 km"), ("25", "25 km"), ("50", "50 km")]


def type_choices():
    known = vocabulary.meeting_types()
    language = get_language()
    return [(key, known[key].label_for(language)) for key in PREFERENCE_TYPES if key in known]


def fellowship_field(**kwargs):
    return forms.ModelMultipleChoiceField(
        queryset=Fellowship.objects.order_by("name"),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        **kwargs,
    )


def parse_languages(text: str) -> list[str]:
    """'English, Polish' or 'en pl' -> ['en', 'pl'] (ValueError names the unknown one)."""
    codes = []
    for part in (text or "").replace(";", ",").replace(" ", ",").split(","):
        if part.strip():
            codes.append(vocabulary.resolve_language(part).code)
    return sorted(set(codes))


def languages_text(codes) -> str:
    known = vocabulary.languages()
    return ", ".join(known[c].name if c in known else c for c in codes or [])


def resolve_area(text: str):
    """A town, city or postcode -> (lat, lng); ValueError with the places module's message."""
    from mutualaid.directory.places import resolve_place

    place = resolve_place(text)
    return place.lat, place.lng


class ClientForm(forms.Form):
    case_reference = forms.CharField(
        label=gettext_lazy("Service case reference"),
        max_length=40,
        help_text=gettext_lazy("Your service's own reference"),
    )
    preferred_name = forms.CharField(label=gettext_lazy("Preferred name"), max_length=100)
    keyworker = forms.ModelChoiceField(
        queryset=None, required=False, label=gettext_lazy("Keyworker")
    )
    area_name = forms.CharField(
        label=gettext_lazy("Area to look for meetings"),
        max_length=100,
        required=False,
        help_text=gettext_lazy(
            "A town or the first half of a postcode (e.g. Brighton or BN1), never an address"
        ),
    )
    preferences_note = forms.CharField(
        label=gettext_lazy("Preferences and barriers, in their words"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
    )
    pref_fellowships = fellowship_field(label=gettext_lazy("Fellowships they would consider"))
    pref_approaches = forms.MultipleChoiceField(
        label=gettext_lazy("Approach"),
        choices=Approach.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    pref_types = forms.MultipleChoiceField(
        label=gettext_lazy("Kinds of meeting"), choices=type_choices, widget=forms.CheckboxSelectMultiple,
        required=False,
    )  # fmt: skip
    pref_languages = forms.CharField(
        label=gettext_lazy("Languages"),
        required=False,
        help_text=gettext_lazy("e.g. English, Polish"),
        max_length=200,
    )
    pref_days = forms.MultipleChoiceField(
        label=gettext_lazy("Days that suit"), choices=DAY_CHOICES, widget=forms.CheckboxSelectMultiple,
        required=False,
    )  # fmt: skip
    pref_times = forms.MultipleChoiceField(
        label=gettext_lazy("Times that suit"),
        choices=[(k, v[2]) for k, v in TIME_OF_DAY.items()],
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    pref_modes = forms.MultipleChoiceField(
        label=gettext_lazy("In person or online"), choices=MODE_CHOICES, widget=forms.CheckboxSelectMultiple,
        required=False,
    )  # fmt: skip
    pref_volunteer_gender = forms.ChoiceField(
        label=gettext_lazy("Would prefer a volunteer who is"),
        choices=VOLUNTEER_GENDER_CHOICES,
        required=False,
    )
    contact_email = forms.EmailField(
        label=gettext_lazy("Email for reminders"),
        required=False,
        help_text=gettext_lazy("Used only with their consent to reminders by email"),
    )
    contact_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    # The record's version when the form was made: saving over a newer one is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)

    def __init__(self, *args, keyworkers=None, **kwargs):
        super().__init__(*args, **kwargs)
        if keyworkers is None:
            del self.fields["keyworker"]
        else:
            self.fields["keyworker"].queryset = keyworkers
            self.fields["keyworker"].label_from_instance = lambda u: (
                u.get_full_name() or u.get_username()
            )

    def clean_pref_languages(self):
        try:
            return parse_languages(self.cleaned_data["pref_languages"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_pref_days(self):
        return [int(d) for d in self.cleaned_data["pref_days"]]

    def clean(self):
        data = super().clean()
        area = (data.get("area_name") or "").strip()
        data["latitude"] = data["longitude"] = None
        if area:
            try:
                data["latitude"], data["longitude"] = resolve_area(area)
            except ValueError as exc:
                self.add_error("area_name", str(exc))
        return data

    def service_fields(self) -> dict:
        """cleaned_data as keyword arguments for services.create_client/update_client."""
        data = dict(self.cleaned_data)
        fellowships = list(data.pop("pref_fellowships", []))
        version = data.pop("version", None)
        if version is not None:
            data["expected_version"] = version
        return {"fellowships": fellowships, **data}

    @staticmethod
    def initial_for(client) -> dict:
        return {
            "case_reference": client.case_reference,
            "preferred_name": client.preferred_name,
            "keyworker": client.keyworker_id,
            "area_name": client.area_name,
            "preferences_note": client.preferences_note,
            "pref_fellowships": list(client.pref_fellowships.all()),
            "pref_approaches": client.pref_approaches,
            "pref_types": client.pref_types,
            "pref_languages": languages_text(client.pref_languages),
            "pref_days": [str(d) for d in client.pref_days],
            "pref_times": client.pref_times,
            "pref_modes": client.pref_modes,
            "pref_volunteer_gender": client.pref_volunteer_gender,
            "contact_email": client.contact_email,
            "contact_phone": client.contact_phone,
            "version": client.version,
        }


class ConsentForm(forms.Form):
    scope = forms.ChoiceField(choices=ConsentScope.choices, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[("give", "Given"), ("withdraw", "Withdrawn")])


class AssessmentForm(forms.Form):
    held_on = forms.DateField(
        label=gettext_lazy("Date of the conversation"),
        widget=date_input(),
        initial=timezone.localdate,
    )
    previous_experience = forms.ChoiceField(
        label=gettext_lazy("Previous experience of mutual aid"),
        choices=PreviousExperience.choices,
        widget=forms.RadioSelect,
    )
    experience_note = forms.CharField(
        label=gettext_lazy("What happened before (optional)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    concerns = forms.CharField(
        label=gettext_lazy("Concerns they raised"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    preferences = forms.CharField(
        label=gettext_lazy(
            "Preferences discussed (spiritual or secular, women-only, language, access, online)"
        ),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    guide_used = forms.BooleanField(
        label=gettext_lazy("We used the guide to mutual aid together"), required=False
    )
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=AssessmentOutcome.choices, widget=forms.RadioSelect
    )
    outcome_reason = forms.CharField(
        label=gettext_lazy("Reason (for not now or declined)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def clean_held_on(self):
        held_on = self.cleaned_data["held_on"]
        if held_on > timezone.localdate():
            raise forms.ValidationError(gettext("The conversation cannot be in the future."))
        return held_on


class MeetingSearchForm(forms.Form):
    """Search the directory (the one search selector) for meetings that suit the client."""

    area = forms.CharField(label=gettext_lazy("Near"), max_length=100, required=False)
    radius = forms.ChoiceField(label=gettext_lazy("Within"), choices=RADIUS_CHOICES, initial="10")
    fellowship = fellowship_field(label=gettext_lazy("Fellowships"))
    day = forms.MultipleChoiceField(
        label=gettext_lazy("Days"),
        choices=DAY_CHOICES,
        widget=forms.CheckboxSelectMultiple,
        required=False,
    )
    when = forms.ChoiceField(
        label=gettext_lazy("Time of day"),
        choices=[("", "Any time")] + [(k, v[2]) for k, v in TIME_OF_DAY.items()],
        required=False,
    )
    type = forms.MultipleChoiceField(
        label=gettext_lazy("Kinds of meeting"), choices=type_choices, widget=forms.CheckboxSelectMultiple,
        required=False,
    )  # fmt: skip
    mode = forms.ChoiceField(
        label=gettext_lazy("In person or online"),
        choices=[("", "Either")] + MODE_CHOICES,
        required=False,
    )
    language = forms.CharField(label=gettext_lazy("Language"), max_length=40, required=False)

    @staticmethod
    def initial_for(client) -> dict:
        when = client.pref_times[0] if len(client.pref_times) == 1 else ""
        mode = client.pref_modes[0] if len(client.pref_modes) == 1 else ""
        return {
            "area": client.area_name,
            "radius": "10",
            "fellowship": list(client.pref_fellowships.all()),
            "day": [str(d) for d in client.pref_days],
            "when": when,
            "type": [t for t in client.pref_types if t in dict(type_choices())],
            "mode": mode,
            "language": client.pref_languages[0] if len(client.pref_languages) == 1 else "",
        }

    def build_kwargs(self, *, client) -> dict:
        """Arguments for directory.query_params.build_query."""
        data = self.cleaned_data
        when = data.get("when") or ""
        start_after, start_before = TIME_OF_DAY[when][:2] if when in TIME_OF_DAY else (None, None)
        area = (data.get("area") or "").strip()
        kwargs = {
            "radius_km": data.get("radius") or "10",
            "days": [schedule.DAY_NAMES[int(d)] for d in data.get("day") or []],
            "start_after": start_after,
            "start_before": start_before,
            "types": data.get("type") or [],
            "fellowships": [f.code for f in data.get("fellowship") or []],
            "modes": [data["mode"]] if data.get("mode") else [],
            "languages": [data["language"]] if data.get("language") else [],
            "organisation_ids": [client.organisation_id],
            "sort": None,
            "limit": 30,
        }
        if area:
            kwargs["place"] = area
        elif client.latitude is not None:
            kwargs["near"] = f"{client.latitude},{client.longitude}"
        return kwargs


class GoalForm(forms.Form):
    kind = forms.ChoiceField(
        label=gettext_lazy("Goal"), choices=GoalKind.choices, widget=forms.RadioSelect
    )
    meeting = forms.ModelChoiceField(queryset=Meeting.objects.none(), required=False)
    due_on = forms.DateField(label=gettext_lazy("Goal date"), widget=date_input())
    description = forms.CharField(
        label=gettext_lazy("Details (required for another goal)"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )

    def __init__(self, *args, meetings=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = (
            meetings if meetings is not None else Meeting.objects.none()
        )
        self.fields["meeting"].label = "Meeting"
        self.fields["meeting"].empty_label = "Choose one of the meetings chosen together"

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        try:
            scheduling.check_goal_date(due_on, timezone.localdate())
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None
        return due_on

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind in (GoalKind.ATTEND_ONCE, GoalKind.ATTEND_WEEKLY) and not data.get("meeting"):
            self.add_error("meeting", gettext("Choose the meeting this goal is about."))
        if kind == GoalKind.OTHER and not (data.get("description") or "").strip():
            self.add_error("description", gettext("Say what the goal is."))
        return data


class GoalReviewForm(forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("Was the goal met?"),
        choices=[c for c in GoalStatus.choices if c[0] != GoalStatus.OPEN],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    # The goal's version when the form was made: a second review of it is refused.
    version = forms.IntegerField(widget=forms.HiddenInput, required=False, min_value=0)


class IntroductionForm(forms.Form):
    starts_at = forms.ChoiceField(label=gettext_lazy("Which date"))
    kind = forms.ChoiceField(
        label=gettext_lazy("How will the introduction happen?"),
        choices=IntroductionKind.choices,
        widget=forms.RadioSelect,
    )
    volunteer = forms.ChoiceField(label=gettext_lazy("Volunteer"), required=False)
    agreed_contact = forms.CharField(
        label=gettext_lazy("Agreed contact (the volunteer sees this)"),
        help_text=gettext_lazy(
            "e.g. 'meet at the front door at 18:40' or 'Sam will ring you at 11:15'. "
            "No surname, address or health details."
        ),
        max_length=300,
        required=False,
    )

    def __init__(self, *args, starts=(), volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.starts = {s.isoformat(): s for s in starts}
        self.fields["starts_at"].choices = [
            (s.isoformat(), f"{s:%A %d %B %Y, %H:%M}") for s in starts
        ]
        self.fields["volunteer"].choices = [("", "No volunteer")] + [
            (str(m.volunteer.id), f"{m.volunteer.name} (score {m.score:.0f})") for m in volunteers
        ]

    def clean_starts_at(self):
        value = self.cleaned_data["starts_at"]
        if value not in self.starts:
            raise forms.ValidationError(gettext("Choose one of the dates listed."))
        return self.starts[value]

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        from .models import KIND_OFFER

        if kind in KIND_OFFER:
            if not data.get("volunteer"):
                self.add_error(
                    "volunteer", gettext("Choose a volunteer for this kind of introduction.")
                )
            if not (data.get("agreed_contact") or "").strip():
                self.add_error(
                    "agreed_contact",
                    gettext("Say how they will meet or speak, e.g. 'at the door at 18:40'."),
                )
        return data


class FollowUpForm(forms.Form):
    attended = forms.ChoiceField(
        label=gettext_lazy("Did they go?"),
        choices=Attended.choices,
        widget=forms.RadioSelect,
        required=False,
    )
    felt = forms.ChoiceField(
        label=gettext_lazy("How did it feel?"),
        choices=[("", "Not said")] + list(Felt.choices),
        widget=forms.RadioSelect,
        required=False,
    )
    how_it_felt = forms.CharField(
        label=gettext_lazy("How it felt, in their words"), widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )  # fmt: skip
    barriers = forms.CharField(
        label=gettext_lazy("Barriers or concerns"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    next_step = forms.ChoiceField(
        label=gettext_lazy("What next?"),
        choices=[("", "Decide later")] + list(NextStep.choices),
        widget=forms.RadioSelect,
        required=False,
    )


class CheckInForm(forms.Form):
    period_days = forms.TypedChoiceField(
        label=gettext_lazy("Period covered"), choices=CHECK_IN_PERIODS, coerce=int, initial=30
    )
    fellowships = fellowship_field(label=gettext_lazy("Fellowship(s)"))
    meetings_in_person = forms.IntegerField(
        label=gettext_lazy("Meetings in person"), min_value=0, max_value=200, initial=0
    )
    meetings_online = forms.IntegerField(
        label=gettext_lazy("Meetings online"), min_value=0, max_value=200, initial=0
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key, label in CHECK_IN_QUESTIONS:
            self.fields[key] = forms.BooleanField(label=label, required=False)

    def answers(self) -> dict:
        data = dict(self.cleaned_data)
        data.pop("period_days", None)
        data["fellowships"] = [f.code for f in data.get("fellowships") or []]
        return data


class SelfCheckInForm(forms.Form):
    """The client's own weekly check-in: numbers and yes/no only, nobody named."""

    meetings_in_person = forms.IntegerField(
        label=gettext_lazy("How many meetings did you go to in person this week?"), min_value=0, max_value=50,
        initial=0,
    )  # fmt: skip
    meetings_online = forms.IntegerField(
        label=gettext_lazy("How many online?"), min_value=0, max_value=50, initial=0
    )
    shared = forms.BooleanField(
        label=gettext_lazy("I spoke or shared in a meeting"), required=False
    )
    contact_between = forms.BooleanField(
        label=gettext_lazy("I was in touch with someone from a meeting between meetings"),
        required=False,
    )
    sponsor = forms.BooleanField(label=gettext_lazy("I have a sponsor or mentor"), required=False)
    tools = forms.BooleanField(
        label=gettext_lazy("I read the literature or used a tool"), required=False
    )
    felt_safe = forms.BooleanField(label=gettext_lazy("I felt safe at meetings"), required=False)

    def answers(self) -> dict:
        return dict(self.cleaned_data)


class Barc10Form(forms.Form):
    taken_on = forms.DateField(
        label=gettext_lazy("Date"),
        widget=date_input(),
        initial=timezone.localdate,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n, text in enumerate(BARC10_ITEMS, start=1):
            self.fields[f"item_{n}"] = forms.TypedChoiceField(
                label=f"{n}. {text}",
                choices=BARC10_SCALE,
                coerce=int,
                widget=forms.RadioSelect,
                error_messages={"required": "Choose an answer for this statement."},
            )

    def items(self) -> list[int]:
        return [self.cleaned_data[f"item_{n}"] for n in range(1, len(BARC10_ITEMS) + 1)]

    def item_fields(self):
        return [self[f"item_{n}"] for n in range(1, len(BARC10_ITEMS) + 1)]

    def clean_taken_on(self):
        day = self.cleaned_data["taken_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(gettext("The date cannot be in the future."))
        return day


class AttendanceForm(forms.Form):
    """A meeting the client went to: one of their chosen meetings, or another of a fellowship."""

    meeting = forms.ChoiceField(label=gettext_lazy("Which meeting"), required=False)
    fellowship = forms.ModelChoiceField(
        label=gettext_lazy("Or another meeting of"),
        queryset=Fellowship.objects.order_by("name"),
        required=False,
        empty_label=gettext_lazy("(not another meeting)"),
    )
    attended_on = forms.DateField(label=gettext_lazy("Date"), widget=date_input())
    mode = forms.ChoiceField(
        label=gettext_lazy("In person or online"), choices=AttendanceMode.choices, widget=forms.RadioSelect,
        initial="in_person",
    )  # fmt: skip
    felt = forms.ChoiceField(
        label=gettext_lazy("How did it feel?"),
        choices=[("", "Rather not say")] + list(Felt.choices),
        widget=forms.RadioSelect,
        required=False,
    )

    def __init__(self, *args, meetings=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.meetings = {str(m.pk): m for m in meetings}
        self.fields["meeting"].choices = [("", "Another meeting")] + [
            (str(m.pk), f"{m.name} ({m.fellowship.code}, {m.schedule_text})") for m in meetings
        ]

    def clean_meeting(self):
        value = self.cleaned_data.get("meeting") or ""
        if value and value not in self.meetings:
            raise forms.ValidationError(gettext("Choose one of the meetings listed."))
        return self.meetings.get(value)

    def clean_attended_on(self):
        day = self.cleaned_data["attended_on"]
        if day > timezone.localdate():
            raise forms.ValidationError(gettext("The date cannot be in the future."))
        return day

    def clean(self):
        data = super().clean()
        if not data.get("meeting") and not data.get("fellowship") and not self.errors:
            self.add_error(
                "meeting", gettext("Choose the meeting, or the fellowship of another meeting.")
            )
        return data


class VolunteerForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("First name or alias"), max_length=60)
    fellowships = fellowship_field(label=gettext_lazy("Fellowships"))
    area_name = forms.CharField(
        label=gettext_lazy("Area"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("A town or the first half of a postcode"),
    )
    languages = forms.CharField(
        label=gettext_lazy("Languages"), max_length=200, required=False, initial="English"
    )
    gender = forms.CharField(
        label=gettext_lazy("Gender (optional, in their own words)"), max_length=60, required=False
    )
    availability = forms.CharField(
        label=gettext_lazy("Usually free"),
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        help_text=gettext_lazy("One a line, e.g. 'Monday 18:00-21:30'"),
    )
    offers_phone_call = forms.BooleanField(label=gettext_lazy("A phone call"), required=False)
    offers_meet_before = forms.BooleanField(
        label=gettext_lazy("Meet before the meeting"), required=False
    )
    offers_go_along = forms.BooleanField(label=gettext_lazy("Go along together"), required=False)
    offers_transport = forms.BooleanField(label=gettext_lazy("Transport"), required=False)
    email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    phone = forms.CharField(label=gettext_lazy("Phone"), max_length=40, required=False)
    consent_to_contact = forms.BooleanField(
        label=gettext_lazy("They consent to be contacted about introductions"), required=False
    )

    def clean_languages(self):
        try:
            return parse_languages(self.cleaned_data["languages"])
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean_availability(self):
        try:
            return [s.as_dict() for s in parse_availability_text(self.cleaned_data["availability"])]
        except ValueError as exc:
            raise forms.ValidationError(str(exc)) from None

    def clean(self):
        data = super().clean()
        area = (data.get("area_name") or "").strip()
        data["latitude"] = data["longitude"] = None
        if area:
            try:
                data["latitude"], data["longitude"] = resolve_area(area)
            except ValueError as exc:
                self.add_error("area_name", str(exc))
        if data.get("consent_to_contact") and not data.get("email"):
            self.add_error(
                "email", gettext("Give an email address: introductions are asked for by email.")
            )
        return data

    def service_fields(self) -> dict:
        data = dict(self.cleaned_data)
        return {"fellowships": list(data.pop("fellowships", [])), **data}

    @staticmethod
    def initial_for(volunteer) -> dict:
        return {
            "name": volunteer.name,
            "fellowships": list(volunteer.fellowships.all()),
            "area_name": volunteer.area_name,
            "languages": languages_text(volunteer.languages),
            "gender": volunteer.gender,
            "availability": availability_text(volunteer.availability),
            "offers_phone_call": volunteer.offers_phone_call,
            "offers_meet_before": volunteer.offers_meet_before,
            "offers_go_along": volunteer.offers_go_along,
            "offers_transport": volunteer.offers_transport,
            "email": volunteer.email,
            "phone": volunteer.phone,
            "consent_to_contact": volunteer.consent_to_contact,
        }


def parse_availability_text(text: str) -> list[Slot]:
    """'Monday 18:00-21:30' lines -> slots; ValueError says which line and why."""
    slots = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            day_text, times = line.split(None, 1)
            start_text, end_text = [p.strip() for p in times.replace("–", "-").split("-", 1)]
            slot = Slot(
                schedule.parse_day(day_text),
                schedule.parse_hhmm(start_text),
                schedule.parse_hhmm(end_text),
            )
        except ValueError as exc:
            raise ValueError(
                f"line {number} ({line!r}): write a day and two times, e.g. Monday 18:00-21:30"
                + (f" ({exc})" if "unknown day" in str(exc) or "time" in str(exc) else "")
            ) from None
        if slot.start == slot.end:
            raise ValueError(f"line {number} ({line!r}): the two times are the same")
        slots.append(slot)
    return slots


def availability_text(data) -> str:
    lines = []
    for item in data or []:
        try:
            lines.append(
                f"{schedule.DAY_NAMES[int(item['weekday'])]} {item['start']}-{item['end']}"
            )
        except (KeyError, ValueError, IndexError, TypeError):
            continue
    return "\n".join(lines)


class ShareForm(forms.Form):
    user = forms.ModelChoiceField(queryset=None, label=gettext_lazy("Share with"))

    def __init__(self, *args, users=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = users
        self.fields["user"].label_from_instance = lambda u: u.get_full_name() or u.get_username()


class SelfReportLinkForm(forms.Form):
    days = forms.IntegerField(
        label=gettext_lazy("Link works for (days)"), min_value=1, max_value=180, initial=30
    )


class StageForm(forms.Form):
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), choices=Stage.choices)
