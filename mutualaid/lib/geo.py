"""Distances and bounding boxes on the sphere (mean Earth radius, IUGG)."""

import math

EARTH_RADIUS_KM = 6371.0088
MAX_RADIUS_KM = 1000.0


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi = phi2 - phi1
    dlmb = math.radians(lng2 - lng1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlmb / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_boxes(
    lat: float, lng: float, radius_km: float
) -> list[tuple[float, float, float, float]]:
    """(min_lat, max_lat, min_lng, max_lng) boxes that together contain the circle.

    Exact for a sphere (Bronshtein/Matuschek): one box normally, two when the circle
    crosses the antimeridian, a full band of longitude when it reaches a pole.
    """
    angular = radius_km / EARTH_RADIUS_KM
    phi = math.radians(lat)
    min_phi, max_phi = phi - angular, phi + angular
    if min_phi <= -math.pi / 2 or max_phi >= math.pi / 2:
        return [
            (max(-90.0, math.degrees(min_phi)), min(90.0, math.degrees(max_phi)), -180.0, 180.0)
        ]
    dlmb = math.asin(min(1.0, math.sin(angular) / math.cos(phi)))
    min_lng, max_lng = lng - math.degrees(dlmb), lng + math.degrees(dlmb)
    lat_lo, lat_hi = math.degrees(min_phi), math.degrees(max_phi)
    if min_lng < -180.0:
        return [(lat_lo, lat_hi, min_lng + 360.0, 180.0), (lat_lo, lat_hi, -180.0, max_lng)]
    if max_lng > 180.0:
        return [(lat_lo, lat_hi, min_lng, 180.0), (lat_lo, lat_hi, -180.0, max_lng - 360.0)]
    return [(lat_lo, lat_hi, min_lng, max_lng)]


def validate_point(lat: float, lng: float) -> tuple[float, float]:
    if not (math.isfinite(lat) and math.isfinite(lng)):
        raise ValueError("coordinates must be finite numbers")
    if not -90.0 <= lat <= 90.0:
        raise ValueError(f"latitude {lat} is outside -90..90")
    if not -180.0 <= lng <= 180.0:
        raise ValueError(f"longitude {lng} is outside -180..180")
    return lat, lng


def parse_point(text: str) -> tuple[float, float]:
    """'LAT,LNG' as typed by a person, e.g. '51.5074,-0.1278'."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 2:
        raise ValueError(f"expected LAT,LNG such as 51.5074,-0.1278, got {text!r}")
    try:
        lat, lng = float(parts[0]), float(parts[1])
    except ValueError:
        raise ValueError(f"expected LAT,LNG as two numbers, got {text!r}") from None
    return validate_point(lat, lng)


def validate_radius(radius_km: float) -> float:
    if not math.isfinite(radius_km) or radius_km <= 0:
        raise ValueError(f"radius must be more than 0 km, got {radius_km}")
    if radius_km > MAX_RADIUS_KM:
        raise ValueError(f"radius {radius_km} km is more than the {MAX_RADIUS_KM:.0f} km allowed")
    return radius_km
