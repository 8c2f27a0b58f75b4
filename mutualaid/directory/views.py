from django.shortcuts import render

from mutualaid.lib import schedule, vocabulary

from .models import Approach, Fellowship
from .query_params import build_query
from .search import SearchError, search

# Plain-language time-of-day choices on the public form, as local start-time windows.
TIME_OF_DAY = {
    "morning": ("05:00", "12:00", "Morning"),
    "afternoon": ("12:00", "17:00", "Afternoon"),
    "evening": ("17:00", "21:00", "Evening"),
    "night": ("21:00", "05:00", "Night"),
}
# The filters people ask for most, in words rather than codes.
FORM_TYPES = ["women", "men", "lgbtq", "newcomer", "open", "wheelchair", "secular", "young_people"]


def home(request):
    params = request.GET
    searched = any(params.get(k) for k in ("place", "near", "day", "when", "fellowship", "text"))
    context = {
        "params": params,
        "days": list(enumerate(schedule.DAY_NAMES)),
        "times_of_day": [(key, label) for key, (_, _, label) in TIME_OF_DAY.items()],
        "form_types": [(key, vocabulary.meeting_types()[key].label) for key in FORM_TYPES],
        "selected_types": params.getlist("type"),
        "fellowships": Fellowship.objects.order_by("name"),
        "approaches": Approach.choices,
        "searched": searched,
        "radii": ["5", "10", "25", "50"],
    }
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
