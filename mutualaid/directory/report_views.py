"""'Report a problem with this listing': a plain form anyone can send, no account, no JS.

Kept apart from views.py so the public report flow reads in one place. Filing goes
through change_requests.file_change_request; editors review in the admin.
"""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from .change_requests import MAX_DETAILS, client_hash, file_change_request, report_allowed
from .models import ChangeRequestKind
from .views import _visible_meeting

HONEYPOT = "website"


class ReportForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What is wrong?"), choices=ChangeRequestKind.choices, widget=forms.RadioSelect
    )
    details = forms.CharField(
        label=_("Details"),
        required=False,
        max_length=MAX_DETAILS,
        widget=forms.Textarea(attrs={"rows": 5, "maxlength": MAX_DETAILS}),
        help_text=_(
            "What is different, if you know: the right time, the new address, "
            "what happened when you went."
        ),
    )
    contact_email = forms.EmailField(
        label=_("Your email (optional)"),
        required=False,
        help_text=_(
            "Only if you are happy for an editor to ask you about it. "
            "It is never shown on the site."
        ),
    )
    # A field people never see (hidden off-screen, skipped by keyboard and screen
    # readers): bots that fill in every field give themselves away.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def clean(self):
        data = super().clean()
        if data.get("kind") == ChangeRequestKind.OTHER and not (data.get("details") or "").strip():
            self.add_error("details", _("Please say what is wrong."))
        return data


def client_address(request) -> str:
    """The reporter's address: behind one trusted proxy (BEHIND_PROXY), the hop it added
    to X-Forwarded-For; otherwise the connection's own address."""
    if getattr(settings, "BEHIND_PROXY", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [h.strip() for h in forwarded.split(",") if h.strip()]
        if hops:
            return hops[-1]
    return request.META.get("REMOTE_ADDR", "") or "unknown"


@require_http_methods(["GET", "HEAD", "POST"])
def report_problem(request, slug):
    meeting = _visible_meeting(request, slug)
    if meeting.duplicate_of_id:
        return redirect("directory:meeting-report", slug=meeting.duplicate_of.slug)
    thanks_url = reverse("directory:meeting-report-thanks", kwargs={"slug": meeting.slug})
    context = {"m": meeting}
    status = 200
    if request.method == "POST":
        client = client_hash(client_address(request))
        if request.POST.get(HONEYPOT):
            # Looks like success to the bot; counts against its address; files nothing.
            report_allowed(meeting=meeting, client=client)
            return redirect(thanks_url)
        form = ReportForm(request.POST)
        if form.is_valid():
            if not report_allowed(meeting=meeting, client=client):
                context["limited"] = True
                return render(request, "directory/report.html", context, status=429)
            try:
                file_change_request(
                    meeting=meeting,
                    kind=form.cleaned_data["kind"],
                    details=form.cleaned_data["details"],
                    contact_email=form.cleaned_data["contact_email"],
                    client=client,
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                return redirect(thanks_url)
        status = 400
    else:
        form = ReportForm()
    context["form"] = form
    return render(request, "directory/report.html", context, status=status)


@require_GET
def report_thanks(request, slug):
    meeting = _visible_meeting(request, slug)
    return render(request, "directory/report.html", {"m": meeting, "thanks": True})
