"""Who may open which insights page: every role against every page, signed in the real way
(password, then TOTP). Refusals are 403 (role) or 404 (a keyworker outside one's scope),
audited as "denied"; pages of client-derived figures are audited as "read"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from mutualaid.accounts.models import AccessGrant
from mutualaid.audit.models import AuditEvent
from tests.accounts.helpers import login_password_only, login_verified

from .helpers import build_world, journey

pytestmark = pytest.mark.django_db

PAGES = ["outcomes", "supervision-own", "supervision-other", "area", "self-assessment"]
# role -> expected status per page
EXPECTED = {
    "keyworker": {"outcomes": 403, "supervision-own": 200, "supervision-other": 404,
                  "area": 403, "self-assessment": 403},
    "team_lead": {"outcomes": 200, "supervision-own": 200, "supervision-other": 404,
                  "area": 403, "self-assessment": 403},
    "manager": {"outcomes": 200, "supervision-own": 200, "supervision-other": 200,
                "area": 200, "self-assessment": 200},
    "commissioner": {"outcomes": 403, "supervision-own": 403, "supervision-other": 403,
                     "area": 200, "self-assessment": 200},
    "administrator": {"outcomes": 403, "supervision-own": 403, "supervision-other": 403,
                      "area": 403, "self-assessment": 403},
    "editor": {"outcomes": 403, "supervision-own": 403, "supervision-other": 403,
               "area": 403, "self-assessment": 403},
}  # fmt: skip


@pytest.fixture
def world():
    w = build_world()
    journey(w.keyworker, w.meeting, to="attended", days_ago=40, weeks=(1, 2, 3))
    journey(w.keyworker2, w.meeting, to="discussed", days_ago=10)
    return w


def _user(world, role):
    return {
        "keyworker": world.keyworker,
        "team_lead": world.team_lead,
        "manager": world.manager,
        "commissioner": world.commissioner,
        "administrator": world.administrator,
        "editor": world.editor,
    }[role]


def _url(page, user, world):
    return {
        "outcomes": "/insights/outcomes/",
        "supervision-own": f"/insights/supervision/{user.get_username()}/",
        "supervision-other": f"/insights/supervision/{world.keyworker2.get_username()}/",
        "area": "/insights/area/",
        "self-assessment": "/insights/self-assessment/",
    }[page]


@pytest.mark.parametrize("role", list(EXPECTED))
def test_role_matrix(world, role):
    user = _user(world, role)
    browser = HttpClient()
    login_verified(browser, user)
    for page in PAGES:
        before = AuditEvent.objects.count()
        response = browser.get(_url(page, user, world))
        assert response.status_code == EXPECTED[role][page], (role, page)
        new = AuditEvent.objects.filter(actor_id=user.pk).order_by("-seq")[
            : AuditEvent.objects.count() - before
        ]
        actions = {e.action for e in new}
        if response.status_code == 200:
            assert "read" in actions, (role, page)
        else:
            assert "denied" in actions, (role, page)


def test_anonymous_and_password_only_sessions_are_sent_to_sign_in(world):
    anonymous = HttpClient()
    for page in ["/insights/", "/insights/outcomes/", "/insights/area/"]:
        response = anonymous.get(page)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    half = HttpClient()
    login_password_only(half, world.manager)
    response = half.get("/insights/outcomes/")
    assert response.status_code == 302 and "login" not in response["Location"]


def test_administrator_with_a_grant_sees_outcomes_read_only(world):
    AccessGrant.objects.create(
        user=world.administrator,
        organisation=world.org,
        reason="incident 9",
        expires_at=timezone.now() + timedelta(hours=1),
    )
    browser = HttpClient()
    login_verified(browser, world.administrator)
    assert browser.get("/insights/outcomes/").status_code == 200
    assert browser.get("/insights/area/").status_code == 403


def test_index_sends_each_role_to_its_page(world):
    for user, target in [
        (world.manager, "/insights/outcomes/"),
        (world.keyworker, f"/insights/supervision/{world.keyworker.get_username()}/"),
        (world.commissioner, "/insights/area/"),
    ]:
        browser = HttpClient()
        login_verified(browser, user)
        response = browser.get("/insights/")
        assert response.status_code == 302 and response["Location"] == target
    browser = HttpClient()
    login_verified(browser, world.editor)
    assert browser.get("/insights/").status_code == 403


def test_commissioner_saves_area_answers_manager_saves_service_answers(world):
    from mutualaid.insights.models import SelfAssessment

    browser = HttpClient()
    login_verified(browser, world.commissioner)
    response = browser.post(
        "/insights/self-assessment/",
        {"lead-answer": "partly", "lead-note": "Two of three services", "next-answer": ""},
    )
    assert response.status_code == 302
    stored = SelfAssessment.objects.get(area="Brighton and Hove", organisation=None)
    assert stored.answers == {"lead": {"answer": "partly", "note": "Two of three services"}}
    assert AuditEvent.objects.filter(
        action="update", target_type="insights.selfassessment"
    ).exists()
    page = browser.get("/insights/self-assessment/").content.decode()
    assert "Two of three services" in page

    manager = HttpClient()
    login_verified(manager, world.manager)
    assert manager.post("/insights/self-assessment/", {"fama-answer": "yes"}).status_code == 302
    assert SelfAssessment.objects.get(organisation=world.org).answers["fama"]["answer"] == "yes"
    # a bad answer is refused with the field named, and nothing is stored
    bad = manager.post("/insights/self-assessment/", {"fama-answer": "maybe"})
    assert bad.status_code == 200 and "maybe" in bad.content.decode()
    assert SelfAssessment.objects.get(organisation=world.org).answers["fama"]["answer"] == "yes"
