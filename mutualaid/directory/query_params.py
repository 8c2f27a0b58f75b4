"""Turning what a person typed (CLI flags, a web form, API parameters) into a SearchQuery.

Every error names the parameter and the reason, and suggests the valid values.
"""

from __future__ import annotations

import difflib
from datetime import datetime

from django.utils.translation import gettext

from mutualaid.lib import geo, schedule, vocabulary

from .models import Approach, Fellowship, Mode
from .search import DEFAULT_RADIUS_KM, SearchError, SearchQuery

MODE_ALIASES = {
    "in_person": Mode.IN_PERSON,
    "in-person": Mode.IN_PERSON,
    "inperson": Mode.IN_PERSON,
    "online": Mode.ONLINE,
    "hybrid": Mode.HYBRID,
    "inactive": Mode.INACTIVE,
    "temporarily_closed": Mode.INACTIVE,
}


def _fail(param: str, reason: str) -> SearchError:
    return SearchError(f"{param}: {reason}")


def parse_fellowships(codes) -> tuple[str, ...]:
    if not codes:
        return ()
    known = {code.upper(): code for code in Fellowship.objects.values_list("code", flat=True)}
    result = []
    for raw in codes:
        code = known.get(raw.strip().upper())
        if code is None:
            close = difflib.get_close_matches(raw.strip().upper(), list(known), n=3, cutoff=0.5)
            hint = (
                f" (did you mean {', '.join(close)}?)"
                if close
                else f" (known: {', '.join(sorted(known))})"
            )
            raise _fail("fellowship", f"unknown fellowship code {raw!r}{hint}")
        result.append(code)
    return tuple(result)


def parse_now(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _fail(
            "now", f"expected ISO 8601 such as 2026-03-29T18:00:00+01:00, got {text!r}"
        ) from None
    if value.tzinfo is None:
        raise _fail("now", f"{text!r} needs a UTC offset, e.g. +00:00")
    return value


def build_query(
    *,
    near: str | None = None,
    place: str | None = None,
    radius_km: str | float | None = None,
    days=(),
    start_after: str | None = None,
    start_before: str | None = None,
    types=(),
    fellowships=(),
    approaches=(),
    modes=(),
    languages=(),
    text: str = "",
    upcoming: bool = False,
    now: str | None = None,
    viewer_timezone: str | None = None,
    sort: str | None = None,
    limit: str | int = 50,
    offset: str | int = 0,
    organisation_ids=(),
) -> tuple[SearchQuery, object | None]:
    """Returns the query and the resolved place (or None)."""
    for name, value in (("near", near), ("place", place), ("text", text)):
        if isinstance(value, str) and "\x00" in value:  # PostgreSQL refuses NUL in text
            raise _fail(name, "must not contain NUL characters")
    point, resolved_place = None, None
    if near and place:
        raise _fail("near", "give either a point or a place name, not both")
    if near:
        try:
            point = geo.parse_point(near)
        except ValueError as exc:
            raise _fail("near", str(exc)) from None
    elif place and place.strip():
        from .places import resolve_place

        try:
            resolved_place = resolve_place(place)
        except ValueError as exc:
            raise _fail("place", str(exc)) from None
        point = (resolved_place.lat, resolved_place.lng)
    radius = DEFAULT_RADIUS_KM
    if radius_km not in (None, ""):
        try:
            radius = float(radius_km)
        except (TypeError, ValueError):
            raise _fail(
                "radius",
                gettext("expected a number of km, got %(value)r") % {"value": radius_km},
            ) from None
        try:
            geo.validate_radius(radius)
        except ValueError as exc:
            raise _fail("radius", str(exc)) from None
    try:
        weekdays = tuple(schedule.parse_day(d) for d in days if d)
    except ValueError as exc:
        raise _fail("day", str(exc)) from None
    times = {}
    for name, value in (("start_after", start_after), ("start_before", start_before)):
        try:
            times[name] = schedule.parse_hhmm(value) if value else None
        except ValueError as exc:
            raise _fail(name.replace("_", "-"), str(exc)) from None
    try:
        type_keys = tuple(vocabulary.resolve_type(t).key for t in types if t)
        language_codes = tuple(vocabulary.resolve_language(code).code for code in languages if code)
    except ValueError as exc:
        raise _fail("type" if "type" in str(exc) else "language", str(exc)) from None
    mode_values = []
    for raw in modes:
        mode = MODE_ALIASES.get(raw.strip().lower())
        if mode is None:
            raise _fail("mode", f"unknown mode {raw!r} (use in_person, online, hybrid or inactive)")
        mode_values.append(mode.value)
    for approach in approaches:
        if approach not in Approach.values:
            raise _fail(
                "approach", f"unknown approach {approach!r} (use {', '.join(Approach.values)})"
            )
    try:
        limit_n, offset_n = int(limit), int(offset)
    except (TypeError, ValueError):
        raise _fail("limit", "limit and offset must be whole numbers") from None
    query = SearchQuery(
        near=point,
        radius_km=radius,
        weekdays=weekdays,
        start_after=times["start_after"],
        start_before=times["start_before"],
        types=type_keys,
        fellowships=parse_fellowships(fellowships),
        approaches=tuple(approaches),
        modes=tuple(mode_values) or SearchQuery.modes,
        languages=language_codes,
        text=(text or "").strip()[:200],
        upcoming=bool(upcoming),
        now=parse_now(now),
        viewer_timezone=viewer_timezone or None,
        sort=sort or None,
        limit=limit_n,
        offset=offset_n,
        organisation_ids=tuple(organisation_ids),
    )
    return query, resolved_place
