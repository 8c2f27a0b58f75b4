"""HEAD responses carry no body bytes at the WSGI level (mutualaid.serving.
HeadWithoutBodyMiddleware). Django's test client drops a HEAD body itself, so these call
the WSGI application as gunicorn does, which used to log "WSGI app sent body bytes on a
no-body response" for each."""

from contextlib import contextmanager

import pytest
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.test import RequestFactory

from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


@contextmanager
def same_connection():
    # As Django's test client does: keep the test's database connection across requests.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def call(method: str, path: str, **headers) -> tuple[str, dict, bytes]:
    path, _, query = path.partition("?")
    environ = RequestFactory()._base_environ(
        PATH_INFO=path, REQUEST_METHOD=method, QUERY_STRING=query, **headers
    )
    started = {}

    def start_response(status, response_headers, exc_info=None):
        started["status"], started["headers"] = status, dict(response_headers)

    with same_connection():
        result = WSGIHandler()(environ, start_response)
        try:
            body = b"".join(result)
        finally:
            if hasattr(result, "close"):
                result.close()
    return started["status"], started["headers"], body


@pytest.mark.parametrize(
    "path",
    ["/feeds/meeting-guide.json", "/", "/guide/", "MEETING", "/api/v1/meetings?place=Brighton"],
)
@pytest.mark.parametrize("encoding", ["", "gzip"])
def test_head_has_the_headers_of_get_and_no_body(path, encoding):
    meeting = make_meeting(name="Tuesday Hope", notes="Tea and coffee. " * 40)
    if path == "MEETING":
        path = f"/meetings/{meeting.slug}/"
    headers = {"HTTP_ACCEPT_ENCODING": encoding} if encoding else {}
    get_status, get_headers, get_body = call("GET", path, **headers)
    assert get_status.startswith("200") and get_body, (path, get_status)
    status, head_headers, body = call("HEAD", path, **headers)
    assert status == get_status
    assert body == b""
    assert head_headers.get("Content-Type") == get_headers.get("Content-Type")
    assert head_headers.get("Content-Encoding") == get_headers.get("Content-Encoding")
    if path.startswith("/feeds/"):  # the same file: the same length and validator
        assert head_headers["Content-Length"] == get_headers["Content-Length"]
        assert head_headers["Content-Length"] == str(len(get_body))
        assert head_headers["ETag"] == get_headers["ETag"]
    elif "Content-Length" in get_headers and not encoding:
        assert head_headers["Content-Length"] == get_headers["Content-Length"]


def test_head_under_the_api_is_its_get_and_other_methods_are_still_refused():
    make_meeting(name="Tuesday Hope")
    status, headers, body = call("HEAD", "/api/v1/meetings")
    assert status.startswith("200") and body == b""
    assert headers["Content-Type"].startswith("application/json")
    status, _, _ = call("DELETE", "/api/v1/meetings")
    assert status.startswith("405")
