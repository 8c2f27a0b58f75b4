from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from .change_requests import ReviewError, mark_verified, review_change_request
from .models import ChangeRequest, ChangeRequestStatus, Fellowship, ImportRun, Meeting, Source


@admin.register(Fellowship)
class FellowshipAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "approach", "covers"]
    list_filter = ["approach"]
    search_fields = ["code", "name"]


class MeetingAdminForm(forms.ModelForm):
    """The version the editor started from rides along hidden; saving from an older one
    (someone else, or an import, saved meanwhile) is refused with a clear message."""

    class Meta:
        model = Meeting
        fields = "__all__"  # noqa: DJ007 - the admin picks the fields; this adds the hidden version
        widgets = {"version": forms.HiddenInput}

    def clean(self):
        data = super().clean()
        if self.instance.pk and data.get("version") is not None:
            from mutualaid.ops.concurrency import EditConflict

            # The admin saves in one transaction: the row stays locked until it commits
            # (SELECT FOR UPDATE on PostgreSQL; SQLite's IMMEDIATE transaction holds the
            # write lock), so nobody can slip in between this check and the save.
            stored = (
                Meeting.objects.select_for_update()
                .filter(pk=self.instance.pk)
                .values_list("version", flat=True)
                .first()
            )
            if stored != data["version"]:
                conflict = EditConflict(
                    f"The listing {self.instance.name!r}", expected=data["version"], current=stored
                )
                raise forms.ValidationError(conflict.messages[0], code="conflict")
            data["version"] = stored + 1
        return data


@admin.register(Meeting)
class MeetingAdmin(admin.ModelAdmin):
    form = MeetingAdminForm
    list_display = [
        "name",
        "fellowship",
        "weekday",
        "start_time",
        "timezone",
        "mode",
        "city",
        "status",
        "source",
    ]
    list_filter = ["fellowship", "mode", "status", "visibility", "weekday", "source"]
    search_fields = ["name", "slug", "location_name", "city", "postcode", "source_ref"]
    readonly_fields = [
        "start_minute",
        "week_minute",
        "created_at",
        "updated_at",
        "last_verified_at",
        "verified_by",
        "change_requests_link",
    ]
    list_select_related = ["fellowship", "source"]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    actions = ["mark_verified_action"]

    @admin.action(description="Mark verified (checked just now)", permissions=["change"])
    def mark_verified_action(self, request, queryset):
        try:
            for meeting in queryset:
                mark_verified(meeting=meeting, user=request.user)
        except PermissionDenied as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        count = queryset.count()
        self.message_user(request, f"{count} listing{'s' if count != 1 else ''} marked verified.")

    @admin.display(description="Reported problems")
    def change_requests_link(self, meeting):
        if not meeting.pk:
            return "-"
        counts = meeting.change_requests.aggregate(
            total=Count("pk"), open=Count("pk", filter=Q(status=ChangeRequestStatus.OPEN))
        )
        url = reverse("admin:directory_changerequest_changelist")
        return format_html(
            '<a href="{}?meeting__id__exact={}&amp;status=all">{} open, {} in all</a>',
            url,
            meeting.pk,
            counts["open"],
            counts["total"],
        )


class ImportRunInline(admin.TabularInline):
    model = ImportRun
    extra = 0
    can_delete = False
    readonly_fields = [
        "started_at",
        "finished_at",
        "status",
        "created",
        "updated",
        "unchanged",
        "removed",
        "rejected",
        "warnings",
        "error",
    ]


@admin.register(Source)
class SourceAdmin(admin.ModelAdmin):
    list_display = ["name", "format", "location", "default_timezone", "last_imported_at"]
    readonly_fields = ["etag", "last_modified"]
    inlines = [ImportRunInline]


@admin.register(ImportRun)
class ImportRunAdmin(admin.ModelAdmin):
    list_display = [
        "source",
        "started_at",
        "status",
        "created",
        "updated",
        "unchanged",
        "removed",
        "error",
    ]
    list_filter = ["source", "status"]
    readonly_fields = [f.name for f in ImportRun._meta.fields]


class ChangeRequestStatusFilter(admin.SimpleListFilter):
    """Open requests unless asked otherwise: that is the editors' queue."""

    title = "status"
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ChangeRequestStatus.choices, ("all", "All")]

    def choices(self, changelist):
        current = self.value() or ChangeRequestStatus.OPEN
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or ChangeRequestStatus.OPEN
        return queryset if value == "all" else queryset.filter(status=value)


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("accept", "Accept: the listing is (now) corrected"), ("reject", "Reject")],
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4, "cols": 60}),
        help_text="Required. What you changed, or why nothing needed changing. "
        "Editors see it; the reporter does not.",
    )


@admin.register(ChangeRequest)
class ChangeRequestAdmin(admin.ModelAdmin):
    """Reported problems. Nothing is edited in place: each open request is accepted or
    rejected with a note (the actions, or "Accept or reject" on a request), through
    change_requests.review_change_request."""

    list_display = [
        "created_at",
        "meeting_link",
        "kind",
        "short_details",
        "source",
        "status",
        "reviewer",
    ]
    list_filter = [ChangeRequestStatusFilter, "kind", "meeting__source"]
    search_fields = ["meeting__name", "meeting__slug", "details"]
    list_select_related = ["meeting", "meeting__source", "reviewer"]
    date_hierarchy = "created_at"
    actions = ["accept_requests", "reject_requests"]
    fields = [
        "meeting_link",
        "source",
        "kind",
        "details",
        "contact_email",
        "created_at",
        "status",
        "reviewer",
        "reviewed_at",
        "review_note",
        "review_link",
    ]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False  # filed by the public form only

    @admin.display(description="Meeting", ordering="meeting__name")
    def meeting_link(self, obj):
        url = reverse("admin:directory_meeting_change", args=[obj.meeting_id])
        return format_html(
            '{} · <a href="{}">edit</a> · <a href="{}">page</a>',
            obj.meeting.name,
            url,
            obj.meeting.get_absolute_url(),
        )

    @admin.display(description="Source", ordering="meeting__source__name")
    def source(self, obj):
        return obj.meeting.source.name if obj.meeting.source_id else "entered by hand"

    @admin.display(description="Details")
    def short_details(self, obj):
        return obj.details if len(obj.details) <= 80 else obj.details[:79] + "…"

    @admin.display(description="Review")
    def review_link(self, obj):
        if obj.status != ChangeRequestStatus.OPEN:
            return "Reviewed"
        url = reverse("admin:directory_changerequest_review", args=[obj.pk])
        return format_html('<a class="button" href="{}">Accept or reject…</a>', url)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "show_save": False,
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        review = self.admin_site.admin_view(self.review_view)
        return [
            path("<path:object_id>/review/", review, name="directory_changerequest_review"),
            *super().get_urls(),
        ]

    # --- reviewing: one request from its page, or several by action ---------------

    @admin.action(description="Accept selected requests (with a note)…", permissions=["change"])
    def accept_requests(self, request, queryset):
        return self._review(request, queryset, decision="accept", action="accept_requests")

    @admin.action(description="Reject selected requests (with a note)…", permissions=["change"])
    def reject_requests(self, request, queryset):
        return self._review(request, queryset, decision="reject", action="reject_requests")

    def review_view(self, request, object_id):
        obj = get_object_or_404(ChangeRequest.objects.select_related("meeting"), pk=object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        queryset = ChangeRequest.objects.filter(pk=obj.pk)
        response = self._review(request, queryset, decision=None, action=None)
        if response is None:
            return redirect("admin:directory_changerequest_change", obj.pk)
        return response

    def _review(self, request, queryset, *, decision, action):
        """The note page; on a valid POST, reviews each request and returns None."""
        data = request.POST if "apply" in request.POST else None
        if data is not None and decision:
            data = data.copy()
            data["decision"] = decision
        form = ReviewForm(data, initial={"decision": decision})
        if data is not None and form.is_valid():
            done, skipped = 0, []
            for change_request in queryset.select_related("meeting"):
                try:
                    review_change_request(
                        request=change_request,
                        reviewer=request.user,
                        decision=form.cleaned_data["decision"],
                        note=form.cleaned_data["note"],
                    )
                    done += 1
                except ReviewError as exc:
                    skipped.append(f"{change_request}: {exc}")
            verb = "accepted" if form.cleaned_data["decision"] == "accept" else "rejected"
            self.message_user(request, f"{done} request{'s' if done != 1 else ''} {verb}.")
            for line in skipped:
                self.message_user(request, line, messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": {"accept": "Accept", "reject": "Reject"}.get(decision, "Review")
            + " reported problems",
            "form": form,
            "decision": decision,
            "action": action,
            "requests": queryset.select_related("meeting", "meeting__source"),
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
        }
        return TemplateResponse(request, "admin/directory/changerequest/review.html", context)
