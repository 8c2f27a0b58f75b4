"""Staff API tokens: hashed at rest, scoped, expiring, revocable; StaffTokenAuth."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone
from ninja.errors import HttpError

from mutualaid.accounts.api_auth import StaffTokenAuth, issue_token, require_scope, revoke_token
from mutualaid.accounts.models import ApiToken, Membership, Role, hash_token
from mutualaid.audit.models import AuditEvent
from tests.accounts.helpers import make_staff

pytestmark = pytest.mark.django_db


def _auth(plaintext, scopes=()):
    request = RequestFactory().get(
        "/api/v1/casework/clients", HTTP_AUTHORIZATION=f"Bearer {plaintext}"
    )
    return request, StaffTokenAuth(scopes=scopes)(request)


def test_plaintext_is_shown_once_and_only_its_hash_is_stored():
    user = make_staff(Role.KEYWORKER)
    token, plaintext = issue_token(user=user, name="laptop", scopes=["casework:read"])
    assert token.prefix == plaintext[:8]
    assert token.token_hash == hash_token(plaintext)
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_apitoken")
        rows = cursor.fetchall()
    assert plaintext not in repr(rows)
    assert plaintext[8:] not in repr(rows)
    assert AuditEvent.objects.filter(action="token_issued").count() == 1


def test_default_lifetime_is_90_days_and_bounded():
    user = make_staff(Role.KEYWORKER)
    token, _ = issue_token(user=user, name="t", scopes=["casework:read"])
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    with pytest.raises(ValueError):
        issue_token(user=user, name="t", scopes=["casework:read"], days=10_000)
    with pytest.raises(ValueError):
        issue_token(user=user, name="t", scopes=[])


def test_token_authenticates_and_sets_the_user():
    user = make_staff(Role.KEYWORKER)
    token, plaintext = issue_token(user=user, name="t", scopes=["casework:read"])
    request, result = _auth(plaintext, ["casework:read"])
    assert result == token
    assert request.user == user and request.user.is_verified()
    assert ApiToken.objects.get(pk=token.pk).last_used_at is not None


def test_wrong_expired_or_revoked_tokens_are_refused():
    user = make_staff(Role.KEYWORKER)
    token, plaintext = issue_token(user=user, name="t", scopes=["casework:read"])
    assert _auth(plaintext + "x")[1] is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - timedelta(1))
    assert _auth(plaintext)[1] is None
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() + timedelta(1))
    assert _auth(plaintext)[1] == token
    revoke_token(token)
    assert _auth(plaintext)[1] is None


def test_scopes_are_enforced():
    user = make_staff(Role.KEYWORKER)
    _, plaintext = issue_token(user=user, name="t", scopes=["casework:read"])
    with pytest.raises(HttpError) as refused:
        _auth(plaintext, ["casework:write"])
    assert refused.value.status_code == 403
    request, _ = _auth(plaintext, ["casework:read"])
    require_scope(request, "casework:read")
    with pytest.raises(HttpError):
        require_scope(request, "casework:write")


def test_token_of_a_leaver_or_a_moved_person_stops_working():
    user = make_staff(Role.KEYWORKER)
    _, plaintext = issue_token(user=user, name="t", scopes=["casework:read"])
    Membership.objects.filter(user=user).update(role=Role.DIRECTORY_EDITOR)
    with pytest.raises(HttpError):
        _auth(plaintext)
    user.is_active = False
    user.save()
    assert _auth(plaintext)[1] is None
