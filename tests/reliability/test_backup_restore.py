"""`mutualaid backup` and `mutualaid restore`: a round trip gives back every row of every
table, the audit trail's hash chain still verifies, and restore refuses to overwrite a
database with data unless told, and refuses a file that is not a backup
(docs/reliability.md, "Lost or damaged database")."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from mutualaid.accounts.models import Role
from mutualaid.audit.models import AuditEvent
from mutualaid.audit.services import verify_chain
from mutualaid.casework import services as casework
from mutualaid.casework.models import Client
from mutualaid.directory.models import Meeting
from mutualaid.ops.backups import BackupError, verify
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import make_client
from tests.factories import make_meeting

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@pytest.fixture(autouse=True)
def emptied_audit_trail_after():
    """These tests commit. PostgreSQL empties tables after them with TRUNCATE; on SQLite
    the flush DELETEs, which the append-only triggers refuse: lift them for that only."""
    yield
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
            "AND tbl_name = 'audit_auditevent'"
        )
        triggers = cursor.fetchall()
        for name, _ in triggers:
            cursor.execute(f'DROP TRIGGER "{name}"')
        cursor.execute("DELETE FROM audit_auditevent")
        for _, sql in triggers:
            cursor.execute(sql)


def everything() -> dict[str, list]:
    """Every row of every table, as sorted reprs (order-free, type-exact)."""
    tables = {}
    with connection.cursor() as cursor:
        for table in sorted(connection.introspection.table_names()):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            tables[table] = sorted(repr(tuple(row)) for row in cursor.fetchall())
    return tables


def test_backup_then_restore_gives_back_every_row_and_a_valid_audit_chain(tmp_path, capsys):
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    for n in range(5):
        make_meeting(name=f"Backup meeting {n}", notes="café ☕ 'quoted'")
    client = make_client(keyworker, preferred_name="Robin Backup")
    casework.update_client(actor=keyworker, client=client, area_name="Hove")
    assert AuditEvent.objects.count() >= 2
    before = everything()
    assert sum(len(rows) for rows in before.values()) > 50

    path = tmp_path / "backups" / "one.backup"
    call_command("backup", str(path))
    assert "verified" in capsys.readouterr().out
    assert verify(path, vendor=connection.vendor) > 20

    # Damage: meetings gone, a client changed, more audit events.
    Meeting.objects.filter(name__startswith="Backup meeting").delete()
    casework.update_client(actor=keyworker, client=client, area_name="Lewes")
    assert everything() != before

    with pytest.raises(CommandError, match="already has data"):
        call_command("restore", str(path))
    call_command("restore", str(path), "--force")
    connection.close()  # a new connection, as the next request would have

    assert everything() == before
    assert Client.objects.get(pk=client.pk).preferred_name == "Robin Backup"  # decrypts
    ok, _, message = verify_chain()
    assert ok, message
    call_command("audit", "verify")


def test_backup_never_overwrites_and_restore_refuses_what_is_not_a_backup(tmp_path):
    make_meeting(name="Keep me")
    path = tmp_path / "b.backup"
    call_command("backup", str(path))
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", str(path))
    junk = tmp_path / "junk.backup"
    junk.write_bytes(
        b"SQLite format 3\x00" + b"\x00" * 50 if connection.vendor == "sqlite" else b"PGDMP junk"
    )
    with pytest.raises(CommandError):
        call_command("restore", str(junk), "--force")
    with pytest.raises(BackupError):
        verify(tmp_path / "missing", vendor=connection.vendor)
    assert Meeting.objects.filter(name="Keep me").exists()  # untouched
