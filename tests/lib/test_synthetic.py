"""The synthetic meeting generator: deterministic, valid, and shaped like UK directories."""

import re
from collections import Counter, defaultdict
from datetime import time

import pytest

from mutualaid.directory.fellowships import FELLOWSHIPS
from mutualaid.lib import geo, schedule, synthetic, vocabulary

N = 20_000
POSTCODE = re.compile(r"([A-Z]{1,2}[0-9][A-Z0-9]?) [0-9][ABD-HJLNP-UW-Z]{2}")
MIN_LAT, MAX_LAT, MIN_LNG, MAX_LNG = synthetic.UK_BOUNDS


@pytest.fixture(scope="module")
def meetings():
    return list(synthetic.generate_meetings(N, seed=20261128))


def share(rows, predicate) -> float:
    return sum(1 for r in rows if predicate(r)) / len(rows)


def test_same_seed_same_meetings_and_another_seed_others():
    first = list(synthetic.generate_meetings(300, seed=7))
    assert first == list(synthetic.generate_meetings(300, seed=7))
    other = list(synthetic.generate_meetings(300, seed=8))
    assert [m["slug"] for m in first] != [m["slug"] for m in other]
    assert [m["latitude"] for m in first] != [m["latitude"] for m in other]


def test_every_value_is_one_the_model_accepts(meetings):
    known_types = vocabulary.meeting_types()
    known_languages = vocabulary.languages()
    fellowship_codes = {row[0] for row in FELLOWSHIPS}
    slugs = set()
    for m in meetings:
        assert m["fellowship_code"] in fellowship_codes
        assert m["weekday"] in range(7)
        assert isinstance(m["start_time"], time) and m["start_time"].minute in (0, 15, 30)
        schedule.zone(m["timezone"])
        recurrence = schedule.Recurrence(
            m["frequency"], nth=m["month_week"], anchor=m["series_anchor"]
        )
        if m["frequency"] == schedule.FORTNIGHTLY:
            assert m["series_anchor"].weekday() == m["weekday"]
            assert recurrence.occurs_on(m["series_anchor"])
        assert 30 <= m["duration_minutes"] <= 180
        assert set(m["types"]) <= set(known_types), m["types"]
        assert not {"open", "closed"} <= set(m["types"])
        assert not {"women", "men"} <= set(m["types"])
        assert m["languages"] and set(m["languages"]) <= set(known_languages)
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", m["slug"]) and len(m["slug"]) <= 220
        assert len(m["name"]) <= 200 and m["name"]
        slugs.add(m["slug"])
        if m["mode"] == "online":
            assert m["latitude"] is None and m["longitude"] is None
            assert m["conference_url"].startswith("https://")
            assert not m["postcode"]
        else:
            assert MIN_LAT <= m["latitude"] <= MAX_LAT and MIN_LNG <= m["longitude"] <= MAX_LNG
            assert m["city"] and m["location_name"] and m["street_address"]
            assert POSTCODE.fullmatch(m["postcode"]), m["postcode"]
        if m["mode"] == "hybrid":
            assert m["conference_url"]
        if m["conference_phone"]:
            # Ofcom's drama range: a number that rings no one.
            assert m["conference_phone"].startswith("+44 20 7946 0")
    assert len(slugs) == N


def test_fellowships_modes_and_schedules_are_shaped_like_uk_listings(meetings):
    fellowship = Counter(m["fellowship_code"] for m in meetings)
    for code, low, high in [
        ("AA", 0.40, 0.49),
        ("NA", 0.17, 0.23),
        ("CA", 0.05, 0.09),
        ("SMART", 0.06, 0.10),
        ("ALANON", 0.06, 0.10),
        ("GA", 0.025, 0.055),
    ]:
        assert low <= fellowship[code] / N <= high, (code, fellowship[code] / N)
    assert len(fellowship) >= 15  # the small fellowships appear too

    mode = Counter(m["mode"] for m in meetings)
    for name, low, high in [
        ("in_person", 0.72, 0.78),
        ("online", 0.10, 0.14),
        ("hybrid", 0.08, 0.12),
        ("inactive", 0.02, 0.04),
    ]:
        assert low <= mode[name] / N <= high, (name, mode[name] / N)

    assert 0.91 <= share(meetings, lambda m: m["frequency"] == "weekly") <= 0.96
    assert 0.02 <= share(meetings, lambda m: m["frequency"] == "fortnightly") <= 0.04
    monthly = [m for m in meetings if m["frequency"] == "monthly"]
    assert 0.02 <= len(monthly) / N <= 0.04
    assert {m["month_week"] for m in monthly} == {1, 2, 3, 4, -1}

    evening = share(meetings, lambda m: time(18) <= m["start_time"] <= time(20, 30))
    assert 0.60 <= evening <= 0.80
    assert 0.05 <= share(meetings, lambda m: time(12) <= m["start_time"] <= time(13, 30)) <= 0.15
    assert share(meetings, lambda m: m["start_time"] < time(11, 1)) >= 0.08
    assert share(meetings, lambda m: m["start_time"] >= time(21)) >= 0.01
    assert len({m["weekday"] for m in meetings}) == 7


def test_types_and_languages_have_believable_shares(meetings):
    def has(key):
        return share(meetings, lambda m: key in m["types"])

    assert 0.055 <= has("women") <= 0.075
    assert 0.03 <= has("men") <= 0.05
    assert 0.02 <= has("lgbtq") <= 0.04
    assert 0.3 <= has("open") <= 0.5 and 0.4 <= has("closed") <= 0.6
    located = [m for m in meetings if m["latitude"] is not None]
    assert 0.35 <= share(located, lambda m: "wheelchair" in m["types"]) <= 0.45
    secular = [m for m in meetings if m["fellowship_code"] in ("SMART", "LIFERING", "RD")]
    assert secular and all("secular" in m["types"] for m in secular)
    assert not any("secular" in m["types"] for m in meetings if m["fellowship_code"] == "AA")
    assert 0.90 <= share(meetings, lambda m: m["languages"] == ["en"]) <= 0.97
    other = Counter(code for m in meetings for code in m["languages"] if code != "en")
    assert {"pl", "cy", "pa", "ur", "es"} <= set(other)
    assert 0.1 <= share(meetings, lambda m: bool(m["notes"])) <= 0.35


def test_meetings_cluster_around_real_towns(meetings):
    located = [m for m in meetings if m["latitude"] is not None]
    by_city = Counter(m["city"] for m in located)
    # Weighted by population: London leads, and the big cities are all there.
    assert by_city.most_common(1)[0][0] == "London"
    assert {"Birmingham", "Manchester", "Leeds", "Glasgow", "Brighton"} <= set(by_city)
    brighton = [m for m in located if m["city"] == "Brighton"]
    distances = sorted(
        geo.haversine_km(50.8284, -0.1395, m["latitude"], m["longitude"]) for m in brighton
    )
    assert distances[len(distances) // 2] < 5  # median within a few km of the centre
    assert distances[-1] < 15


def test_an_outward_code_belongs_to_one_town_and_one_area(meetings):
    towns_by_outward = defaultdict(set)
    for m in meetings:
        if m["postcode"]:
            towns_by_outward[m["postcode"].split()[0]].add(m["city"])
    assert len(towns_by_outward) > 300
    shared = {code: towns for code, towns in towns_by_outward.items() if len(towns) > 1}
    assert not shared
    brighton = {code for code, towns in towns_by_outward.items() if towns == {"Brighton"}}
    assert brighton and all(code.startswith("BN") for code in brighton)
    assert all(
        re.fullmatch(r"(N|E|SE|SW|W|NW|WC|EC)[0-9]+", code)
        for code, towns in towns_by_outward.items()
        if towns == {"London"}
    )


def test_towns_can_be_chosen_by_name_or_count():
    rows = list(synthetic.generate_meetings(400, seed=1, towns=["Brighton", "Hove"]))
    assert {m["city"] for m in rows if m["city"]} == {"Brighton", "Hove"}
    largest = {t.city for t in synthetic.select_towns(3)}
    assert largest == {"London", "Birmingham", "Glasgow"}
    with pytest.raises(ValueError, match="atlantis"):
        synthetic.select_towns(["Brighton", "Atlantis"])
