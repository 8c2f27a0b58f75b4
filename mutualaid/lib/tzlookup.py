"""The IANA time zone of a point, offline (timezonefinder ships the zone polygons).

Used when a feed gives a meeting's coordinates but no zone. Points at sea (outside
territorial waters) give None rather than an "Etc/GMT+5" ocean zone: no meeting is held
there, so such coordinates are better treated as unknown.
"""

from functools import cache


@cache
def _finder():
    # Imported and built on first use: loading the polygons takes ~50 ms, which
    # commands that never look up a zone should not pay.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder()


def timezone_at(latitude: float, longitude: float) -> str | None:
    """The zone at a point on land or in territorial waters, else None."""
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise ValueError(f"coordinates out of range: {latitude}, {longitude}")
    return _finder().timezone_at_land(lng=longitude, lat=latitude)
