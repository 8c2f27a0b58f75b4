"""The results map: the page carries what map.js needs; Leaflet is served when installed."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.views import serve
from django.test import RequestFactory

from tests.factories import make_meeting

SEARCH = {"near": "51.5074,-0.1278", "radius": "10"}
LEAFLET_INSTALLED = (Path(settings.LEAFLET_DIST) / "leaflet.js").is_file()
needs_leaflet = pytest.mark.skipif(
    not LEAFLET_INSTALLED, reason="Leaflet not installed in var/npm (run `make setup`)"
)


def _items(body: str) -> dict[str, str]:
    """Each result's <li> opening tag, by the meeting's name."""
    items = {}
    for tag, rest in re.findall(r'(<li class="meeting"[^>]*>)(.*?)</li>', body, re.S):
        name = re.search(r'<div class="name"><a [^>]*>([^<]*)</a>', rest).group(1)
        items[name] = tag
    return items


@needs_leaflet
@pytest.mark.django_db
def test_results_carry_coordinates_for_the_map(client, settings):
    settings.MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    make_meeting(name="Exact", latitude=51.4995, longitude=-0.1248)
    make_meeting(name="Rough", latitude=51.51, longitude=-0.13, approximate=True)
    make_meeting(name="Online", mode="online", latitude=None, longitude=None)
    body = client.get("/", SEARCH).content.decode()
    items = _items(body)
    assert set(items) == {"Exact", "Rough", "Online"}
    assert 'data-lat="51.4995"' in items["Exact"] and 'data-lng="-0.1248"' in items["Exact"]
    assert "data-approximate" not in items["Exact"]
    assert 'data-approximate="1"' in items["Rough"]
    assert "data-lat" not in items["Online"]  # only meetings with a place are pinned
    config = json.loads(
        re.search(r'<script id="map-config" type="application/json">(.*?)</script>', body).group(1)
    )
    assert config["tiles"] == "https://tiles.example.org/{z}/{x}/{y}.png"
    assert "OpenStreetMap" in config["attribution"]
    assert config["js"].endswith("leaflet/leaflet.js") and config["css"].endswith("leaflet.css")
    assert 'id="map-slot"' in body and "mutualaid/map.js" in body
    # Leaflet itself is not on the page: map.js loads it when the visitor asks.
    assert f'src="{config["js"]}"' not in body and f'href="{config["css"]}"' not in body


@pytest.mark.django_db
def test_without_leaflet_the_list_works_and_offers_no_map(client, settings):
    settings.STATICFILES_DIRS = []
    make_meeting(name="Exact")
    response = client.get("/", SEARCH)
    body = response.content.decode()
    assert response.status_code == 200 and "1 meeting" in body and "Exact" in body
    assert "map-config" not in body and "map.js" not in body


@pytest.mark.django_db
def test_no_results_no_map(client):
    body = client.get("/", {"near": "0,0", "radius": "5"}).content.decode()
    assert "map-config" not in body


def test_map_js_is_a_static_file():
    path = finders.find("mutualaid/map.js")
    assert path and "data-lat" in Path(path).read_text()


@needs_leaflet
@pytest.mark.parametrize("name", ["leaflet/leaflet.js", "leaflet/leaflet.css"])
def test_leaflet_is_served_as_static(name):
    assert finders.find(name)
    request = RequestFactory().get(f"/{settings.STATIC_URL}{name}")
    response = serve(request, name, insecure=True)
    assert response.status_code == 200
    content = b"".join(response.streaming_content)
    assert len(content) > 10_000 and b"leaflet" in content[:2000].lower()


def test_make_setup_installs_leaflet_from_npm():
    makefile = (Path(settings.PROJECT_DIR) / "Makefile").read_text()
    assert re.search(r"^setup: .*\$\(LEAFLET\)", makefile, re.M)
    assert "npm install --prefix var/npm" in makefile and "LEAFLET_VERSION := 1.9.4" in makefile
