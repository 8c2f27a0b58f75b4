"""`mutualaid send_reminders`: the evening before, in the meeting's zone, with an .ics, to
the client (with consent) and the accepted volunteer, never twice."""

from datetime import UTC, datetime, time
from io import StringIO
from unittest import mock

import pytest
from django.core.management import CommandError, call_command
from icalendar import Calendar

from mutualaid.accounts.models import Role
from mutualaid.casework import services
from mutualaid.casework.models import Introduction
from mutualaid.directory.models import Status as MeetingStatus
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture
def arranged(settings):
    """Sam, with reminder consent, introduced by Jo to a Sunday 19:00 meeting on
    29 March 2026: the day the UK clocks go forward (the Saturday evening is GMT)."""
    keyworker = make_staff(Role.KEYWORKER, make_organisation())
    client = make_client(keyworker, preferred_name="Sam Taylor", contact_email="sam@example.org")
    for scope in ("volunteer_introduction", "reminders_email"):
        services.record_consent(actor=keyworker, client=client, scope=scope)
    meeting = brighton_meeting(weekday=6, start_time=time(19, 0))
    volunteer = make_volunteer(keyworker, name="Jo", email="jo@example.org")
    starts = meeting.next_start(utc(2026, 3, 27, 12))
    assert starts.isoformat() == "2026-03-29T19:00:00+01:00"
    with mock.patch("django.utils.timezone.now", return_value=utc(2026, 3, 20, 12)):
        intro = services.arrange_introduction(
            actor=keyworker, client=client, meeting=meeting, starts_at=starts,
            kind="volunteer_goes", volunteer=volunteer, agreed_contact="At the door, 18:40",
        )  # fmt: skip
        services.respond_to_introduction(introduction=intro, accept=True)
    return intro


def run(now):
    out = StringIO()
    call_command("send_reminders", now=now.isoformat(), stdout=out)
    return out.getvalue()


def test_not_before_the_evening_before_on_the_local_clock(arranged, mailoutbox):
    assert "0 to clients, 0 to volunteers" in run(utc(2026, 3, 28, 17, 59))
    assert mailoutbox == []


def test_both_get_one_reminder_with_a_calendar_file_and_never_twice(arranged, mailoutbox):
    assert "1 to clients, 1 to volunteers" in run(utc(2026, 3, 28, 18, 0))  # 18:00 GMT
    assert sorted(m.to[0] for m in mailoutbox) == ["jo@example.org", "sam@example.org"]
    client_mail = next(m for m in mailoutbox if m.to == ["sam@example.org"])
    assert client_mail.subject == "Reminder: Sunday at 19:00"
    assert "Brighton Newcomers" in client_mail.body and "Jo will be in touch" in client_mail.body
    name, ics, mimetype = client_mail.attachments[0]
    assert name == "meeting.ics" and mimetype == "text/calendar"
    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    start = event.decoded("dtstart")
    assert start.isoformat() == "2026-03-29T19:00:00+01:00"
    assert str(start.tzinfo) == "Europe/London"
    volunteer_mail = next(m for m in mailoutbox if m.to == ["jo@example.org"])
    assert "Sam" in volunteer_mail.body and "Taylor" not in volunteer_mail.body
    assert "At the door, 18:40" in volunteer_mail.body
    assert "/volunteers/remove/" in volunteer_mail.body
    # Telling the volunteer the first name again is in the client's accounting of disclosures.
    from mutualaid.audit.selectors import disclosures_for

    assert disclosures_for(arranged.client).filter(detail__via="reminder").count() == 1

    assert "0 to clients, 0 to volunteers" in run(utc(2026, 3, 28, 18, 15))
    assert "0 to clients, 0 to volunteers" in run(utc(2026, 3, 29, 9, 0))
    assert len(mailoutbox) == 2


def test_no_reminder_without_consent_or_after_the_start(arranged, mailoutbox):
    client = arranged.client
    services.withdraw_consent(actor=client.keyworker, client=client, scope="reminders_email")
    assert "0 to clients, 1 to volunteers" in run(utc(2026, 3, 28, 18, 0))
    Introduction.objects.filter(pk=arranged.pk).update(reminder_volunteer_sent_at=None)
    assert "0 to clients, 0 to volunteers" in run(utc(2026, 3, 29, 18, 1))  # started


def test_a_meeting_removed_from_the_directory_is_skipped_and_said(arranged, mailoutbox):
    meeting = arranged.meeting
    meeting.status = MeetingStatus.REMOVED
    meeting.save()
    assert "1 skipped (meeting removed from the directory)" in run(utc(2026, 3, 28, 18, 0))
    assert mailoutbox == []


def test_a_mail_failure_is_retried_next_run_and_then_sent_once(arranged, mailoutbox):
    with mock.patch(
        "mutualaid.casework.emails.send_client_reminder", side_effect=OSError("mail down")
    ):
        with pytest.raises(CommandError, match="will be retried"):
            run(utc(2026, 3, 28, 18, 0))
    arranged.refresh_from_db()
    assert arranged.reminder_client_sent_at is None
    assert arranged.reminder_volunteer_sent_at is not None
    assert "1 to clients, 0 to volunteers" in run(utc(2026, 3, 28, 18, 30))
    assert len(mailoutbox) == 2


def test_bad_now_is_a_clear_error():
    with pytest.raises(CommandError, match="ISO 8601"):
        call_command("send_reminders", now="tomorrow")
