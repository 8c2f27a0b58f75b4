"""Who may see client data, and the @client_data_view gate in front of every such view."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from mutualaid.accounts.decorators import client_data_view
from mutualaid.accounts.models import AccessGrant, Role
from mutualaid.accounts.roles import (
    CLIENT_DATA_ROLES,
    can_see_client_data,
    client_data_organisation_ids,
    membership_of,
)
from mutualaid.audit.models import AuditEvent
from tests.accounts.helpers import (
    STAFF_PASSWORD,
    login_password_only,
    login_verified,
    make_organisation,
    make_staff,
)

pytestmark = pytest.mark.django_db


def test_client_data_roles_are_exactly_keyworker_team_lead_manager():
    assert CLIENT_DATA_ROLES == {Role.KEYWORKER, Role.TEAM_LEAD, Role.MANAGER}


@pytest.mark.parametrize(
    "role, expected",
    [
        (Role.KEYWORKER, True),
        (Role.TEAM_LEAD, True),
        (Role.MANAGER, True),
        (Role.COMMISSIONER, False),
        (Role.DIRECTORY_EDITOR, False),
        (Role.ADMINISTRATOR, False),
    ],
)
def test_can_see_client_data_by_role(role, expected):
    user = make_staff(role)
    assert can_see_client_data(user) is expected
    assert can_see_client_data(user, membership_of(user).organisation) is expected


def test_client_data_is_for_the_own_organisation_only():
    user = make_staff(Role.MANAGER)
    other = make_organisation()
    assert not can_see_client_data(user, other)
    assert client_data_organisation_ids(user) == {membership_of(user).organisation_id}


def test_superuser_without_membership_sees_no_client_data():
    boss = get_user_model().objects.create_superuser("root", password=STAFF_PASSWORD)
    assert membership_of(boss) is None
    assert not can_see_client_data(boss)


def test_inactive_user_sees_nothing():
    user = make_staff(Role.KEYWORKER)
    user.is_active = False
    user.save()
    assert not can_see_client_data(user)


def test_administrator_needs_an_active_expiring_grant():
    admin = make_staff(Role.ADMINISTRATOR)
    org = membership_of(admin).organisation
    other = make_organisation()
    grant = AccessGrant.objects.create(
        user=admin,
        organisation=org,
        reason="Incident 42: restore a deleted care plan",
        expires_at=timezone.now() + timedelta(hours=2),
    )
    assert can_see_client_data(admin)
    assert can_see_client_data(admin, org)
    assert not can_see_client_data(admin, other)
    assert client_data_organisation_ids(admin) == {org.pk}
    grant.revoked_at = timezone.now()
    grant.save()
    assert not can_see_client_data(admin)
    AccessGrant.objects.create(
        user=admin, organisation=org, reason="old", expires_at=timezone.now() - timedelta(1)
    )
    assert not can_see_client_data(admin)


@client_data_view
def _client_view(request):
    return HttpResponse("client record")


def _request_for(client, user):
    """A request carrying the test client's session, through the real middleware stack."""
    from django.contrib.auth.middleware import AuthenticationMiddleware
    from django.contrib.sessions.middleware import SessionMiddleware
    from django_otp.middleware import OTPMiddleware

    request = RequestFactory().get("/casework/clients/7/")
    request.COOKIES = {k: v.value for k, v in client.cookies.items()}
    SessionMiddleware(lambda r: None).process_request(request)
    AuthenticationMiddleware(lambda r: None).process_request(request)
    OTPMiddleware(lambda r: None)._install_lazy_accessors(request)
    return request


def test_gate_sends_anonymous_to_sign_in(client):
    response = _client_view(_request_for(client, None))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:login"))


def test_gate_sends_password_only_session_to_the_second_factor(client):
    user = make_staff(Role.KEYWORKER)
    login_password_only(client, user)
    response = _client_view(_request_for(client, user))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:otp_verify"))


def test_gate_sends_user_without_device_to_setup(client):
    user = make_staff(Role.KEYWORKER, with_device=False)
    login_password_only(client, user)
    response = _client_view(_request_for(client, user))
    assert response.status_code == 302
    assert response.url.startswith(reverse("accounts:otp_setup"))


def test_gate_lets_a_verified_keyworker_in(client):
    user = make_staff(Role.KEYWORKER)
    login_verified(client, user)
    response = _client_view(_request_for(client, user))
    assert response.status_code == 200
    assert response.content == b"client record"


def test_gate_refuses_a_verified_commissioner_and_audits_it(client):
    user = make_staff(Role.COMMISSIONER)
    login_verified(client, user)
    response = _client_view(_request_for(client, user))
    assert response.status_code == 403
    denied = AuditEvent.objects.filter(action="denied", actor_id=user.pk).get()
    assert denied.detail["path"] == "/casework/clients/7/"


def test_break_glass_grant_in_the_admin_is_audited(client):
    boss = make_staff(Role.ADMINISTRATOR)
    boss.is_staff = boss.is_superuser = True
    boss.save()
    target = make_staff(Role.ADMINISTRATOR)
    org = membership_of(target).organisation
    login_verified(client, boss)
    soon = timezone.localtime() + timedelta(hours=4)
    response = client.post(
        reverse("admin:accounts_accessgrant_add"),
        {
            "user": target.pk,
            "organisation": org.pk,
            "reason": "Incident 7: restore a care plan",
            "expires_at_0": soon.strftime("%Y-%m-%d"),
            "expires_at_1": soon.strftime("%H:%M:%S"),
        },
    )
    assert response.status_code == 302, response.content[:2000]
    grant = AccessGrant.objects.get(user=target)
    assert grant.granted_by == boss
    assert can_see_client_data(target, org)
    event = AuditEvent.objects.get(action="access_granted")
    assert event.actor_id == boss.pk and event.target_id == str(grant.pk)
    assert "Incident" not in str(event.detail)
