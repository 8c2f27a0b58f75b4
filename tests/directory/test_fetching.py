"""fetch(): conditional GET against a local server, time and size limits, clear errors.

FeedServer is a real HTTP server on 127.0.0.1 (ephemeral port) in a thread; test_sync.py
uses it too.
"""

import socket
import threading
import time
from dataclasses import dataclass, field
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mutualaid.directory.fetching import FetchError, describe_size, fetch, is_url

LAST_MODIFIED = "Wed, 01 May 2024 10:00:00 GMT"


@dataclass
class Route:
    body: bytes = b""
    etag: str = ""
    last_modified: str = ""
    status: int = 200
    location: str = ""  # a redirect
    delay: float = 0.0  # seconds before the status line
    trickle: float = 0.0  # seconds between single bytes of the body
    send_length: bool = True
    content_type: str = "application/octet-stream"


@dataclass
class FeedServer:
    """Serves routes by path; honours If-None-Match and If-Modified-Since with 304."""

    routes: dict = field(default_factory=dict)
    requests: list = field(default_factory=list)  # (path, {header: value}) in order

    def __enter__(self):
        server_state = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                server_state.requests.append((self.path, dict(self.headers.items())))
                route = server_state.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                    return
                time.sleep(route.delay)
                if route.location:
                    self.send_response(302)
                    self.send_header("Location", route.location)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                if route.status == 200 and _not_modified(route, self.headers):
                    self.send_response(304)
                    if route.etag:
                        self.send_header("ETag", route.etag)
                    self.end_headers()
                    return
                self.send_response(route.status)
                self.send_header("Content-Type", route.content_type)
                if route.etag:
                    self.send_header("ETag", route.etag)
                if route.last_modified:
                    self.send_header("Last-Modified", route.last_modified)
                if route.send_length:
                    self.send_header("Content-Length", str(len(route.body)))
                else:
                    self.close_connection = True
                self.end_headers()
                try:
                    if route.trickle:
                        for byte in route.body:
                            self.wfile.write(bytes([byte]))
                            self.wfile.flush()
                            time.sleep(route.trickle)
                    else:
                        self.wfile.write(route.body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.block_on_close = False
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def headers_of(self, n: int) -> dict:
        return {k.lower(): v for k, v in self.requests[n][1].items()}


def _not_modified(route: Route, headers) -> bool:
    if_none_match = headers.get("If-None-Match")
    if if_none_match is not None:  # it takes precedence over If-Modified-Since (RFC 9110)
        tags = [t.strip() for t in if_none_match.split(",")]
        return bool(route.etag) and (route.etag in tags or "*" in tags)
    since = headers.get("If-Modified-Since")
    if since and route.last_modified:
        return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
    return False


@pytest.fixture
def server():
    with FeedServer() as running:
        yield running


# --- conditional GET ----------------------------------------------------------------------


def test_plain_get_returns_body_and_validators(server):
    server.routes["/feed.csv"] = Route(b"Name\nHope\n", etag='"v1"', last_modified=LAST_MODIFIED)
    result = fetch(server.url("/feed.csv"))
    assert (result.status, result.body, result.not_modified) == (200, b"Name\nHope\n", False)
    assert (result.etag, result.last_modified) == ('"v1"', LAST_MODIFIED)
    sent = server.headers_of(0)
    assert "if-none-match" not in sent and "if-modified-since" not in sent
    assert sent["user-agent"] == "mutualaid-import"


def test_matching_etag_gives_304_without_a_body(server):
    server.routes["/feed.csv"] = Route(b"Name\nHope\n", etag='"v1"', last_modified=LAST_MODIFIED)
    result = fetch(server.url("/feed.csv"), etag='"v1"', last_modified=LAST_MODIFIED)
    assert (result.status, result.not_modified, result.body) == (304, True, b"")
    assert (result.etag, result.last_modified) == ('"v1"', LAST_MODIFIED)
    sent = server.headers_of(0)
    assert (sent["if-none-match"], sent["if-modified-since"]) == ('"v1"', LAST_MODIFIED)


def test_changed_etag_gives_the_new_body(server):
    server.routes["/feed.csv"] = Route(b"Name\nNew\n", etag='"v2"')
    result = fetch(server.url("/feed.csv"), etag='"v1"')
    assert (result.status, result.body, result.etag) == (200, b"Name\nNew\n", '"v2"')


def test_last_modified_alone_gives_304(server):
    server.routes["/feed.json"] = Route(b"[]", last_modified=LAST_MODIFIED)
    result = fetch(server.url("/feed.json"), last_modified=LAST_MODIFIED)
    assert result.not_modified
    later = formatdate(parsedate_to_datetime(LAST_MODIFIED).timestamp() + 60, usegmt=True)
    server.routes["/feed.json"] = Route(b"[1]", last_modified=later)
    result = fetch(server.url("/feed.json"), last_modified=LAST_MODIFIED)
    assert (result.status, result.body, result.last_modified) == (200, b"[1]", later)


def test_redirects_are_followed_to_http_only(server):
    server.routes["/old"] = Route(location="/new")
    server.routes["/new"] = Route(b"[]", etag='"n"')
    assert fetch(server.url("/old")).body == b"[]"
    server.routes["/away"] = Route(location="ftp://example.org/feed.json")
    with pytest.raises(FetchError, match="redirected to ftp://example.org/feed.json, not http"):
        fetch(server.url("/away"))


# --- errors ---------------------------------------------------------------------------------


def test_http_errors(server):
    server.routes["/broken"] = Route(b"oops", status=500)
    with pytest.raises(FetchError) as info:
        fetch(server.url("/broken"))
    assert (
        str(info.value) == f"cannot fetch {server.url('/broken')}: HTTP 500 Internal Server Error"
    )
    with pytest.raises(FetchError, match="HTTP 404 Not Found"):
        fetch(server.url("/missing"))


@pytest.mark.parametrize(
    "url", ["ftp://example.org/feed.json", "file:///etc/passwd", "not a url", "example.org/feed"]
)
def test_only_http_and_https(url):
    with pytest.raises(FetchError, match="only http and https URLs are supported"):
        fetch(url)


def test_connection_refused_is_one_line():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(FetchError) as info:
        fetch(f"http://127.0.0.1:{port}/feed.json")
    assert str(info.value) == f"cannot fetch http://127.0.0.1:{port}/feed.json: Connection refused"


def test_size_limit_from_content_length(server):
    server.routes["/big"] = Route(b"x" * 2000)
    with pytest.raises(FetchError) as info:
        fetch(server.url("/big"), max_bytes=1000)
    assert str(info.value) == (
        f"cannot fetch {server.url('/big')}: larger than the 1000 bytes limit (2000 bytes) "
        "(settings FEED_MAX_BYTES)"
    )
    assert fetch(server.url("/big"), max_bytes=2000).body == b"x" * 2000


def test_size_limit_while_reading_without_content_length(server):
    server.routes["/stream"] = Route(b"x" * 5000, send_length=False)
    with pytest.raises(FetchError, match=r"larger than the 1000 bytes limit \(settings"):
        fetch(server.url("/stream"), max_bytes=1000)
    assert len(fetch(server.url("/stream"), max_bytes=5000).body) == 5000


def test_size_limit_comes_from_settings(server, settings):
    settings.FEED_MAX_BYTES = 3 * 1024 * 1024
    server.routes["/big"] = Route(b"x" * (3 * 1024 * 1024 + 1))
    with pytest.raises(FetchError, match="larger than the 3 MB limit"):
        fetch(server.url("/big"))


def test_timeout_waiting_for_an_answer(server, settings):
    settings.FEED_FETCH_TIMEOUT = 0.3
    server.routes["/slow"] = Route(b"[]", delay=1.5)
    clock = time.monotonic()
    with pytest.raises(FetchError) as info:
        fetch(server.url("/slow"))
    assert str(info.value) == (
        f"cannot fetch {server.url('/slow')}: no complete answer within 0.3 s "
        "(settings FEED_FETCH_TIMEOUT)"
    )
    assert time.monotonic() - clock < 1.2


def test_timeout_covers_a_body_that_trickles(server):
    server.routes["/drip"] = Route(b"x" * 100, trickle=0.05)  # 5 s in all
    clock = time.monotonic()
    with pytest.raises(FetchError, match="no complete answer within 0.5 s"):
        fetch(server.url("/drip"), timeout=0.5)
    assert time.monotonic() - clock < 2


def test_helpers():
    assert is_url("https://x.org/a.json") and is_url("FTP://x") and not is_url("feeds/a.json")
    assert (describe_size(50 * 1024 * 1024), describe_size(1536 * 1024), describe_size(10)) == (
        "50 MB",
        "1.5 MB",
        "10 bytes",
    )
