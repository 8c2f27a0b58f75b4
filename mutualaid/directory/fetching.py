"""Fetch a feed over http(s): conditional GET, a time limit, a size limit, one-line errors.

fetch(url, etag=..., last_modified=...) sends If-None-Match / If-Modified-Since when it has
validators from the last fetch; a 304 answer comes back as a FetchResult with
not_modified True and no body. Everything that goes wrong raises FetchError with a message
meant for the person running the import (no traceback, one line).

The time limit (settings.FEED_FETCH_TIMEOUT) covers the whole download, not only each
socket read, so a server that trickles bytes cannot hold an import (or a cron sync) for
ever. The size limit (settings.FEED_MAX_BYTES) is checked against Content-Length before
reading, and again while reading.
"""

from __future__ import annotations

import http.client
import re
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

USER_AGENT = "mutualaid-import"
ACCEPT = "application/json, text/csv;q=0.9, text/tab-separated-values;q=0.9, */*;q=0.5"
CHUNK_BYTES = 64 * 1024
_URL_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*)://", re.IGNORECASE)


class FetchError(Exception):
    """The feed could not be fetched; str() is one line for people."""


@dataclass(frozen=True)
class FetchResult:
    url: str
    status: int  # 200 (or another 2xx), or 304
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def is_url(location: str) -> bool:
    """Whether location looks like a URL of any scheme (files never do)."""
    return bool(_URL_SCHEME.match(str(location)))


def describe_size(n: int) -> str:
    if n >= 1024 * 1024 and n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} MB"
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f} MB"
    return f"{n} bytes"


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> FetchResult:
    """GET url, conditionally when etag / last_modified are given."""
    scheme = _URL_SCHEME.match(url)
    if not scheme or scheme[1].lower() not in ("http", "https"):
        raise FetchError(f"cannot fetch {url}: only http and https URLs are supported")
    timeout = settings.FEED_FETCH_TIMEOUT if timeout is None else timeout
    max_bytes = settings.FEED_MAX_BYTES if max_bytes is None else max_bytes
    headers = {"User-Agent": USER_AGENT, "Accept": ACCEPT, "Accept-Encoding": "identity"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    request = urllib.request.Request(url, headers=headers)
    opener = urllib.request.build_opener(_HttpOnlyRedirects)
    deadline = time.monotonic() + timeout
    try:
        with opener.open(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > max_bytes:
                raise FetchError(_too_large(url, max_bytes, f" ({describe_size(int(length))})"))
            body = _read(response, url, deadline, timeout, max_bytes)
            return FetchResult(
                url=url,
                status=response.status,
                body=body,
                etag=response.headers.get("ETag", "").strip(),
                last_modified=response.headers.get("Last-Modified", "").strip(),
            )
    except urllib.error.HTTPError as exc:
        if exc.code == 304:
            return FetchResult(
                url=url,
                status=304,
                etag=(exc.headers.get("ETag") or etag).strip(),
                last_modified=(exc.headers.get("Last-Modified") or last_modified).strip(),
            )
        raise FetchError(f"cannot fetch {url}: HTTP {exc.code} {exc.reason}") from None
    except FetchError:
        raise
    except TimeoutError:
        raise FetchError(_timed_out(url, timeout)) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError):
            raise FetchError(_timed_out(url, timeout)) from None
        raise FetchError(f"cannot fetch {url}: {_reason(exc.reason)}") from None
    except (OSError, ValueError, http.client.HTTPException) as exc:  # reset, bad status line...
        raise FetchError(f"cannot fetch {url}: {_reason(exc)}") from None


def _read(response, url: str, deadline: float, timeout: float, max_bytes: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise FetchError(_timed_out(url, timeout))
        chunk = (
            response.read1(CHUNK_BYTES)
            if hasattr(response, "read1")
            else response.read(CHUNK_BYTES)
        )
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > max_bytes:
            raise FetchError(_too_large(url, max_bytes))
        chunks.append(chunk)


def _too_large(url: str, max_bytes: int, detail: str = "") -> str:
    return (
        f"cannot fetch {url}: larger than the {describe_size(max_bytes)} limit{detail} "
        "(settings FEED_MAX_BYTES)"
    )


def _timed_out(url: str, timeout: float) -> str:
    return (
        f"cannot fetch {url}: no complete answer within {timeout:g} s (settings FEED_FETCH_TIMEOUT)"
    )


def _reason(reason) -> str:
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror
    return str(reason) or type(reason).__name__


class _HttpOnlyRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects to http(s) only (urllib would follow one to ftp://)."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        if not re.match(r"^https?://", newurl, re.IGNORECASE):
            raise FetchError(f"cannot fetch {req.full_url}: redirected to {newurl}, not http(s)")
        return super().redirect_request(req, fp, code, msg, headers, newurl)
