"""Data lifecycle (docs/security.md, "Retention, subject access, erasure"): the retention
policy around its boundary, dry run and apply, idempotence; subject access export (JSON,
PDF; web and command; audited; managers only); erasure on request."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from io import StringIO
from unittest import mock

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client as HttpClient
from django.utils import timezone

from mutualaid.accounts.models import Role, Team
from mutualaid.audit.models import AuditEvent
from mutualaid.audit.services import verify_chain
from mutualaid.casework import lifecycle, services
from mutualaid.casework.models import (
    Assessment,
    Attendance,
    Barc10,
    CheckIn,
    Client,
    Consent,
    FollowUp,
    Goal,
    Introduction,
    SelfReportLink,
    StageChange,
)
from tests.accounts.helpers import login_verified, make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db

NAME = "Bernadette Quillfeather"
NOTE = "Drank again after the court date"
WORDS = "Scared of the church hall"
CONTACT = "bq-private@example.org"


@pytest.fixture
def org():
    return make_organisation("Lifecycle service")


@pytest.fixture
def keyworker(org):
    team = Team.objects.create(organisation=org, name="East")
    return make_staff(Role.KEYWORKER, org, team)


@pytest.fixture
def manager(org):
    return make_staff(Role.MANAGER, org)


def full_journey(keyworker, **client_fields):
    """A client at every stage, with notes in every free-text field."""
    fields = {"preferred_name": NAME, "contact_email": CONTACT, "preferences_note": NOTE}
    fields.update(client_fields)
    client = make_client(keyworker, **fields)
    for scope in ("volunteer_introduction", "self_report", "reminders_email"):
        services.record_consent(actor=keyworker, client=client, scope=scope)
    services.record_assessment(
        actor=keyworker, client=client, previous_experience="mixed", outcome="interested",
        concerns=WORDS, experience_note=NOTE,
    )  # fmt: skip
    meeting = brighton_meeting()
    services.choose_meeting(actor=keyworker, client=client, meeting=meeting)
    services.set_goal(
        actor=keyworker, client=client, kind="attend_once", meeting=meeting,
        due_on=timezone.localdate() + timedelta(days=10), description=NOTE,
    )  # fmt: skip
    volunteer = make_volunteer(keyworker)
    intro = services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting,
        starts_at=meeting.next_start(timezone.now() + timedelta(days=1)),
        kind="volunteer_meets", volunteer=volunteer, agreed_contact="Front door at 18:40",
    )  # fmt: skip
    services.respond_to_introduction(introduction=intro, accept=True)
    link, _ = services.create_self_report_link(actor=keyworker, client=client)
    services.self_report_attendance(link=link, attended_on=timezone.localdate(), meeting=meeting)
    services.self_report_check_in(link=link, answers={"shared": True, "meetings_in_person": 2})
    services.record_barc10(actor=keyworker, client=client, items=[5] * 10)
    follow_up = FollowUp.objects.filter(client=client, done_at__isnull=True).first()
    services.record_follow_up(
        actor=keyworker, follow_up=follow_up, client=client, attended="yes", felt="hard",
        how_it_felt=WORDS, barriers=NOTE, next_step="keep_going",
    )  # fmt: skip
    return client, intro


def close_at(keyworker, client, when):
    with mock.patch("django.utils.timezone.now", return_value=when):
        services.close_client(actor=keyworker, client=client)
    client.refresh_from_db()
    return client


# --- retention ---------------------------------------------------------------------------


def test_months_before_keeps_the_clock_and_clamps_the_day():
    moment = datetime(2026, 3, 31, 12, 0, tzinfo=UTC)
    assert lifecycle.months_before(moment, 1) == datetime(2026, 2, 28, 12, 0, tzinfo=UTC)
    assert lifecycle.months_before(moment, 13) == datetime(2025, 2, 28, 12, 0, tzinfo=UTC)
    assert lifecycle.months_before(datetime(2028, 3, 29, tzinfo=UTC), 1).day == 29  # leap
    assert lifecycle.months_before(moment, 96) == datetime(2018, 3, 31, 12, 0, tzinfo=UTC)
    assert lifecycle.months_before(datetime(2026, 1, 15, tzinfo=UTC), 1).month == 12


def test_only_records_closed_before_the_boundary_are_due(keyworker, settings):
    settings.RETENTION_CLOSED_CASE_MONTHS = 24
    now = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)
    cutoff = datetime(2024, 6, 15, 10, 0, tzinfo=UTC)
    just_past = close_at(keyworker, make_client(keyworker), cutoff - timedelta(seconds=1))
    exactly = close_at(keyworker, make_client(keyworker), cutoff)
    just_inside = close_at(keyworker, make_client(keyworker), cutoff + timedelta(seconds=1))
    open_old = make_client(keyworker)
    Client.objects.filter(pk=open_old.pk).update(created_at=cutoff - timedelta(days=900))
    due = list(lifecycle.due_for_anonymisation(now=now))
    assert due == [just_past]
    assert exactly not in due and just_inside not in due and open_old not in due
    # A day later the one closed exactly at the old boundary is due too.
    later = [c.pk for c in lifecycle.due_for_anonymisation(now=now + timedelta(days=1))]
    assert later == [just_past.pk, exactly.pk, just_inside.pk]


def test_dry_run_lists_and_counts_but_changes_nothing(keyworker, settings):
    settings.RETENTION_CLOSED_CASE_MONTHS = 12
    client, _ = full_journey(keyworker)
    close_at(keyworker, client, timezone.now() - timedelta(days=400))
    events_before = AuditEvent.objects.count()
    out = StringIO()
    call_command("retention", stdout=out)
    text = out.getvalue()
    assert "1 records would be anonymised" in text and "Dry run: nothing changed" in text
    assert f"{client.pk:>8}" in text and "assessment_notes 1" in text and "goal_notes 1" in text
    # The listing names no one: no name, no case reference.
    assert NAME not in text and client.case_reference not in text
    client.refresh_from_db()
    assert client.preferred_name == NAME and client.anonymised_at is None
    assert AuditEvent.objects.count() == events_before


def test_apply_anonymises_keeps_the_figures_and_is_idempotent(keyworker, settings):
    settings.RETENTION_CLOSED_CASE_MONTHS = 12
    client, intro = full_journey(keyworker)
    recent, _ = full_journey(keyworker, preferred_name="Recent Person")
    close_at(keyworker, client, timezone.now() - timedelta(days=400))
    close_at(keyworker, recent, timezone.now() - timedelta(days=30))
    stages_before = list(
        StageChange.objects.filter(client=client).values_list("to_stage", flat=True)
    )
    barc_total = Barc10.objects.get(client=client).total
    out = StringIO()
    call_command("retention", "--apply", stdout=out)
    assert "1 records anonymised" in out.getvalue()

    client.refresh_from_db()
    assert client.anonymised_at is not None
    assert client.preferred_name == "" and client.contact_email == ""
    assert client.preferences_note == "" and client.area_name == ""
    assert client.latitude is None and client.case_reference == f"anonymised-{client.pk}"
    a = Assessment.objects.get(client=client)
    assert (a.concerns, a.experience_note, a.outcome) == ("", "", "interested")
    assert Goal.objects.get(client=client).description == ""
    intro.refresh_from_db()
    assert intro.shared_first_name == "" and intro.agreed_contact == ""
    f = FollowUp.objects.filter(client=client, done_at__isnull=False).get()
    assert (f.how_it_felt, f.barriers, f.attended, f.felt) == ("", "", "yes", "hard")
    assert not SelfReportLink.objects.filter(client=client).exists()
    # What the service's figures need stays.
    assert list(StageChange.objects.filter(client=client).values_list("to_stage", flat=True)) == (
        stages_before
    )
    assert Attendance.objects.filter(client=client, source="self").count() == 1
    assert CheckIn.objects.get(client=client).participation == 1
    barc = Barc10.objects.get(client=client)
    assert barc.total == barc_total and barc.items == []
    assert Consent.objects.filter(client=client).count() == 3
    # The recent one is untouched.
    recent.refresh_from_db()
    assert recent.preferred_name == "Recent Person" and recent.anonymised_at is None
    # Audited, with no content; the chain still verifies.
    [event] = AuditEvent.objects.filter(
        target_type="casework.client", target_id=str(client.pk), detail__anonymised=True
    )
    assert event.actor_id is None and event.detail["via"] == "retention"
    assert NAME not in json.dumps(event.detail)
    assert AuditEvent.objects.filter(detail__retention_run=True).count() == 1
    assert verify_chain()[0]
    # Again: nothing to do, nothing recorded.
    count = AuditEvent.objects.count()
    again = StringIO()
    call_command("retention", "--apply", stdout=again)
    assert "0 records anonymised" in again.getvalue()
    assert AuditEvent.objects.count() == count
    assert lifecycle.anonymise_client(client=client) is False


def test_anonymised_plaintext_is_gone_from_the_database(keyworker, settings):
    """Not only unreadable: the ciphertexts of the notes are gone (no key brings them back)."""
    settings.RETENTION_CLOSED_CASE_MONTHS = 1
    client, _ = full_journey(keyworker)
    close_at(keyworker, client, timezone.now() - timedelta(days=100))
    with connection.cursor() as cursor:
        cursor.execute("SELECT concerns FROM casework_assessment WHERE client_id = %s", [client.pk])
        [(before,)] = cursor.fetchall()
    assert before  # a ciphertext
    lifecycle.retention(apply=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT concerns FROM casework_assessment WHERE client_id = %s", [client.pk])
        [(after,)] = cursor.fetchall()
    assert after != before
    assert Assessment.objects.get(client=client).concerns == ""


# --- subject access ----------------------------------------------------------------------


def test_subject_access_holds_everything_in_words(keyworker, manager):
    client, _ = full_journey(keyworker)
    data = lifecycle.subject_access_data(client, actor=manager)
    assert data["record"]["preferred_name"] == NAME
    assert data["record"]["contact_email"] == CONTACT
    assert data["record"]["preferences_and_barriers"] == NOTE
    scopes = {c["consent"]: c for c in data["consents"]}
    assert len(scopes) == 3 and all(c["given_at"] for c in scopes.values())
    assert data["conversations_about_mutual_aid"][0]["concerns"] == WORDS
    assert data["goals"][0]["details"] == NOTE
    assert data["introductions"][0]["with"] == "a volunteer"  # third party: not named
    assert data["introductions"][0]["agreed_contact"] == "Front door at 18:40"
    assert data["meetings_attended"][0]["recorded"] == "Self-reported by the client"
    assert data["check_ins"][0]["answers"]["shared"] is True
    assert data["barc10"][0]["total"] == 50
    assert any(f["in_their_words"] == WORDS for f in data["follow_ups"])
    assert data["self_report_links"] and data["stage_changes"]
    text = json.dumps(data)
    assert "Vol" not in text.replace("Volunteer", "").replace("volunteer", "")


def test_manager_downloads_json_and_pdf_audited(keyworker, manager):
    client, _ = full_journey(keyworker)
    browser = login_verified(HttpClient(), manager)
    page = browser.get(f"/casework/clients/{client.pk}/subject-access/")
    assert page.status_code == 200 and "Download as PDF" in page.content.decode()
    response = browser.get(f"/casework/clients/{client.pk}/subject-access/?format=json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    assert (
        response["Cache-Control"].startswith("max-age=0") or "no-store" in response["Cache-Control"]
    )
    data = json.loads(response.content)
    assert data["record"]["preferred_name"] == NAME
    # The page view itself shows in the accounting of disclosures.
    assert any(e["who"] == manager.username for e in data["accounting_of_disclosures"])
    pdf = browser.get(f"/casework/clients/{client.pk}/subject-access/?format=pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    exports = AuditEvent.objects.filter(
        action="export", target_type="casework.client", target_id=str(client.pk)
    )
    assert [e.detail["format"] for e in exports] == ["json", "pdf"]
    assert all(e.actor_id == manager.pk and e.detail["kind"] == "subject_access" for e in exports)
    assert all(NAME not in json.dumps(e.detail) for e in exports)


def test_subject_access_pdf_text(keyworker, manager):
    from mutualaid.lib.pdf import render_pdf

    client, _ = full_journey(keyworker)
    seen = {}

    def spy(html, **kw):
        seen["pdf"] = render_pdf(html, **kw)
        return seen["pdf"]

    with mock.patch("mutualaid.lib.pdf.render_pdf", side_effect=spy):
        lifecycle.export_subject_access(actor=manager, client=client, fmt="pdf")
    text = seen["pdf"].text
    assert NAME in text and WORDS in text and "Accounting of disclosures" in text
    assert "a volunteer" in text and "['" not in text  # lists in words, not Python


def test_keyworker_cannot_export_or_erase_even_their_own_client(keyworker):
    client, _ = full_journey(keyworker)
    with pytest.raises(PermissionDenied):
        lifecycle.export_subject_access(actor=keyworker, client=client, fmt="json")
    with pytest.raises(PermissionDenied):
        lifecycle.erase_client(actor=keyworker, client=client, confirm=client.case_reference)
    browser = login_verified(HttpClient(), keyworker)
    for path in ("subject-access/?format=json", "erase/"):
        before = AuditEvent.objects.filter(action="denied").count()
        assert browser.get(f"/casework/clients/{client.pk}/{path}").status_code == 403
        assert AuditEvent.objects.filter(action="denied").count() == before + 1
    page = browser.get(f"/casework/clients/{client.pk}/").content.decode()
    assert "subject-access-link" not in page


def test_subject_access_command(keyworker, manager, tmp_path):
    client, _ = full_journey(keyworker)
    out = StringIO()
    call_command("subject-access", "--client", str(client.pk), "--by", manager.username, stdout=out)
    assert json.loads(out.getvalue())["record"]["preferred_name"] == NAME
    target = tmp_path / "sar.pdf"
    call_command(
        "subject-access", "--client", str(client.pk), "--by", manager.username,
        "--format", "pdf", "--output", str(target), stderr=StringIO(),
    )  # fmt: skip
    assert target.read_bytes().startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", actor=manager).count() == 2
    other_manager = make_staff(Role.MANAGER, make_organisation())
    for by in (keyworker.username, other_manager.username, "nobody"):
        with pytest.raises(CommandError, match="is not a manager of a service"):
            call_command("subject-access", "--client", str(client.pk), "--by", by)
    with pytest.raises(CommandError, match="is not a manager"):
        call_command("subject-access", "--client", "999999", "--by", manager.username)


# --- erasure ------------------------------------------------------------------------------


def test_erasure_deletes_every_row_and_keeps_a_contentless_audit(
    keyworker, manager, mailoutbox, django_capture_on_commit_callbacks
):
    keyworker.email = "kw@example.org"
    keyworker.save()
    client, intro = full_journey(keyworker)
    pk = client.pk
    with pytest.raises(ValidationError, match="Type the case reference"):
        lifecycle.erase_client(actor=manager, client=client, confirm="wrong")
    assert Client.objects.filter(pk=pk).exists()
    sent = len(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        counts = lifecycle.erase_client(actor=manager, client=client, confirm=client.case_reference)
    assert counts["clients"] == 1 and counts["introductions"] == 1
    assert not Client.objects.filter(pk=pk).exists()
    for model in (Assessment, Goal, Introduction, FollowUp, Attendance, CheckIn, Barc10, Consent):
        assert not model.objects.filter(client_id=pk).exists(), model.__name__
    # The volunteer who had accepted is told it is off, without the client's name.
    cancelled = mailoutbox[sent:]
    assert [m.to for m in cancelled] == [["volunteer@example.org"]]
    assert "cancelled" in cancelled[0].body and NAME.split()[0] not in cancelled[0].body
    [erased] = AuditEvent.objects.filter(
        action="delete", target_type="casework.client", target_id=str(pk)
    )
    assert erased.actor_id == manager.pk and erased.detail["erased"] is True
    # The whole trail about this client holds no client content.
    trail = AuditEvent.objects.filter(detail__client=pk) | AuditEvent.objects.filter(
        target_type="casework.client", target_id=str(pk)
    )
    dump = json.dumps([e.detail for e in trail]) + " ".join(str(e) for e in trail)
    for secret in (NAME, NOTE, WORDS, CONTACT, "Front door"):
        assert secret not in dump
    assert verify_chain()[0]


def test_erasure_from_the_web_needs_the_case_reference(keyworker, manager):
    client, _ = full_journey(keyworker)
    browser = login_verified(HttpClient(), manager)
    page = browser.get(f"/casework/clients/{client.pk}/erase/").content.decode()
    assert "What is kept, and why" in page and "introductions: 1" in page
    wrong = browser.post(f"/casework/clients/{client.pk}/erase/", {"confirm": "nope"})
    assert wrong.status_code == 400 and "Type the case reference" in wrong.content.decode()
    assert Client.objects.filter(pk=client.pk).exists()
    done = browser.post(
        f"/casework/clients/{client.pk}/erase/", {"confirm": client.case_reference}, follow=True
    )
    assert done.status_code == 200 and "record is erased" in done.content.decode()
    assert not Client.objects.filter(pk=client.pk).exists()
    assert browser.get(f"/casework/clients/{client.pk}/").status_code == 404


def test_erase_command_dry_run_then_confirm(keyworker, manager):
    client, _ = full_journey(keyworker)
    out = StringIO()
    call_command("erase", "--client", str(client.pk), "--by", manager.username, stdout=out)
    assert "Would delete: clients 1" in out.getvalue() and "Nothing changed" in out.getvalue()
    assert Client.objects.filter(pk=client.pk).exists()
    with pytest.raises(CommandError, match="Type the case reference"):
        call_command(
            "erase", "--client", str(client.pk), "--by", manager.username, "--confirm", "x"
        )
    out = StringIO()
    call_command(
        "erase", "--client", str(client.pk), "--by", manager.username,
        "--confirm", client.case_reference, stdout=out,
    )  # fmt: skip
    assert f"Erased client record {client.pk}" in out.getvalue()
    assert not Client.objects.filter(pk=client.pk).exists()
    with pytest.raises(CommandError):
        call_command("erase", "--client", str(client.pk), "--by", keyworker.username)


# --- the demo and the meetings it refers to -------------------------------------------------


def test_demo_replace_needs_no_exception_to_the_meeting_protection(keyworker):
    from mutualaid.directory.models import Meeting

    out = StringIO()
    call_command("demo", count=60, seed=3, stdout=out)
    demo_clients = Client.objects.filter(organisation__slug="demo-service")
    assert demo_clients.exists()
    call_command("demo", "--replace", count=60, seed=4, stdout=StringIO())
    assert Client.objects.filter(organisation__slug="demo-service").exists()
    # A real service's client keeps its demo meeting: replacing is refused, nothing lost.
    real = make_client(keyworker)
    meeting = Meeting.objects.filter(source__name__icontains="demo").first()
    services.choose_meeting(actor=keyworker, client=real, meeting=meeting)
    with pytest.raises(CommandError, match="real service refer to demo meetings"):
        call_command("demo", "--replace", count=60, seed=5, stdout=StringIO())
    assert Meeting.objects.filter(pk=meeting.pk).exists()
    assert Client.objects.filter(organisation__slug="demo-service").exists()  # rolled back
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        Meeting.objects.filter(pk=meeting.pk).delete()
