"""Serving helpers shared by every response (docs/deploy.md).

GZipMiddleware: Django's, but it honours "gzip;q=0" (Django's looks only for the word
"gzip"); the Meeting Guide feed gzips itself, once per rendering, and is left alone.
"""

from __future__ import annotations

from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.utils.cache import patch_vary_headers


def accepts_gzip(header: str) -> bool:
    """Whether an Accept-Encoding header allows gzip (RFC 9110 12.5.3; "*" counts)."""
    allowed = None
    for part in header.split(","):
        coding, _, params = part.partition(";")
        coding = coding.strip().lower()
        if coding not in ("gzip", "x-gzip", "*"):
            continue
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding == "*":
            allowed = q > 0 if allowed is None else allowed
        else:
            return q > 0
    return bool(allowed)


class GZipMiddleware(DjangoGZipMiddleware):
    def process_response(self, request, response):
        if not accepts_gzip(request.META.get("HTTP_ACCEPT_ENCODING", "")):
            if not response.has_header("Content-Encoding"):
                patch_vary_headers(response, ("Accept-Encoding",))
            return response
        return super().process_response(request, response)
