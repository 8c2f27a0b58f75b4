import math
import random

import pytest

from mutualaid.lib import geo


def test_haversine_known_distance():
    # London to Paris, about 343.5 km on the sphere.
    assert geo.haversine_km(51.5074, -0.1278, 48.8566, 2.3522) == pytest.approx(343.5, abs=1.0)
    assert geo.haversine_km(10, 20, 10, 20) == 0


def test_bounding_box_contains_every_point_of_the_circle():
    rng = random.Random(7)
    for _ in range(300):
        lat, lng = rng.uniform(-85, 85), rng.uniform(-180, 180)
        radius = rng.choice([1, 10, 25, 100, 800])
        boxes = geo.bounding_boxes(lat, lng, radius)
        for _ in range(20):
            bearing, dist = rng.uniform(0, 2 * math.pi), rng.uniform(0, radius * 0.999)
            d = dist / geo.EARTH_RADIUS_KM
            p1, l1 = math.radians(lat), math.radians(lng)
            p2 = math.asin(
                math.sin(p1) * math.cos(d) + math.cos(p1) * math.sin(d) * math.cos(bearing)
            )
            l2 = l1 + math.atan2(
                math.sin(bearing) * math.sin(d) * math.cos(p1),
                math.cos(d) - math.sin(p1) * math.sin(p2),
            )
            plat, plng = math.degrees(p2), (math.degrees(l2) + 540) % 360 - 180
            assert any(a <= plat <= b and c <= plng <= e for a, b, c, e in boxes), (
                lat,
                lng,
                radius,
            )


def test_bounding_box_splits_at_antimeridian():
    boxes = geo.bounding_boxes(0, 179.9, 50)
    assert len(boxes) == 2


@pytest.mark.parametrize("text", ["91,0", "0,181", "abc", "1,2,3", "nan,0"])
def test_parse_point_rejects(text):
    with pytest.raises(ValueError):
        geo.parse_point(text)


@pytest.mark.parametrize("radius", [0, -5, 5000, float("inf")])
def test_validate_radius_rejects(radius):
    with pytest.raises(ValueError):
        geo.validate_radius(radius)
