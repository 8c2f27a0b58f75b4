"""The audit trail: hash chain, append-only guards, verify command, disclosures."""

import json

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.test import RequestFactory

from mutualaid.accounts.models import Organisation, Role
from mutualaid.audit.models import AppendOnlyError, AuditEvent
from mutualaid.audit.selectors import disclosures_for, events_for
from mutualaid.audit.services import GENESIS_HASH, record_event, verify_chain
from tests.accounts.helpers import make_staff

pytestmark = pytest.mark.django_db


def _events(n=3):
    user = make_staff(Role.KEYWORKER)
    org = Organisation.objects.get(memberships__user=user)
    return (
        user,
        org,
        [
            record_event(actor=user, action="read", target=("casework.client", 40 + i))
            for i in range(n)
        ],
    )


def test_events_chain_from_genesis():
    user, org, events = _events(3)
    first = AuditEvent.objects.order_by("seq").first()
    assert first.prev_hash == GENESIS_HASH
    seqs = list(AuditEvent.objects.values_list("seq", flat=True))
    assert seqs == list(range(1, len(seqs) + 1))
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert events[0].organisation_id == org.pk  # taken from the actor's membership
    ok, bad, message = verify_chain()
    assert ok and bad is None, message


def test_record_event_fills_target_ip_and_refuses_content():
    user, org, _ = _events(0)
    request = RequestFactory().get("/casework/clients/9/", REMOTE_ADDR="203.0.113.7")
    event = record_event(
        actor=user,
        action="export",
        target="casework.client:9",
        request=request,
        detail={"fields": ["notes", "goals"], "format": "csv"},
    )
    event.refresh_from_db()
    assert (event.target_type, event.target_id, event.ip) == ("casework.client", "9", "203.0.113.7")
    assert event.actor_label == user.username
    with pytest.raises(ValueError):
        record_event(actor=user, action="read", detail={"notes": "x" * 500})
    with pytest.raises(ValueError):
        record_event(actor=user, action="looked")


def test_model_refuses_update_and_delete():
    _, _, events = _events(1)
    event = events[0]
    event.action = "update"
    with pytest.raises(AppendOnlyError):
        event.save()
    with pytest.raises(AppendOnlyError):
        event.delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.update(action="read")


@pytest.mark.skipif(
    connection.vendor not in {"sqlite", "postgresql"}, reason="triggers for sqlite/postgresql"
)
def test_database_triggers_refuse_raw_update_and_delete():
    _events(1)
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("UPDATE audit_auditevent SET action = 'update'")
    with pytest.raises(DatabaseError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM audit_auditevent")


def _drop_triggers():
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_update")
            cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_delete")
        elif connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER IF EXISTS audit_auditevent_no_change ON audit_auditevent")


def test_verify_detects_an_edited_row(capsys):
    _, _, events = _events(4)
    _drop_triggers()  # an attacker with database access; the test transaction restores them
    tampered = events[1].seq
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET actor_label = 'someone else' WHERE seq = %s", [tampered]
        )
    ok, bad, message = verify_chain()
    assert (ok, bad) == (False, tampered), message
    assert "altered" in message
    with pytest.raises(SystemExit) as exit_info:
        call_command("audit", "verify")
    assert exit_info.value.code == 1
    assert f"#{tampered}" in capsys.readouterr().err


def test_verify_detects_a_deleted_row():
    _, _, events = _events(4)
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM audit_auditevent WHERE seq = %s", [events[1].seq])
    ok, bad, message = verify_chain()
    assert not ok and bad == events[2].seq, message


def test_verify_detects_a_rewritten_detail():
    _, _, events = _events(2)
    _drop_triggers()
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE audit_auditevent SET detail = %s WHERE seq = %s",
            [json.dumps({"fields": ["x"]}), events[0].seq],
        )
    ok, bad, _ = verify_chain()
    assert (ok, bad) == (False, events[0].seq)


def test_verify_command_passes_on_an_intact_chain(capsys):
    _events(2)
    call_command("audit", "verify")
    assert "chain intact" in capsys.readouterr().out


def test_disclosures_list_who_read_or_exported_a_record(capsys):
    user, _, _ = _events(0)
    other = make_staff(Role.MANAGER)
    request = RequestFactory().get("/", REMOTE_ADDR="198.51.100.4")
    record_event(actor=user, action="create", target=("casework.client", 5))
    record_event(actor=user, action="read", target=("casework.client", 5), request=request)
    record_event(actor=other, action="export", target=("casework.client", 5))
    record_event(actor=other, action="read", target=("casework.client", 6))
    assert events_for("casework.client:5").count() == 3
    assert [e.actor_label for e in disclosures_for(("casework.client", 5))] == [
        user.username,
        other.username,
    ]
    call_command("audit", "disclosures", "--target", "casework.client:5")
    out = capsys.readouterr().out
    assert user.username in out and other.username in out and "198.51.100.4" in out
    assert "casework.client:6" not in out
