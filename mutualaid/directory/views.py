from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone as dj_timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _

from mutualaid.lib import schedule, vocabulary

from .calendar import meetings_calendar
from .models import DAY_LABELS, Approach, Fellowship, Meeting, Status
from .query_params import build_query
from .search import SearchError, search

# Plain-language time-of-day choices on the public form, as local start-time windows.
TIME_OF_DAY = {
    "morning": ("05:00", "12:00", _("Morning")),
    "afternoon": ("12:00", "17:00", _("Afternoon")),
    "evening": ("17:00", "21:00", _("Evening")),
    "night": ("21:00", "05:00", _("Night")),
}
# The filters people ask for most, in words rather than codes.
FORM_TYPES = ["women", "men", "lgbtq", "newcomer", "open", "wheelchair", "secular", "young_people"]


def search_form_context(params) -> dict:
    """What the search form needs (the home page and the print form show the same one)."""
    return {
        "params": params,
        "days": list(zip(schedule.DAY_NAMES, DAY_LABELS, strict=True)),
        "times_of_day": [(key, label) for key, (_, _, label) in TIME_OF_DAY.items()],
        "form_types": [
            (key, vocabulary.meeting_types()[key].label_for(get_language())) for key in FORM_TYPES
        ],
        "selected_types": params.getlist("type"),
        "fellowships": Fellowship.objects.order_by("name"),
        "approaches": Approach.choices,
        "radii": ["5", "10", "25", "50"],
    }


def home(request):
    params = request.GET
    searched = any(params.get(k) for k in ("place", "near", "day", "when", "fellowship", "text"))
    context = {**search_form_context(params), "searched": searched}
    if not searched:
        return render(request, "directory/home.html", context)
    when = params.get("when", "")
    start_after, start_before = TIME_OF_DAY[when][:2] if when in TIME_OF_DAY else (None, None)
    viewer_tz = params.get("tz") or None
    try:
        if viewer_tz:
            schedule.zone(viewer_tz)
    except ValueError:
        viewer_tz = None  # a browser sending an odd zone should not block the search
    try:
        query, place = build_query(
            near=params.get("near") or None,
            place=None if params.get("near") else params.get("place"),
            radius_km=params.get("radius") or None,
            days=[params["day"]] if params.get("day") else [],
            start_after=start_after,
            start_before=start_before,
            types=params.getlist("type"),
            fellowships=[params["fellowship"]] if params.get("fellowship") else [],
            approaches=[params["approach"]] if params.get("approach") else [],
            modes=[params["mode"]] if params.get("mode") else [],
            text=params.get("text", ""),
            upcoming=params.get("when") == "soon" or not params.get("day"),
            viewer_timezone=viewer_tz,
            limit=50,
        )
        results = search(query)
    except SearchError as exc:
        context["error"] = str(exc)
        return render(request, "directory/home.html", context, status=400)
    context.update({"results": results, "place": place, "viewer_tz": viewer_tz})
    return render(request, "directory/home.html", context)


ACCESS_EXPLAINED = {
    "open": _(
        "Open meeting: anyone is welcome, including family, friends and professionals. "
        "You can bring someone with you."
    ),
    "closed": _(
        "Closed meeting: for people who have a problem with {covers}, or think they might. "
        "You do not have to be sure: wanting to stop is enough."
    ),
}
# What a fellowship's `covers` codes mean, in words, for the closed-meeting explanation.
COVERS_WORDS = {
    "alcohol": _("alcohol"),
    "drugs": _("drugs"),
    "cocaine": _("cocaine"),
    "crystal_meth": _("crystal meth"),
    "cannabis": _("cannabis"),
    "gambling": _("gambling"),
    "eating": _("eating"),
    "sex_love": _("sex or love"),
    "other_behaviours": _("other behaviours"),
    "affected_others": _("someone else's addiction"),
}


def _visible_meeting(request, slug):
    """A listed meeting the viewer may see; restricted ones only for their organisation."""
    organisation_ids = getattr(request, "organisation_ids", ())
    return get_object_or_404(
        Meeting.objects.filter(status=Status.ACTIVE)
        .visible_to(organisation_ids)
        .select_related("fellowship", "source", "duplicate_of"),
        slug=slug,
    )


def meeting_detail(request, slug):
    meeting = _visible_meeting(request, slug)
    if meeting.duplicate_of_id:
        return redirect(meeting.duplicate_of, permanent=False)
    now = dj_timezone.now()
    viewer_tz = request.GET.get("tz") or None
    try:
        if viewer_tz:
            schedule.zone(viewer_tz)
    except ValueError:
        viewer_tz = None
    next_start = meeting.next_start(now)
    covers = ", ".join(
        str(COVERS_WORDS.get(c, c.replace("_", " "))) for c in meeting.fellowship.covers_list
    ) or gettext("this")
    access = [
        str(text).format(covers=covers)
        for key, text in ACCESS_EXPLAINED.items()
        if key in meeting.types
    ]
    sources = [meeting.source, *[d.source for d in meeting.duplicates.select_related("source")]]
    context = {
        "m": meeting,
        "next_start": next_start,
        "next_start_viewer": next_start.astimezone(schedule.zone(viewer_tz))
        if next_start and viewer_tz
        else None,
        "viewer_tz": viewer_tz,
        "access": access,
        "stale": meeting.is_stale(now),
        "sources": [s for s in sources if s],
        "map_url": (
            f"https://www.openstreetmap.org/?mlat={meeting.latitude}&mlon={meeting.longitude}#map=17/"
            f"{meeting.latitude}/{meeting.longitude}"
            if meeting.has_location
            else ""
        ),
    }
    return render(request, "directory/meeting.html", context)


def meeting_ics(request, slug):
    meeting = _visible_meeting(request, slug)
    if meeting.weekday is None:
        raise Http404(gettext("This meeting is by appointment and has no fixed time."))
    body = meetings_calendar(
        [meeting],
        name=meeting.name,
        now=dj_timezone.now(),
        base_url=request.build_absolute_uri("/")[:-1],
    )
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{meeting.slug}.ics"'
    return response


# --- "Which group might suit me?" and the printable list (guide.py, printing.py) ---------


def guide(request):
    """A short form (no JavaScript needed); once answered, the options that fit, each with
    what it is, who it is for, pros and cons from the sources, and its meetings."""
    from .guide import GuideError, add_nearby_meetings, form_choices, parse_answers, recommend

    context = {
        "params": request.GET,
        "selected": {name: request.GET.getlist(name) for name in ("about", "drug", "pref")},
        **form_choices(),
    }
    if "who" not in request.GET:
        return render(request, "directory/guide.html", context)
    try:
        answers = parse_answers(request.GET)
    except GuideError as exc:
        context["error"] = str(exc)
        return render(request, "directory/guide.html", context, status=400)
    guidance = recommend(answers)
    add_nearby_meetings(guidance, organisation_ids=())
    context.update({"answers": answers, "g": guidance, "error": guidance.error})
    return render(request, "directory/guide.html", context, status=400 if guidance.error else 200)


def print_list(request):
    """The meetings of a search as a printable PDF booklet (?format=html: the HTML it is made
    from). The same parameters as the home page; without any, a form to choose them."""
    from mutualaid.lib.pdf import PDFUnavailable

    from .printing import (
        FORMATS,
        MAX_MEETINGS,
        Filters,
        booklet_html,
        booklet_pdf,
        build_booklet,
    )

    params = request.GET
    filters = Filters.from_querydict(params)
    context = {**search_form_context(params), "max_meetings": MAX_MEETINGS}
    output = params.get("format") or "pdf"
    if output not in FORMATS:
        context["error"] = gettext("format: unknown format %(format)r (use pdf or html)") % {
            "format": output
        }
        return render(request, "directory/print_form.html", context, status=400)
    if not filters.any:
        return render(request, "directory/print_form.html", context)
    try:
        booklet = build_booklet(
            filters,
            meeting_url=lambda m: request.build_absolute_uri(m.get_absolute_url()),
            site_url=request.build_absolute_uri("/"),
        )
    except SearchError as exc:
        context["error"] = str(exc)
        return render(request, "directory/print_form.html", context, status=400)
    if output == "html":
        return HttpResponse(booklet_html(booklet))
    try:
        rendered = booklet_pdf(booklet)
    except PDFUnavailable as exc:
        return HttpResponse(str(exc), status=503, content_type="text/plain; charset=utf-8")
    response = HttpResponse(rendered.data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{booklet.filename}"'
    return response
