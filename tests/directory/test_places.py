"""Place names and postcodes resolve offline: meetings' postcodes and towns, then GeoNames."""

import time

import pytest
from django.test import override_settings

from mutualaid.directory.places import (
    Place,
    UnknownPlace,
    gazetteer,
    normalise_postcode,
    parse_postcode,
    resolve_place,
)
from mutualaid.lib import geo
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def km_from(place: Place, lat: float, lng: float) -> float:
    return geo.haversine_km(place.lat, place.lng, lat, lng)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sw1a1aa", ("SW1A", "1AA")),
        (" SW1A  1AA ", ("SW1A", "1AA")),
        ("bn1", ("BN1", None)),
        ("M1 1AE", ("M1", "1AE")),
        ("Brighton", None),
        ("12345", None),
    ],
)
def test_parse_postcode(text, expected):
    assert parse_postcode(text) == expected


def test_normalise_postcode():
    assert normalise_postcode("sw1a1aa") == "SW1A 1AA"
    assert normalise_postcode("ec1a 1bb") == "EC1A 1BB"
    assert normalise_postcode("not a postcode") == "not a postcode"


def test_full_postcode_of_a_listed_meeting():
    make_meeting(postcode="BN1 1AA", latitude=50.8225, longitude=-0.1372, city="Brighton")
    make_meeting(postcode="bn11aa", latitude=50.8235, longitude=-0.1382, city="Brighton")
    place = resolve_place("bn1  1aa")
    assert place.kind == "postcode" and place.name == "BN1 1AA"
    assert place.lat == pytest.approx(50.823) and place.lng == pytest.approx(-0.1377)


def test_outward_code_is_the_centre_of_its_meetings():
    make_meeting(postcode="BN1 1AA", latitude=50.82, longitude=-0.14)
    make_meeting(postcode="BN1 4GH", latitude=50.84, longitude=-0.12)
    make_meeting(postcode="BN10 7QQ", latitude=50.79, longitude=0.00)  # not BN1
    make_meeting(postcode="bn1", latitude=50.83, longitude=-0.13)  # an outward code alone
    place = resolve_place("bn1")
    assert place.kind == "outward_code" and place.name == "BN1"
    assert (place.lat, place.lng) == (pytest.approx(50.83), pytest.approx(-0.13))
    # A full postcode no meeting has falls back to its outward code.
    fallback = resolve_place("BN1 9ZZ")
    assert fallback.kind == "outward_code" and fallback.lat == pytest.approx(50.83)
    assert "BN1 9ZZ" in fallback.detail


def test_only_listed_public_located_meetings_count():
    make_meeting(postcode="BN2 1AA", latitude=50.82, longitude=-0.10, status="removed")
    make_meeting(postcode="BN2 1AB", latitude=None, longitude=None, mode="online")
    with pytest.raises(UnknownPlace, match="BN2"):
        resolve_place("BN2")
    with pytest.raises(UnknownPlace):
        resolve_place("BN2 1AA")


def test_town_of_listed_meetings_wins_over_the_gazetteer():
    # Off the GeoNames centre on purpose, so the source is visible in the answer.
    make_meeting(city="Brighton", latitude=50.80, longitude=-0.10)
    make_meeting(city="BRIGHTON", latitude=50.82, longitude=-0.12)
    make_meeting(city="Brighton", latitude=50.0, longitude=-3.0, status="removed")
    place = resolve_place("brighton")
    assert place.kind == "town" and place.name in {"Brighton", "BRIGHTON"}
    assert (place.lat, place.lng) == (pytest.approx(50.81), pytest.approx(-0.11))


def test_a_name_several_towns_share_resolves_to_the_one_with_most_meetings():
    for i in range(5):  # Newport, Wales
        make_meeting(city="Newport", latitude=51.58 + i * 0.01, longitude=-3.00)
    for i in range(2):  # Newport, Isle of Wight: averaging would land in Wiltshire
        make_meeting(city="Newport", latitude=50.70, longitude=-1.29 + i * 0.01)
    place = resolve_place("Newport")
    assert place.kind == "town" and "5 of the 7" in place.detail
    assert km_from(place, 51.60, -3.00) < 1


def test_town_only_the_meetings_know():
    make_meeting(city="Little Snoring", latitude=52.86, longitude=0.90)
    place = resolve_place("little snoring")
    assert place.kind == "town" and km_from(place, 52.86, 0.90) < 0.01
    make_meeting(city="Pontypŵl", latitude=51.70, longitude=-3.04)
    assert km_from(resolve_place("pontypŵl"), 51.70, -3.04) < 0.01


def test_gazetteer_town():
    place = resolve_place("Brighton")
    assert place.kind == "gazetteer" and place.name == "Brighton"
    assert km_from(place, 50.83, -0.14) < 5
    # Case, accents, hyphens and "Saint" do not matter.
    assert km_from(resolve_place("stoke on trent"), 53.00, -2.18) < 5
    assert km_from(resolve_place("Saint Albans"), 51.75, -0.34) < 5
    assert km_from(resolve_place("zurich"), 47.37, 8.54) < 5
    # Alternate names, and the larger place in the preferred country.
    assert km_from(resolve_place("Newcastle"), 54.97, -1.61) < 5
    assert km_from(resolve_place("Hull"), 53.74, -0.33) < 5


def test_country_suffix_and_preferred_countries_settle_ambiguous_names():
    assert km_from(resolve_place("Portland"), 50.57, -2.44) < 10  # Dorset
    oregon = resolve_place("Portland, US")
    assert km_from(oregon, 45.52, -122.68) < 10 and oregon.name == "Portland, US"
    assert km_from(resolve_place("Portland, United States"), 45.52, -122.68) < 10
    assert km_from(resolve_place("Richmond, US"), 37.55, -77.46) < 10  # the largest
    assert resolve_place("Richmond, GB").lat == pytest.approx(
        resolve_place("Richmond, United Kingdom").lat
    )
    assert resolve_place("Richmond, UK").lat > 50
    with override_settings(GAZETTEER_COUNTRIES=["US"]):
        assert km_from(resolve_place("Portland"), 45.52, -122.68) < 10
    # A qualifier that is not a country is tried after the whole text.
    assert km_from(resolve_place("Brighton, East Sussex"), 50.83, -0.14) < 5


def test_unknown_place_suggests_close_names_quickly():
    gazetteer()  # built once per process; the first lookup pays for it
    started = time.perf_counter()
    with pytest.raises(UnknownPlace) as caught:
        resolve_place("Brightn")
    elapsed = time.perf_counter() - started
    message = str(caught.value)
    assert "Brightn" in message and "Brighton" in message and "\n" not in message
    assert isinstance(caught.value, ValueError)
    assert elapsed < 0.5
    make_meeting(city="Saltdean", latitude=50.80, longitude=-0.04)
    assert "Saltdean" in str(pytest.raises(UnknownPlace, resolve_place, "Saltdeen").value)


@pytest.mark.parametrize("text", ["", "   ", "Xqzvbnm", "Richmond, ZZ"])
def test_nonsense_is_an_unknown_place(text):
    with pytest.raises(UnknownPlace):
        resolve_place(text)
