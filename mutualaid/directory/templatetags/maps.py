"""The results map's settings for map.js, or None when Leaflet is not installed."""

from django import template
from django.conf import settings
from django.contrib.staticfiles import finders
from django.templatetags.static import static

register = template.Library()


@register.simple_tag
def map_config():
    """Leaflet comes from the npm registry at install time (`make setup`); without it the
    results page simply has no map toggle."""
    if not finders.find("leaflet/leaflet.js"):
        return None
    return {
        "js": static("leaflet/leaflet.js"),
        "css": static("leaflet/leaflet.css"),
        "tiles": settings.MAP_TILE_URL,
        "attribution": settings.MAP_ATTRIBUTION,
    }
