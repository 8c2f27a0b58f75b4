"""Signed links for people without an account: the volunteer's introduction, "remove my
details", and the client's self-report page. Expired, revoked or altered links get a clear
message; nothing recorded is lost."""

from datetime import timedelta
from unittest import mock

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from mutualaid.accounts.models import Role
from mutualaid.casework import selectors, services
from mutualaid.casework.models import Attendance, CheckIn, IntroductionStatus
from tests.accounts.helpers import make_organisation, make_staff
from tests.casework.helpers import brighton_meeting, make_client, make_volunteer

pytestmark = pytest.mark.django_db


@pytest.fixture
def keyworker():
    return make_staff(Role.KEYWORKER, make_organisation())


@pytest.fixture
def intro(keyworker):
    client = make_client(keyworker, preferred_name="Robin Clarke")
    services.record_consent(actor=keyworker, client=client, scope="volunteer_introduction")
    meeting = brighton_meeting()
    return services.arrange_introduction(
        actor=keyworker, client=client, meeting=meeting,
        starts_at=meeting.next_start(timezone.now() + timedelta(days=1)),
        kind="volunteer_goes", volunteer=make_volunteer(keyworker, name="Jo"),
        agreed_contact="At the door at 18:40",
    )  # fmt: skip


def intro_url(intro):
    return reverse("casework:volunteer-introduction", args=[selectors.introduction_token(intro)])


def test_volunteer_sees_only_first_name_meeting_and_contact(client, intro):
    body = client.get(intro_url(intro)).content.decode()
    assert "Robin" in body and "Clarke" not in body and intro.client.case_reference not in body
    assert "At the door at 18:40" in body and "Brighton Newcomers" in body


def test_volunteer_can_decline_then_change_their_mind(client, intro):
    url = intro_url(intro)
    client.post(url, {"answer": "decline"})
    intro.refresh_from_db()
    assert intro.status == IntroductionStatus.DECLINED
    client.post(url, {"answer": "accept"})
    intro.refresh_from_db()
    assert intro.status == IntroductionStatus.ACCEPTED


def test_a_cancelled_introduction_link_says_so(client, intro, keyworker):
    url = intro_url(intro)
    services.cancel_introduction(actor=keyworker, introduction=intro)
    response = client.get(url)
    assert response.status_code == 410
    assert "no longer in use" in response.content.decode()


def test_an_expired_or_altered_link_says_so(client, intro, settings):
    url = intro_url(intro)
    later = timezone.now() + timedelta(days=settings.CASEWORK_INTRODUCTION_LINK_DAYS + 1)
    with mock.patch("time.time", return_value=later.timestamp()):
        response = client.get(url)
    assert response.status_code == 410 and "has expired" in response.content.decode()
    response = client.get(url[:-3] + "xx/")
    assert response.status_code == 410 and "not valid" in response.content.decode()


def test_after_the_meeting_starts_the_answer_cannot_change(client, intro):
    url = intro_url(intro)
    with mock.patch("django.utils.timezone.now", return_value=intro.starts_at + timedelta(hours=1)):
        page = client.get(url)
        client.post(url, {"answer": "accept"})
    assert "can no longer be changed" in page.content.decode()
    intro.refresh_from_db()
    assert intro.status == IntroductionStatus.REQUESTED


def test_withdrawn_volunteer_cannot_accept(client, intro, keyworker):
    url = intro_url(intro)
    services.withdraw_volunteer(actor=keyworker, volunteer=intro.volunteer)
    response = client.get(url)
    assert response.status_code == 410  # the link was rotated when they withdrew
    intro.refresh_from_db()
    assert intro.status == IntroductionStatus.DECLINED


def test_volunteer_removes_their_own_details(client, intro):
    volunteer = intro.volunteer
    url = reverse("casework:volunteer-remove", args=[selectors.volunteer_remove_token(volunteer)])
    assert "Remove my details" in client.get(url).content.decode()
    response = client.post(url, {"confirm": "yes"})
    assert "Your details are removed" in response.content.decode()
    volunteer.refresh_from_db()
    assert volunteer.status == "removed" and volunteer.email == ""
    again = client.get(url)
    assert again.status_code == 410 and "already been removed" in again.content.decode()


@pytest.fixture
def self_report(keyworker):
    client = make_client(keyworker)
    meeting = brighton_meeting()
    services.choose_meeting(actor=keyworker, client=client, meeting=meeting)
    services.record_consent(actor=keyworker, client=client, scope="self_report")
    link, token = services.create_self_report_link(actor=keyworker, client=client, days=7)
    return link, reverse("casework:self-report", args=[token]), meeting


def post_attendance(browser, url, meeting, day=None):
    return browser.post(
        url,
        {
            "form": "attendance",
            "a-meeting": meeting.pk,
            "a-attended_on": (day or timezone.localdate()).isoformat(),
            "a-mode": "in_person",
        },
    )


def test_self_report_needs_consent(keyworker):
    client = make_client(keyworker)
    with pytest.raises(services.ValidationError, match="consent"):
        services.create_self_report_link(actor=keyworker, client=client)


def test_self_reports_are_marked_and_audited_without_an_actor(client, self_report):
    link, url, meeting = self_report
    assert post_attendance(client, url, meeting).status_code == 302
    attendance = Attendance.objects.get()
    assert attendance.source == "self" and attendance.via_link == link
    from mutualaid.audit.models import AuditEvent

    event = AuditEvent.objects.get(
        target_type="casework.attendance", target_id=str(attendance.pk), action="create"
    )
    assert event.actor_id is None and event.detail["via"] == "self_report_link"


def test_self_report_bad_input_is_a_clear_form_error(client, self_report):
    link, url, meeting = self_report
    tomorrow = timezone.localdate() + timedelta(days=1)
    response = post_attendance(client, url, meeting, day=tomorrow)
    assert response.status_code == 400
    assert "cannot be in the future" in response.content.decode()


def test_self_report_is_rate_limited_and_keeps_what_was_sent(client, self_report, settings):
    settings.CASEWORK_SELF_REPORT_DAILY_LIMIT = 3
    link, url, meeting = self_report
    for _ in range(3):
        assert post_attendance(client, url, meeting).status_code == 302
    response = post_attendance(client, url, meeting)
    assert response.status_code == 429
    assert "try again tomorrow" in response.content.decode()
    assert Attendance.objects.count() == 3


def test_revoked_and_expired_self_report_links(client, self_report, keyworker):
    link, url, meeting = self_report
    post_attendance(client, url, meeting)
    client.post(url, {"form": "check_in", "c-meetings_in_person": "2", "c-meetings_online": "0"})
    assert CheckIn.objects.get().source == "self"
    with mock.patch(
        "django.utils.timezone.now", return_value=link.expires_at + timedelta(seconds=1)
    ):
        expired = client.get(url)
    assert expired.status_code == 410 and "has expired" in expired.content.decode()
    services.revoke_self_report_link(actor=keyworker, link=link)
    revoked = client.get(url)
    assert revoked.status_code == 410 and "switched off" in revoked.content.decode()
    assert Attendance.objects.count() == 1 and CheckIn.objects.count() == 1  # nothing lost


def test_a_new_link_replaces_the_old_one(client, self_report, keyworker):
    link, url, meeting = self_report
    services.create_self_report_link(actor=keyworker, client=link.client)
    assert client.get(url).status_code == 410


def test_a_forged_self_report_token_is_refused(client, self_report):
    link, url, meeting = self_report
    forged = signing.dumps({"l": link.pk, "n": "guess"}, salt=selectors.SELF_REPORT_SALT)
    response = client.get(reverse("casework:self-report", args=[forged]))
    assert response.status_code == 410


def test_self_report_page_names_nobody(client, self_report):
    link, url, meeting = self_report
    body = client.get(url).content.decode()
    assert link.client.preferred_name not in body and link.client.case_reference not in body
    assert "Please don't write anyone else's name" in body
