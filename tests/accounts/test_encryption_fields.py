"""Encryption at rest: known plaintext never reaches the database."""

from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.db import connection
from django.test import override_settings
from django.utils import timezone

from mutualaid.accounts import encryption
from mutualaid.accounts.models import AccessGrant, Role
from mutualaid.accounts.roles import membership_of
from tests.accounts.helpers import make_staff

pytestmark = pytest.mark.django_db

SECRET = "reason plaintext: client Jane Example relapsed after detox"


def _all_text_in_database() -> str:
    """Every text value of every column of every table, read with raw SQL."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            quoted = connection.ops.quote_name(table)
            cursor.execute(f"SELECT * FROM {quoted}")
            for row in cursor.fetchall():
                chunks.extend(str(v) for v in row if isinstance(v, str | bytes | memoryview))
    return "\n".join(chunks)


def _grant(reason=SECRET):
    admin = make_staff(Role.ADMINISTRATOR)
    return AccessGrant.objects.create(
        user=admin,
        organisation=membership_of(admin).organisation,
        reason=reason,
        expires_at=timezone.now() + timedelta(hours=1),
    )


def test_encrypted_field_round_trips_but_is_ciphertext_in_the_table():
    grant = _grant()
    assert AccessGrant.objects.get(pk=grant.pk).reason == SECRET
    with connection.cursor() as cursor:
        cursor.execute("SELECT reason FROM accounts_accessgrant WHERE id = %s", [grant.pk])
        (raw,) = cursor.fetchone()
    assert raw != SECRET and raw.startswith("gAAAAA")  # a Fernet token
    assert encryption.decrypt(raw) == SECRET


def test_plaintext_absent_from_every_table():
    _grant()
    everything = _all_text_in_database()
    assert "Jane Example" not in everything
    assert "relapsed" not in everything


def test_each_save_uses_a_fresh_iv():
    assert encryption.encrypt("same") != encryption.encrypt("same")


def test_lookups_on_encrypted_fields_are_refused():
    _grant()
    with pytest.raises(FieldError):
        list(AccessGrant.objects.filter(reason=SECRET))
    with pytest.raises(FieldError):
        list(AccessGrant.objects.filter(reason__icontains="Jane"))
    assert AccessGrant.objects.filter(reason__isnull=False).count() == 1


def test_keys_from_environment_current_first_old_still_decrypt():
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    with override_settings(FIELD_ENCRYPTION_KEYS=[old]):
        token = encryption.encrypt("hello")
    with override_settings(FIELD_ENCRYPTION_KEYS=[new, old]):
        assert encryption.decrypt(token) == "hello"
        assert not encryption.is_current(token)
        assert encryption.is_current(encryption.rotate(token))
    with override_settings(FIELD_ENCRYPTION_KEYS=[new]), pytest.raises(encryption.InvalidToken):
        encryption.decrypt(token)


def test_key_file(tmp_path):
    key = Fernet.generate_key().decode()
    path = tmp_path / "keys"
    path.write_text(f"# current first\n{key}\n")
    with override_settings(FIELD_ENCRYPTION_KEYS=[], FIELD_ENCRYPTION_KEY_FILE=str(path)):
        token = encryption.encrypt("x")
        assert Fernet(key.encode()).decrypt(token.encode()) == b"x"


def test_debug_generates_a_private_dev_key_file(tmp_path):
    with override_settings(
        FIELD_ENCRYPTION_KEYS=[],
        FIELD_ENCRYPTION_KEY_FILE=None,
        FIELD_ENCRYPTION_DEV_KEY_FILE=tmp_path / "field-keys",
    ):
        token = encryption.encrypt("x")
        assert encryption.decrypt(token) == "x"
    path = tmp_path / "field-keys"
    assert path.exists()
    assert path.stat().st_mode & 0o777 == 0o600


def test_no_keys_without_debug_is_refused(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    from mutualaid.accounts.checks import check_field_encryption_keys

    with override_settings(
        DEBUG=False,
        FIELD_ENCRYPTION_KEYS=[],
        FIELD_ENCRYPTION_KEY_FILE=None,
        FIELD_ENCRYPTION_DEV_KEY_FILE=None,
    ):
        with pytest.raises(ImproperlyConfigured):
            encryption.encrypt("x")
        errors = check_field_encryption_keys()
        assert [e.id for e in errors] == ["accounts.E001"]
    with override_settings(FIELD_ENCRYPTION_KEYS=["not-a-key"]):
        assert [e.id for e in check_field_encryption_keys()] == ["accounts.E002"]
