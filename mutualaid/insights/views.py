"""Insights pages under /insights/ (signed in, second factor verified; each page's own role
rule from selectors.py). Every page that reads client-derived figures is audited as a
"read" (which page, how many clients it was computed over; never who), every refusal as
"denied". Each table is also a CSV download (`?csv=<table id>`); the supervision report and
the self-assessment are also PDFs.
"""

from __future__ import annotations

import base64
from datetime import timedelta
from pathlib import Path

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.shortcuts import render as django_render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from mutualaid.accounts.decorators import deny, forbidden, staff_view
from mutualaid.accounts.roles import can_see_client_data
from mutualaid.audit.services import record_event
from mutualaid.lib import pdf

from . import provision as pv
from . import reports, selectors, selfassessment
from .models import Answer

STATIC_DIR = Path(__file__).resolve().parent / "static" / "insights"


def nav_for(user) -> list[tuple[str, str, str]]:
    """(page key, url name, label) of the insights pages this user may open."""
    items = []
    if selectors.can_see_outcomes(user):
        items.append(("outcomes", "insights:outcomes", _("Service outcomes")))
    if selectors.keyworkers_visible_to(user).exists():
        items.append(("supervision", "insights:supervision-list", _("Supervision reports")))
    if selectors.can_see_area(user):
        items.append(("area", "insights:area", _("The area")))
        items.append(("self-assessment", "insights:self-assessment", _("Self-assessment")))
    return items


def render(request, template, context=None, **kwargs):
    context = {
        **(context or {}),
        "nav": nav_for(request.user),
        "casework_link": can_see_client_data(request.user),
    }
    return django_render(request, template, context, **kwargs)


NOT_YOUR_FIGURES = gettext_lazy("Your role does not include these figures.")


def gate(allowed, message=NOT_YOUR_FIGURES):
    """Signed in → second factor verified this session → allowed(user), else 403 (audited)."""
    return staff_view(allowed, message, reason="role")


def _audit_read(request, view: str, **counts) -> None:
    record_event(
        actor=request.user,
        action="read",
        request=request,
        detail={"view": f"insights.{view}", **counts},
    )


def _csv_or_page(request, report: reports.Report, template: str, context: dict, filename: str):
    wanted = request.GET.get("csv")
    if wanted:
        table = report.table(wanted)
        if table is None:
            raise Http404(_("There is no table called %(id)s on this page.") % {"id": wanted[:40]})
        record_event(
            actor=request.user,
            action="export",
            request=request,
            detail={"view": f"insights.{filename}", "table": table.id, "rows": len(table.rows)},
        )
        response = HttpResponse(table.csv(), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = (
            f'attachment; filename="{filename}-{table.id}-{report.as_of:%Y-%m-%d}.csv"'
        )
        return response
    return render(request, template, {"report": report, **context})


def _pdf_response(request, report_html: str, *, title: str, filename: str):
    try:
        rendered = pdf.render_pdf(report_html, base_url=str(STATIC_DIR) + "/", title=title)
    except pdf.PDFUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(rendered.data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


def _pdf_html(report, **extra) -> str:
    """The report as print HTML: charts as PNG data URIs (WeasyPrint), the PDF stylesheet
    beside this module's static files."""
    images = {}
    for section in getattr(report, "sections", []):
        for table in section.tables:
            if table.chart is not None:
                images[table.id] = base64.b64encode(table.chart_png()).decode("ascii")
    return render_to_string(
        "insights/pdf.html",
        {"report": report, "images": images, "produced": timezone.now(), **extra},
    )


# --- pages ------------------------------------------------------------------------------


@gate(lambda u: selectors.role_of(u) is not None)
def index(request):
    """Where each role starts."""
    user = request.user
    if selectors.can_see_outcomes(user):
        return redirect("insights:outcomes")
    if selectors.role_of(user) == "keyworker":
        return redirect("insights:supervision", username=user.get_username())
    if selectors.can_see_area(user):
        return redirect("insights:area")
    deny(request, "role")
    return forbidden(request, _("Your role does not include these figures."))


class PeriodForm(forms.Form):
    since = forms.DateField(label=gettext_lazy("Offered from"), required=False)
    until = forms.DateField(label=gettext_lazy("Offered until"), required=False)

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError(_("“Offered from” must be on or before “Offered until”."))
        return data


@gate(selectors.can_see_outcomes)
def outcomes(request):
    today = timezone.localdate()
    form = PeriodForm(request.GET or None)
    since, until = today - timedelta(days=365), None
    if form.is_bound and form.is_valid():
        since = form.cleaned_data["since"] or since
        until = form.cleaned_data["until"]
    report = reports.outcomes(request.user, since=since, until=until, as_of=today)
    offered = report.sections[0].tables[0].rows[0][1]
    _audit_read(request, "outcomes", clients=offered)
    return _csv_or_page(
        request,
        report,
        "insights/report.html",
        {"form": form, "since": since, "until": until, "page": "outcomes"},
        "outcomes",
    )


@gate(lambda u: selectors.keyworkers_visible_to(u).exists())
def supervision_list(request):
    staff = list(selectors.keyworkers_visible_to(request.user).order_by("username"))
    return render(
        request, "insights/supervision_list.html", {"staff": staff, "page": "supervision"}
    )


def _keyworker(request, username: str):
    found = selectors.keyworkers_visible_to(request.user).filter(username=username).first()
    if found is None:
        deny(request, "not in scope")
        raise Http404(_("There is no such keyworker among the people you supervise."))
    return found


@gate(lambda u: selectors.keyworkers_visible_to(u).exists())
def supervision(request, username: str):
    keyworker = _keyworker(request, username)
    today = timezone.localdate()
    report = reports.supervision(request.user, keyworker, as_of=today)
    _audit_read(
        request,
        "supervision",
        keyworker=keyworker.pk,
        clients=report.sections[0].tables[0].rows[0][1],
    )
    return _csv_or_page(
        request,
        report,
        "insights/report.html",
        {"page": "supervision", "keyworker": keyworker},
        f"supervision-{slugify(username)}",
    )


@gate(lambda u: selectors.keyworkers_visible_to(u).exists())
def supervision_pdf(request, username: str):
    keyworker = _keyworker(request, username)
    report = reports.supervision(request.user, keyworker, as_of=timezone.localdate())
    record_event(
        actor=request.user,
        action="export",
        request=request,
        detail={"view": "insights.supervision_pdf", "keyworker": keyworker.pk},
    )
    return _pdf_response(
        request,
        _pdf_html(report),
        title=report.title,
        filename=f"supervision-{slugify(username)}-{report.as_of:%Y-%m-%d}.pdf",
    )


@gate(selectors.can_see_area)
def area(request):
    today = timezone.localdate()
    try:
        report = reports.area_report(request.user, as_of=today)
    except pv.AreaUnknown as exc:
        return render(request, "insights/problem.html", {"message": str(exc), "page": "area"})
    _audit_read(request, "area", area=selectors.area_of(request.user)[:100])
    return _csv_or_page(request, report, "insights/report.html", {"page": "area"}, "area")


# --- the self-assessment ---------------------------------------------------------------


class SelfAssessmentForm(forms.Form):
    def __init__(self, *args, items=(), **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", _("Not answered yet")), *Answer.choices]
        for item in items:
            if not item.by_hand:
                continue
            self.fields[f"{item.key}-answer"] = forms.ChoiceField(
                label=item.question, choices=choices, required=False, initial=item.answer
            )
            self.fields[f"{item.key}-note"] = forms.CharField(
                label=_("Notes (about services and groups, never about a client)"),
                required=False,
                max_length=selfassessment.NOTE_MAX,
                widget=forms.Textarea(attrs={"rows": 2}),
                initial=item.note,
            )

    def answers(self) -> dict[str, dict]:
        out = {}
        for key in selfassessment.HAND_KEYS:
            answer = self.cleaned_data.get(f"{key}-answer") or ""
            note = (self.cleaned_data.get(f"{key}-note") or "").strip()
            if answer or note:
                out[key] = {"answer": answer, "note": note}
        return out


@gate(selectors.can_see_area)
def self_assessment(request):
    today = timezone.localdate()
    area_name, organisation, editable = selfassessment.subject_of(request.user)
    result = selfassessment.build(request.user, as_of=today)
    form = None
    if editable:
        form = SelfAssessmentForm(request.POST or None, items=result.items)
        if request.method == "POST":
            if form.is_valid():
                selfassessment.save_answers(
                    actor=request.user,
                    area=area_name,
                    organisation=organisation,
                    answers=form.answers(),
                    request=request,
                )
                messages.success(request, _("Your answers are saved."))
                return redirect("insights:self-assessment")
    elif request.method == "POST":
        deny(request, "read only")
        return forbidden(request, _("You can read this self-assessment but not change it."))
    _audit_read(request, "self_assessment", area=area_name[:100])
    return render(
        request,
        "insights/self_assessment.html",
        {"assessment": result, "form": form, "page": "self-assessment", "today": today},
    )


@gate(selectors.can_see_area)
def self_assessment_pdf(request):
    today = timezone.localdate()
    result = selfassessment.build(request.user, as_of=today)
    sections = []
    if result.provision is not None:
        sections = reports.provision_sections(result.provision)
    record_event(
        actor=request.user,
        action="export",
        request=request,
        detail={"view": "insights.self_assessment_pdf"},
    )
    report = reports.Report(
        title=result.title,
        scope=result.area,
        as_of=today,
        suppressed=True,
        sections=sections,
    )
    html = _pdf_html(report, assessment=result)
    return _pdf_response(
        request,
        html,
        title=result.title,
        filename=f"self-assessment-{slugify(result.area)}-{today:%Y-%m-%d}.pdf",
    )
