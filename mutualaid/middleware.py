"""Response headers for every page: Content-Security-Policy, and Vary on the language cookie.

Content-Security-Policy (docs/security.md, "Hardening"): scripts and styles only from this
site's own static files, never inline (no 'unsafe-inline', no nonces: the templates carry
no <script> blocks, <style> blocks or style="" attributes, tests/test_csp.py checks), images
from the site, data: URIs (Leaflet's and Swagger UI's icons) and the map tile server named
by settings.MAP_TILE_URL, nothing framed, forms posted only here.

Django 5.2 has no CSP of its own; this is the whole of ours. A view that needs another
policy sets the header itself and this middleware leaves it alone.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.utils import translation
from django.utils.cache import patch_vary_headers


def tile_source(tile_url: str) -> str:
    """The CSP source for a Leaflet tile URL template: scheme and host, with a "{s}"
    subdomain placeholder widened to "*" ("https://{s}.tile.example.org/{z}/{x}/{y}.png"
    -> "https://*.tile.example.org"). "" when the URL names no host (tiles from this site)."""
    parts = urlsplit(tile_url.strip())
    if not parts.scheme or not parts.netloc:
        return ""
    host = parts.netloc.replace("{s}", "*")
    if "{" in host or "}" in host or any(c.isspace() or c in ";,'" for c in host):
        raise ValueError(f"MAP_TILE_URL: cannot make a Content-Security-Policy source of {host!r}")
    return f"{parts.scheme}://{host}"


def build_policy(tile_url: str) -> str:
    img = ["'self'", "data:"]
    tiles = tile_source(tile_url)
    if tiles:
        img.append(tiles)
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": img,
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    }
    return "; ".join(f"{name} {' '.join(sources)}" for name, sources in directives.items())


class ContentSecurityPolicyMiddleware:
    header = "Content-Security-Policy"

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = build_policy(settings.MAP_TILE_URL)

    def __call__(self, request):
        response = self.get_response(request)
        if self.header not in response:
            response[self.header] = self.policy
        return response


class VaryOnLanguageCookieMiddleware:
    """A page is English or Spanish by the visitor's language cookie as well as by
    Accept-Language (which LocaleMiddleware already names in Vary): say so on every page
    (HTML and the printable PDF), so that no cache hands one visitor's language to another.
    Data (feeds, JSON, calendars) does not change with the language and keeps its caching."""

    translated_types = ("text/html", "application/pdf")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.get("Content-Type", "").startswith(self.translated_types):
            patch_vary_headers(response, ("Cookie",))
        return response


class DataInServiceLanguageMiddleware:
    """The JSON API, the BMLT API and the feeds speak the service's language
    (settings.LANGUAGE_CODE), whatever the client's Accept-Language: their labels
    ("schedule", "type_labels") and messages are then the same for every client, so a
    cached response (mutualaid/directory/cache.py) never hands one visitor's language to
    another. Runs after LocaleMiddleware, which chose the visitor's language."""

    prefixes = ("/api/", "/main_server/", "/feeds/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.prefixes):
            translation.activate(settings.LANGUAGE_CODE)
            request.LANGUAGE_CODE = translation.get_language()
        return self.get_response(request)
