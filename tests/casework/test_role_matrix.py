"""The role matrix: every role x every client-data endpoint (web and API).

200 (or the success redirect of a POST) only where allowed; otherwise 404 (a client-data
role, but not this client), 403 (no client data, or read-only break-glass access), a
redirect to sign in (anonymous) or to the second factor (password-only session). Every
403/404 to a signed-in person is audited as "denied".
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client as HttpClient
from django.utils import timezone

from mutualaid.accounts.api_auth import issue_token
from mutualaid.accounts.models import AccessGrant, Role, Team
from mutualaid.audit.models import AuditEvent
from mutualaid.casework import services
from mutualaid.casework.models import Client, FollowUp
from tests.accounts.helpers import (
    login_password_only,
    login_verified,
    make_organisation,
    make_staff,
)
from tests.casework.helpers import brighton_meeting, make_client

pytestmark = pytest.mark.django_db

ALLOWED = "allowed"  # sees and works with the client
READ_ONLY = "read only"  # administrator with an active grant
OUT_OF_SCOPE = "out of scope"  # a client-data role, but not this client: 404
NO_CLIENT_DATA = "no client data"  # 403 at the gate
ANONYMOUS = "anonymous"
PASSWORD_ONLY = "password only"

ROLES = {
    "keyworker own": ALLOWED,
    "keyworker shared": ALLOWED,
    "keyworker other": OUT_OF_SCOPE,
    "team lead same team": ALLOWED,
    "team lead other team": OUT_OF_SCOPE,
    "manager same org": ALLOWED,
    "manager other org": OUT_OF_SCOPE,
    "commissioner": NO_CLIENT_DATA,
    "directory editor": NO_CLIENT_DATA,
    "administrator without grant": NO_CLIENT_DATA,
    "administrator with grant": READ_ONLY,
    "anonymous": ANONYMOUS,
    "password only": PASSWORD_ONLY,
}


def build_world():
    org = make_organisation("Service A")
    other_org = make_organisation("Service B")
    north = Team.objects.create(organisation=org, name="North")
    south = Team.objects.create(organisation=org, name="South")
    owner = make_staff(Role.KEYWORKER, org, north, username="owner")
    client = make_client(owner, preferred_name="Matrix Person")
    meeting = brighton_meeting()
    services.choose_meeting(actor=owner, client=client, meeting=meeting)
    intro = services.arrange_introduction(
        actor=owner,
        client=client,
        meeting=meeting,
        starts_at=meeting.next_start(timezone.now() + timedelta(days=1)),
        kind="keyworker_goes",
    )
    follow_up = FollowUp.objects.get(introduction=intro)
    shared = make_staff(Role.KEYWORKER, org, south)
    services.share_client(actor=owner, client=client, user=shared)
    admin_granted = make_staff(Role.ADMINISTRATOR, org)
    AccessGrant.objects.create(
        user=admin_granted,
        organisation=org,
        reason="incident 7",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    users = {
        "keyworker own": owner,
        "keyworker shared": shared,
        "keyworker other": make_staff(Role.KEYWORKER, org, north),
        "team lead same team": make_staff(Role.TEAM_LEAD, org, north),
        "team lead other team": make_staff(Role.TEAM_LEAD, org, south),
        "manager same org": make_staff(Role.MANAGER, org),
        "manager other org": make_staff(Role.MANAGER, other_org),
        "commissioner": make_staff(Role.COMMISSIONER, org, area="Brighton and Hove"),
        "directory editor": make_staff(Role.DIRECTORY_EDITOR, org),
        "administrator without grant": make_staff(Role.ADMINISTRATOR, org),
        "administrator with grant": admin_granted,
        "anonymous": None,
        "password only": owner,
    }
    return users, client, meeting, follow_up


def web_endpoints(client, meeting, follow_up):
    """(method, path, data, writes): every casework page that shows or changes one client."""
    base = f"/casework/clients/{client.pk}"
    return [
        ("get", f"{base}/", None, False),
        ("get", f"{base}/edit/", None, True),
        ("get", f"{base}/assess/", None, True),
        ("get", f"{base}/meetings/", None, True),
        ("get", f"{base}/goals/new/", None, True),
        ("get", f"{base}/introductions/new/?meeting={meeting.pk}", None, True),
        ("get", f"{base}/follow-up/", None, True),
        ("get", f"{base}/follow-up/{follow_up.pk}/", None, True),
        ("get", f"{base}/attendance/", None, True),
        ("get", f"{base}/check-in/", None, True),
        ("get", f"{base}/barc-10/", None, True),
        ("get", f"{base}/self-report-link/", None, True),
        ("get", f"{base}/share/", None, True),
        ("post", f"{base}/consent/", {"scope": "reminders_email", "action": "give"}, True),
        ("post", f"{base}/stage/", {"stage": "connect"}, True),
    ]


def api_endpoints(client):
    base = f"/api/v1/casework/clients/{client.pk}"
    today = timezone.localdate().isoformat()
    return [
        ("get", base, None, False),
        ("post", f"{base}/attendance", {"attended_on": today, "fellowship": "AA"}, True),
    ]


def expected_web(category, method, writes):
    ok = 302 if method == "post" else 200
    return {
        ALLOWED: ok,
        READ_ONLY: 403 if writes else 200,
        OUT_OF_SCOPE: 404,
        NO_CLIENT_DATA: 403,
        ANONYMOUS: "login",
        PASSWORD_ONLY: "mfa",
    }[category]


def expected_api(category, writes):
    return {
        ALLOWED: 201 if writes else 200,
        READ_ONLY: 403 if writes else 200,
        OUT_OF_SCOPE: 404,
        NO_CLIENT_DATA: 403,
        ANONYMOUS: 401,
        PASSWORD_ONLY: 403,
    }[category]


def outcome(response):
    if response.status_code == 302:
        location = response["Location"]
        if "/accounts/login/" in location:
            return "login"
        if "/accounts/two-factor/" in location:
            return "mfa"
    return response.status_code


def browser_for(name, user):
    browser = HttpClient()
    if name == "password only":
        login_password_only(browser, user)
    elif user is not None:
        login_verified(browser, user)
    return browser


@pytest.mark.parametrize("name", list(ROLES))
def test_web_role_matrix(name):
    users, client, meeting, follow_up = build_world()
    user, category = users[name], ROLES[name]
    browser = browser_for(name, user)
    wrong = []
    for method, path, data, writes in web_endpoints(client, meeting, follow_up):
        before = AuditEvent.objects.filter(action="denied").count()
        response = getattr(browser, method)(path, data or {})
        got, want = outcome(response), expected_web(category, method, writes)
        if got != want:
            wrong.append(f"{method.upper()} {path}: got {got}, want {want}")
        if got in (403, 404):
            denied = AuditEvent.objects.filter(action="denied").order_by("-seq")
            if denied.count() != before + 1 or denied.first().actor_id != user.pk:
                wrong.append(f"{method.upper()} {path}: {got} was not audited as denied")
        if got == 200 and category in (ALLOWED, READ_ONLY):
            assert "Matrix Person" in response.content.decode() or method == "post"
    assert not wrong, f"{name}:\n" + "\n".join(wrong)


def manager_endpoints(client):
    """Data-protection requests (docs/security.md): subject access and erasure are for the
    service's managers only; erasure last, as it removes the client."""
    base = f"/casework/clients/{client.pk}"
    return [
        ("get", f"{base}/subject-access/", None),
        ("get", f"{base}/subject-access/?format=json", None),
        ("get", f"{base}/subject-access/?format=pdf", None),
        ("get", f"{base}/erase/", None),
        ("post", f"{base}/erase/", {"confirm": client.case_reference}),
    ]


def expected_manager_only(name, category, method):
    if name == "manager same org":
        return 302 if method == "post" else 200
    return {
        ALLOWED: 403,  # sees the client, but answering these requests is a manager's
        READ_ONLY: 403,
        OUT_OF_SCOPE: 404,
        NO_CLIENT_DATA: 403,
        ANONYMOUS: "login",
        PASSWORD_ONLY: "mfa",
    }[category]


@pytest.mark.parametrize("name", list(ROLES))
def test_web_role_matrix_for_manager_only_endpoints(name):
    users, client, meeting, follow_up = build_world()
    user, category = users[name], ROLES[name]
    browser = browser_for(name, user)
    wrong = []
    for method, path, data in manager_endpoints(client):
        before = AuditEvent.objects.filter(action="denied").count()
        exports = AuditEvent.objects.filter(action="export").count()
        response = getattr(browser, method)(path, data or {})
        got, want = outcome(response), expected_manager_only(name, category, method)
        if got != want:
            wrong.append(f"{method.upper()} {path}: got {got}, want {want}")
        if got in (403, 404):
            denied = AuditEvent.objects.filter(action="denied").order_by("-seq")
            if denied.count() != before + 1 or denied.first().actor_id != user.pk:
                wrong.append(f"{method.upper()} {path}: {got} was not audited as denied")
        if "format=" in path and got == 200:
            if AuditEvent.objects.filter(action="export").count() != exports + 1:
                wrong.append(f"GET {path}: the export was not audited")
    assert not wrong, f"{name}:\n" + "\n".join(wrong)
    erased = not Client.objects.filter(pk=client.pk).exists()
    assert erased == (name == "manager same org")


@pytest.mark.parametrize("name", list(ROLES))
def test_lists_show_the_client_only_to_those_allowed(name):
    users, client, meeting, follow_up = build_world()
    user, category = users[name], ROLES[name]
    browser = browser_for(name, user)
    for path in ("/casework/", "/casework/follow-ups/"):
        response = browser.get(path)
        got = outcome(response)
        if category in (ALLOWED, READ_ONLY):
            assert got == 200
            if path == "/casework/":
                assert "Matrix Person" in response.content.decode()
        elif category == OUT_OF_SCOPE:
            assert got == 200 and "Matrix Person" not in response.content.decode()
        elif category == NO_CLIENT_DATA:
            assert got == 403
            assert AuditEvent.objects.filter(action="denied", actor_id=user.pk).exists()
        else:
            assert got == ("login" if category == ANONYMOUS else "mfa")


@pytest.mark.parametrize("name", list(ROLES))
def test_api_role_matrix(name):
    users, client, meeting, follow_up = build_world()
    user, category = users[name], ROLES[name]
    browser = HttpClient()
    headers = {}
    if name == "password only":
        login_password_only(browser, user)
    elif user is not None:
        _, token = issue_token(user=user, name="matrix", scopes=["casework:read", "casework:write"])
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    wrong = []
    for method, path, data, writes in api_endpoints(client):
        before = AuditEvent.objects.filter(action="denied").count()
        if method == "post":
            response = browser.post(path, data, content_type="application/json", **headers)
        else:
            response = browser.get(path, **headers)
        got, want = response.status_code, expected_api(category, writes)
        if got != want:
            wrong.append(
                f"{method.upper()} {path}: got {got}, want {want}: {response.content[:200]}"
            )
        if got in (403, 404) and category not in (PASSWORD_ONLY,):
            if AuditEvent.objects.filter(action="denied").count() != before + 1:
                wrong.append(f"{method.upper()} {path}: {got} was not audited as denied")
    # The list never includes a client outside the caller's scope.
    response = browser.get("/api/v1/casework/clients", **headers)
    if category in (ALLOWED, READ_ONLY):
        assert [c["id"] for c in response.json()] == [client.pk]
    elif category == OUT_OF_SCOPE:
        assert response.status_code == 200 and response.json() == []
    else:
        assert response.status_code in (401, 403)
    assert not wrong, f"{name}:\n" + "\n".join(wrong)


def test_a_token_without_the_write_scope_cannot_write():
    users, client, meeting, follow_up = build_world()
    _, token = issue_token(user=users["keyworker own"], name="ro", scopes=["casework:read"])
    browser = HttpClient()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert browser.get(f"/api/v1/casework/clients/{client.pk}", **auth).status_code == 200
    response = browser.post(
        f"/api/v1/casework/clients/{client.pk}/attendance",
        {"attended_on": timezone.localdate().isoformat(), "fellowship": "AA"},
        content_type="application/json",
        **auth,
    )
    assert response.status_code in (401, 403)


def test_an_expired_grant_is_no_access():
    users, client, meeting, follow_up = build_world()
    admin = users["administrator with grant"]
    AccessGrant.objects.filter(user=admin).update(expires_at=timezone.now() - timedelta(minutes=1))
    browser = browser_for("administrator with grant", admin)
    assert browser.get(f"/casework/clients/{client.pk}/").status_code == 403
