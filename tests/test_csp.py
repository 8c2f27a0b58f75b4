"""Content-Security-Policy without 'unsafe-inline' (docs/security.md, "Hardening").

Every kind of page carries the policy, and no template carries what the policy would block:
inline <script>, <style> blocks, style="" attributes, on...= handlers or javascript: links.
The browser tests (tests/e2e) load the pages in Chromium and fail on any CSP violation.
"""

import re
from pathlib import Path

import pytest
from django.conf import settings

from mutualaid.accounts.models import Role
from mutualaid.middleware import build_policy, tile_source
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import make_client
from tests.factories import make_meeting

TEMPLATE_ROOTS = [Path(settings.BASE_DIR)]
# Templates that never reach a browser: WeasyPrint lays them out into a PDF, where the
# page's CSP does not apply. Each with its reason.
PDF_ONLY = {
    "casework/templates/casework/subject_access_pdf.html": "subject access PDF (WeasyPrint)",
}


def _directives(policy: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in policy.split(";") if part.strip()}


def test_policy_names_each_directive_and_allows_nothing_inline():
    d = _directives(build_policy("https://tile.openstreetmap.org/{z}/{x}/{y}.png"))
    assert d["default-src"] == ["'self'"]
    assert d["script-src"] == ["'self'"] and d["style-src"] == ["'self'"]
    assert d["img-src"] == ["'self'", "data:", "https://tile.openstreetmap.org"]
    assert d["connect-src"] == ["'self'"]
    assert d["frame-ancestors"] == ["'none'"] and d["form-action"] == ["'self'"]
    assert d["base-uri"] == ["'none'"] and d["object-src"] == ["'none'"]
    assert "unsafe" not in build_policy("")


@pytest.mark.parametrize(
    "url, source",
    [
        ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", "https://tile.openstreetmap.org"),
        ("https://{s}.tile.example.org/{z}/{x}/{y}.png", "https://*.tile.example.org"),
        ("http://tiles.local:8080/{z}/{x}/{y}.png", "http://tiles.local:8080"),
        ("/tiles/{z}/{x}/{y}.png", ""),
    ],
)
def test_tile_source_from_the_map_tile_setting(url, source):
    assert tile_source(url) == source


def test_a_tile_host_that_cannot_be_a_source_is_refused():
    with pytest.raises(ValueError, match="MAP_TILE_URL"):
        tile_source("https://tiles.example.org;script-src *")


def _assert_strict(response):
    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert _directives(policy)["script-src"] == ["'self'"]
    assert _directives(policy)["style-src"] == ["'self'"]


@pytest.mark.django_db
def test_every_public_page_kind_has_the_policy(client):
    m = make_meeting(name="Policy Group")
    pages = [
        "/",
        "/?near=51.5074,-0.1278&radius=10",
        m.get_absolute_url(),
        f"{m.get_absolute_url()}report/",
        "/guide/",
        "/guide/?who=me&about=alcohol",
        "/print/",
        "/print/?near=51.5074,-0.1278&format=html",
        "/accounts/login/",
        "/admin/login/",
        "/api/v1/docs",
        "/no-such-page/",
    ]
    for url in pages:
        response = client.get(url)
        assert response.status_code in (200, 404), url
        _assert_strict(response)


@pytest.mark.django_db
def test_casework_pages_have_the_policy(client):
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    login_verified(client, keyworker)
    person = make_client(keyworker)
    for url in ("/casework/", f"/casework/clients/{person.pk}/", "/accounts/"):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_strict(response)


def _templates():
    for root in TEMPLATE_ROOTS:
        yield from sorted(root.glob("**/templates/**/*.html"))


INLINE_SCRIPT = re.compile(
    r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I
)
CHECKS = {
    "inline <script> (move it to a static .js file)": INLINE_SCRIPT,
    "<style> block (move it to a static .css file)": re.compile(r"<style\b", re.I),
    'style="" attribute (use a class)': re.compile(r"\sstyle\s*=", re.I),
    "inline event handler (use addEventListener in a .js file)": re.compile(
        r"<[^>]*\son[a-z]+\s*=", re.I
    ),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_no_template_carries_what_the_policy_blocks():
    found = []
    for path in _templates():
        relative = path.relative_to(settings.BASE_DIR).as_posix()
        if relative in PDF_ONLY:
            continue
        text = path.read_text(encoding="utf-8")
        for what, pattern in CHECKS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{relative}:{line}: {what}")
    assert not found, "\n".join(found)
    assert len(list(_templates())) > 40  # the scan saw the project's templates


def test_the_scan_finds_each_kind_of_inline_code():
    samples = {
        "<script>alert(1)</script>": True,
        '<script src="/static/a.js"></script>': False,
        '<script type="application/json" id="x">{}</script>': False,
        '<p style="color:red">': True,
        "<style>p{}</style>": True,
        '<button onclick="go()">': True,
        '<a href="javascript:history.back()">': True,
        '<p class="muted">styled</p>': False,
    }
    for sample, blocked in samples.items():
        assert any(p.search(sample) for p in CHECKS.values()) is blocked, sample
