"""Encryption at rest, end to end: a real SQLite database file never holds the plaintext."""

import os
import subprocess
import sys

from cryptography.fernet import Fernet

SCRIPT = """
import django, os
django.setup()
from datetime import timedelta
from django.core.management import call_command
from django.contrib.auth import get_user_model
from django.utils import timezone
from mutualaid.accounts.models import AccessGrant, Membership, Organisation
call_command("migrate", verbosity=0)
org = Organisation.objects.create(name="Service", slug="service")
user = get_user_model().objects.create_user("admin1", password="correct horse battery 42")
Membership.objects.create(user=user, organisation=org, role="administrator")
grant = AccessGrant.objects.create(user=user, organisation=org, reason=os.environ["PLAINTEXT"],
                                   expires_at=timezone.now() + timedelta(hours=1))
assert AccessGrant.objects.get(pk=grant.pk).reason == os.environ["PLAINTEXT"]
print("ok")
"""


def test_sqlite_file_bytes_do_not_contain_the_plaintext(tmp_path):
    plaintext = "reason plaintext ZEBRA-7731 client relapsed"
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(
        MUTUALAID_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="mutualaid.settings",
        FIELD_ENCRYPTION_KEYS=Fernet.generate_key().decode(),
        PLAINTEXT=plaintext,
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    files = [p for p in tmp_path.iterdir() if p.name.startswith("mutualaid.sqlite3")]
    assert files
    blob = b"".join(p.read_bytes() for p in files)
    assert b"admin1" in blob  # the scan does see the file's text
    assert b"ZEBRA-7731" not in blob
    assert b"relapsed" not in blob
