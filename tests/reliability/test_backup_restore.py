"""`mutualaid backup` and `mutualaid restore`, run as commands on a real database (an
SQLite file, or a fresh PostgreSQL database): a round trip gives back every row of every
table, the audit trail's hash chain still verifies, and restore refuses to overwrite a
database with data unless told, and refuses a file that is not a backup
(docs/reliability.md, "Backups").

Done in a throwaway database rather than the suite's, so no test has to commit to (and
then empty) the shared test database.
"""

from __future__ import annotations

import pytest

from .helpers import throwaway_database


def tables(target) -> list[str]:
    if target.vendor == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    return sorted(name for (name,) in target.query(sql))


def everything(target) -> dict[str, list[str]]:
    """Every row of every table, as sorted reprs (order-free, type-exact)."""
    return {t: sorted(map(repr, target.query(f'SELECT * FROM "{t}"'))) for t in tables(target)}


@pytest.mark.django_db
def test_backup_then_restore_gives_back_every_row_and_a_valid_audit_chain(tmp_path):
    with throwaway_database(tmp_path) as target:
        target.run("demo", timeout=600)  # meetings, volunteers, clients, audit events
        before = everything(target)
        assert len(before["audit_auditevent"]) > 10 and before["casework_client"]
        assert sum(len(rows) for rows in before.values()) > 500

        path = tmp_path / "backups" / "one.backup"
        out = target.run("backup", str(path)).stdout
        assert "verified" in out
        refused = target.run("backup", str(path), check=False)
        assert refused.returncode != 0 and "already exists" in refused.stderr

        # Damage: meetings and a client changed, more audit events, a table emptied.
        target.query("UPDATE directory_meeting SET name = 'damaged', version = version + 1")
        target.query("DELETE FROM directory_changerequest")
        target.run("audit", "verify")
        assert everything(target) != before

        refused = target.run("restore", str(path), check=False)
        assert refused.returncode != 0 and "already has data" in refused.stderr
        junk = tmp_path / "junk.backup"
        junk.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
        refused = target.run("restore", str(junk), "--force", check=False)
        assert refused.returncode != 0 and "junk.backup" in refused.stderr
        assert target.query("SELECT count(*) FROM directory_meeting WHERE name = 'damaged'")[0][0]

        out = target.run("restore", str(path), "--force").stdout
        assert "restored" in out
        after = everything(target)
        changed = sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))
        assert not changed, {t: (before.get(t, [])[-2:], after.get(t, [])[-2:]) for t in changed}
        verified = target.run("audit", "verify").stdout
        assert "chain intact" in verified
