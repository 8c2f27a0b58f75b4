"""The printable local list: "Where to find mutual aid meetings near <place>".

`build_booklet(filters, meeting_url=...)` runs the ordinary search (build_query, the same
parameters as the home page) and arranges the meetings for print: grouped by day, Monday
first, then by start time (a printed list stays on a noticeboard or in a pocket for weeks,
so it follows the week, not today); meetings by appointment last. Near a place, unless a
mode is given, only meetings one can go to in person (and hybrid ones): `mode=any` adds the
online ones. With more than
MAX_MEETINGS matches, near a place the nearest MAX_MEETINGS are kept (elsewhere the first in
week order) and the booklet says so. `booklet_html` renders templates/directory/print.html,
`booklet_pdf` turns that into a PDF with mutualaid.lib.pdf.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone as dj_timezone
from django.utils.translation import get_language, gettext, gettext_lazy

from mutualaid.lib import pdf, qr, vocabulary

from .models import DAY_LABELS, Approach, Fellowship, Frequency, Meeting, Mode, describe_recurrence
from .query_params import build_query
from .search import SearchError, search

MAX_MEETINGS = 300
FORMATS = ("pdf", "html")
# mode=any: in person, online and hybrid. A list for a place with no mode given is of the
# meetings one can walk into (in person and hybrid): online meetings are listed everywhere
# and would crowd out the local ones.
ANY_MODE = "any"

# What each kind of badge means, for the legend (categories of meeting_types.json).
CATEGORY_MEANING = {
    "who": gettext_lazy("who the meeting is for"),
    "access": gettext_lazy("who may attend"),
    "access_needs": gettext_lazy("at the venue"),
    "approach": gettext_lazy("the meeting's approach"),
    "format": gettext_lazy("how the meeting is run"),
    "status": gettext_lazy("the meeting's status"),
    "mode": gettext_lazy("how to attend"),
}
MODE_BADGES = {
    Mode.ONLINE: (
        gettext_lazy("Online"),
        gettext_lazy("join by video link or phone: details in the listing"),
    ),
    Mode.HYBRID: (
        gettext_lazy("In person and online"),
        gettext_lazy("go to the venue or join online"),
    ),
    Mode.INACTIVE: (
        gettext_lazy("Temporarily closed"),
        gettext_lazy("the venue is not in use for now: check before going"),
    ),
}
# Types that repeat what the mode badge already says.
MODE_TYPES = {"online", "hybrid", "temporarily_closed"}


@dataclass
class Filters:
    """What a person asked for: the home page's parameters, each as given."""

    place: str = ""
    near: str = ""
    radius: str = ""
    days: list[str] = field(default_factory=list)
    when: str = ""
    modes: list[str] = field(default_factory=list)
    fellowships: list[str] = field(default_factory=list)
    approaches: list[str] = field(default_factory=list)
    types: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    text: str = ""

    @classmethod
    def from_querydict(cls, params) -> Filters:
        """From GET parameters named as on the home page (place, near, radius, day, when,
        mode, fellowship, approach, type, language, text)."""

        def many(name):
            return [v.strip() for v in params.getlist(name) if v.strip()]

        return cls(
            place=(params.get("place") or "").strip(),
            near=(params.get("near") or "").strip(),
            radius=(params.get("radius") or "").strip(),
            days=many("day"),
            when=(params.get("when") or "").strip(),
            modes=many("mode"),
            fellowships=many("fellowship"),
            approaches=many("approach"),
            types=many("type"),
            languages=many("language"),
            text=(params.get("text") or "").strip(),
        )

    @property
    def any(self) -> bool:
        return any(
            [self.place, self.near, self.days, self.when, self.modes, self.fellowships]
            + [self.approaches, self.types, self.languages, self.text]
        )


@dataclass
class Entry:
    meeting: Meeting
    url: str
    qr_svg: str
    distance_km: float | None
    badges: list[str]

    @property
    def time_text(self) -> str:
        m = self.meeting
        if m.start_time is None:
            return gettext("By appointment")
        text = f"{m.start_time:%H:%M}"
        if m.end_time:
            text += f"–{m.end_time:%H:%M}"
        return text

    @property
    def frequency_text(self) -> str:
        """'Every second week', 'Second Monday of the month': empty when weekly."""
        m = self.meeting
        if m.weekday is None or m.frequency == Frequency.WEEKLY:
            return ""
        return describe_recurrence(m.recurrence, m.weekday).capitalize()

    @property
    def zone_text(self) -> str:
        return "" if self.meeting.timezone == settings.TIME_ZONE else self.meeting.timezone

    @property
    def in_person(self) -> bool:
        return self.meeting.mode != Mode.ONLINE


@dataclass
class DayGroup:
    name: str
    entries: list[Entry]


@dataclass
class Booklet:
    title: str
    place_name: str
    produced: date
    count: int  # meetings matching
    shown: int  # meetings in the booklet
    nearest_kept: bool  # truncated to the nearest (else to the first in week order)
    days: list[DayGroup]
    legend: list[tuple[str, str]]
    filters_text: list[str]
    site_url: str
    home_zone: str = settings.TIME_ZONE

    @property
    def truncated(self) -> bool:
        return self.shown < self.count

    @property
    def filename(self) -> str:
        from django.utils.text import slugify

        where = slugify(self.place_name) or "all"
        return f"meetings-{where}-{self.produced:%Y-%m-%d}.pdf"


def _badges(meeting: Meeting, known) -> list[tuple[str, str, str]]:
    """(short badge, full label, meaning) for a meeting, mode first."""
    badges = []
    if meeting.mode in MODE_BADGES:
        short, meaning = MODE_BADGES[meeting.mode]
        badges.append((str(short), str(short), str(meaning)))
    for key in meeting.types:
        if key in MODE_TYPES or key not in known:
            continue
        label = known[key].label_for(get_language())
        short, _, rest = label.partition(":")
        meaning = rest.strip() or str(CATEGORY_MEANING.get(known[key].category, ""))
        badges.append((short.strip(), label, meaning))
    return badges


def _describe_filters(filters: Filters, query, place_name: str) -> list[str]:
    parts = []
    if query.near is not None:
        parts.append(
            gettext("Within %(km)s km of %(place)s")
            % {"km": f"{query.radius_km:g}", "place": place_name}
        )
    if query.weekdays:
        parts.append(", ".join(str(DAY_LABELS[d]) for d in query.weekdays))
    if filters.when:
        from .views import TIME_OF_DAY

        if filters.when in TIME_OF_DAY:
            after, before, label = TIME_OF_DAY[filters.when]
            parts.append(
                gettext("%(label)s (starting %(after)s–%(before)s)")
                % {"label": label, "after": after, "before": before}
            )
    if query.fellowships:
        names = dict(Fellowship.objects.values_list("code", "name"))
        parts.append(", ".join(gettext(names.get(code, code)) for code in query.fellowships))
    if query.approaches:
        labels = dict(Approach.choices)
        parts.append(", ".join(str(labels[a]) for a in query.approaches))
    known = vocabulary.meeting_types()
    parts += [known[key].label_for(get_language()).partition(":")[0] for key in query.types]
    allowed = query.allowed_modes
    if Mode.IN_PERSON in allowed and Mode.ONLINE in allowed:
        parts.append(gettext("In person and online"))
    elif Mode.IN_PERSON in allowed:
        parts.append(gettext("In person (and hybrid)"))
    elif Mode.ONLINE in allowed:
        parts.append(gettext("Online (and hybrid)"))
    elif allowed:
        parts.append(" or ".join(str(dict(Mode.choices)[m]) for m in sorted(allowed)))
    if query.languages:
        langs = vocabulary.languages()
        names = gettext(" or ").join(langs[c].name_for(get_language()) for c in query.languages)
        parts.append(gettext("In %(languages)s") % {"languages": names})
    if query.text:
        parts.append(gettext("Matching “%(text)s”") % {"text": query.text})
    return parts


def _modes(filters: Filters) -> list[str]:
    if ANY_MODE in filters.modes:
        if len(filters.modes) > 1:
            raise SearchError(f"mode: {ANY_MODE!r} already includes every other mode")
        return [Mode.IN_PERSON, Mode.ONLINE]
    if not filters.modes and (filters.place or filters.near):
        return [Mode.IN_PERSON]
    return filters.modes


def build_booklet(
    filters: Filters,
    *,
    meeting_url: Callable[[Meeting], str],
    site_url: str | None = None,
    now: datetime | None = None,
    limit: int = MAX_MEETINGS,
) -> Booklet:
    """Search as the home page does and arrange the meetings for print. meeting_url gives
    the absolute address each QR code points to. Raises SearchError on bad filters."""
    from .views import TIME_OF_DAY

    if filters.when and filters.when not in TIME_OF_DAY and filters.when != "soon":
        raise SearchError(
            f"when: unknown time of day {filters.when!r} (use {', '.join(TIME_OF_DAY)})"
        )
    start_after, start_before = (
        TIME_OF_DAY[filters.when][:2] if filters.when in TIME_OF_DAY else (None, None)
    )
    query, place = build_query(
        near=filters.near or None,
        place=None if filters.near else filters.place,
        radius_km=filters.radius or None,
        days=filters.days,
        start_after=start_after,
        start_before=start_before,
        types=filters.types,
        fellowships=filters.fellowships,
        approaches=filters.approaches,
        modes=_modes(filters),
        languages=filters.languages,
        text=filters.text,
        now=now.isoformat() if now else None,
        sort="distance" if (filters.near or filters.place) else "week",
        limit=limit,
    )
    results = search(query)
    if place is not None:
        place_name = place.name
    elif query.near is not None:
        place_name = f"{query.near[0]:.4f}, {query.near[1]:.4f}"
    else:
        place_name = ""

    known = vocabulary.meeting_types()
    legend: dict[str, str] = {}
    by_day: dict[int | None, list[Entry]] = {}
    for result in results.results:
        m = result.meeting
        badges = _badges(m, known)
        for short, _label, meaning in badges:
            legend.setdefault(short, meaning)
        url = meeting_url(m)
        by_day.setdefault(m.weekday, []).append(
            Entry(
                meeting=m,
                url=url,
                qr_svg=qr.qr_svg(url),
                distance_km=result.distance_km,
                badges=[short for short, _, _ in badges],
            )
        )
    days = []
    for weekday in [*range(7), None]:
        entries = by_day.get(weekday)
        if not entries:
            continue
        entries.sort(
            key=lambda e: (e.meeting.start_time is None, e.meeting.start_time, e.meeting.name)
        )
        name = str(DAY_LABELS[weekday]) if weekday is not None else gettext("By appointment")
        days.append(DayGroup(name, entries))

    title = gettext("Where to find mutual aid meetings")
    if place_name:
        title = gettext("Where to find mutual aid meetings near %(place)s") % {"place": place_name}
    produced = (now or dj_timezone.now()).astimezone(dj_timezone.get_current_timezone()).date()
    return Booklet(
        title=title,
        place_name=place_name,
        produced=produced,
        count=results.count,
        shown=len(results.results),
        nearest_kept=query.near is not None,
        days=days,
        legend=sorted(legend.items(), key=lambda item: item[0].lower()),
        filters_text=_describe_filters(filters, query, place_name),
        site_url=(site_url or settings.SITE_URL).rstrip("/"),
    )


STYLESHEET = "mutualaid/print.css"


def booklet_html(booklet: Booklet, *, stylesheet: str | None = None) -> str:
    """The booklet as HTML. Its CSS is a static file (the Content-Security-Policy allows no
    inline styles): linked by its static URL for a browser, by a file: URI for WeasyPrint."""
    if stylesheet is None:
        from django.templatetags.static import static

        stylesheet = static(STYLESHEET)
    return render_to_string(
        "directory/print.html",
        {"b": booklet, "max_meetings": MAX_MEETINGS, "stylesheet": stylesheet},
    )


def booklet_pdf(booklet: Booklet) -> pdf.RenderedPDF:
    from pathlib import Path

    from django.contrib.staticfiles import finders

    stylesheet = Path(finders.find(STYLESHEET)).as_uri()
    return pdf.render_pdf(
        booklet_html(booklet, stylesheet=stylesheet), base_url=booklet.site_url, title=booklet.title
    )


def site_meeting_url(site_url: str | None = None) -> Callable[[Meeting], str]:
    """Meeting page addresses under settings.SITE_URL (for the command line)."""
    base = (site_url or settings.SITE_URL).rstrip("/")
    return lambda meeting: base + meeting.get_absolute_url()
