"""HTTP behaviour every response gets: ETag and 304 (feed, API, pages), gzip, static files
from whitenoise."""

import gzip

import pytest

from tests.factories import make_meeting

pytestmark = pytest.mark.django_db


def strip_csrf(body: bytes) -> bytes:
    from mutualaid.serving import CSRF_FIELD

    return CSRF_FIELD.sub(b"", body)


def revalidate(client, url, **headers):
    first = client.get(url, **headers)
    assert first.status_code == 200, first.content[:300]
    etag = first["ETag"]
    assert etag
    again = client.get(url, HTTP_IF_NONE_MATCH=etag, **headers)
    assert again.status_code == 304 and again.content == b""
    # A weak form of the same tag matches too (If-None-Match compares weakly).
    weak = etag if etag.startswith("W/") else f"W/{etag}"
    assert client.get(url, HTTP_IF_NONE_MATCH=weak, **headers).status_code == 304
    return first


@pytest.mark.parametrize(
    "url",
    [
        "/feeds/meeting-guide.json",
        "/api/v1/meetings?near=51.5074,-0.1278&radius_km=10",
        "/api/v1/fellowships",
        "/",
        "/?place=&near=51.5074,-0.1278&radius=10",
        "MEETING",
        "/main_server/client_interface/json/?switcher=GetSearchResults",
    ],
)
def test_etag_and_304(client, url):
    meeting = make_meeting(name="Tuesday Hope")
    if url == "MEETING":
        url = f"/meetings/{meeting.slug}/"
    revalidate(client, url)


def test_an_edit_changes_the_etag_of_the_api_search_and_the_page(client):
    meeting = make_meeting(name="Before")
    search = "/api/v1/meetings?near=51.5074,-0.1278&radius_km=10"
    page = f"/meetings/{meeting.slug}/"
    old = {url: client.get(url)["ETag"] for url in (search, page)}
    meeting.name = "After"
    meeting.save()
    for url, etag in old.items():
        response = client.get(url, HTTP_IF_NONE_MATCH=etag)
        assert response.status_code == 200 and b"After" in response.content, url


def test_pages_and_json_are_gzipped_when_asked(client):
    for n in range(20):
        make_meeting(name=f"Meeting {n}", notes="Tea and coffee from 7pm. " * 5)
    for url in ("/api/v1/meetings?near=51.5074,-0.1278&radius_km=10", "/guide/"):
        plain = client.get(url)
        zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
        assert "Content-Encoding" not in plain, url
        assert zipped["Content-Encoding"] == "gzip", url
        assert strip_csrf(gzip.decompress(zipped.content)) == strip_csrf(plain.content), url
        assert "Accept-Encoding" in zipped["Vary"]
        # gzip;q=0 means "not gzip": Django's own middleware would ignore the q.
        refused = client.get(url, HTTP_ACCEPT_ENCODING="gzip;q=0, br")
        assert "Content-Encoding" not in refused and "Accept-Encoding" in refused["Vary"]


def test_whitenoise_serves_static_files(client):
    response = client.get("/static/mutualaid/site.css")
    assert response.status_code == 200
    assert response.streaming  # whitenoise's file response, not a Django view
    body = b"".join(response.streaming_content)
    assert b"{" in body and response["Content-Type"].startswith("text/css")
    assert response.has_header("ETag") or response.has_header("Last-Modified")


def test_accepts_gzip():
    from mutualaid.serving import accepts_gzip

    assert accepts_gzip("gzip, deflate, br")
    assert accepts_gzip("br;q=1.0, gzip;q=0.8")
    assert accepts_gzip("*")
    assert not accepts_gzip("")
    assert not accepts_gzip("gzip;q=0")
    assert not accepts_gzip("br, *;q=0")
    assert not accepts_gzip("gzip;q=0, *")


def test_the_search_api_serves_its_cached_gzip(client):
    for n in range(10):
        make_meeting(name=f"Meeting {n}", notes="Tea and coffee from 7pm. " * 5)
    url = "/api/v1/meetings?near=51.5074,-0.1278&radius_km=10"
    plain = client.get(url)
    zipped = client.get(url, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip" and "Accept-Encoding" in zipped["Vary"]
    assert gzip.decompress(zipped.content) == plain.content
    assert zipped["ETag"] != plain["ETag"]
    again = client.get(url, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=zipped["ETag"])
    assert again.status_code == 304
    assert "Content-Encoding" not in client.get(url, HTTP_ACCEPT_ENCODING="gzip;q=0")
