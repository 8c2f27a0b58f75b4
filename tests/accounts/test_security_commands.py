"""`mutualaid tokens` and `mutualaid rotate-keys`."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from mutualaid.accounts import encryption
from mutualaid.accounts.api_auth import find_token
from mutualaid.accounts.models import AccessGrant, ApiToken, Role
from mutualaid.accounts.roles import membership_of
from mutualaid.audit.models import AuditEvent
from tests.accounts.helpers import make_staff

pytestmark = pytest.mark.django_db


def test_tokens_issue_list_revoke(capsys):
    admin = make_staff(Role.ADMINISTRATOR)
    keyworker = make_staff(Role.KEYWORKER)
    call_command(
        "tokens",
        "issue",
        "--user",
        keyworker.username,
        "--by",
        admin.username,
        "--name",
        "sync",
        "--scope",
        "casework:read",
        "--days",
        "7",
    )
    plaintext = capsys.readouterr().out.strip()
    token = find_token(plaintext)
    assert token is not None and token.user == keyworker and token.scopes == ["casework:read"]
    assert token.expires_at - timezone.now() <= timedelta(days=7)
    assert AuditEvent.objects.get(action="token_issued").actor_id == admin.pk

    call_command("tokens", "list")
    listing = capsys.readouterr().out
    assert token.prefix in listing and "active" in listing and plaintext not in listing

    call_command("tokens", "revoke", token.prefix, "--by", admin.username)
    assert find_token(plaintext) is None
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    call_command("tokens", "list")
    assert "revoked" in capsys.readouterr().out


def test_only_administrators_issue_tokens_at_the_cli():
    keyworker = make_staff(Role.KEYWORKER)
    with pytest.raises(CommandError, match="not an administrator"):
        call_command(
            "tokens",
            "issue",
            "--user",
            keyworker.username,
            "--by",
            keyworker.username,
            "--name",
            "x",
            "--scope",
            "casework:read",
        )


def test_no_token_for_someone_who_cannot_see_client_data():
    admin = make_staff(Role.ADMINISTRATOR)
    editor = make_staff(Role.DIRECTORY_EDITOR)
    with pytest.raises(CommandError, match="cannot see client data"):
        call_command(
            "tokens",
            "issue",
            "--user",
            editor.username,
            "--by",
            admin.username,
            "--name",
            "x",
            "--scope",
            "casework:read",
        )


def _raw_reasons():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, reason FROM accounts_accessgrant ORDER BY id")
        return dict(cursor.fetchall())


def test_rotate_keys_re_encrypts_everything_under_the_new_key(capsys):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    admin = make_staff(Role.ADMINISTRATOR)
    org = membership_of(admin).organisation
    reasons = [f"reason {n}: incident review" for n in range(7)]
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        for reason in reasons:
            AccessGrant.objects.create(
                user=admin,
                organisation=org,
                reason=reason,
                expires_at=timezone.now() + timedelta(hours=1),
            )
    before = _raw_reasons()
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        # While both keys are configured the site reads old and new values alike.
        assert sorted(AccessGrant.objects.values_list("reason", flat=True)) == sorted(reasons)
        call_command("rotate-keys", "--dry-run", "--batch-size", "3")
        assert "7 need rotating" in capsys.readouterr().out
        assert _raw_reasons() == before
        call_command("rotate-keys", "--batch-size", "3")
        assert "7 rotated" in capsys.readouterr().out
        after = _raw_reasons()
        assert all(after[pk] != before[pk] for pk in before)
        assert all(encryption.is_current(token) for token in after.values())
        call_command("rotate-keys")  # idempotent: nothing left
        assert "0 rotated" in capsys.readouterr().out
        assert _raw_reasons() == after
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]):
        # The old key can now be removed.
        assert sorted(AccessGrant.objects.values_list("reason", flat=True)) == sorted(reasons)
    assert AuditEvent.objects.filter(action="keys_rotated").count() == 1
