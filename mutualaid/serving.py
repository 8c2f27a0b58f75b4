"""Serving helpers shared by every response (docs/deploy.md).

GZipMiddleware: Django's, but it honours "gzip;q=0" (Django's looks only for the word
"gzip"); the Meeting Guide feed gzips itself, once per rendering, and is left alone.

ConditionalGetMiddleware: Django's (an ETag from the body, 304 for If-None-Match), but a
page carrying a form's CSRF token (the language switcher is on every page) gets its ETag
from the body without the token, which Django masks differently on every response, plus
the visitor's CSRF secret: the page a browser already holds is then still usable (its
token checks against the same secret), so it can be answered 304.

HeadWithoutBodyMiddleware (outermost): a HEAD response keeps the headers GET would send
(Content-Length included) but no body. Django hands the WSGI server the body a view made
for HEAD; gunicorn dropped it with a warning on every such request.
"""

from __future__ import annotations

import hashlib
import re

from django.middleware.gzip import GZipMiddleware as DjangoGZipMiddleware
from django.middleware.http import ConditionalGetMiddleware as DjangoConditionalGetMiddleware
from django.utils.cache import patch_vary_headers

CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')


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


class ConditionalGetMiddleware(DjangoConditionalGetMiddleware):
    def process_response(self, request, response):
        if (
            request.method in ("GET", "HEAD")
            and response.status_code == 200
            and not response.streaming
            and not response.has_header("ETag")
            and b"csrfmiddlewaretoken" in response.content
        ):
            stable = CSRF_FIELD.sub(rb"\1\2", response.content)
            secret = str(request.META.get("CSRF_COOKIE", "")).encode()
            digest = hashlib.md5(stable + b"\0" + secret, usedforsecurity=False).hexdigest()
            response["ETag"] = f'"{digest}"'
        return super().process_response(request, response)


class HeadWithoutBodyMiddleware:
    """HEAD: the response's headers, no body bytes (RFC 9110 9.3.2). A file being
    streamed (the feeds) is closed unread; Content-Length stays what GET would send."""

    # django-ninja routes an operation by its declared methods only, so a HEAD under the
    # API was a 405: it is answered as the GET it mirrors (GET is safe by definition).
    HEAD_AS_GET_PREFIXES = ("/api/",)

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        head = request.method == "HEAD"
        if head and request.path_info.startswith(self.HEAD_AS_GET_PREFIXES):
            request.method = "GET"
        response = self.get_response(request)
        if head:
            request.method = "HEAD"
            if response.streaming:
                response.streaming_content = []  # closers still run on response.close()
            elif response.content:
                length = response.get("Content-Length")
                response.content = b""
                if length is not None:
                    response["Content-Length"] = length
        return response
