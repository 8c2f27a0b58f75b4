"""Casework web pages under /casework/ (staff: signed in, second factor, client-data role),
and the three link pages for people without an account (volunteer, client).

Every client is looked up through selectors.clients_visible_to: a client outside the
viewer's scope is a 404, and the attempt is audited as "denied".
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext
from django.views.decorators.http import require_POST

from mutualaid.accounts.decorators import client_data_view, forbidden
from mutualaid.audit.services import record_event
from mutualaid.directory.models import Meeting
from mutualaid.directory.models import Status as MeetingStatus
from mutualaid.directory.query_params import build_query
from mutualaid.directory.search import SearchError, search

from . import forms, lifecycle, matching, scheduling, selectors, services
from .models import (
    KIND_OFFER,
    Client,
    ClientShare,
    ConsentScope,
    FollowUp,
    FollowUpKind,
    Goal,
    Introduction,
    MeetingChoice,
    SelfReportLink,
    Volunteer,
)

# --- helpers ----------------------------------------------------------------------------


def _deny(request, target, reason: str) -> None:
    record_event(
        actor=request.user,
        action="denied",
        target=target,
        request=request,
        detail={"path": request.path[:200], "method": request.method, "reason": reason},
    )


def _client(request, pk: int, *, edit: bool = False) -> Client:
    """A client the user may see (404 otherwise, audited); with edit, may also change."""
    client = selectors.clients_visible_to(request.user).filter(pk=pk).first()
    if client is None:
        _deny(request, ("casework.client", pk), "not in scope")
        raise Http404(gettext("There is no such client in your caseload."))
    if edit and not selectors.can_edit_client(request.user, client):
        _deny(request, client, "read only")
        raise PermissionDenied(gettext("Your access to this client is read only."))
    return client


def _apply_errors(form, exc: ValidationError) -> None:
    if hasattr(exc, "error_dict"):
        for field, errors in exc.error_dict.items():
            target = field if field in form.fields else None
            for error in errors:
                form.add_error(target, error)
    else:
        for message in exc.messages:
            form.add_error(None, message)


def _closed_guard(request, client):
    if not client.is_active:
        messages.error(request, gettext("This client's record is closed. Reopen it to add to it."))
        return redirect(client)
    return None


def _permission_denied(request, exc):
    return forbidden(request, str(exc) or "You cannot do that.")


def _chosen_meetings(client: Client):
    ids = MeetingChoice.objects.filter(client=client).values("meeting_id")
    return Meeting.objects.filter(pk__in=ids).select_related("fellowship").order_by("name")


# --- home and lists ---------------------------------------------------------------------


@client_data_view
def home(request):
    home = selectors.home_for(request.user)
    shown = sum(len(clients) for _, _, clients in home.by_stage)
    record_event(
        actor=request.user,
        action="read",
        request=request,
        detail={"view": "home", "clients": shown},
    )
    return render(
        request,
        "casework/home.html",
        {"home": home, "can_create": selectors.can_create_clients(request.user)},
    )


@client_data_view
def follow_ups(request):
    items = selectors.follow_ups_due(request.user, within_days=14)
    keyworkers = sorted(
        {f.client.keyworker for f in items if f.client.keyworker_id},
        key=lambda u: u.get_username(),
    )
    chosen = request.GET.get("keyworker", "")
    if chosen:
        items = [
            f for f in items if f.client.keyworker and f.client.keyworker.get_username() == chosen
        ]
    today = timezone.localdate()
    record_event(
        actor=request.user,
        action="read",
        request=request,
        detail={"view": "follow_ups", "items": len(items)},
    )
    return render(
        request,
        "casework/follow_ups.html",
        {"items": items, "today": today, "keyworkers": keyworkers, "chosen": chosen},
    )


# --- clients ----------------------------------------------------------------------------


@client_data_view
def client_new(request):
    if not selectors.can_create_clients(request.user):
        _deny(request, None, "cannot create clients")
        return forbidden(request, "Your role cannot add clients.")
    from mutualaid.accounts.roles import membership_of

    membership = membership_of(request.user)
    probe = Client(organisation_id=membership.organisation_id)
    keyworkers = selectors.keyworkers_for(probe)
    form = forms.ClientForm(
        request.POST or None, keyworkers=keyworkers, initial={"keyworker": request.user.pk}
    )
    if request.method == "POST" and form.is_valid():
        try:
            client = services.create_client(
                actor=request.user, request=request, **form.service_fields()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, gettext("Client added. Start with stage 1: the conversation.")
            )
            return redirect(client)
    return render(request, "casework/client_form.html", {"form": form, "client": None})


@client_data_view
def client_detail(request, pk):
    client = _client(request, pk)
    record_event(actor=request.user, action="read", target=client, request=request)
    now = timezone.now()
    introductions = list(
        client.introductions.select_related("meeting__fellowship", "volunteer").order_by(
            "-starts_at"
        )
    )
    context = {
        "client": client,
        "can_edit": selectors.can_edit_client(request.user, client),
        "can_manage": lifecycle.can_manage_lifecycle(request.user, client),
        "timeline": selectors.timeline(client),
        "consent_rows": [
            (scope, label, client.consents.filter(scope=scope, withdrawn_at__isnull=True).first())
            for scope, label in ConsentScope.choices
        ],
        "choices": client.meeting_choices.select_related("meeting__fellowship"),
        "goals": client.goals.select_related("meeting"),
        "introductions": introductions,
        "open_follow_ups": client.follow_ups.filter(done_at__isnull=True).select_related(
            "introduction__meeting", "goal"
        ),
        "removed_meetings": selectors.removed_meetings(client),
        "last_barc": selectors.last_barc(client),
        "barc_status": scheduling.barc_status(
            getattr(selectors.last_barc(client), "taken_on", None), timezone.localdate()
        ),
        "links": client.self_report_links.filter(revoked_at__isnull=True, expires_at__gt=now),
        "shares": client.shares.filter(revoked_at__isnull=True).select_related("user"),
        "now": now,
        "stage_form": forms.StageForm(initial={"stage": client.stage}),
        "preferences": _preferences_text(client),
        "assessments": client.assessments.select_related("recorded_by")[:3],
        "notes_follow_ups": client.follow_ups.filter(done_at__isnull=False)
        .select_related("done_by")
        .order_by("-done_at")[:5],
    }
    return render(request, "casework/client_detail.html", context)


def _preferences_text(client: Client) -> list[tuple[str, str]]:
    """The structured preferences in words, for the client's page."""
    from mutualaid.directory.models import DAY_LABELS, Approach

    types = dict(forms.type_choices())
    times = {k: v[2] for k, v in forms.TIME_OF_DAY.items()}
    modes = dict(forms.MODE_CHOICES)
    rows = [
        (gettext("Fellowships"), ", ".join(f.display_name for f in client.pref_fellowships.all())),
        (
            gettext("Approach"),
            ", ".join(str(dict(Approach.choices).get(a, a)) for a in client.pref_approaches),
        ),
        (gettext("Kinds of meeting"), ", ".join(types.get(t, t) for t in client.pref_types)),
        (gettext("Languages"), forms.languages_text(client.pref_languages)),
        (
            gettext("Days"),
            ", ".join(str(DAY_LABELS[d]) for d in client.pref_days if 0 <= d <= 6),
        ),
        (gettext("Times"), ", ".join(str(times.get(t, t)) for t in client.pref_times)),
        (
            gettext("In person or online"),
            ", ".join(str(modes.get(m, m.replace("_", " "))) for m in client.pref_modes),
        ),
        (
            gettext("Volunteer"),
            str(dict(forms.VOLUNTEER_GENDER_CHOICES).get(client.pref_volunteer_gender, "")),
        ),
        (gettext("Area"), client.area_name),
    ]
    return [(label, value) for label, value in rows if value]


@client_data_view
def client_edit(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    form = forms.ClientForm(
        request.POST or None,
        keyworkers=selectors.keyworkers_for(client),
        initial=forms.ClientForm.initial_for(client),
    )
    if request.method == "POST" and form.is_valid():
        try:
            changed = services.update_client(
                actor=request.user, client=client, request=request, **form.service_fields()
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Saved." if changed else "Nothing changed.")
            if not selectors.clients_visible_to(request.user).filter(pk=client.pk).exists():
                return redirect("casework:home")  # handed over to someone else
            return redirect(client)
    return render(request, "casework/client_form.html", {"form": form, "client": client})


@client_data_view
@require_POST
def client_consent(request, pk):
    client = _client(request, pk, edit=True)
    form = forms.ConsentForm(request.POST)
    if not form.is_valid():
        messages.error(request, gettext("Choose a consent to record."))
        return redirect(client)
    scope, action = form.cleaned_data["scope"], form.cleaned_data["action"]
    try:
        if action == "give":
            services.record_consent(actor=request.user, client=client, scope=scope, request=request)
            messages.success(request, gettext("Consent recorded."))
        else:
            services.withdraw_consent(
                actor=request.user, client=client, scope=scope, request=request
            )
            messages.success(
                request, gettext("Consent withdrawn. What depended on it has stopped.")
            )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return redirect(client)


@client_data_view
@require_POST
def client_stage(request, pk):
    client = _client(request, pk, edit=True)
    form = forms.StageForm(request.POST)
    if form.is_valid():
        try:
            services.set_stage(
                actor=request.user, client=client, stage=form.cleaned_data["stage"], request=request
            )
            messages.success(request, gettext("Stage changed."))
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return redirect(client)


@client_data_view
@require_POST
def client_close(request, pk):
    client = _client(request, pk, edit=True)
    if request.POST.get("reopen"):
        services.reopen_client(actor=request.user, client=client, request=request)
        messages.success(request, gettext("Record reopened."))
    else:
        services.close_client(actor=request.user, client=client, request=request)
        messages.success(
            request, gettext("Record closed. Links stopped and coming introductions cancelled.")
        )
    return redirect(client)


@client_data_view
def client_share(request, pk):
    client = _client(request, pk, edit=True)
    form = forms.ShareForm(
        request.POST or None, users=selectors.staff_to_share_with(request.user, client)
    )
    if request.method == "POST":
        if request.POST.get("revoke"):
            share = get_object_or_404(ClientShare, pk=request.POST["revoke"], client=client)
            services.unshare_client(actor=request.user, share=share, request=request)
            messages.success(request, gettext("No longer shared."))
            return redirect(client)
        if form.is_valid():
            try:
                services.share_client(
                    actor=request.user,
                    client=client,
                    user=form.cleaned_data["user"],
                    request=request,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, gettext("Shared."))
                return redirect(client)
    shares = client.shares.filter(revoked_at__isnull=True).select_related("user")
    return render(
        request, "casework/share.html", {"client": client, "form": form, "shares": shares}
    )


# --- stage 1 ----------------------------------------------------------------------------


@client_data_view
def assess(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    form = forms.AssessmentForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_assessment(
                actor=request.user, client=client, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            outcome = form.cleaned_data["outcome"]
            if outcome == "interested":
                messages.success(request, gettext("Recorded. Next: choose a meeting together."))
                return redirect("casework:meetings", pk=client.pk)
            messages.success(request, gettext("Recorded."))
            return redirect(client)
    return render(request, "casework/assess.html", {"client": client, "form": form})


# --- stage 2 ----------------------------------------------------------------------------


@client_data_view
def meetings(request, pk):
    """Search the directory with the client's preferences; pick meetings."""
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    if request.method == "POST":
        meeting = (
            Meeting.objects.visible_to([client.organisation_id])
            .filter(pk=request.POST.get("meeting"))
            .first()
        )
        if meeting is None:
            messages.error(request, gettext("That meeting was not found in the directory."))
            return redirect("casework:meetings", pk=client.pk)
        try:
            services.choose_meeting(
                actor=request.user, client=client, meeting=meeting, request=request
            )
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("casework:meetings", pk=client.pk)
        messages.success(
            request,
            gettext("Chosen: %(name)s. Next: set a goal or arrange an introduction.")
            % {"name": meeting.name},
        )
        return redirect(client)
    searched = "radius" in request.GET
    # First visit: search at once with the client's preferences, shown in the form.
    data = request.GET if searched else _as_data(forms.MeetingSearchForm.initial_for(client))
    form = forms.MeetingSearchForm(data)
    results, error, place = None, "", None
    if form.is_valid():
        kwargs = form.build_kwargs(client=client)
        if "place" not in kwargs and "near" not in kwargs:
            error = "Give a town or postcode to search near (or set the client's area)."
        else:
            try:
                query, place = build_query(upcoming=False, **kwargs)
                results = search(query)
            except SearchError as exc:
                error = str(exc)
    else:
        error = "Check the search: " + "; ".join(
            f"{form.fields[f].label}: {' '.join(e)}" if f in form.fields else " ".join(e)
            for f, e in form.errors.items()
        )
    chosen = set(client.meeting_choices.values_list("meeting_id", flat=True))
    return render(
        request,
        "casework/meetings.html",
        {
            "client": client,
            "form": form,
            "results": results,
            "error": error,
            "place": place,
            "chosen": chosen,
        },
        status=400 if error and searched else 200,
    )


def _as_data(initial: dict) -> dict:
    """Initial values as form data (for the first search with the client's preferences)."""
    data = {}
    for key, value in initial.items():
        if isinstance(value, list):
            data[key] = [str(getattr(v, "pk", v)) for v in value]
        elif value is not None:
            data[key] = str(value)
    from django.http import QueryDict

    query = QueryDict(mutable=True)
    for key, value in data.items():
        if isinstance(value, list):
            query.setlist(key, value)
        else:
            query[key] = value
    return query


@client_data_view
@require_POST
def choice_status(request, pk, choice_pk):
    client = _client(request, pk, edit=True)
    choice = get_object_or_404(MeetingChoice, pk=choice_pk, client=client)
    status = request.POST.get("status", "")
    if status in ("chosen", "suits", "not_suited"):
        services.set_choice_status(
            actor=request.user, choice=choice, status=status, request=request
        )
        messages.success(request, gettext("Saved."))
    return redirect(client)


@client_data_view
def goal_new(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    chosen = _chosen_meetings(client)
    initial = {"kind": "attend_once"}
    if request.GET.get("meeting"):
        initial["meeting"] = request.GET["meeting"]
    form = forms.GoalForm(request.POST or None, meetings=chosen, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.set_goal(
                actor=request.user, client=client, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, gettext("Goal added to the care plan."))
            return redirect(client)
    return render(request, "casework/goal_form.html", {"client": client, "form": form})


@client_data_view
def goal_review(request, pk, goal_pk):
    client = _client(request, pk, edit=True)
    goal = get_object_or_404(Goal, pk=goal_pk, client=client)
    form = forms.GoalReviewForm(request.POST or None, initial={"version": goal.version})
    if request.method == "POST" and form.is_valid():
        try:
            services.review_goal(
                actor=request.user,
                goal=goal,
                status=form.cleaned_data["status"],
                note=form.cleaned_data["note"],
                request=request,
                expected_version=form.cleaned_data.get("version"),
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, gettext("Goal reviewed."))
            return redirect(client)
    return render(
        request, "casework/goal_review.html", {"client": client, "goal": goal, "form": form}
    )


def ranked_volunteers(client: Client, meeting: Meeting, kind: str | None):
    """Volunteers of the client's service for this meeting, best first (matching.rank)."""
    volunteers = {
        v.pk: v
        for v in Volunteer.objects.filter(organisation_id=client.organisation_id).prefetch_related(
            "fellowships"
        )
    }
    facts = matching.MeetingFacts(
        fellowship_code=meeting.fellowship.code,
        weekday=meeting.weekday,
        start=meeting.start_time,
        duration_minutes=meeting.duration_minutes,
        lat=meeting.latitude,
        lng=meeting.longitude,
        online=meeting.mode == "online",
        types=frozenset(meeting.types),
    )
    needs = matching.ClientNeeds(
        languages=frozenset(client.pref_languages or ()),
        volunteer_gender=client.pref_volunteer_gender,
        offer=KIND_OFFER.get(kind) if kind else None,
    )
    matches = matching.rank([v.facts() for v in volunteers.values()], facts, needs)
    return [(m, volunteers[m.volunteer.id]) for m in matches]


@client_data_view
def introduction_new(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    meeting = (
        Meeting.objects.visible_to([client.organisation_id])
        .select_related("fellowship")
        .filter(pk=request.POST.get("meeting") or request.GET.get("meeting"))
        .first()
    )
    if meeting is None:
        messages.error(request, gettext("Choose a meeting first, then arrange the introduction."))
        return redirect("casework:meetings", pk=client.pk)
    if meeting.status == MeetingStatus.REMOVED:
        messages.error(
            request,
            gettext("%(name)s has been removed from the directory: choose another meeting.")
            % {"name": meeting.name},
        )
        return redirect("casework:meetings", pk=client.pk)
    if meeting.weekday is None or meeting.start_time is None:
        messages.error(
            request,
            gettext("%(name)s is by appointment: it has no date to choose.")
            % {"name": meeting.name},
        )
        return redirect(client)
    now = timezone.now()
    starts = scheduling.upcoming_starts(
        weekday=meeting.weekday,
        start=meeting.start_time,
        zone_name=meeting.timezone,
        now=now,
        count=4,
        recurrence=meeting.recurrence,
    )
    kind = request.POST.get("kind") or request.GET.get("kind") or ""
    ranked = ranked_volunteers(client, meeting, kind or "volunteer_goes")
    form = forms.IntroductionForm(
        request.POST or None,
        starts=starts,
        volunteers=[m for m, _ in ranked_volunteers(client, meeting, None)],
        initial={"kind": kind or None},
    )
    has_consent = client.has_consent(ConsentScope.VOLUNTEER_INTRODUCTION)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        volunteer = None
        if data["kind"] in KIND_OFFER and data.get("volunteer"):
            volunteer = Volunteer.objects.filter(
                pk=data["volunteer"], organisation_id=client.organisation_id
            ).first()
        try:
            intro = services.arrange_introduction(
                actor=request.user,
                client=client,
                meeting=meeting,
                starts_at=data["starts_at"],
                kind=data["kind"],
                volunteer=volunteer,
                agreed_contact=data.get("agreed_contact") or "",
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            if intro.volunteer_id:
                messages.success(
                    request,
                    gettext("Request emailed to %(name)s. You will hear back by email.")
                    % {"name": intro.volunteer.name},
                )
            else:
                messages.success(
                    request, gettext("Introduction arranged. A follow-up is on your list.")
                )
            return redirect(client)
    return render(
        request,
        "casework/introduction_form.html",
        {
            "client": client,
            "meeting": meeting,
            "form": form,
            "ranked": ranked,
            "kind": kind or "volunteer_goes",
            "has_consent": has_consent,
        },
    )


@client_data_view
@require_POST
def introduction_cancel(request, pk, intro_pk):
    client = _client(request, pk, edit=True)
    intro = get_object_or_404(Introduction, pk=intro_pk, client=client)
    services.cancel_introduction(actor=request.user, introduction=intro, request=request)
    messages.success(
        request, gettext("Introduction cancelled; the volunteer's link no longer works.")
    )
    return redirect(client)


# --- stage 3 ----------------------------------------------------------------------------


@client_data_view
def follow_up(request, pk, follow_up_pk=None):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    item = None
    if follow_up_pk is not None:
        item = get_object_or_404(
            FollowUp.objects.select_related("introduction__meeting", "goal"),
            pk=follow_up_pk,
            client=client,
        )
        if item.done_at:
            messages.info(request, gettext("This follow-up was already recorded."))
            return redirect(client)
        if item.kind == FollowUpKind.GOAL_REVIEW and item.goal_id:
            return redirect("casework:goal-review", pk=client.pk, goal_pk=item.goal_id)
    form = forms.FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.record_follow_up(
                actor=request.user,
                client=client,
                follow_up=item,
                request=request,
                **form.cleaned_data,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            next_step = form.cleaned_data.get("next_step")
            messages.success(request, gettext("Follow-up recorded."))
            if next_step in ("another_meeting", "another_fellowship"):
                return redirect("casework:meetings", pk=client.pk)
            return redirect(client)
    return render(
        request, "casework/follow_up_form.html", {"client": client, "item": item, "form": form}
    )


@client_data_view
def attendance_new(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    form = forms.AttendanceForm(request.POST or None, meetings=_chosen_meetings(client))
    if request.method == "POST" and form.is_valid():
        try:
            services.record_attendance(
                actor=request.user, client=client, request=request, **form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, gettext("Attendance recorded."))
            return redirect(client)
    return render(request, "casework/attendance_form.html", {"client": client, "form": form})


@client_data_view
def check_in(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    form = forms.CheckInForm(
        request.POST or None, initial={"fellowships": list(client.pref_fellowships.all())}
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.record_check_in(
                actor=request.user,
                client=client,
                answers=form.answers(),
                period_days=form.cleaned_data["period_days"],
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, gettext("Check-in recorded."))
            return redirect(client)
    recent = client.check_ins.all()[:6]
    return render(
        request, "casework/check_in_form.html", {"client": client, "form": form, "recent": recent}
    )


@client_data_view
def barc10(request, pk):
    client = _client(request, pk, edit=True)
    if guard := _closed_guard(request, client):
        return guard
    form = forms.Barc10Form(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            barc = services.record_barc10(
                actor=request.user,
                client=client,
                items=form.items(),
                taken_on=form.cleaned_data["taken_on"],
                request=request,
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(
                request, gettext("BARC-10 recorded: %(total)s of 60.") % {"total": barc.total}
            )
            return redirect(client)
    history = client.barc10s.all()[:8]
    return render(
        request, "casework/barc10_form.html", {"client": client, "form": form, "history": history}
    )


@client_data_view
def self_report_link(request, pk):
    """Create (shown once) or switch off the client's private self-report link."""
    client = _client(request, pk, edit=True)
    form = forms.SelfReportLinkForm(request.POST or None)
    url = ""
    if request.method == "POST":
        if request.POST.get("revoke"):
            link = get_object_or_404(SelfReportLink, pk=request.POST["revoke"], client=client)
            services.revoke_self_report_link(actor=request.user, link=link, request=request)
            messages.success(request, gettext("The link is switched off."))
            return redirect(client)
        if form.is_valid():
            try:
                _, token = services.create_self_report_link(
                    actor=request.user,
                    client=client,
                    days=form.cleaned_data["days"],
                    request=request,
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                url = request.build_absolute_uri(reverse("casework:self-report", args=[token]))
    links = client.self_report_links.filter(revoked_at__isnull=True, expires_at__gt=timezone.now())
    return render(
        request,
        "casework/self_report_link.html",
        {
            "client": client,
            "form": form,
            "url": url,
            "links": links,
            "has_consent": client.has_consent(ConsentScope.SELF_REPORT),
        },
    )


# --- volunteers (staff) -------------------------------------------------------------------


@client_data_view
def volunteers(request):
    rows = selectors.volunteers_visible_to(request.user).prefetch_related("fellowships")
    return render(
        request,
        "casework/volunteers.html",
        {"volunteers": rows, "can_edit": selectors.can_edit_volunteers(request.user)},
    )


def _volunteer(request, pk) -> Volunteer:
    volunteer = selectors.volunteers_visible_to(request.user).filter(pk=pk).first()
    if volunteer is None:
        _deny(request, ("casework.volunteer", pk), "not in scope")
        raise Http404(gettext("There is no such volunteer in your service."))
    return volunteer


@client_data_view
def volunteer_form(request, pk=None):
    volunteer = _volunteer(request, pk) if pk else None
    if not selectors.can_edit_volunteers(request.user):
        _deny(request, volunteer, "cannot edit volunteers")
        return forbidden(request, "Your role cannot change volunteers.")
    if volunteer is not None and volunteer.status == "removed":
        messages.info(request, gettext("This volunteer removed their details."))
        return redirect("casework:volunteers")
    initial = forms.VolunteerForm.initial_for(volunteer) if volunteer else {"languages": "English"}
    form = forms.VolunteerForm(request.POST or None, initial=initial)
    if request.method == "POST":
        action = request.POST.get("action")
        if volunteer is not None and action in ("withdraw", "reinstate", "erase"):
            handler = {
                "withdraw": services.withdraw_volunteer,
                "reinstate": services.reinstate_volunteer,
                "erase": services.erase_volunteer,
            }[action]
            handler(actor=request.user, volunteer=volunteer, request=request)
            messages.success(
                request,
                {
                    "withdraw": "Withdrawn. Their coming introductions went back to the keyworkers.",
                    "reinstate": "Active again.",
                    "erase": "Their details are removed.",
                }[action],
            )
            return redirect("casework:volunteers")
        if form.is_valid():
            try:
                if volunteer is None:
                    services.create_volunteer(
                        actor=request.user, request=request, **form.service_fields()
                    )
                else:
                    services.update_volunteer(
                        actor=request.user,
                        volunteer=volunteer,
                        request=request,
                        **form.service_fields(),
                    )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, gettext("Volunteer saved."))
                return redirect("casework:volunteers")
    return render(request, "casework/volunteer_form.html", {"form": form, "volunteer": volunteer})


# --- link pages (no account) ------------------------------------------------------------


def _link_problem(request, exc, *, status=410):
    return render(request, "casework/link_problem.html", {"message": str(exc)}, status=status)


def volunteer_introduction(request, token):
    """The volunteer's page: the client's first name, the meeting, the agreed contact."""
    max_age = timedelta(days=settings.CASEWORK_INTRODUCTION_LINK_DAYS)
    try:
        intro = selectors.introduction_for_token(token, max_age=max_age)
    except selectors.LinkProblem as exc:
        return _link_problem(request, exc)
    now = timezone.now()
    started = intro.starts_at <= now
    removed = intro.meeting.status == MeetingStatus.REMOVED
    if request.method == "POST" and not started:
        answer = request.POST.get("answer")
        if answer in ("accept", "decline"):
            try:
                services.respond_to_introduction(
                    introduction=intro, accept=answer == "accept", request=request
                )
            except ValidationError as exc:
                messages.error(request, " ".join(exc.messages))
            else:
                messages.success(
                    request,
                    "Thank you: the keyworker will know you said yes."
                    if answer == "accept"
                    else "Thank you for letting us know. The keyworker will ask someone else.",
                )
            return redirect("casework:volunteer-introduction", token=token)
    return render(
        request,
        "casework/volunteer_introduction.html",
        {
            "intro": intro,
            "meeting": intro.meeting,
            "start": intro.local_start,
            "started": started,
            "removed": removed,
            "withdrawn": intro.volunteer is not None and not intro.volunteer.is_active,
            "remove_url": reverse(
                "casework:volunteer-remove",
                args=[selectors.volunteer_remove_token(intro.volunteer)],
            )
            if intro.volunteer is not None and intro.volunteer.status != "removed"
            else "",
        },
    )


def volunteer_remove(request, token):
    max_age = timedelta(days=settings.CASEWORK_VOLUNTEER_REMOVE_LINK_DAYS)
    try:
        volunteer = selectors.volunteer_for_remove_token(token, max_age=max_age)
    except selectors.LinkProblem as exc:
        return _link_problem(request, exc)
    # What removal does to introductions still to come: they go back to the keyworker.
    pending = list(
        volunteer.introductions.filter(
            status__in=["requested", "accepted"], starts_at__gt=timezone.now()
        ).select_related("meeting")
    )
    if request.method == "POST" and request.POST.get("confirm") == "yes":
        services.erase_volunteer(volunteer=volunteer, request=request)
        return render(request, "casework/volunteer_removed.html", {"returned": len(pending)})
    return render(
        request, "casework/volunteer_remove.html", {"volunteer": volunteer, "pending": pending}
    )


def self_report(request, token):
    """The client's private page: meetings attended and a short weekly check-in."""
    try:
        link = selectors.self_report_link_for_token(token)
    except selectors.LinkProblem as exc:
        return _link_problem(request, exc)
    client = link.client
    meetings_qs = _chosen_meetings(client)
    attendance_form = forms.AttendanceForm(
        request.POST if request.POST.get("form") == "attendance" else None,
        meetings=meetings_qs,
        initial={
            "attended_on": timezone.localdate(),
            "meeting": str(meetings_qs[0].pk) if meetings_qs else "",
        },
        prefix="a",
    )
    check_in_form = forms.SelfCheckInForm(
        request.POST if request.POST.get("form") == "check_in" else None, prefix="c"
    )
    status = 200
    if request.method == "POST":
        chosen = attendance_form if request.POST.get("form") == "attendance" else check_in_form
        if chosen.is_valid():
            try:
                if chosen is attendance_form:
                    services.self_report_attendance(
                        link=link, request=request, **chosen.cleaned_data
                    )
                    done = "Thank you: the meeting is recorded."
                else:
                    services.self_report_check_in(
                        link=link, answers=chosen.answers(), request=request
                    )
                    done = "Thank you: your check-in is recorded."
            except services.RateLimited as exc:
                messages.error(request, str(exc))
                status = 429
            except ValidationError as exc:
                _apply_errors(chosen, exc)
                status = 400
            else:
                messages.success(request, done)
                return redirect("casework:self-report", token=token)
        else:
            status = 400
    recent = list(
        client.attendances.filter(source="self").select_related("meeting", "fellowship")[:5]
    )
    return render(
        request,
        "casework/self_report.html",
        {
            "attendance_form": attendance_form,
            "check_in_form": check_in_form,
            "recent": recent,
            "expires_at": link.expires_at,
        },
        status=status,
    )
