"""Local provision from the directory: what meets in an area, when, for whom, how far
people are from it, and which listings nobody has checked for a long time.

Public listings only (plus meetings restricted to the services of the area when asked):
these figures are about meetings, not people, so they are not suppressed.

- meetings per week: weekly 1, fortnightly 1/2, monthly 12/52; "by appointment" 0;
- in the area: in person or hybrid, with a location within the area's radius of its centre;
  online meetings are counted on their own (anyone anywhere can join them);
- grid: cells of GRID_KM inside the area's circle; for each, the distance to the nearest
  meeting, and which fellowships and approaches have a meeting within reach (settings.
  INSIGHTS_REACH_KM, 10 km by default): the choice index;
- gaps: the share of cells (and the named places, towns of 5,000+ people from the offline
  gazetteer) with no women-only meeting within reach, no evening (from 17:00) secular meeting
  within reach, no Sunday meeting within reach, and nothing at all within the area's N km.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mutualaid.directory.models import Approach, Fellowship, Frequency, Meeting, Mode
from mutualaid.lib import geo, schedule

from .models import Area

GRID_KM = 1.0
MAX_GRID_CELLS = 4000  # a 35 km radius at 1 km; wider areas get coarser cells
EVENING_FROM = 17 * 60
DAY_LABELS = [str(d[:3]) for d in schedule.DAY_NAMES]
HOURS = list(range(6, 24))
TYPE_ROWS = [
    ("women", _("Women only")),
    ("men", _("Men only")),
    ("lgbtq", _("LGBTQ+")),
    ("young_people", _("Young people")),
    ("newcomer", _("Newcomers especially welcome")),
    ("secular", _("Secular")),
    ("wheelchair", _("Wheelchair access")),
    ("child_friendly", _("Children welcome")),
    ("dual_diagnosis", _("Dual diagnosis")),
]
NEEDS = [
    ("women", _("A women-only meeting within reach")),
    ("evening_secular", _("An evening secular meeting (from 17:00) within reach")),
    ("sunday", _("A Sunday meeting within reach")),
    ("any", _("Any meeting within the gap distance N")),
]


class AreaUnknown(ValueError):
    """The area has no stored centre and its name is not a place we know."""


def area_named(name: str) -> Area:
    """The stored Area, or one made from the name through the offline gazetteer ("Brighton
    and Hove" is tried whole, then as "Brighton"). AreaUnknown says what to do otherwise."""
    name = name.strip()
    found = Area.objects.filter(name__iexact=name).first()
    if found is not None:
        return found
    from mutualaid.directory.places import UnknownPlace, resolve_place

    for candidate in [name, *name.replace(" & ", " and ").split(" and ")]:
        try:
            place = resolve_place(candidate.strip())
        except UnknownPlace:
            continue
        area, _created = Area.objects.get_or_create(
            name=name, defaults={"latitude": place.lat, "longitude": place.lng}
        )
        return area
    raise AreaUnknown(
        _(
            "The area “%(name)s” has no centre on the map yet. An administrator can add it "
            "under Insights → Areas in the admin."
        )
        % {"name": name}
    )


def per_week(frequency: str) -> float:
    return {Frequency.WEEKLY: 1.0, Frequency.FORTNIGHTLY: 0.5, Frequency.MONTHLY: 12 / 52}.get(
        frequency, 1.0
    )


@dataclass
class Listed:
    """What the analysis needs of one meeting."""

    id: int
    name: str
    fellowship: str
    approach: str
    weekday: int | None
    start_minute: int | None
    rate: float
    mode: str
    types: frozenset[str]
    lat: float | None
    lng: float | None
    km: float | None  # from the area's centre
    last_checked: datetime | None

    @property
    def in_person(self) -> bool:
        return self.mode in (Mode.IN_PERSON, Mode.HYBRID) and self.lat is not None

    @property
    def secular(self) -> bool:
        return self.approach == Approach.SECULAR or "secular" in self.types


@dataclass
class Provision:
    area: Area
    reach_km: float
    local: list[Listed]  # in person / hybrid within the radius
    nearby: list[Listed]  # in person / hybrid within radius + reach (for the grid)
    online_per_week: float
    closed: int  # temporarily closed, in the area
    fellowship_names: dict[str, str]
    now: datetime
    grid: Grid | None = None
    stale: list[Listed] = field(default_factory=list)

    # --- meetings per week ---------------------------------------------------------------
    def per_week_by(self, key) -> dict[str, float]:
        out: dict[str, float] = {}
        for m in self.local:
            for k in key(m):
                out[k] = out.get(k, 0.0) + m.rate
        return {k: round(v, 2) for k, v in sorted(out.items(), key=lambda kv: (-kv[1], kv[0]))}

    @property
    def total_per_week(self) -> float:
        return round(sum(m.rate for m in self.local), 2)

    def by_fellowship(self) -> dict[str, float]:
        return self.per_week_by(lambda m: [m.fellowship])

    def by_approach(self) -> dict[str, float]:
        labels = dict(Approach.choices)
        return self.per_week_by(lambda m: [str(labels.get(m.approach, m.approach))])

    def by_type(self) -> list[tuple[str, float]]:
        out = []
        for key, label in TYPE_ROWS:
            if key == "secular":
                rate = sum(m.rate for m in self.local if m.secular)
            else:
                rate = sum(m.rate for m in self.local if key in m.types)
            out.append((str(label), round(rate, 2)))
        return out

    def by_mode(self) -> list[tuple[str, float]]:
        labels = dict(Mode.choices)
        in_person = sum(m.rate for m in self.local if m.mode == Mode.IN_PERSON)
        hybrid = sum(m.rate for m in self.local if m.mode == Mode.HYBRID)
        return [
            (str(labels[Mode.IN_PERSON]), round(in_person, 2)),
            (str(labels[Mode.HYBRID]), round(hybrid, 2)),
            (str(_("Online (anywhere)")), round(self.online_per_week, 2)),
        ]

    def heatmap(self) -> list[list[float]]:
        """weekday (Monday first) × HOURS: meetings per week starting in that hour."""
        grid = [[0.0 for _h in HOURS] for _d in range(7)]
        for m in self.local:
            if m.weekday is None or m.start_minute is None:
                continue
            hour = m.start_minute // 60
            if hour < HOURS[0]:
                hour = HOURS[0]
            grid[m.weekday][HOURS.index(min(hour, HOURS[-1]))] += m.rate
        return [[round(v, 2) for v in row] for row in grid]

    def counts(self) -> dict[str, float]:
        evening_secular = sum(
            m.rate
            for m in self.local
            if m.secular and m.start_minute is not None and m.start_minute >= EVENING_FROM
        )
        return {
            "women": round(sum(m.rate for m in self.local if "women" in m.types), 2),
            "evening_secular": round(evening_secular, 2),
            "sunday": round(sum(m.rate for m in self.local if m.weekday == 6), 2),
            "any": self.total_per_week,
        }


@dataclass
class Grid:
    lats: list[float]
    lngs: list[float]
    inside: np.ndarray  # bool [lat, lng]: cell centre within the area's circle
    nearest_km: np.ndarray  # distance to the nearest in-person meeting (inf: none)
    fellowships: np.ndarray  # int: different fellowships within reach
    approaches: np.ndarray  # int: different approaches within reach
    lacks: dict[str, np.ndarray]  # need -> bool: no such meeting within reach
    places: list[Place]  # named places inside the area
    centre_fellowships: int
    centre_approaches: int
    gap_km: float

    @property
    def cells(self) -> int:
        return int(self.inside.sum())

    def share_lacking(self, need: str) -> float:
        if not self.cells:
            return 0.0
        return round(100.0 * float((self.lacks[need] & self.inside).sum()) / self.cells, 1)

    def places_lacking(self, need: str) -> list[str]:
        return [p.name for p in self.places if need in p.lacks]

    def choice_histogram(self) -> dict[int, int]:
        values = self.fellowships[self.inside]
        top = int(values.max()) if values.size else 0
        return {k: int((values == k).sum()) for k in range(top + 1)}

    def median_choice(self) -> tuple[float, float]:
        if not self.cells:
            return 0.0, 0.0
        return (
            float(np.median(self.fellowships[self.inside])),
            float(np.median(self.approaches[self.inside])),
        )

    def distance_rows(self) -> list[list[float]]:
        """nearest_km with cells outside the circle as NaN (not drawn), inf capped."""
        rows = np.where(self.inside, np.minimum(self.nearest_km, 999.0), np.nan)
        return rows.tolist()


@dataclass
class Place:
    name: str
    lat: float
    lng: float
    population: int
    nearest_km: float
    fellowships: int
    approaches: int
    lacks: set[str]


def _listed(rows, centre, fellowships) -> list[Listed]:
    out = []
    for row in rows:
        (pk, name, code, weekday, start, freq, mode, types, lat, lng, verified, fed) = row
        km = (
            geo.haversine_km(centre[0], centre[1], lat, lng)
            if lat is not None and lng is not None
            else None
        )
        stamps = [t for t in (verified, fed) if t]
        out.append(
            Listed(
                id=pk,
                name=name,
                fellowship=code,
                approach=fellowships.get(code, ("", ""))[1],
                weekday=weekday,
                start_minute=start,
                rate=per_week(freq) if weekday is not None else 0.0,
                mode=mode,
                types=frozenset(t for t in (types or "").split(",") if t),
                lat=lat,
                lng=lng,
                km=km,
                last_checked=max(stamps) if stamps else None,
            )
        )
    return out


_FIELDS = (
    "pk", "name", "fellowship__code", "weekday", "start_minute", "frequency", "mode",
    "type_codes", "latitude", "longitude", "last_verified_at", "feed_updated_at",
)  # fmt: skip


def provision(
    area: Area,
    *,
    organisation_ids=(),
    now: datetime | None = None,
    reach_km: float | None = None,
    with_grid: bool = True,
) -> Provision:
    """The area's meetings and, with_grid, the coverage grid and the named places."""
    now = now or timezone.now()
    reach = float(reach_km if reach_km is not None else settings.INSIGHTS_REACH_KM)
    centre = (area.latitude, area.longitude)
    fellowships = {
        code: (name, approach)
        for code, name, approach in Fellowship.objects.values_list("code", "name", "approach")
    }
    listed = Meeting.objects.listed().visible_to(organisation_ids)
    outer = area.radius_km + max(reach, area.gap_km)
    boxes = Q()
    for lat_lo, lat_hi, lng_lo, lng_hi in geo.bounding_boxes(*centre, outer):
        boxes |= Q(
            latitude__gte=lat_lo, latitude__lte=lat_hi, longitude__gte=lng_lo, longitude__lte=lng_hi
        )
    around = _listed(
        listed.filter(boxes).exclude(mode=Mode.ONLINE).values_list(*_FIELDS), centre, fellowships
    )
    nearby = [m for m in around if m.km is not None and m.km <= outer and m.mode != Mode.INACTIVE]
    local = [m for m in nearby if m.km <= area.radius_km]
    closed = sum(
        1 for m in around if m.km is not None and m.km <= area.radius_km and m.mode == Mode.INACTIVE
    )
    online = sum(
        per_week(freq)
        for freq in listed.filter(mode=Mode.ONLINE, weekday__isnull=False).values_list(
            "frequency", flat=True
        )
    )
    stale_after = timedelta(days=30.44 * settings.STALE_AFTER_MONTHS)
    stale = sorted(
        (
            m
            for m in around
            if m.km is not None
            and m.km <= area.radius_km
            and (m.last_checked is None or now - m.last_checked > stale_after)
        ),
        key=lambda m: (m.last_checked is not None, m.last_checked or now, m.name),
    )
    result = Provision(
        area=area,
        reach_km=reach,
        local=local,
        nearby=nearby,
        online_per_week=round(online, 2),
        closed=closed,
        fellowship_names={code: name for code, (name, _a) in fellowships.items()},
        now=now,
        stale=stale,
    )
    if with_grid:
        result.grid = coverage(area, nearby, reach_km=reach)
    return result


def _km_grid(area: Area) -> tuple[list[float], list[float]]:
    radius = area.radius_km
    step = max(GRID_KM, 2 * radius / math.sqrt(MAX_GRID_CELLS))
    n = int(math.ceil(2 * radius / step)) + 1
    lat0, lng0 = area.latitude, area.longitude
    dlat = step / geo.EARTH_RADIUS_KM * 180 / math.pi
    dlng = dlat / max(0.05, math.cos(math.radians(lat0)))
    half = (n - 1) / 2
    lats = [lat0 + (i - half) * dlat for i in range(n)]
    lngs = [lng0 + (j - half) * dlng for j in range(n)]
    return lats, lngs


def _haversine(lat1, lng1, lat2, lng2):
    """Broadcasting haversine in km (numpy arrays, degrees)."""
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dphi = p2 - p1
    dl = np.radians(lng2 - lng1)
    a = np.sin(dphi / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 2 * geo.EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))


def _evaluate(points_lat, points_lng, meetings: list[Listed], reach: float, gap_km: float):
    """For each point: nearest meeting km, fellowships and approaches within reach, lacks."""
    shape = points_lat.shape
    flat_lat, flat_lng = points_lat.ravel(), points_lng.ravel()
    if not meetings:
        inf = np.full(flat_lat.shape, np.inf)
        zero = np.zeros(flat_lat.shape, dtype=int)
        lacks = {key: np.ones(flat_lat.shape, dtype=bool) for key, _l in NEEDS}
        return (
            inf.reshape(shape),
            zero.reshape(shape),
            zero.reshape(shape),
            {k: v.reshape(shape) for k, v in lacks.items()},
        )
    m_lat = np.array([m.lat for m in meetings])
    m_lng = np.array([m.lng for m in meetings])
    dist = _haversine(flat_lat[:, None], flat_lng[:, None], m_lat[None, :], m_lng[None, :])
    within = dist <= reach
    nearest = dist.min(axis=1)
    codes = sorted({m.fellowship for m in meetings})
    approaches = sorted({m.approach for m in meetings})
    f_index = np.array([codes.index(m.fellowship) for m in meetings])
    a_index = np.array([approaches.index(m.approach) for m in meetings])
    f_count = np.zeros(flat_lat.shape, dtype=int)
    for k in range(len(codes)):
        f_count += (within[:, f_index == k]).any(axis=1)
    a_count = np.zeros(flat_lat.shape, dtype=int)
    for k in range(len(approaches)):
        a_count += (within[:, a_index == k]).any(axis=1)

    def lacking(mask) -> np.ndarray:
        mask = np.array(mask, dtype=bool)
        if not mask.any():
            return np.ones(flat_lat.shape, dtype=bool)
        return ~within[:, mask].any(axis=1)

    lacks = {
        "women": lacking(["women" in m.types for m in meetings]),
        "evening_secular": lacking(
            [
                m.secular and m.start_minute is not None and m.start_minute >= EVENING_FROM
                for m in meetings
            ]
        ),
        "sunday": lacking([m.weekday == 6 for m in meetings]),
        "any": nearest > gap_km,
    }
    return (
        nearest.reshape(shape),
        f_count.reshape(shape),
        a_count.reshape(shape),
        {k: v.reshape(shape) for k, v in lacks.items()},
    )


def coverage(area: Area, meetings: list[Listed], *, reach_km: float) -> Grid:
    lats, lngs = _km_grid(area)
    lat_m, lng_m = np.meshgrid(np.array(lats), np.array(lngs), indexing="ij")
    inside = _haversine(area.latitude, area.longitude, lat_m, lng_m) <= area.radius_km
    nearest, f_count, a_count, lacks = _evaluate(lat_m, lng_m, meetings, reach_km, area.gap_km)
    centre = _evaluate(
        np.array([area.latitude]), np.array([area.longitude]), meetings, reach_km, area.gap_km
    )
    return Grid(
        lats=lats,
        lngs=lngs,
        inside=inside,
        nearest_km=nearest,
        fellowships=f_count,
        approaches=a_count,
        lacks=lacks,
        places=named_places(area, meetings, reach_km=reach_km),
        centre_fellowships=int(centre[1][0]),
        centre_approaches=int(centre[2][0]),
        gap_km=area.gap_km,
    )


def named_places(area: Area, meetings: list[Listed], *, reach_km: float) -> list[Place]:
    """Towns and villages (5,000+ people, offline gazetteer) inside the area's circle."""
    from mutualaid.directory.places import gazetteer

    gaz = gazetteer()
    lats = np.frombuffer(gaz.lats, dtype=float)
    lngs = np.frombuffer(gaz.lngs, dtype=float)
    box = geo.bounding_boxes(area.latitude, area.longitude, area.radius_km)[0]
    candidates = np.nonzero(
        (lats >= box[0]) & (lats <= box[1]) & (lngs >= box[2]) & (lngs <= box[3])
    )[0]
    picked = [
        int(i)
        for i in candidates
        if geo.haversine_km(area.latitude, area.longitude, lats[i], lngs[i]) <= area.radius_km
    ]
    if not picked:
        return []
    p_lat, p_lng = lats[picked], lngs[picked]
    nearest, f_count, a_count, lacks = _evaluate(p_lat, p_lng, meetings, reach_km, area.gap_km)
    places = []
    for k, i in enumerate(picked):
        places.append(
            Place(
                name=gaz.names[i],
                lat=float(lats[i]),
                lng=float(lngs[i]),
                population=int(gaz.populations[i]),
                nearest_km=round(float(nearest[k]), 1),
                fellowships=int(f_count[k]),
                approaches=int(a_count[k]),
                lacks={need for need, mask in lacks.items() if bool(mask[k])},
            )
        )
    places.sort(key=lambda p: (-p.population, p.name))
    return places
